package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/dialogs/store/storetest"
)

func TestRedis(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (dialogs.Store, storetest.Controls) {
		rdb := redistest.Client(t)
		prefix := redistest.Prefix(t, rdb)
		c := newCipher(t)
		return store.NewRedis(rdb, c, store.WithPrefix(prefix)),
			&redisControls{t: t, rdb: rdb, prefix: prefix}
	})
}

// redisControls moves a store's time by shortening the TTL of each of its
// keys, and deleting the keys whose TTL runs out, as Redis would later.
type redisControls struct {
	t      *testing.T
	rdb    *redis.Client
	prefix string
}

func (c *redisControls) Advance(d time.Duration) {
	c.t.Helper()
	ctx := context.Background()
	for _, key := range scanKeys(c.t, c.rdb, c.prefix) {
		ttl, err := c.rdb.PTTL(ctx, key).Result()
		switch {
		case err != nil:
			c.t.Fatalf("PTTL %s: %v", key, err)
		case ttl == -2: // go-redis passes -2 and -1 through unscaled
			continue // gone meanwhile
		case ttl < 0:
			c.t.Fatalf("key %s has no TTL", key)
		case ttl <= d:
			err = c.rdb.Del(ctx, key).Err()
		default:
			err = c.rdb.PExpire(ctx, key, ttl-d).Err()
		}
		if err != nil {
			c.t.Fatalf("advance %s: %v", key, err)
		}
	}
}

func (c *redisControls) LockTTL() time.Duration { return store.DefaultLockTTL }

func (c *redisControls) OtherKey() dialogs.Store {
	return store.NewRedis(c.rdb, newCipher(c.t), store.WithPrefix(c.prefix))
}

// TestRedisLockExpires checks that the lock TTL is Redis's own, without the
// simulated clock.
func TestRedisLockExpires(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t)
	s := store.NewRedis(rdb, newCipher(t), store.WithPrefix(redistest.Prefix(t, rdb)),
		store.WithLockTTL(50*time.Millisecond))
	first, err := s.Acquire(ctx, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Acquire(ctx, 1, 2); !errors.Is(err, dialogs.ErrBusy) {
		t.Fatalf("Acquire while held: err = %v, want ErrBusy", err)
	}
	time.Sleep(60 * time.Millisecond)
	second, err := s.Acquire(ctx, 1, 2)
	if err != nil {
		t.Fatalf("Acquire after the lock TTL: %v", err)
	}
	if err := s.Commit(ctx, first, &dialogs.State{Step: "first"}); !errors.Is(err, dialogs.ErrLockLost) {
		t.Fatalf("stale Commit: err = %v, want ErrLockLost", err)
	}
	if err := s.Commit(ctx, second, &dialogs.State{Step: "second"}); err != nil {
		t.Fatal(err)
	}
}

// TestRedisStoresNoSecretInClear reads every key the store wrote, raw.
func TestRedisStoresNoSecretInClear(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t, rdb)
	s := store.NewRedis(rdb, newCipher(t), store.WithPrefix(prefix))

	st := storetest.FullDraft()
	st.Secrets.CardNumber = "6222021234567890123"
	st.Secrets.ReservedPhone = "13812345678"
	l, err := s.Acquire(ctx, 42, 1001)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, l, st); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Acquire(ctx, 43, 1002); err != nil { // so that a lock key exists too
		t.Fatal(err)
	}

	keys := scanKeys(t, rdb, prefix)
	wantKeys := []string{prefix + "{42}:s", prefix + "{42}:u", prefix + "{43}:l"}
	if !slices.Equal(keys, wantKeys) {
		t.Fatalf("keys = %q, want %q", keys, wantKeys)
	}
	var raw strings.Builder
	for _, key := range keys {
		switch typ := rdb.Type(ctx, key).Val(); typ {
		case "string":
			raw.WriteString(rdb.Get(ctx, key).Val())
		case "zset":
			for _, z := range rdb.ZRangeWithScores(ctx, key, 0, -1).Val() {
				fmt.Fprintf(&raw, "%v %v\n", z.Member, z.Score)
			}
		default:
			t.Fatalf("key %s is a %s", key, typ)
		}
	}
	if !strings.Contains(raw.String(), st.MerchantNo) {
		t.Fatal("the raw dump misses the clear part of the state: the test reads the wrong keys")
	}
	for _, secret := range []string{"6222021234567890123", "4567890123", "13812345678", st.Secrets.PendingCard} {
		if strings.Contains(raw.String(), secret) {
			t.Fatalf("Redis holds %q in clear", secret)
		}
	}
}

// TestRedisRoundTrips counts what the client sends.
func TestRedisRoundTrips(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t)
	counter := &commandCounter{}
	rdb.AddHook(counter)
	s := store.NewRedis(rdb, newCipher(t), store.WithPrefix(redistest.Prefix(t, rdb)))
	if err := s.Preload(ctx); err != nil {
		t.Fatal(err)
	}

	for update := int64(1); update <= 3; update++ {
		counter.reset()
		l, err := s.Acquire(ctx, 42, update)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(ctx, l, storetest.FullDraft()); err != nil {
			t.Fatal(err)
		}
		if n, sent := counter.get(); n != 2 {
			t.Fatalf("update %d: Acquire+Commit took %d round trips: %q", update, n, sent)
		}
	}
	counter.reset()
	l, err := s.Acquire(ctx, 42, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, l); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, 42); err != nil {
		t.Fatal(err)
	}
	if n, sent := counter.get(); n != 3 {
		t.Fatalf("Acquire+Release+Load took %d round trips: %q", n, sent)
	}
}

// commandCounter counts round trips: a command or a whole pipeline.
type commandCounter struct {
	mu   sync.Mutex
	sent []string
}

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.add(cmd.Name())
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, cmd := range cmds {
			names[i] = cmd.Name()
		}
		c.add("pipeline(" + strings.Join(names, ",") + ")")
		return next(ctx, cmds)
	}
}

func (c *commandCounter) add(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, name)
}

func (c *commandCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = nil
}

func (c *commandCounter) get() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sent), slices.Clone(c.sent)
}

func BenchmarkRedisAcquireCommit(b *testing.B) {
	ctx := context.Background()
	rdb := redistest.Client(b)
	s := store.NewRedis(rdb, newCipher(b), store.WithPrefix(redistest.Prefix(b, rdb)))
	if err := s.Preload(ctx); err != nil {
		b.Fatal(err)
	}
	var chats atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		chat := chats.Add(1) // a chat per goroutine: no lock contention
		st := storetest.FullDraft()
		for update := int64(1); pb.Next(); update++ {
			l, err := s.Acquire(ctx, chat, update)
			if err != nil {
				b.Error(err)
				return
			}
			st.Seq++
			if err := s.Commit(ctx, l, st); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkMemoryAcquireCommit(b *testing.B) {
	ctx := context.Background()
	s := store.NewMemory(newCipher(b))
	var chats atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		chat := chats.Add(1)
		st := storetest.FullDraft()
		for update := int64(1); pb.Next(); update++ {
			l, err := s.Acquire(ctx, chat, update)
			if err != nil {
				b.Error(err)
				return
			}
			st.Seq++
			if err := s.Commit(ctx, l, st); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func scanKeys(tb testing.TB, rdb *redis.Client, prefix string) []string {
	tb.Helper()
	var keys []string
	iter := rdb.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Fatalf("scan %s*: %v", prefix, err)
	}
	slices.Sort(keys)
	return keys
}
