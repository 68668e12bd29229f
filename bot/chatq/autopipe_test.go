package chatq

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

// pipeCounter counts what reaches Redis: single commands and pipelines.
type pipeCounter struct{ single, pipelines, piped atomic.Int64 }

func (c *pipeCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *pipeCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.single.Add(1)
		return next(ctx, cmd)
	}
}
func (c *pipeCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		n := 0
		for _, cmd := range cmds {
			if cmd.Name() == "evalsha" {
				n++
			}
		}
		if n > 0 { // not a connection's own set-up
			c.pipelines.Add(1)
			c.piped.Add(int64(n))
		}
		return next(ctx, cmds)
	}
}

// incrLua adds ARGV[2] to KEYS[1] and returns ARGV[1] with the new value:
// each caller must get its own reply.
var incrLua = redis.NewScript(`local n = redis.call('INCRBY', KEYS[1], ARGV[2]) return {ARGV[1], n}`)

func testAutoPipe(t *testing.T, rdb redis.UniversalClient, prefix string) {
	ctx := context.Background()
	counter := &pipeCounter{}
	rdb.AddHook(counter)
	p := newAutoPipe(rdb)
	require.NoError(t, incrLua.Load(ctx, rdb).Err())

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
	assert.Equal(t, int64(workers*each), counter.piped.Load(), "every call went through a pipeline")
	assert.Less(t, counter.pipelines.Load(), int64(workers*each), "concurrent calls share round trips")
	t.Logf("%d calls in %d pipelines", workers*each, counter.pipelines.Load())

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
	rdb, prefix := redistest.New(t)
	testAutoPipe(t, rdb, prefix)
}

func TestAutoPipeCluster(t *testing.T) {
	redistest.Cluster(t)
	rdb, prefix := redistest.NewCluster(t)
	testAutoPipe(t, rdb, prefix)
}
