package bot

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSchedulerRunsAChatOnceAtATimeAndAgainWhenKicked(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		runs    atomic.Int32
		inside  atomic.Int32
		overlap atomic.Bool
	)
	release := make(chan struct{})
	s := newScheduler(ctx, 4, func(context.Context, int64) {
		if inside.Add(1) > 1 {
			overlap.Store(true)
		}
		if runs.Add(1) == 1 {
			<-release // kicked three times while this first run holds on
		}
		inside.Add(-1)
	})
	s.kick(7)
	require.Eventually(t, func() bool { return runs.Load() == 1 }, 5*time.Second, time.Millisecond)
	s.kick(7)
	s.kick(7)
	s.kick(7)
	close(release)
	require.NoError(t, s.wait(ctx))
	assert.Equal(t, int32(2), runs.Load(), "kicks while it ran make one more run, not three")
	assert.False(t, overlap.Load(), "never two runs of one chat at once")
	assert.Equal(t, 0, s.pending())
}

func TestSchedulerQueuedChatRunsOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	runs := map[int64]int{}
	release := make(chan struct{})
	s := newScheduler(ctx, 1, func(_ context.Context, chat int64) {
		if chat == 1 {
			<-release
		}
		mu.Lock()
		runs[chat]++
		mu.Unlock()
	})
	s.kick(1) // takes the only slot
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.busy[1] == running
	}, 5*time.Second, time.Millisecond)
	s.kick(2)
	s.kick(2) // still queued: not a second run
	close(release)
	require.NoError(t, s.wait(ctx))
	assert.Equal(t, map[int64]int{1: 1, 2: 1}, runs)
}

func TestSchedulerBoundsRunningChats(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var inside, most, runs atomic.Int32
	gate := make(chan struct{})
	s := newScheduler(ctx, 3, func(context.Context, int64) {
		n := inside.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-gate
		inside.Add(-1)
		runs.Add(1)
	})
	for chat := range int64(10) {
		s.kick(chat)
	}
	require.Eventually(t, func() bool { return inside.Load() == 3 }, 5*time.Second, time.Millisecond)
	close(gate)
	require.NoError(t, s.wait(ctx))
	assert.Equal(t, int32(3), most.Load(), "at most slots chats at once")
	assert.Equal(t, int32(10), runs.Load(), "every chat ran")
	s.mu.Lock()
	assert.Equal(t, 3, s.workers, "workers are reused, never more than slots")
	s.mu.Unlock()
}

func TestSchedulerStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var runs atomic.Int32
	release := make(chan struct{})
	s := newScheduler(ctx, 1, func(context.Context, int64) {
		runs.Add(1)
		<-release
	})
	s.kick(1)
	s.kick(2) // queued behind 1: dropped when ctx ends (left in Redis for the sweep)
	require.Eventually(t, func() bool { return runs.Load() == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	waitCtx, stop := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer stop()
	assert.ErrorIs(t, s.wait(waitCtx), context.DeadlineExceeded, "the running chat holds wait")
	close(release)
	require.NoError(t, s.wait(context.Background()))
	assert.Equal(t, int32(1), runs.Load())
	s.kick(3) // after the end: nothing runs
	assert.Equal(t, 0, s.pending())
	s.wg.Wait() // every worker ended
}

func TestSchedulerRunHere(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var runs, inside atomic.Int32
	var overlap atomic.Bool
	var during func() // called inside the first run
	s := newScheduler(ctx, 4, func(context.Context, int64) {
		if inside.Add(1) > 1 {
			overlap.Store(true)
		}
		if runs.Add(1) == 1 && during != nil {
			during()
		}
		inside.Add(-1)
	})

	// An idle chat runs in the caller, before runHere returns, on no worker;
	// wait holds while it runs.
	during = func() {
		waitCtx, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer stop()
		assert.ErrorIs(t, s.wait(waitCtx), context.DeadlineExceeded, "a run here holds wait")
		s.kick(7) // kicked while it runs here: once more, on a worker
	}
	s.runHere(7)
	assert.GreaterOrEqual(t, runs.Load(), int32(1), "ran before runHere returned")
	require.NoError(t, s.wait(ctx))
	assert.Equal(t, int32(2), runs.Load())
	s.mu.Lock()
	assert.Equal(t, 1, s.workers, "only the kick took a worker")
	s.mu.Unlock()

	// A chat running on a worker is not run here as well: it runs again after.
	runs.Store(0)
	release := make(chan struct{})
	during = func() { <-release }
	s.kick(8)
	require.Eventually(t, func() bool { return runs.Load() == 1 }, 5*time.Second, time.Millisecond)
	s.runHere(8)
	assert.Equal(t, int32(1), runs.Load(), "runHere did not run it beside the worker")
	close(release)
	require.NoError(t, s.wait(ctx))
	assert.Equal(t, int32(2), runs.Load())
	assert.False(t, overlap.Load(), "never two runs of one chat at once")
	assert.Equal(t, 0, s.pending())
}
