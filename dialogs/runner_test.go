package dialogs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
)

// overrunning is an acquirer whose first Submit outlives the chat's lock:
// while it hangs, the lock runs out and the same update is applied by
// another replica, whose Submit answers at once.
type overrunning struct {
	dialogs.Backend
	calls    int
	keys     []string
	overrun  func()
	deadline []time.Duration // time left to each call's context
}

func (o *overrunning) Submit(ctx context.Context, key string, app backend.Application) (backend.Receipt, error) {
	o.calls++
	o.keys = append(o.keys, key)
	if d, ok := ctx.Deadline(); ok {
		o.deadline = append(o.deadline, time.Until(d))
	}
	if o.calls == 1 {
		o.overrun()
	}
	return o.Backend.Submit(ctx, key, app)
}

// A turn that overruns the lock is applied again by whoever takes the
// lock next; the acquirer still makes one application, and the late turn
// does not write over the new state.
func TestOverrunTurnIsNotAppliedTwiceToTheAcquirer(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 91}
	throughSummary(c)
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 91).Step)

	const update = 7001
	press := dialogs.Input{Kind: dialogs.InButton, Data: "sum:confirm", Seq: c.seq}
	slow := &overrunning{Backend: f.backend}
	slowRunner := dialogs.NewRunner(f.store, dialogs.NewEngine(slow, mustBins(t), dialogs.WithClock(f.clock)), time.Second)
	other := dialogs.NewRunner(f.store, dialogs.NewEngine(slow, mustBins(t), dialogs.WithClock(f.clock)), time.Second)
	var second dialogs.Outcome
	slow.overrun = func() {
		f.advance(store.DefaultLockTTL + time.Second) // the lock runs out under the first turn
		var err error
		second, err = other.Handle(context.Background(), 91, update, press)
		require.NoError(t, err)
	}
	first, err := slowRunner.Handle(context.Background(), 91, update, press)
	// The late turn lost its lock; the update was applied by the other
	// replica, so it is a duplicate now.
	if err != nil {
		require.ErrorIs(t, err, dialogs.ErrDuplicate)
	}
	_ = first

	assert.Equal(t, 2, slow.calls, "the update reached the acquirer twice")
	assert.Equal(t, slow.keys[0], slow.keys[1], "with one key")
	apps, err := f.backend.Applications(context.Background(), "822100050110001")
	require.NoError(t, err)
	assert.Len(t, apps, 1, "one application")
	assert.Contains(t, keys(second), dialogs.MsgID("submitted"))
	st := mustLoad(t, f, 91)
	assert.Equal(t, dialogs.StepMenu, st.Step)
	assert.True(t, st.Secrets.Empty())
}

// The lock outlives a turn: a turn's backend calls end before the store's
// lock could run out, by LockMargin, whatever lock TTL the store has.
func TestTurnEndsInsideTheLock(t *testing.T) {
	require.GreaterOrEqual(t, store.DefaultLockTTL, dialogs.MaxTurn+dialogs.LockMargin,
		"the default lock must outlive a turn and its commit")
	for _, ttl := range []time.Duration{store.DefaultLockTTL, 8 * time.Second, time.Second} {
		t.Run(ttl.String(), func(t *testing.T) {
			f := newFixture(t, nil)
			cipher, err := store.NewCipher(store.RandomKey())
			require.NoError(t, err)
			f.store = store.NewMemory(cipher, store.WithClock(f.clock), store.WithLockTTL(ttl))
			f.runner = dialogs.NewRunner(f.store, f.engine, time.Second)
			c := &chat{t: t, f: f, id: 92}
			throughSummary(c)
			slow := &overrunning{Backend: f.backend, overrun: func() {}}
			f.use(t, slow)
			f.runner = dialogs.NewRunner(f.store, f.engine, time.Second)
			c.press("sum:confirm")
			require.Len(t, slow.deadline, 1)
			assert.LessOrEqual(t, slow.deadline[0], dialogs.MaxTurn)
			assert.Less(t, slow.deadline[0], ttl, "the turn's deadline comes before the lock's end")
			if ttl >= dialogs.MaxTurn+dialogs.LockMargin {
				assert.LessOrEqual(t, slow.deadline[0]+dialogs.LockMargin, ttl)
			}
		})
	}
}
