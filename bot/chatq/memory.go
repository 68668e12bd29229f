package chatq

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/merchantbot/merchantbot/bot/outbox"
)

// Memory is the chat record of Redis kept in this process: the same
// queue, state, applied ids, outbox, locks and ready set, with the same
// answers (the conformance suite chatqtest runs over both). For one
// process: the console, tests. Safe for concurrent use.
type Memory struct {
	lockTTL time.Duration
	now     func() time.Time

	mu       sync.Mutex
	chats    map[int64]*memChat
	ready    map[int64]int64 // chat → ms
	dead     []DeadEntry
	merchant map[string]int64
	wake     map[int64]int64
	depth    int64
}

type memEntry struct {
	score   float64
	payload []byte
}

type memLock struct {
	token string
	until time.Time
}

func (l *memLock) heldBy(now time.Time) string {
	if l == nil || !now.Before(l.until) {
		return ""
	}
	return l.token
}

type memChat struct {
	q         []memEntry // ordered by score
	attempts  map[string]int
	applied   map[int64]bool
	appliedAt time.Time // the applied ids' expiry
	state     []byte
	stateTill time.Time
	lock      *memLock
	out       [][]byte
	outLock   *memLock
	once      map[string]time.Time
	blocked   bool
}

// NewMemory returns an empty in-memory chat record. Of Redis's options,
// WithLockTTL and WithClock apply.
func NewMemory(opts ...Option) *Memory {
	r := &Redis{lockTTL: DefaultLockTTL, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	return &Memory{
		lockTTL:  r.lockTTL,
		now:      r.now,
		chats:    map[int64]*memChat{},
		ready:    map[int64]int64{},
		merchant: map[string]int64{},
		wake:     map[int64]int64{},
	}
}

// LockTTL is how long a lock lives without its holder.
func (m *Memory) LockTTL() time.Duration { return m.lockTTL }

func (m *Memory) chat(id int64) *memChat {
	c := m.chats[id]
	if c == nil {
		c = &memChat{attempts: map[string]int{}, applied: map[int64]bool{}, once: map[string]time.Time{}}
		m.chats[id] = c
	}
	return c
}

func scoreString(f float64) string { return strconv.FormatFloat(f, 'g', 17, 64) }

func (m *Memory) readyLT(chat int64, at int64) {
	if old, ok := m.ready[chat]; !ok || at < old {
		m.ready[chat] = at
	}
}

func (c *memChat) appliedIDs(now time.Time) map[int64]bool {
	if len(c.applied) > 0 && !now.Before(c.appliedAt) {
		c.applied = map[int64]bool{}
	}
	return c.applied
}

func (c *memChat) takeOnce(once string, now time.Time) bool {
	if once == "" {
		return true
	}
	if till, ok := c.once[once]; ok && now.Before(till) {
		return false
	}
	c.once[once] = now.Add(onceTTL)
	return true
}

func (c *memChat) insert(e memEntry) {
	i := sort.Search(len(c.q), func(i int) bool { return c.q[i].score >= e.score })
	c.q = append(c.q, memEntry{})
	copy(c.q[i+1:], c.q[i:])
	c.q[i] = e
}

func (c *memChat) has(score float64) bool {
	for _, e := range c.q {
		if e.score == score {
			return true
		}
	}
	return false
}

func (m *Memory) appendCalls(c *memChat, calls []outbox.Call) error {
	raws := make([][]byte, 0, len(calls))
	for _, call := range calls {
		raw, err := json.Marshal(outbox.Stored(call))
		if err != nil {
			return errors.New("encode outbox call " + call.Method + ": " + err.Error())
		}
		raws = append(raws, raw)
	}
	c.out = append(c.out, raws...)
	m.depth += int64(len(raws))
	return nil
}

func (m *Memory) add(chat int64, kind string, id int64, once string, payload []byte, readyAt time.Time, calls []outbox.Call) (bool, error) {
	now := time.Now()
	c := m.chat(chat)
	var score float64
	if kind == "u" {
		score = float64(id)
		if c.appliedIDs(now)[id] || c.has(score) {
			return false, nil
		}
	} else {
		if !c.takeOnce(once, now) {
			return false, nil
		}
		top := 0.0
		if n := len(c.q); n > 0 {
			top = c.q[n-1].score
		}
		for a := range c.appliedIDs(now) {
			if float64(a) > top {
				top = math.Floor(float64(a))
			}
		}
		score = top + eventStep
	}
	if err := m.appendCalls(c, calls); err != nil {
		return false, err
	}
	c.insert(memEntry{score: score, payload: append([]byte(nil), payload...)})
	m.readyLT(chat, readyAt.UnixMilli())
	return true, nil
}

// AddUpdate is Redis.AddUpdate.
func (m *Memory) AddUpdate(_ context.Context, chat, id int64, payload []byte, readyAt time.Time, calls ...outbox.Call) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.add(chat, "u", id, "", payload, readyAt, calls)
}

