// Package redistest gives tests the test Redis: one way to find it and one way to keep each
// test's keys apart and clean them up.
//
// The test Redis is at REDIS_TEST_URL (default DefaultURL). A test that needs it and cannot
// reach it fails, naming the URL: nothing is skipped, so a missing Redis is never mistaken for
// a green run. Each test writes under a prefix of its own (Prefix), whose keys are deleted with
// SCAN and DEL when the test ends; nothing ever flushes a database, which other tests and
// people share.
package redistest

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultURL is the test Redis when REDIS_TEST_URL is not set.
const DefaultURL = "redis://127.0.0.1:6379/0"

// URL is the test Redis: REDIS_TEST_URL, or DefaultURL.
func URL() string {
	if u := strings.TrimSpace(os.Getenv("REDIS_TEST_URL")); u != "" {
		return u
	}
	return DefaultURL
}

// Options are the client options of URL, for a test that tunes them (a pool size, say) before
// calling Connect. A malformed REDIS_TEST_URL fails the test.
func Options(tb testing.TB) *redis.Options {
	tb.Helper()
	opts, err := redis.ParseURL(URL())
	if err != nil {
		tb.Fatalf("redistest: REDIS_TEST_URL: %v", err)
	}
	return opts
}

// Connect returns a client with opts (from Options), pinged, closed when the test ends.
func Connect(tb testing.TB, opts *redis.Options) *redis.Client {
	tb.Helper()
	rdb := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		tb.Fatalf("redistest: no Redis at %s (start redis-server there, or set REDIS_TEST_URL): %v", URL(), err)
	}
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Client returns a client of the test Redis, closed when the test ends.
func Client(tb testing.TB) *redis.Client {
	tb.Helper()
	return Connect(tb, Options(tb))
}

// New returns a client of the test Redis and a key prefix of the test's own (see Prefix).
func New(tb testing.TB) (*redis.Client, string) {
	tb.Helper()
	rdb := Client(tb)
	return rdb, Prefix(tb, rdb)
}

// Prefix returns a key prefix no other test uses ("mbtest:<test name>:<random>:") and deletes,
// when the test ends, every key that starts with it or with "rate:" and it (redis_rate puts its
// own "rate:" in front of a limiter's keys). The cleanup runs before rdb is closed when rdb
// came from this package. Keys of other prefixes are never touched.
func Prefix(tb testing.TB, rdb redis.UniversalClient) string {
	tb.Helper()
	prefix := "mbtest:" + slug(tb.Name()) + ":" + strings.ToLower(rand.Text()[:12]) + ":"
	tb.Cleanup(func() {
		for _, p := range []string{prefix, "rate:" + prefix} {
			if err := DeletePrefix(context.Background(), rdb, p); err != nil {
				tb.Errorf("redistest: clean up %s*: %v", p, err)
			}
		}
	})
	return prefix
}

// DeletePrefix deletes every key that starts with prefix, found with SCAN (never KEYS, never
// FLUSHDB). prefix must not be empty and may hold only characters that are not glob patterns.
func DeletePrefix(ctx context.Context, rdb redis.UniversalClient, prefix string) error {
	if prefix == "" || strings.ContainsAny(prefix, `*?[]\`) {
		return errors.New("redistest: refusing to delete by an empty or pattern prefix")
	}
	keys, err := Keys(ctx, rdb, prefix+"*")
	if err != nil {
		return err
	}
	for len(keys) > 0 {
		batch := keys[:min(500, len(keys))]
		keys = keys[len(batch):]
		// One DEL per key: a cluster refuses a DEL of keys in different slots.
		pipe := rdb.Pipeline()
		for _, k := range batch {
			pipe.Del(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// slug keeps a test name readable in a key: lower-case letters, digits and dashes, at most 40.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// RoundTrips is a client hook counting what goes to Redis: one per command,
// one per pipeline (rdb.AddHook(&RoundTrips{})). Tests and benchmarks of
// the per-update path assert and report with it.
type RoundTrips struct{ n atomic.Int64 }

// N is how many round trips were made so far.
func (h *RoundTrips) N() int64 { return h.n.Load() }

// Reset returns N and starts counting again from zero.
func (h *RoundTrips) Reset() int64 { return h.n.Swap(0) }

func (h *RoundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *RoundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *RoundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}
