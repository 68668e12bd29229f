package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisCounters is a reading of Redis's server-wide counters. Redis 7.0 keeps
// no per-client totals, so the harness reads the whole server and subtracts
// what other clients did at the rate measured just before the run.
type redisCounters struct {
	at       time.Time
	commands int64            // total_commands_processed
	reads    int64            // total_reads_processed: read events, about one per round trip
	byCmd    map[string]int64 // INFO commandstats calls
	cpu      float64          // used_cpu_user + used_cpu_sys, seconds
}

// readRedisCounters reads the counters of rdb's server, or the sum over
// a cluster's masters.
func readRedisCounters(ctx context.Context, rdb redis.UniversalClient) (redisCounters, error) {
	c := redisCounters{byCmd: map[string]int64{}}
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		err := addRedisCounters(ctx, rdb, &c)
		c.at = time.Now()
		return c, err
	}
	var mu sync.Mutex
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		var one redisCounters
		one.byCmd = map[string]int64{}
		if err := addRedisCounters(ctx, m, &one); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		c.commands += one.commands
		c.reads += one.reads
		c.cpu += one.cpu
		for k, v := range one.byCmd {
			c.byCmd[k] += v
		}
		return nil
	})
	c.at = time.Now()
	return c, err
}

func addRedisCounters(ctx context.Context, rdb redis.Cmdable, c *redisCounters) error {
	info, err := rdb.Info(ctx, "stats", "commandstats", "cpu").Result()
	if err != nil {
		return fmt.Errorf("redis INFO: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch {
		case k == "total_commands_processed":
			c.commands, _ = strconv.ParseInt(v, 10, 64)
		case k == "total_reads_processed":
			c.reads, _ = strconv.ParseInt(v, 10, 64)
		case k == "used_cpu_user" || k == "used_cpu_sys":
			f, _ := strconv.ParseFloat(v, 64)
			c.cpu += f
		case strings.HasPrefix(k, "cmdstat_"):
			// calls=N,usec=...
			calls, _, _ := strings.Cut(strings.TrimPrefix(v, "calls="), ",")
			n, _ := strconv.ParseInt(calls, 10, 64)
			c.byCmd[strings.TrimPrefix(k, "cmdstat_")] = n
		}
	}
	return nil
}

// keysUnder lists the keys under prefix: on a cluster, on every master.
func keysUnder(ctx context.Context, rdb redis.UniversalClient, prefix string) ([]string, error) {
	one := func(ctx context.Context, c redis.Cmdable) ([]string, error) {
		var out []string
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			out = append(out, iter.Val())
		}
		if err := iter.Err(); err != nil {
			return nil, fmt.Errorf("scan %s*: %w", prefix, err)
		}
		return out, nil
	}
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return one(ctx, rdb)
	}
	var (
		mu  sync.Mutex
		all []string
	)
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		keys, err := one(ctx, m)
		mu.Lock()
		all = append(all, keys...)
		mu.Unlock()
		return err
	})
	return all, err
}

// redisUse is what the bots did to Redis during a run, with the background
// (other clients of a shared Redis, at the rate seen before the run) taken
// off.
type redisUse struct {
	commands, reads float64
	cpu             float64  // seconds of Redis CPU, background not taken off
	top             []string // "evalsha 1234", most called first
}

// redisDelta is after - before, less background's rate over the same time.
func redisDelta(before, after, bgFrom, bgTo redisCounters) redisUse {
	span := after.at.Sub(before.at).Seconds()
	bgSpan := bgTo.at.Sub(bgFrom.at).Seconds()
	var bgCmd, bgReads float64
	if bgSpan > 0 {
		bgCmd = float64(bgTo.commands-bgFrom.commands) / bgSpan * span
		bgReads = float64(bgTo.reads-bgFrom.reads) / bgSpan * span
	}
	u := redisUse{
		commands: max(0, float64(after.commands-before.commands)-bgCmd),
		reads:    max(0, float64(after.reads-before.reads)-bgReads),
		cpu:      after.cpu - before.cpu,
	}
	type kv struct {
		k string
		v int64
	}
	var cmds []kv
	for k, v := range after.byCmd {
		if d := v - before.byCmd[k]; d > 0 {
			cmds = append(cmds, kv{k, d})
		}
	}
	sort.Slice(cmds, func(i, j int) bool {
		if cmds[i].v != cmds[j].v {
			return cmds[i].v > cmds[j].v
		}
		return cmds[i].k < cmds[j].k
	})
	for i, c := range cmds {
		if i == 8 {
			break
		}
		u.top = append(u.top, fmt.Sprintf("%s %d", c.k, c.v))
	}
	return u
}

