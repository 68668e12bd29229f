package dialogs

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MaxTurn bounds the backend calls of one turn. A chat's lock must outlive
// a turn by LockMargin, the time to commit after the turn's deadline:
// stores hold it longer (store.DefaultLockTTL is 15 s), and a store whose
// lock lives less shortens the turn instead (see NewRunner).
const (
	MaxTurn    = 10 * time.Second
	LockMargin = 3 * time.Second
)

// lockTimer is a store that tells how long its locks live.
type lockTimer interface {
	LockTTL() time.Duration
}

// turnBudget is how long a turn may run under a lock that lives ttl.
func turnBudget(ttl time.Duration) time.Duration {
	if ttl <= 0 || ttl >= MaxTurn+LockMargin {
		return MaxTurn
	}
	// A short lock (tests) keeps the same order: the turn ends, then the
	// commit, then the lock would run out.
	return max(ttl-LockMargin, ttl/2)
}

// Runner applies one Input to one chat: it takes the chat's lock, reads the
// state, runs the Engine, and saves the state while releasing the lock. The
// store does each of the two steps in one round trip.
type Runner struct {
	store   Store
	engine  *Engine
	maxWait time.Duration
	turn    time.Duration // bound of one turn, inside the lock's lifetime
}

// NewRunner returns a Runner. A chat whose lock is held by another update is
// waited for up to maxWait (0: 10 s).
func NewRunner(s Store, e *Engine, maxWait time.Duration) *Runner {
	if maxWait <= 0 {
		maxWait = 10 * time.Second
	}
	r := &Runner{store: s, engine: e, maxWait: maxWait, turn: MaxTurn}
	if lt, ok := s.(lockTimer); ok {
		r.turn = turnBudget(lt.LockTTL())
	}
	return r
}

// Handle applies in, received as update (0: no de-duplication), to chat.
// It returns ErrDuplicate for an update that was already applied. The
// state is saved only when the whole Input was handled: a panic in the Engine
// releases the lock and leaves the state as it was.
func (r *Runner) Handle(ctx context.Context, chat, update int64, in Input) (Outcome, error) {
	for attempt := 0; ; attempt++ {
		out, err := r.once(ctx, chat, update, in)
		if errors.Is(err, ErrLockLost) && attempt == 0 {
			continue // someone else wrote meanwhile: apply the input to their state
		}
		return out, err
	}
}

func (r *Runner) once(ctx context.Context, chat, update int64, in Input) (out Outcome, err error) {
	lease, err := r.acquire(ctx, chat, update)
	if errors.Is(err, ErrUnreadable) {
		// Written under another DATA_KEY or damaged: useless to anyone.
		// The merchant starts again instead of being stuck for a day.
		if err := r.store.Reset(ctx, chat); err != nil {
			return Outcome{}, fmt.Errorf("reset unreadable state: %w", err)
		}
		r.engine.log.Warn("unreadable chat state reset", "chat", chat)
		lease, err = r.acquire(ctx, chat, update)
	}
	if err != nil {
		return Outcome{}, err
	}
	committed := false
	defer func() {
		if !committed {
			// A fresh context: the lock must go even when ctx is done.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			_ = r.store.Release(rctx, lease)
		}
	}()
	st := lease.State
	if st == nil {
		st = &State{}
	}
	// The turn ends well inside the lock's lifetime (15 s by default): a
	// slow acquirer is answered "try again, your answers are kept" instead
	// of the lock running out under a turn that then writes anyway. Should
	// a backend call overrun its context all the same, the commit fails
	// with ErrLockLost and the update is applied again on the new state;
	// a submission it repeats carries the same content key, so the
	// acquirer makes one application of it.
	tctx, cancel := context.WithTimeout(ctx, r.turn)
	out = r.engine.Handle(tctx, st, in)
	cancel()
	if err := r.store.Commit(ctx, lease, st); err != nil {
		if errors.Is(err, ErrLockLost) {
			committed = true // nothing of ours to release
		}
		return Outcome{}, fmt.Errorf("save state: %w", err)
	}
	committed = true
	return out, nil
}

// acquire waits for the chat's lock, backing off from 2 ms to 50 ms.
func (r *Runner) acquire(ctx context.Context, chat, update int64) (*Lease, error) {
	deadline := time.Now().Add(r.maxWait)
	wait := 2 * time.Millisecond
	for {
		lease, err := r.store.Acquire(ctx, chat, update)
		if !errors.Is(err, ErrBusy) {
			if err != nil && !errors.Is(err, ErrDuplicate) {
				return nil, fmt.Errorf("load state: %w", err)
			}
			return lease, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("chat %d: %w", chat, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
}
