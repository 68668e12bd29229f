package chatq

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

// incrLua adds ARGV[2] to KEYS[1] and returns ARGV[1] with the new value:
// each caller must get its own reply.
var incrLua = redis.NewScript(`local n = redis.call('INCRBY', KEYS[1], ARGV[2]) return {ARGV[1], n}`)

func testAutoPipe(t *testing.T, rdb redis.UniversalClient, prefix string) {
	ctx := context.Background()
	p := newAutoPipe(rdb)
	require.NoError(t, incrLua.Load(ctx, rdb).Err())
	trips := &redistest.RoundTrips{}
	rdb.AddHook(trips)

	// Many goroutines at once, each several calls in a row on its own key
	// (its calls in order), all on another shared one.
	const workers, each = 64, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			key := prefix + "{t" + strconv.Itoa(w) + "}n"
			for i := range each {
				id := strconv.Itoa(w) + ":" + strconv.Itoa(i)
				reply, err := incrLua.Run(ctx, p, []string{key}, id, 1).Slice()
				if err != nil {
					errs <- err
					return
				}
				if reply[0] != id || reply[1] != int64(i+1) {
					errs <- assert.AnError
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "every caller gets its own reply, its calls in order")
	}
	assert.Less(t, trips.N(), int64(workers*each), "concurrent calls share round trips")
	t.Logf("%d calls in %d round trips", workers*each, trips.N())

	// A script Redis lost (a restart, a failover) comes back through EVAL.
	key := prefix + "{t0}n"
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		require.NoError(t, cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			return c.ScriptFlush(ctx).Err()
		}))
	} else {
		require.NoError(t, rdb.ScriptFlush(ctx).Err())
	}
	reply, err := incrLua.Run(ctx, p, []string{key}, "again", 1).Slice()
	require.NoError(t, err)
	assert.Equal(t, []any{"again", int64(each + 1)}, reply)

	// A call whose context ended is not sent.
	done, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, incrLua.Run(done, p, []string{key}, "late", 1).Err(), context.Canceled)
	n, err := rdb.Get(ctx, key).Int()
	require.NoError(t, err)
	assert.Equal(t, each+1, n, "the cancelled call changed nothing")
}

func TestAutoPipe(t *testing.T) {
	for name, connect := range redistest.InstanceAndCluster() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			testAutoPipe(t, rdb, prefix)
		})
	}
}
