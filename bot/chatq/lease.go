package chatq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Leases. A chat lock and an outbox lease live LockTTL (3 s by default)
// in Redis; the process that holds one renews it every quarter of that
// while its turn or its send runs (Keeper), however long that takes: a
// slow acquirer, a budget wait, a 429's retry_after. So a lease outlives
// its holder by at most LockTTL — a replica killed with kill -9 leaves its
// chats to the next process or another replica within seconds — and a
// live holder never loses it to a wait. A holder that cannot renew (Redis
// out of reach, the process stalled) stops treating the lease as held
// once LockTTL less a margin has passed since the last renewal it sent:
// the outbox sender checks Held right before every Bot API request, so it
// never sends a head another sender may have claimed meanwhile; a turn's
// commit is refused by Redis itself (ErrLockLost).

// ErrLeaseLost means a lease was found taken over, or ran out unrenewed.
var ErrLeaseLost = errors.New("lease lost")

// renewLua renews a batch of leases: all of one instance's, or those of
// one shard on a cluster (their keys share its slot), in one script
// rather than one script each. KEYS: each lease and its shard's ready set,
// in turn. ARGV: TTL ms, recheck score, then each lease's token and chat.
// Replies 1 or 0 (lost) per lease.
const renewLua = `
local out = {}
for i = 1, #KEYS, 2 do
	local t, chat = ARGV[i + 2], ARGV[i + 3]
	if redis.call('GET', KEYS[i]) == t then
		redis.call('PEXPIRE', KEYS[i], ARGV[1])
		redis.call('ZADD', KEYS[i + 1], ARGV[2], chat)
		out[#out + 1] = 1
	else
		out[#out + 1] = 0
	end
end
return out
`

// LeaseRef names a lease for its store: the chat lock or the outbox
// lease of Chat, held under Token.
type LeaseRef struct {
	Chat   int64
	Outbox bool
	Token  string
}

// Renewer is a store whose leases a Keeper renews (Redis, Memory).
type Renewer interface {
	// LockTTL is how long a lease lives unrenewed.
	LockTTL() time.Duration
	// Renew extends each lease by LockTTL and marks its chat to be looked
	// at again when that runs out. errs[i] is nil when leases[i] was
	// renewed, ErrLeaseLost when another holder has it (or nobody), and
	// another error when the store could not be asked.
	Renew(ctx context.Context, leases []LeaseRef) (errs []error)
}

// Lease is a chat lock or an outbox lease this process holds, kept alive
// by a Keeper until Stop. A nil *Lease is always held (a call made outside
// any lease).
type Lease struct {
	k      *Keeper
	ref    LeaseRef
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu    sync.Mutex
	until time.Time // held at least until then, by the last renewal sent
	lost  bool
}

// Held reports whether the lease is certainly still this holder's: not
// found taken, and renewed recently enough that it cannot have run out.
func (l *Lease) Held() bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.lost && time.Now().Before(l.until)
}

// Context is done when the lease is lost (its cause ErrLeaseLost) or
// stopped: waits made for the lease's sake end with it.
func (l *Lease) Context() context.Context {
	if l == nil {
		return context.Background()
	}
	return l.ctx
}

// Stop ends the renewals: the lease was given back, or is left to run out
// (a crash). Safe to call more than once, and on nil.
func (l *Lease) Stop() {
	if l == nil {
		return
	}
	l.k.forget(l)
	l.cancel(nil)
}

func (l *Lease) renewed(sent time.Time) {
	l.mu.Lock()
	if t := sent.Add(l.k.ttl - l.k.margin); t.After(l.until) {
		l.until = t
	}
	l.mu.Unlock()
}

func (l *Lease) lose() {
	l.mu.Lock()
	l.lost = true
	l.mu.Unlock()
	l.k.forget(l)
	l.cancel(ErrLeaseLost)
}

// Keeper renews the leases of this process: one pipelined round trip every
// quarter of the lease's lifetime, for all of them, and none while nothing
// is held (its goroutine ends then). Safe for concurrent use.
type Keeper struct {
	q      Renewer
	ttl    time.Duration
	every  time.Duration
	margin time.Duration

	mu      sync.Mutex
	held    map[*Lease]struct{}
	running bool
	closed  bool
}

// NewKeeper returns the keeper of leases taken from q.
func NewKeeper(q Renewer) *Keeper {
	ttl := q.LockTTL()
	return &Keeper{
		q:      q,
		ttl:    ttl,
		every:  ttl / 4,
		margin: ttl / 4,
		held:   map[*Lease]struct{}{},
	}
}

// HoldChat keeps c's chat lock (taken by Claim or AddUpdates at about
// since) until Stop; c.Lease is set to it.
func (k *Keeper) HoldChat(c *Claim, since time.Time) *Lease {
	c.Lease = k.hold(LeaseRef{Chat: c.Chat, Token: c.Token}, since)
	return c.Lease
}