// prefixMemory sums MEMORY USAGE over every key under prefix.
func prefixMemory(ctx context.Context, rdb redis.UniversalClient, prefix string) (bytes int64, keys int, err error) {
	names, err := keysUnder(ctx, rdb, prefix)
	if err != nil {
		return 0, 0, err
	}
	for start := 0; start < len(names); start += 500 {
		batch := names[start:min(start+500, len(names))]
		pipe := rdb.Pipeline()
		cmds := make([]*redis.IntCmd, len(batch))
		for i, k := range batch {
			cmds[i] = pipe.MemoryUsage(ctx, k, 0)
		}
		_, _ = pipe.Exec(ctx)
		for _, c := range cmds {
			if n, err := c.Result(); err == nil {
				bytes += n
				keys++
			}
		}
	}
	return bytes, keys, nil
}

// dropPrefix deletes every key under prefix: a load run leaves nothing behind.
func dropPrefix(ctx context.Context, rdb redis.UniversalClient, prefix string) error {
	keys, err := keysUnder(ctx, rdb, prefix)
	if err != nil {
		return err
	}
	for len(keys) > 0 {
		batch := keys[:min(500, len(keys))]
		keys = keys[len(batch):]
		pipe := rdb.Pipeline()
		for _, k := range batch {
			pipe.Unlink(ctx, k) // one key each: a cluster refuses keys of several slots
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// privateRedis runs a redis-server of the harness's own on a free loopback
// port, without persistence: its counters then hold the bots' traffic alone
// (a shared Redis mixes in every other client's), and its CPU is the
// bots' too.
func privateRedis(ctx context.Context) (url string, stop func(), err error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return "", nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "yes")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start redis-server (or pass -redis URL): %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	url = "redis://" + addr + "/0"
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	for i := 0; ; i++ {
		if err := rdb.Ping(ctx).Err(); err == nil {
			return url, stop, nil
		} else if i == 100 {
			stop()
			return "", nil, fmt.Errorf("redis-server on %s: %w", addr, err)
		}
		select {
		case <-done:
			return "", nil, errors.New("redis-server exited at start")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// loadRedis is the client of -redis: one server, or a Redis Cluster given
// as README's REDIS_URL gives one (addr=… seed nodes, or cluster=true).
// Every node must be on loopback.
func loadRedis(raw string) (redis.UniversalClient, error) {
	if strings.Contains(raw, "addr=") || strings.Contains(raw, "cluster=true") {
		opt, err := redis.ParseClusterURL(strings.ReplaceAll(strings.ReplaceAll(raw, "&cluster=true", ""), "?cluster=true", ""))
		if err != nil {
			return nil, fmt.Errorf("-redis: %w", err)
		}
		for _, a := range opt.Addrs {
			if h, _, _ := net.SplitHostPort(a); !isLoopback(h) {
				return nil, fmt.Errorf("-redis: %s is not on loopback (load runs stay on this machine)", a)
			}
		}
		return redis.NewClusterClient(opt), nil
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("-redis: %w", err)
	}
	if h, _, _ := net.SplitHostPort(opt.Addr); !isLoopback(h) {
		return nil, fmt.Errorf("-redis: %s is not on loopback (load runs stay on this machine)", opt.Addr)
	}
	return redis.NewClient(opt), nil
}