// AddEvent is Redis.AddEvent.
func (m *Memory) AddEvent(_ context.Context, chat int64, once string, payload []byte, readyAt time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.add(chat, "e", 0, once, payload, readyAt, nil)
}

// AddUpdates is Redis.AddUpdates.
func (m *Memory) AddUpdates(_ context.Context, ps []Pending, readyAt time.Time, newToken func() string) ([]bool, []*Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	added := make([]bool, len(ps))
	for i, p := range ps {
		if p.Unblock {
			m.chat(p.Chat).blocked = false
		}
		ok, err := m.add(p.Chat, "u", p.ID, "", p.Payload, readyAt, p.Calls)
		if err != nil {
			return nil, nil, err
		}
		added[i] = ok
	}
	var claims []*Claim
	if newToken != nil {
		seen := map[int64]bool{}
		for _, p := range ps {
			if seen[p.Chat] {
				continue
			}
			seen[p.Chat] = true
			if c, err := m.claim(p.Chat, newToken()); err == nil && c.Head != nil {
				claims = append(claims, c)
			}
		}
	}
	return added, claims, nil
}

// Claim is Redis.Claim.
func (m *Memory) Claim(_ context.Context, chat int64, token string) (*Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.claim(chat, token)
}

func (m *Memory) claim(chat int64, token string) (*Claim, error) {
	now := time.Now()
	c := m.chat(chat)
	if c.lock.heldBy(now) != "" {
		return nil, ErrBusy
	}
	cl := &Claim{Chat: chat, Token: token}
	if len(c.q) == 0 {
		c.lock = nil
		if len(c.out) == 0 {
			delete(m.ready, chat)
		}
		return cl, nil
	}
	c.lock = &memLock{token: token, until: now.Add(m.lockTTL)}
	cl.Head = m.head(c)
	m.ready[chat] = m.now().Add(m.lockTTL).UnixMilli()
	if s := c.stateAt(now); s != nil {
		cl.State = append([]byte(nil), s...)
	}
	return cl, nil
}

func (c *memChat) stateAt(now time.Time) []byte {
	if c.state != nil && !now.Before(c.stateTill) {
		c.state = nil
	}
	return c.state
}

// head hands out the head entry once more.
func (m *Memory) head(c *memChat) *Entry {
	h := c.q[0]
	s := scoreString(h.score)
	c.attempts[s]++
	return &Entry{Payload: append([]byte(nil), h.payload...), Score: s, Attempts: c.attempts[s]}
}

