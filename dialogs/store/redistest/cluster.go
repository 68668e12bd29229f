package redistest

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterAddrs are the seed addresses of the test Redis Cluster: REDIS_CLUSTER_ADDRS,
// comma-separated (".ci/cluster" starts one on 127.0.0.1:7101-7103 and prints them). Nil when
// it is not set.
func ClusterAddrs() []string {
	var out []string
	for _, a := range strings.Split(os.Getenv("REDIS_CLUSTER_ADDRS"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Cluster returns a client of the test Redis Cluster, pinged on every master, closed when the
// test ends. Without REDIS_CLUSTER_ADDRS the test is skipped, except in CI (CI=true), where
// .ci/run starts the cluster and a missing one fails the test.
func Cluster(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	addrs := ClusterAddrs()
	if len(addrs) == 0 {
		if os.Getenv("CI") == "true" {
			tb.Fatal("redistest: CI=true but REDIS_CLUSTER_ADDRS is not set: .ci/run starts the cluster (.ci/cluster)")
		}
		tb.Skip("redistest: no Redis Cluster (set REDIS_CLUSTER_ADDRS, e.g. from .ci/cluster)")
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rdb.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.Ping(ctx).Err() }); err != nil {
		_ = rdb.Close()
		tb.Fatalf("redistest: no Redis Cluster at %s: %v", strings.Join(addrs, ","), err)
	}
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// NewCluster returns a client of the test Redis Cluster and a key prefix of the test's own.
func NewCluster(tb testing.TB) (*redis.ClusterClient, string) {
	tb.Helper()
	rdb := Cluster(tb)
	return rdb, Prefix(tb, rdb)
}

// Keys lists every key matching pattern, found with SCAN: on a cluster, on every master.
func Keys(ctx context.Context, rdb redis.UniversalClient, pattern string) ([]string, error) {
	one := func(ctx context.Context, c redis.Cmdable) ([]string, error) {
		var out []string
		iter := c.Scan(ctx, 0, pattern, 500).Iterator()
		for iter.Next(ctx) {
			out = append(out, iter.Val())
		}
		return out, iter.Err()
	}
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return one(ctx, rdb)
	}
	var (
		mu  sync.Mutex // ForEachMaster asks the masters at once
		all []string
	)
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		keys, err := one(ctx, c)
		mu.Lock()
		all = append(all, keys...)
		mu.Unlock()
		return err
	})
	return all, err
}

// ClusterURL is REDIS_URL for the test cluster as README documents it: the first seed node as
// host, the others as addr parameters ("" without REDIS_CLUSTER_ADDRS).
func ClusterURL() string {
	addrs := ClusterAddrs()
	if len(addrs) == 0 {
		return ""
	}
	u := "redis://" + addrs[0]
	for i, a := range addrs[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + a
	}
	if len(addrs) == 1 {
		u += "?cluster=true"
	}
	return u
}

// Connector is how a test reaches a Redis: a client and a key prefix of its own.
type Connector func(tb testing.TB) (redis.UniversalClient, string)

// InstanceAndCluster are the two Redis deployments a test of sharded code
// runs on, by name: one instance (New) and the test cluster (NewCluster:
// skipped without one, failed under CI).
func InstanceAndCluster() map[string]Connector {
	return map[string]Connector{
		"instance": func(tb testing.TB) (redis.UniversalClient, string) { return New(tb) },
		"cluster":  func(tb testing.TB) (redis.UniversalClient, string) { return NewCluster(tb) },
	}
}