// HoldOutbox keeps chat's outbox lease, won under token at about since (by
// ClaimOutbox or Commit), until Stop.
func (k *Keeper) HoldOutbox(chat int64, token string, since time.Time) *Lease {
	return k.hold(LeaseRef{Chat: chat, Outbox: true, Token: token}, since)
}

func (k *Keeper) hold(ref LeaseRef, since time.Time) *Lease {
	ctx, cancel := context.WithCancelCause(context.Background())
	l := &Lease{k: k, ref: ref, ctx: ctx, cancel: cancel}
	l.renewed(since)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		l.lost = true
		cancel(ErrLeaseLost)
		return l
	}
	k.held[l] = struct{}{}
	if !k.running {
		k.running = true
		go k.run()
	}
	return l
}

func (k *Keeper) forget(l *Lease) {
	k.mu.Lock()
	delete(k.held, l)
	k.mu.Unlock()
}

// Close stops every renewal, for good: the process is leaving.
func (k *Keeper) Close() {
	k.mu.Lock()
	k.closed = true
	left := make([]*Lease, 0, len(k.held))
	for l := range k.held {
		left = append(left, l)
	}
	k.mu.Unlock()
	for _, l := range left {
		l.Stop()
	}
}

// Held is how many leases are being kept (tests, metrics).
func (k *Keeper) Held() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.held)
}

func (k *Keeper) run() {
	t := time.NewTicker(k.every)
	defer t.Stop()
	for range t.C {
		k.mu.Lock()
		if len(k.held) == 0 {
			k.running = false
			k.mu.Unlock()
			return
		}
		leases := make([]*Lease, 0, len(k.held))
		for l := range k.held {
			leases = append(leases, l)
		}
		k.mu.Unlock()
		k.renewAll(leases)
	}
}

// renewAll renews leases in one round trip. A lease found taken is lost; a
// lease the store could not be asked about stays held until its time is up.
func (k *Keeper) renewAll(leases []*Lease) {
	sent := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), k.every)
	defer cancel()
	refs := make([]LeaseRef, len(leases))
	for i, l := range leases {
		refs[i] = l.ref
	}
	errs := k.q.Renew(ctx, refs)
	for i, l := range leases {
		switch err := errs[i]; {
		case err == nil:
			l.renewed(sent)
		case errors.Is(err, ErrLeaseLost):
			l.lose()
		case !l.Held():
			l.lose() // unrenewed for too long: someone may hold it now
		}
	}
}

// Renew renews leases in one pipelined round trip (Renewer): one script
// on one instance, one per shard on a cluster.
func (r *Redis) Renew(ctx context.Context, leases []LeaseRef) []error {
	if len(leases) == 0 {
		return nil
	}
	batches, cmds, err := r.pipeRenew(ctx, leases)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// Redis restarted (or was flushed) since the script was loaded.
		if r.renew.Load(ctx, r.rdb).Err() == nil {
			batches, cmds, _ = r.pipeRenew(ctx, leases)
		}
	}
	errs := make([]error, len(leases))
	for b, idx := range batches {
		reply, err := cmds[b].Int64Slice()
		if err == nil && len(reply) != len(idx) {
			err = fmt.Errorf("renew leases: unexpected reply of %d items", len(reply))
		}
		for j, i := range idx {
			switch {
			case err != nil:
				errs[i] = err
			case reply[j] != 1:
				errs[i] = ErrLeaseLost
			}
		}
	}
	return errs
}

// renewBatch is the most leases one renewLua renews: a script blocks Redis
// while it runs.
const renewBatch = 256

// pipeRenew sends renewLua for leases, batched by shard on a cluster (all
// together on one instance), at most renewBatch a batch; batches[b] are
// the indexes in leases of what cmds[b] renews.
func (r *Redis) pipeRenew(ctx context.Context, leases []LeaseRef) (batches [][]int, cmds []*redis.Cmd, err error) {
	byShard := map[int]int{} // shard → its batch being filled
	for i, l := range leases {
		shard := 0
		if !r.single() {
			shard = ShardOf(l.Chat)
		}
		b, ok := byShard[shard]
		if !ok || len(batches[b]) == renewBatch {
			b = len(batches)
			byShard[shard] = b
			batches = append(batches, nil)
		}
		batches[b] = append(batches[b], i)
	}
	pipe := r.rdb.Pipeline()
	cmds = make([]*redis.Cmd, len(batches))
	recheck := ms(r.now().Add(r.lockTTL))
	for b, idx := range batches {
		keys := make([]string, 0, 2*len(idx))
		args := make([]any, 0, 2+2*len(idx))
		args = append(args, r.lockTTL.Milliseconds(), recheck)
		for _, i := range idx {
			l := leases[i]
			kind := "l"
			if l.Outbox {
				kind = "ol"
			}
			keys = append(keys, r.key(l.Chat, kind), r.readyKey(l.Chat))
			args = append(args, l.Token, strconv.FormatInt(l.Chat, 10))
		}
		cmds[b] = r.renew.EvalSha(ctx, pipe, keys, args...)
	}
	_, err = pipe.Exec(ctx)
	return batches, cmds, err
}