// Commit is Redis.Commit.
func (m *Memory) Commit(_ context.Context, cl *Claim, t Turn, outboxToken string) (Committed, error) {
	if len(t.Group) > 0 && t.GroupChat == 0 {
		return Committed{}, errors.New("commit chat: group calls without a group chat")
	}
	if !t.Delete && t.State != nil && t.StateTTL <= 0 {
		return Committed{}, errors.New("commit chat: state without a TTL")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	c := m.chat(cl.Chat)
	if h := c.lock.heldBy(now); h == "" || h != cl.Token {
		return Committed{}, ErrLockLost
	}
	for i, e := range c.q {
		if scoreString(e.score) == cl.Head.Score {
			c.q = append(c.q[:i], c.q[i+1:]...)
			break
		}
	}
	delete(c.attempts, cl.Head.Score)
	switch {
	case t.Delete:
		c.state = nil
	case t.State != nil:
		c.state, c.stateTill = append([]byte(nil), t.State...), now.Add(t.StateTTL)
	}
	if t.Dead != "" {
		m.dead = append(m.dead, DeadEntry{Chat: cl.Chat, Score: cl.Head.Score, Payload: cl.Head.Payload,
			Reason: t.Dead, At: m.now().UTC(), Attempts: cl.Head.Attempts})
		if len(m.dead) > 10000 {
			m.dead = m.dead[len(m.dead)-10000:]
		}
	}
	if t.UpdateID != 0 {
		ids := c.appliedIDs(now)
		ids[t.UpdateID] = true
		if len(ids) > appliedKeep {
			keep := make([]int64, 0, len(ids))
			for id := range ids {
				keep = append(keep, id)
			}
			sort.Slice(keep, func(i, j int) bool { return keep[i] > keep[j] })
			for _, id := range keep[appliedKeep:] {
				delete(ids, id)
			}
		}
		c.appliedAt = now.Add(appliedTTL)
	}
	switch {
	case t.KeepWake:
	case t.Wake.IsZero():
		delete(m.wake, cl.Chat)
	default:
		m.wake[cl.Chat] = t.Wake.UnixMilli()
	}
	if t.Merchant != "" {
		m.merchant[t.Merchant] = cl.Chat
	}
	if err := m.appendCalls(c, t.Calls); err != nil {
		return Committed{}, err
	}
	if len(t.Group) > 0 {
		if err := m.appendCalls(m.chat(t.GroupChat), t.Group); err != nil {
			return Committed{}, err
		}
		m.readyLT(t.GroupChat, m.now().UnixMilli())
	}
	var out Committed
	if !c.blocked && len(c.out) > 0 && c.outLock.heldBy(now) == "" {
		c.outLock = &memLock{token: outboxToken, until: now.Add(m.lockTTL)}
		out.Outbox = c.batch(0)
	}
	recheck := m.now().Add(m.lockTTL).UnixMilli()
	if len(c.q) > 0 {
		c.lock.until = now.Add(m.lockTTL)
		m.ready[cl.Chat] = recheck
		out.Next = m.head(c)
		cl.Head = out.Next
		return out, nil
	}
	c.lock = nil
	cl.Head = nil
	if len(c.out) == 0 || c.blocked {
		delete(m.ready, cl.Chat)
	} else {
		m.ready[cl.Chat] = recheck
	}
	return out, nil
}

// Dead is Redis.Dead.
func (m *Memory) Dead(_ context.Context, n int64) ([]DeadEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	from := max(0, len(m.dead)-int(n))
	return append([]DeadEntry(nil), m.dead[from:]...), nil
}

// Release is Redis.Release.
func (m *Memory) Release(_ context.Context, cl *Claim, retryAt time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.chat(cl.Chat)
	if c.lock.heldBy(time.Now()) == cl.Token {
		c.lock = nil
	}
	m.ready[cl.Chat] = retryAt.UnixMilli()
	return nil
}

// Enqueue is Redis.Enqueue.
func (m *Memory) Enqueue(_ context.Context, chat int64, once string, calls ...outbox.Call) (bool, error) {
	if len(calls) == 0 {
		return false, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.chat(chat)
	if !c.takeOnce(once, time.Now()) {
		return false, nil
	}
	if err := m.appendCalls(c, calls); err != nil {
		return false, err
	}
	m.readyLT(chat, m.now().UnixMilli())
	return true, nil
}

// ClaimOutbox is Redis.ClaimOutbox.
func (m *Memory) ClaimOutbox(_ context.Context, chat int64, token string) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	c := m.chat(chat)
	if c.blocked {
		if len(c.q) == 0 {
			delete(m.ready, chat)
		}
		return nil, ErrNotSender
	}
	if c.outLock.heldBy(now) != "" {
		return nil, ErrNotSender
	}
	if len(c.out) == 0 {
		c.outLock = nil
		if len(c.q) == 0 {
			delete(m.ready, chat)
		}
		return nil, nil
	}
	c.outLock = &memLock{token: token, until: now.Add(m.lockTTL)}
	return c.batch(0), nil
}

// batch is the outbox's calls from the i-th on, OutboxBatch of them at
// most (nil when none).
func (c *memChat) batch(i int) [][]byte {
	if i >= len(c.out) {
		return nil
	}
	return append([][]byte(nil), c.out[i:min(len(c.out), i+OutboxBatch)]...)
}

// popSent pops the calls sent from the head of the outbox, each only if it
// is the head by then (popSentLua).
func (m *Memory) popSent(c *memChat, sent [][]byte) {
	popped := 0
	for _, call := range sent {
		if popped < len(c.out) && string(c.out[popped]) == string(call) {
			popped++
		}
	}
	c.out = c.out[popped:]
	m.depth -= int64(popped)
}

// MarkSent is Redis.MarkSent.
func (m *Memory) MarkSent(_ context.Context, chat int64, token string, sent [][]byte) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	c := m.chat(chat)
	if h := c.outLock.heldBy(now); h != "" && h != token {
		return nil, ErrNotSender
	}
	// Held or run out unclaimed: the calls were sent, so they are marked
	// (see markSentLua).
	c.outLock = &memLock{token: token, until: now.Add(m.lockTTL)}
	m.popSent(c, sent)
	if len(c.out) == 0 {
		c.outLock = nil
		if len(c.q) == 0 {
			delete(m.ready, chat)
		}
		return nil, nil
	}
	m.ready[chat] = m.now().Add(m.lockTTL).UnixMilli()
	return c.batch(0), nil
}

// ReleaseOutbox is Redis.ReleaseOutbox.
func (m *Memory) ReleaseOutbox(_ context.Context, chat int64, token string, retryAt time.Time, sent ...[]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.chat(chat)
	h := c.outLock.heldBy(time.Now())
	if h == "" || h == token {
		m.popSent(c, sent)
	}
	if h == token {
		c.outLock = nil
	}
	switch {
	case !retryAt.IsZero():
		m.ready[chat] = retryAt.UnixMilli()
	case len(c.q) == 0:
		delete(m.ready, chat)
	}
	return nil
}

