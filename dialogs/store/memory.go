package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/merchantbot/merchantbot/dialogs"
)

// Memory is a dialogs.Store inside the process. It keeps encoded records,
// exactly as Redis does, so it runs the same codec and cipher; its locks,
// TTLs and update ids follow the injected clock.
type Memory struct {
	c       *Cipher
	now     func() time.Time
	lockTTL time.Duration
	data    *memData
}

// memData is apart from Memory so that tests can read one data set through
// two ciphers.
type memData struct {
	mu    sync.Mutex
	chats map[int64]*memChat
}

type memChat struct {
	record  []byte
	expires time.Time

	token       string
	lockExpires time.Time

	applied        []int64 // ascending, at most appliedKeep
	appliedExpires time.Time
}

// NewMemory returns an empty Memory. Of the options it uses WithLockTTL and
// WithClock.
func NewMemory(c *Cipher, opts ...Option) *Memory {
	cfg := newConfig(opts)
	return &Memory{
		c:       c,
		now:     cfg.now,
		lockTTL: cfg.lockTTL,
		data:    &memData{chats: make(map[int64]*memChat)},
	}
}

var _ dialogs.Store = (*Memory)(nil)

// Acquire implements dialogs.Store.
func (m *Memory) Acquire(_ context.Context, chat, update int64) (*dialogs.Lease, error) {
	m.data.mu.Lock()
	defer m.data.mu.Unlock()
	now := m.now()
	ch := m.data.chat(chat, now)
	if update != 0 {
		if _, dup := slices.BinarySearch(ch.applied, update); dup {
			return nil, dialogs.ErrDuplicate
		}
	}
	if ch.token != "" {
		return nil, dialogs.ErrBusy
	}
	var st *dialogs.State
	if ch.record != nil {
		var err error
		if st, err = decodeState(m.c, chat, ch.record); err != nil {
			return nil, fmt.Errorf("acquire chat lock: %w", err)
		}
	}
	ch.token = newToken()
	ch.lockExpires = now.Add(m.lockTTL)
	return &dialogs.Lease{Chat: chat, Update: update, Token: ch.token, State: st}, nil
}

// Commit implements dialogs.Store.
func (m *Memory) Commit(_ context.Context, l *dialogs.Lease, st *dialogs.State) error {
	var rec []byte
	if st != nil {
		var err error
		if rec, err = encodeState(m.c, l.Chat, st); err != nil {
			return fmt.Errorf("commit chat state: %w", err)
		}
	}
	m.data.mu.Lock()
	defer m.data.mu.Unlock()
	now := m.now()
	ch := m.data.chat(l.Chat, now)
	if ch.token != l.Token {
		return dialogs.ErrLockLost
	}
	ch.record = rec
	if st != nil {
		ch.expires = now.Add(st.TTL())
	}
	if l.Update != 0 {
		if i, found := slices.BinarySearch(ch.applied, l.Update); !found {
			ch.applied = slices.Insert(ch.applied, i, l.Update)
		}
		if over := len(ch.applied) - appliedKeep; over > 0 {
			ch.applied = slices.Delete(ch.applied, 0, over)
		}
		ch.appliedExpires = now.Add(appliedTTL)
	}
	ch.token = ""
	m.data.tidy(l.Chat, ch)
	return nil
}

// Release implements dialogs.Store. It returns dialogs.ErrLockLost when the
// lock had already expired.
func (m *Memory) Release(_ context.Context, l *dialogs.Lease) error {
	m.data.mu.Lock()
	defer m.data.mu.Unlock()
	ch := m.data.chat(l.Chat, m.now())
	if ch.token != l.Token {
		return dialogs.ErrLockLost
	}
	ch.token = ""
	m.data.tidy(l.Chat, ch)
	return nil
}

// Reset implements dialogs.Store.
func (m *Memory) Reset(_ context.Context, chat int64) error {
	m.data.mu.Lock()
	defer m.data.mu.Unlock()
	ch := m.data.chat(chat, m.now())
	ch.record = nil
	m.data.tidy(chat, ch)
	return nil
}

// Load implements dialogs.Store.
func (m *Memory) Load(_ context.Context, chat int64) (*dialogs.State, error) {
	m.data.mu.Lock()
	defer m.data.mu.Unlock()
	ch := m.data.chat(chat, m.now())
	defer m.data.tidy(chat, ch)
	if ch.record == nil {
		return nil, nil
	}
	st, err := decodeState(m.c, chat, ch.record)
	if err != nil {
		return nil, fmt.Errorf("load chat state: %w", err)
	}
	return st, nil
}

// chat returns chat's entry with whatever expired by now removed, as Redis
// would have. The caller holds mu.
func (d *memData) chat(chat int64, now time.Time) *memChat {
	ch := d.chats[chat]
	if ch == nil {
		ch = &memChat{}
		d.chats[chat] = ch
	}
	if ch.record != nil && !now.Before(ch.expires) {
		ch.record = nil
	}
	if ch.token != "" && !now.Before(ch.lockExpires) {
		ch.token = ""
	}
	if ch.applied != nil && !now.Before(ch.appliedExpires) {
		ch.applied = nil
	}
	return ch
}

// tidy forgets an entry that holds nothing, so chats that come and go do not
// pile up. The caller holds mu.
func (d *memData) tidy(chat int64, ch *memChat) {
	if ch.record == nil && ch.token == "" && ch.applied == nil {
		delete(d.chats, chat)
	}
}
