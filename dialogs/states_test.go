package dialogs_test

import (
	"context"
	"sync"
	"time"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
)

// states keeps each chat's State in a map the way the bot's chat record
// keeps it (bot/chatq): sealed with the record codec, dropped when the
// state's TTL has passed on the fixture's clock, deleted when a turn
// leaves it zero, one turn at a time per
// chat, and written only when a turn ends (a panic leaves it as it was).
// The tests run Engine.Handle on it; the pipeline's own promises (order,
// locks, redelivery) are tested in bot and bot/chatq.
type states struct {
	clock  func() time.Time
	cipher *store.Cipher

	mu    sync.Mutex
	recs  map[int64]stateRecord
	turns map[int64]*sync.Mutex
}

type stateRecord struct {
	rec  []byte
	till time.Time
}

func newStates(clock func() time.Time, cipher *store.Cipher) *states {
	return &states{clock: clock, cipher: cipher, recs: map[int64]stateRecord{}, turns: map[int64]*sync.Mutex{}}
}

// Load reads chat's state (nil, nil when none).
func (s *states) Load(_ context.Context, chat int64) (*dialogs.State, error) {
	s.mu.Lock()
	r, ok := s.recs[chat]
	if ok && !s.clock().Before(r.till) {
		delete(s.recs, chat)
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		return nil, nil
	}
	return store.DecodeState(s.cipher, chat, r.rec)
}

// Handle runs e on chat's state for in, a turn bounded by dialogs.MaxTurn
// as the pipeline bounds it, and keeps the state it leaves.
func (s *states) Handle(ctx context.Context, e *dialogs.Engine, chat int64, in dialogs.Input) (dialogs.Outcome, error) {
	s.mu.Lock()
	turn := s.turns[chat]
	if turn == nil {
		turn = &sync.Mutex{}
		s.turns[chat] = turn
	}
	s.mu.Unlock()
	turn.Lock()
	defer turn.Unlock()
	st, err := s.Load(ctx, chat)
	if err != nil {
		return dialogs.Outcome{}, err
	}
	if st == nil {
		st = &dialogs.State{}
	}
	tctx, cancel := context.WithTimeout(ctx, dialogs.MaxTurn)
	out := e.Handle(tctx, st, in)
	cancel()
	if *st == (dialogs.State{}) { // nothing to keep: the pipeline deletes it
		s.mu.Lock()
		delete(s.recs, chat)
		s.mu.Unlock()
		return out, nil
	}
	rec, err := store.EncodeState(s.cipher, chat, st)
	if err != nil {
		return dialogs.Outcome{}, err
	}
	s.mu.Lock()
	s.recs[chat] = stateRecord{rec: rec, till: s.clock().Add(st.TTL())}
	s.mu.Unlock()
	return out, nil
}