// DropSuperseded is Redis.DropSuperseded.
func (m *Memory) DropSuperseded(_ context.Context, chat int64, prefix string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.chat(chat)
	if c.outLock.heldBy(time.Now()) != "" {
		return 0, nil
	}
	apps := map[int]string{}
	last := map[string]int{}
	for i, raw := range c.out {
		var call struct {
			T string `json:"t"`
		}
		if json.Unmarshal(raw, &call) != nil || !strings.HasPrefix(call.T, prefix) {
			continue
		}
		if _, app, ok := strings.Cut(call.T[len(prefix):], ":"); ok {
			apps[i], last[app] = app, i
		}
	}
	kept := make([][]byte, 0, len(c.out))
	var dropped int64
	for i, raw := range c.out {
		if app, ok := apps[i]; ok && last[app] != i {
			dropped++
			continue
		}
		kept = append(kept, raw)
	}
	c.out = kept
	m.depth -= dropped
	return dropped, nil
}

// Depth is Redis.Depth.
func (m *Memory) Depth(context.Context) (calls, chats int64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.depth, int64(len(m.ready)), nil
}

// Due is Redis.Due.
func (m *Memory) Due(_ context.Context, n int64) ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now().UnixMilli()
	type due struct{ chat, at int64 }
	var all []due
	for chat, at := range m.ready {
		if at <= now {
			all = append(all, due{chat, at})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].at != all[j].at {
			return all[i].at < all[j].at
		}
		return strconv.FormatInt(all[i].chat, 10) < strconv.FormatInt(all[j].chat, 10)
	})
	chats := make([]int64, 0, min(int64(len(all)), n))
	for i := 0; i < len(all) && int64(i) < n; i++ {
		chats = append(chats, all[i].chat)
	}
	return chats, nil
}

// Wake is Redis.Wake.
func (m *Memory) Wake(_ context.Context, chat int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ready[chat] = m.now().UnixMilli()
	return nil
}

// OutboxLen is Redis.OutboxLen.
func (m *Memory) OutboxLen(_ context.Context, chat int64) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.chat(chat).out)), nil
}

// QueueLen is Redis.QueueLen.
func (m *Memory) QueueLen(_ context.Context, chat int64) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.chat(chat).q)), nil
}

// State is Redis.State.
func (m *Memory) State(_ context.Context, chat int64) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.chat(chat).stateAt(m.now()); s != nil {
		return append([]byte(nil), s...), nil
	}
	return nil, nil
}

// Reset is Redis.Reset.
func (m *Memory) Reset(_ context.Context, chat int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.chat(chat).state = nil
	return nil
}

// Block marks chat as having blocked the bot (bot/sender's record in
// Redis): its outbox is not sent until an update it wrote lifts the mark.
func (m *Memory) Block(chat int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.chat(chat).blocked = true
}

// Renew is Redis.Renew (Renewer).
func (m *Memory) Renew(_ context.Context, leases []LeaseRef) []error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	errs := make([]error, len(leases))
	for i, l := range leases {
		c := m.chat(l.Chat)
		lock := c.lock
		if l.Outbox {
			lock = c.outLock
		}
		if h := lock.heldBy(now); h == "" || h != l.Token {
			errs[i] = ErrLeaseLost
			continue
		}
		lock.until = now.Add(m.lockTTL)
		m.ready[l.Chat] = m.now().Add(m.lockTTL).UnixMilli()
	}
	return errs
}

// SetLease sets (token "" deletes) chat's chat lock or outbox lease, as if
// another holder took it or it ran out (the conformance suite).
func (m *Memory) SetLease(chat int64, outboxLease bool, token string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.chat(chat)
	var l *memLock
	if token != "" {
		l = &memLock{token: token, until: time.Now().Add(time.Hour)}
	}
	if outboxLease {
		c.outLock = l
	} else {
		c.lock = l
	}
}

// Relay is Redis.Relay: Memory appends a turn's group calls to the group's
// outbox in the commit itself, so nothing is left to relay.
func (m *Memory) Relay(context.Context, int64) error { return nil }

// Sweep is Redis.Sweep: one process holds every shard.
func (m *Memory) Sweep(ctx context.Context, _ string, n int64) ([]int64, error) { return m.Due(ctx, n) }

// StopSweeping is Redis.StopSweeping: nothing to give back.
func (m *Memory) StopSweeping(context.Context, string) error { return nil }

// MarkSentFold is Redis.MarkSentFold: Memory takes no budget (paid is
// always false).
func (m *Memory) MarkSentFold(ctx context.Context, chat int64, token string, sent [][]byte, _ *Fold) ([][]byte, bool, error) {
	next, err := m.MarkSent(ctx, chat, token, sent)
	return next, false, err
}
