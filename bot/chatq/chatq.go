// Package chatq keeps, in Redis, what the bot owes each chat: the updates
// and events waiting to be applied (a queue ordered by update_id), the
// chat's state, and the Bot API calls waiting to be sent (the outbox). One
// script adds to the queue (at intake, claiming the chat in the same
// script), one claims the chat, one commits a turn (new
// state, the applied entry removed, its calls appended to the outbox) in a
// single Redis transaction, and two more send the outbox in order, handing
// out up to OutboxBatch calls at a time and marking those sent in one round
// trip. Whichever replica holds a chat's lock applies its
// queue; whichever holds its outbox lock sends its calls. Nothing here knows
// Telegram: payloads and states are bytes the caller encodes (and seals).
//
// The chats are spread over Shards shards (shard.go); every key of a shard
// carries its hash tag <tag> (ShardTag), so one Redis Cluster slot holds a
// chat's keys together with its shard's sets, and every script touches one
// slot. Per chat:
//
//	<prefix><tag>:<chat>:q   ZSET  waiting entries, member = payload, score = order
//	<prefix><tag>:<chat>:n   HASH  score → times the entry was handed out
//	<prefix><tag>:<chat>:u   ZSET  applied update ids (newest 64, 24 h)
//	<prefix><tag>:<chat>:s   the state record
//	<prefix><tag>:<chat>:l   the chat lock (a holder's token)
//	<prefix><tag>:<chat>:o   LIST  outbox: JSON outbox.Call, oldest first
//	<prefix><tag>:<chat>:ol  the outbox lock
//	<prefix><tag>:<chat>:g   LIST  calls for the support group, committed
//	                         with the turn and relayed to the group's
//	                         outbox (another shard) by Relay
//	<prefix><tag>:<chat>:x:<once>  a once key (Add/Enqueue with once)
//
// Per shard:
//
//	<prefix><tag>:ready   ZSET chat → when someone should look at it again
//	                      (work may be left: a crashed replica, a retry, a
//	                      parked send)
//	<prefix><tag>:dead    LIST dead-lettered entries (JSON, payload sealed)
//	<prefix><tag>:merchant:<no>  the chat bound to a merchant, "<chat>"
//	                      ("<chat>@<unix ms>" when bound by a commit)
//	<prefix><tag>:wake    ZSET chat → when the dialog wants an event
//	<prefix><tag>:depth   calls waiting in the shard's outboxes
//
// The prefix must not hold '{' or '}' (it would change the hash tag).
package chatq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/bot/outbox"
)

// Errors.
var (
	// ErrBusy means another holder has the lock.
	ErrBusy = errors.New("chat is held by another worker")
	// ErrLockLost means the lock expired under its holder: nothing was written.
	ErrLockLost = errors.New("chat lock lost")
)

// Defaults.
const (
	// DefaultLockTTL is how long a chat lock or an outbox lease outlives a
	// holder that stopped renewing it (lease.go): a killed replica's chats
	// are taken up by another process this long after its last renewal.
	DefaultLockTTL = 3 * time.Second
	appliedKeep    = 64
	appliedTTL     = 24 * time.Hour
	onceTTL        = 30 * 24 * time.Hour
	// eventStep puts an event just after the newest update seen: an exact
	// binary fraction, so scores stay exact far beyond Telegram's ids.
	eventStep = 1.0 / 1024
)

// Redis is the per-chat queue, state and outbox. Safe for concurrent use.
type Redis struct {
	rdb       redis.UniversalClient
	sc        redis.Scripter // rdb, with concurrent EVALSHAs pipelined (autoPipe)
	prefix    string
	lockTTL   time.Duration
	blockedFn func(chat int64) string
	now       func() time.Time

	add, claim, commit, release, claimOut, markOut, releaseOut, renew, sweep *redis.Script
	// markFold and commitFold are markOut and commit with a send budget
	// taken for the call handed out (WithSendBudget); nil without one.
	markFold, commitFold *redis.Script
	// One instance only (single): every shard in one script.
	sweepAllScript, depthAll *redis.Script
}

// Option configures Redis.
type Option func(*Redis)

// WithPrefix sets the key prefix (default "mb:").
func WithPrefix(p string) Option { return func(r *Redis) { r.prefix = p } }

// WithLockTTL sets how long a lock outlives a holder that died (or stopped
// renewing it).
func WithLockTTL(d time.Duration) Option {
	return func(r *Redis) {
		if d > 0 {
			r.lockTTL = d
		}
	}
}

// WithBlockedKey names the key whose existence means the chat blocked the
// bot (bot/sender's record): an outbox is not sent while it exists.
func WithBlockedKey(f func(chat int64) string) Option { return func(r *Redis) { r.blockedFn = f } }

// WithSendBudget gives the source of bot/sender's budget script
// (sender.TakeLua): Commit and MarkSentFold then take the budget of a
// message of the batch they hand out in the same round trip.
func WithSendBudget(takeLua string) Option {
	return func(r *Redis) {
		take := "local function take(KEYS, ARGV)\n" + takeLua + "\nend\n"
		r.markFold = redis.NewScript(withBatch(take + markFoldLua))
		r.commitFold = redis.NewScript(withBatch(take + commitLua))
	}
}

// WithClock sets the clock of the ready scores (tests).
func WithClock(now func() time.Time) Option { return func(r *Redis) { r.now = now } }

// New returns the queue over rdb.
func New(rdb redis.UniversalClient, opts ...Option) *Redis {
	r := &Redis{
		rdb:        rdb,
		sc:         newAutoPipe(rdb),
		prefix:     "mb:",
		lockTTL:    DefaultLockTTL,
		now:        time.Now,
		add:        redis.NewScript(addLua),
		claim:      redis.NewScript(claimLua),
		commit:     redis.NewScript(withBatch(commitLua)),
		release:    redis.NewScript(releaseLua),
		claimOut:   redis.NewScript(withBatch(claimOutLua)),
		markOut:    redis.NewScript(withBatch(markOutLua)),
		releaseOut: redis.NewScript(releaseOutLua),
		renew:      redis.NewScript(renewLua),
		sweep:      redis.NewScript(sweepLua),

		sweepAllScript: redis.NewScript(sweepAllLua),
		depthAll:       redis.NewScript(depthAllLua),
	}
	for _, o := range opts {
		o(r)
	}
	if r.blockedFn == nil {
		r.blockedFn = func(chat int64) string { return r.prefix + "blocked:" + ChatTag(chat) + strconv.FormatInt(chat, 10) }
	}
	return r
}

// LockTTL is how long a lock lives without its holder.
func (r *Redis) LockTTL() time.Duration { return r.lockTTL }

// Preload loads the scripts, so that the first call of each is one round
// trip, and proves Redis runs Lua.
func (r *Redis) Preload(ctx context.Context) error {
	scripts := []*redis.Script{r.add, r.claim, r.commit, r.release, r.claimOut, r.markOut, r.releaseOut, r.renew, r.sweep,
		r.sweepAllScript, r.depthAll}
	if r.markFold != nil {
		scripts = append(scripts, r.markFold, r.commitFold)
	}
	for _, s := range scripts {
		if err := s.Load(ctx, r.rdb).Err(); err != nil {
			return fmt.Errorf("load queue scripts: %w", err)
		}
	}
	return nil
}

func (r *Redis) key(chat int64, kind string) string { return KeyOf(r.prefix, chat, kind) }

// shardKey is the key name of shard i.
func (r *Redis) shardKey(i int, name string) string { return r.prefix + ShardTag(i) + ":" + name }

func (r *Redis) readyKey(chat int64) string { return r.shardKey(ShardOf(chat), "ready") }

// depthKey counts the calls waiting in the outboxes of chat's shard (metrics).
func (r *Redis) depthKey(chat int64) string { return r.shardKey(ShardOf(chat), "depth") }

// Depth is how many calls wait in all outboxes, and how many chats have
// work left (queued entries or unsent calls), for the metrics: one script
// on one instance, one pipeline over the shards on a cluster.
func (r *Redis) Depth(ctx context.Context) (calls, chats int64, err error) {
	if r.single() {
		keys := make([]string, 0, 2*Shards)
		for i := range Shards {
			keys = append(keys, r.shardKey(i, "depth"), r.shardKey(i, "ready"))
		}
		v, err := r.depthAll.Run(ctx, r.rdb, keys).Int64Slice()
		if err != nil {
			return 0, 0, fmt.Errorf("outbox depth: %w", err)
		}
		if len(v) != 2 {
			return 0, 0, fmt.Errorf("outbox depth: unexpected reply of %d items", len(v))
		}
		return v[0], v[1], nil
	}
	pipe := r.rdb.Pipeline()
	cs := make([]*redis.StringCmd, Shards)
	ns := make([]*redis.IntCmd, Shards)
	for i := range Shards {
		cs[i] = pipe.Get(ctx, r.shardKey(i, "depth"))
		ns[i] = pipe.ZCard(ctx, r.shardKey(i, "ready"))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, 0, fmt.Errorf("outbox depth: %w", err)
	}
	for i := range Shards {
		c, _ := cs[i].Int64()
		calls += c
		chats += ns[i].Val()
	}
	return calls, chats, nil
}

// DeadKey is the list of dead-lettered entries of shard i.
func (r *Redis) DeadKey(i int) string { return r.shardKey(i, "dead") }

// WakeKey is the ZSET of shard i's chats whose dialog wants an event at a
// time (bot/notify's Waker reads it).
func (r *Redis) WakeKey(i int) string { return r.shardKey(i, "wake") }

// MerchantKey holds chat's binding to merchant no, in chat's shard.
func (r *Redis) MerchantKey(chat int64, no string) string {
	return r.shardKey(ShardOf(chat), "merchant:"+no)
}

// Merchant finds the chat bound to merchant no (FindMerchant).
func (r *Redis) Merchant(ctx context.Context, no string) (chat int64, ok bool, err error) {
	return FindMerchant(ctx, r.rdb, r.prefix, no)
}

// ParseBinding reads a merchant binding's value: "<chat>" or
// "<chat>@<unix ms>".
func ParseBinding(v string) (chat, at int64, ok bool) {
	c, t := v, "0"
	if i := indexByte(v, '@'); i >= 0 {
		c, t = v[:i], v[i+1:]
	}
	chat, err1 := strconv.ParseInt(c, 10, 64)
	at, err2 := strconv.ParseInt(t, 10, 64)
	return chat, at, err1 == nil && err2 == nil
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func encodeCalls(args []any, calls []outbox.Call) ([]any, error) {
	for _, c := range calls {
		raw, err := outbox.Marshal(outbox.Stored(c))
		if err != nil {
			return nil, fmt.Errorf("encode outbox call %s: %w", c.Method, err)
		}
		args = append(args, raw)
	}
	return args, nil
}

// pushFn defines push(key, from, to): RPUSH of ARGV[from..to] to key in
// one command (500 at a time) rather than one command per call.
const pushFn = `
local function push(key, from, to)
	for i = from, to, 500 do
		redis.call('RPUSH', key, unpack(ARGV, i, math.min(i + 499, to)))
	end
end
`

// KEYS: q, u, o, ready, once, depth, blocked, and with a claim l, s, n,
// g. ARGV: kind ("u" update, "e" event), update id, payload, chat, ready
// score, once ("1": check KEYS[5]), once TTL ms, claim token ("" none),
// lock TTL ms, recheck score, unblock ("1": delete KEYS[7] first, inside
// the script rather than as a command of its own), calls... Replies 1
// when added, 0 when a duplicate; with a claim token {added, claimFn's
// reply...}: the chat is claimed in the same script (intake: store +
// claim), whose ready entry stands for the add's, so the add writes none
// of its own.
const addLua = claimFn + pushFn + `
if ARGV[11] == '1' then redis.call('DEL', KEYS[7]) end
local added = 1
local score
if ARGV[1] == 'u' then
	score = tonumber(ARGV[2])
	if redis.call('ZSCORE', KEYS[2], ARGV[2]) or redis.call('ZCOUNT', KEYS[1], score, score) > 0 then added = 0 end
else
	if ARGV[6] == '1' and not redis.call('SET', KEYS[5], '1', 'NX', 'PX', ARGV[7]) then return 0 end
	local top = 0
	local q = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
	if q[2] then top = tonumber(q[2]) end
	local a = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
	if a[2] and tonumber(a[2]) > top then top = math.floor(tonumber(a[2])) end
	score = top + 0.0009765625
end
if added == 1 then
	redis.call('ZADD', KEYS[1], string.format('%.17g', score), ARGV[3])
	push(KEYS[3], 12, #ARGV)
	if #ARGV >= 12 then redis.call('INCRBY', KEYS[6], #ARGV - 11) end
	if ARGV[8] == '' then redis.call('ZADD', KEYS[4], 'LT', ARGV[5], ARGV[4]) end
end
if ARGV[8] == '' then return added end
local c = claim(KEYS[1], KEYS[8], KEYS[9], KEYS[10], KEYS[4], KEYS[3], KEYS[11], ARGV[8], ARGV[9], ARGV[4], ARGV[10])
table.insert(c, 1, added)
return c
`

// AddUpdate stores payload (a sealed update) in chat's queue at its update
// id, unless that id is queued or was applied already, and appends calls
// (the deletion of a card number, made at once whatever happens next) to
// the outbox in the same transaction. readyAt is when another replica may
// take the chat up if this one has not. It reports whether it was added.
func (r *Redis) AddUpdate(ctx context.Context, chat, id int64, payload []byte, readyAt time.Time, calls ...outbox.Call) (bool, error) {
	return r.addCmd(ctx, r.rdb, chat, "u", id, "", payload, readyAt, calls, "", false).result()
}

// AddEvent stores payload (a sealed event) in chat's queue after every
// update received so far. With once != "", it is added only if nothing was
// added under once in the last 30 days.
func (r *Redis) AddEvent(ctx context.Context, chat int64, once string, payload []byte, readyAt time.Time) (bool, error) {
	return r.addCmd(ctx, r.rdb, chat, "e", 0, once, payload, readyAt, nil, "", false).result()
}

type addResult struct {
	cmd   *redis.Cmd
	err   error
	chat  int64
	token string // the claim made with the add ("" none)
}

func (a addResult) result() (bool, error) {
	if a.err != nil {
		return false, a.err
	}
	if a.token != "" {
		reply, err := a.cmd.Slice()
		if err != nil {
			return false, fmt.Errorf("add to chat queue: %w", err)
		}
		n, _ := reply[0].(int64)
		return n == 1, nil
	}
	n, err := a.cmd.Int64()
	if err != nil {
		return false, fmt.Errorf("add to chat queue: %w", err)
	}
	return n == 1, nil
}

// claim is the claim made with the add (nil when none was).
func (a addResult) claim() (*Claim, error) {
	if a.token == "" || a.err != nil {
		return nil, nil
	}
	reply, err := a.cmd.Slice()
	if err != nil {
		return nil, fmt.Errorf("claim chat: %w", err)
	}
	if len(reply) < 2 {
		return nil, fmt.Errorf("claim chat: unexpected reply of %d items", len(reply))
	}
	return parseClaim(a.chat, a.token, reply[1:])
}

// addCmd runs addLua; with token != "" it also claims the chat under it
// (addResult.claim reads the reply).
func (r *Redis) addCmd(ctx context.Context, c redis.Scripter, chat int64, kind string, id int64, once string, payload []byte, readyAt time.Time, calls []outbox.Call, token string, unblock bool) addResult {
	onceKey, hasOnce := r.key(chat, "x:"), "0"
	if once != "" {
		onceKey, hasOnce = r.key(chat, "x:"+once), "1"
	}
	un := "0"
	if unblock {
		un = "1"
	}
	args, err := encodeCalls([]any{kind, id, payload, chat, ms(readyAt), hasOnce, onceTTL.Milliseconds(),
		token, r.lockTTL.Milliseconds(), ms(r.now().Add(r.lockTTL)), un}, calls)
	if err != nil {
		return addResult{err: err}
	}
	keys := []string{r.key(chat, "q"), r.key(chat, "u"), r.key(chat, "o"), r.readyKey(chat), onceKey, r.depthKey(chat), r.blockedFn(chat)}
	if token != "" {
		keys = append(keys, r.key(chat, "l"), r.key(chat, "s"), r.key(chat, "n"), r.key(chat, "g"))
	}
	return addResult{cmd: r.add.Run(ctx, c, keys, args...), chat: chat, token: token}
}

// Pending is an update to store with AddUpdates.
type Pending struct {
	Chat    int64
	ID      int64
	Payload []byte
	Calls   []outbox.Call
	// Unblock lifts the chat's blocked mark in the same round trip: the
	// update is the merchant writing in their private chat, which Telegram
	// does not let a user who blocks the bot do. The outbox that waited is
	// then sent, in order, before the replies to this update.
	Unblock bool
}

// AddUpdates stores a batch of updates (long polling's, or a webhook's
// one) and, in the same round trip, tries to claim every chat it touches
// under a new token: added[i] tells whether ps[i] was new, and claims are
// the chats won, with their head and state, for the caller to apply at
// once (a chat held elsewhere is left to its holder).
func (r *Redis) AddUpdates(ctx context.Context, ps []Pending, readyAt time.Time, newToken func() string) ([]bool, []*Claim, error) {
	added, claims, err := r.addUpdates(ctx, ps, readyAt, newToken)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// A pipeline cannot fall back from EVALSHA to EVAL: Redis restarted
		// (or was flushed) since the scripts were loaded. Load them again.
		if err := r.Preload(ctx); err != nil {
			return nil, nil, err
		}
		return r.addUpdates(ctx, ps, readyAt, newToken)
	}
	return added, claims, err
}

func (r *Redis) addUpdates(ctx context.Context, ps []Pending, readyAt time.Time, newToken func() string) ([]bool, []*Claim, error) {
	// Each chat is claimed by the script that adds its last update of the
	// batch: one script per update, the claim riding on the last.
	last := map[int64]int{}
	if newToken != nil {
		for i, p := range ps {
			last[p.Chat] = i
		}
	}
	// One update (a webhook's) goes through the pipelining scripter with
	// other goroutines' scripts; a batch (polling's) is its own pipeline.
	var pipe redis.Pipeliner
	var sc redis.Scripter = r.sc
	if len(ps) > 1 {
		pipe = r.rdb.Pipeline()
		sc = pipe
	}
	res := make([]addResult, len(ps))
	var claimed []int
	for i, p := range ps {
		token := ""
		if j, ok := last[p.Chat]; ok && j == i {
			token = newToken()
			claimed = append(claimed, i)
		}
		res[i] = r.addCmd(ctx, sc, p.Chat, "u", p.ID, "", p.Payload, readyAt, p.Calls, token, p.Unblock)
		if res[i].err != nil {
			return nil, nil, res[i].err
		}
	}
	if pipe != nil {
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, nil, fmt.Errorf("add to chat queues: %w", err)
		}
	}
	added := make([]bool, len(ps))
	for i := range res {
		ok, err := res[i].result()
		if err != nil {
			return nil, nil, err
		}
		added[i] = ok
	}
	var claims []*Claim
	for _, i := range claimed {
		claim, err := res[i].claim()
		if errors.Is(err, ErrBusy) {
			continue // held elsewhere: left to its holder
		}
		if err != nil {
			return added, claims, err
		}
		if claim.Head != nil {
			claims = append(claims, claim)
		}
	}
	return added, claims, nil
}

// Entry is the head of a chat's queue, handed to the lock holder.
type Entry struct {
	Payload  []byte
	Score    string // as Redis wrote it: the entry's identity in the scripts
	Attempts int    // times it was handed out, this time included
}

// Claim is a held chat lock.
type Claim struct {
	Chat  int64
	Token string
	State []byte // the state record; nil when the chat has none
	Head  *Entry // nil: the queue is empty and the lock was given back
	// Lease keeps the lock alive while the holder works (Keeper.HoldChat);
	// nil when nobody renews it.
	Lease *Lease
}

// claimFn defines claim(q, l, s, n, ready, o, g, token, lock TTL ms, chat,
// recheck score): claimLua's body, also run by addLua at intake.
// Replies {1} busy, {2} empty (lock given back), {0, payload, score,
// attempts, state}.
const claimFn = `
local function claim(q, l, s, n, ready, o, g, token, ttl, chat, recheck)
	if not redis.call('SET', l, token, 'NX', 'PX', ttl) then return {1} end
	local h = redis.call('ZRANGE', q, 0, 0, 'WITHSCORES')
	if not h[1] then
		redis.call('DEL', l)
		if redis.call('LLEN', o) == 0 and redis.call('LLEN', g) == 0 then redis.call('ZREM', ready, chat) end
		return {2}
	end
	local att = redis.call('HINCRBY', n, h[2], 1)
	redis.call('ZADD', ready, recheck, chat)
	return {0, h[1], h[2], att, redis.call('GET', s) or ''}
end
`

// KEYS: q, l, s, n, ready, o, g. ARGV: token, lock TTL ms, chat, recheck
// score. Replies as claimFn.
const claimLua = claimFn + `
return claim(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
`

// Claim takes chat's lock under token and hands out the head of its queue
// with the state. It returns ErrBusy when another holder has the lock; a
// Claim with a nil Head when there is nothing to do.
func (r *Redis) Claim(ctx context.Context, chat int64, token string) (*Claim, error) {
	reply, err := r.claimCmd(ctx, r.sc, chat, token).Slice()
	if err != nil {
		return nil, fmt.Errorf("claim chat: %w", err)
	}
	return parseClaim(chat, token, reply)
}

func (r *Redis) claimCmd(ctx context.Context, c redis.Scripter, chat int64, token string) *redis.Cmd {
	keys := []string{r.key(chat, "q"), r.key(chat, "l"), r.key(chat, "s"), r.key(chat, "n"), r.readyKey(chat), r.key(chat, "o"), r.key(chat, "g")}
	return r.claim.Run(ctx, c, keys, token, r.lockTTL.Milliseconds(), chat, ms(r.now().Add(r.lockTTL)))
}

func parseClaim(chat int64, token string, reply []any) (*Claim, error) {
	c := &Claim{Chat: chat, Token: token}
	switch code, _ := reply[0].(int64); code {
	case 1:
		return nil, ErrBusy
	case 2:
		return c, nil
	}
	if len(reply) != 5 {
		return nil, fmt.Errorf("claim chat: unexpected reply of %d items", len(reply))
	}
	c.Head = entryOf(reply[1], reply[2], reply[3])
	if s, _ := reply[4].(string); s != "" {
		c.State = []byte(s)
	}
	return c, nil
}

func entryOf(payload, score, attempts any) *Entry {
	p, _ := payload.(string)
	s, _ := score.(string)
	n, _ := attempts.(int64)
	return &Entry{Payload: []byte(p), Score: s, Attempts: int(n)}
}

// Turn is what applying the head entry changed, written by Commit at once.
type Turn struct {
	// State is the new record; nil keeps the stored one, and Delete drops it.
	State    []byte
	Delete   bool
	StateTTL time.Duration
	// UpdateID records a Telegram update as applied (0 for an event).
	UpdateID int64
	// Calls are appended to the outbox.
	Calls []outbox.Call
	// Group calls are appended to the outbox of chat GroupChat (the
	// support group), whose budget must never hold up this chat's replies.
	Group     []outbox.Call
	GroupChat int64
	// Dead also copies the entry to the dead-letter list, with this
	// reason: it was given up on.
	Dead string
	// Merchant binds the chat to this merchant number ("" for no change).
	Merchant string
	// Wake is when the dialog wants an event; zero removes the chat from
	// the wake set. KeepWake leaves the set as it is.
	Wake     time.Time
	KeepWake bool
	// Fold, with WithSendBudget, takes the send budget of the first outbox
	// call the commit hands out (Committed.Outbox) that is one Budgeted
	// message to this chat (Committed.Paid).
	Fold *Fold
}

// Committed is Commit's answer.
type Committed struct {
	// Next is the new head, already claimed under the same lock; nil when
	// the queue is empty and the lock was given back.
	Next *Entry
	// Outbox is the first waiting calls, up to OutboxBatch of them in
	// order, when this caller became the chat's outbox sender (token
	// OutboxToken); nil when someone else sends, the chat blocked the bot,
	// or nothing waits.
	Outbox [][]byte
	// Paid is true when a budget was taken with the commit (Turn.Fold) for
	// the first Outbox call that is one Budgeted message to the chat: the
	// caller gives it to its sender (Prepaid).
	Paid bool
	// Relay is true when the turn left calls for the support group: the
	// caller relays them (Relay) to the group's outbox, in its own shard.
	Relay bool
}

// KEYS: q, l, s, n, u, o, ol, ready, dead, merchant, wake, blocked, group
// relay list (g), depth, and the budget keys of Turn.Fold (cooldown, chat
// budget, global budget; the chat's cooldown thrice without one). ARGV:
// token, head score, state mode ("k" keep, "s" set, "d" delete), state,
// state TTL ms, update id, applied keep, applied TTL ms, dead record, chat,
// wake ("" keep, "0" remove, else score), merchant, lock TTL ms, recheck
// score, outbox token, Turn.Fold's budget ARGV as a JSON array ("" none:
// only the script made WithSendBudget runs it), now, number of own calls,
// own calls..., the group record (JSON relayRecord) if any.
// Replies {0} lock lost, else {1, the outbox's first OutboxBatch calls
// handed out (none when not), 1 when the budget of the first of them that
// is one Budgeted message to the chat was taken, next payload, next score,
// next attempts}.
const commitLua = foldableLua + pushFn + `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {0} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[2], ARGV[2])
if ARGV[3] == 's' then
	redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[5])
elseif ARGV[3] == 'd' then
	redis.call('DEL', KEYS[3])
end
if ARGV[9] ~= '' then
	redis.call('RPUSH', KEYS[9], ARGV[9])
	redis.call('LTRIM', KEYS[9], -` + "10000" + `, -1)
end
if ARGV[6] ~= '0' then
	redis.call('ZADD', KEYS[5], ARGV[6], ARGV[6])
	redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -1 - tonumber(ARGV[7]))
	redis.call('PEXPIRE', KEYS[5], ARGV[8])
end
if ARGV[11] == '0' then
	redis.call('ZREM', KEYS[11], ARGV[10])
elseif ARGV[11] ~= '' then
	redis.call('ZADD', KEYS[11], ARGV[11], ARGV[10])
end
if ARGV[12] ~= '' then redis.call('SET', KEYS[10], ARGV[10] .. '@' .. ARGV[17]) end
local own = tonumber(ARGV[18])
push(KEYS[6], 19, 18 + own)
if own > 0 then redis.call('INCRBY', KEYS[14], own) end
if #ARGV > 18 + own then
	redis.call('RPUSH', KEYS[13], ARGV[19 + own])
end
local out = {}
if redis.call('EXISTS', KEYS[12]) == 0 then
	local first = redis.call('LRANGE', KEYS[6], 0, outboxBatch - 1)
	if first[1] and redis.call('SET', KEYS[7], ARGV[15], 'NX', 'PX', ARGV[13]) then out = first end
end
local paid = 0
if ARGV[16] ~= '' and firstFoldable(out, ARGV[10]) then
	local r = take({KEYS[15], KEYS[16], KEYS[17]}, cjson.decode(ARGV[16]))
	if r[1] == 1 then paid = 1 end
end
local h = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if h[1] then
	redis.call('HDEL', KEYS[4], ARGV[2])
	redis.call('PEXPIRE', KEYS[2], ARGV[13])
	redis.call('ZADD', KEYS[8], ARGV[14], ARGV[10])
	return {1, out, paid, h[1], h[2], redis.call('HINCRBY', KEYS[4], h[2], 1)}
end
-- The queue is empty: the lock and every hand-out count go in one DEL (no
-- HDEL of the applied entry's count first).
redis.call('DEL', KEYS[2], KEYS[4])
-- This caller now holds the outbox lease: the ready entry its claim (or
-- the lease's last renewal) wrote, due when the chat lock would have run
-- out, already has the chat looked at again should the sender die (until
-- the outbox lease runs out, the look finds it held and leaves the entry).
-- No LLEN, EXISTS, ZADD here.
if out[1] then return {1, out, paid} end
if (redis.call('LLEN', KEYS[6]) == 0 or redis.call('EXISTS', KEYS[12]) == 1) and redis.call('LLEN', KEYS[13]) == 0 then
	-- nothing to send, or nothing may be sent until the merchant unblocks
	redis.call('ZREM', KEYS[8], ARGV[10])
else
	redis.call('ZADD', KEYS[8], ARGV[14], ARGV[10])
end
return {1, out, paid}
`

// Commit writes t for the head of c (removing it from the queue) and, in
// the same transaction, appends t's calls to the outbox and tries to become
// the outbox sender under outboxToken. It keeps the lock and hands out the
// next entry when one waits. ErrLockLost means nothing was written.
func (r *Redis) Commit(ctx context.Context, c *Claim, t Turn, outboxToken string) (Committed, error) {
	mode, rec := "k", []byte(nil)
	switch {
	case t.Delete:
		mode = "d"
	case t.State != nil:
		mode, rec = "s", t.State
	}
	wake := ""
	switch {
	case t.KeepWake:
	case t.Wake.IsZero():
		wake = "0"
	default:
		wake = ms(t.Wake)
	}
	dead := ""
	if t.Dead != "" {
		raw, err := json.Marshal(DeadEntry{Chat: c.Chat, Score: c.Head.Score, Payload: c.Head.Payload,
			Reason: t.Dead, At: r.now().UTC(), Attempts: c.Head.Attempts})
		if err != nil {
			return Committed{}, fmt.Errorf("encode dead letter: %w", err)
		}
		dead = string(raw)
	}
	shard := ShardOf(c.Chat)
	keys := []string{
		r.key(c.Chat, "q"), r.key(c.Chat, "l"), r.key(c.Chat, "s"), r.key(c.Chat, "n"), r.key(c.Chat, "u"),
		r.key(c.Chat, "o"), r.key(c.Chat, "ol"), r.readyKey(c.Chat), r.DeadKey(shard), r.MerchantKey(c.Chat, t.Merchant),
		r.WakeKey(shard), r.blockedFn(c.Chat), r.key(c.Chat, "g"), r.depthKey(c.Chat),
	}
	foldArgs, script := "", r.commit
	if t.Fold != nil && r.commitFold != nil && len(t.Fold.Keys) == 3 && len(t.Fold.Args) == 8 {
		raw, err := json.Marshal(t.Fold.Args)
		if err != nil {
			return Committed{}, fmt.Errorf("encode send budget: %w", err)
		}
		foldArgs, script = string(raw), r.commitFold
		keys = append(keys, t.Fold.Keys...)
	} else {
		keys = append(keys, r.key(c.Chat, "o"), r.key(c.Chat, "o"), r.key(c.Chat, "o")) // not read
	}
	if len(t.Group) > 0 && t.GroupChat == 0 {
		return Committed{}, errors.New("commit chat: group calls without a group chat")
	}
	ttl := t.StateTTL.Milliseconds()
	if mode == "s" && ttl <= 0 {
		return Committed{}, errors.New("commit chat: state without a TTL")
	}
	var out Committed
	args, err := encodeCalls([]any{
		c.Token, c.Head.Score, mode, rec, ttl, t.UpdateID, appliedKeep, appliedTTL.Milliseconds(), dead,
		c.Chat, wake, t.Merchant, r.lockTTL.Milliseconds(), ms(r.now().Add(r.lockTTL)), outboxToken,
		foldArgs, ms(r.now()), len(t.Calls),
	}, t.Calls)
	if err != nil {
		return Committed{}, err
	}
	if len(t.Group) > 0 {
		rec := relayRecord{Chat: t.GroupChat, ID: c.Token + ":" + c.Head.Score}
		for _, call := range t.Group {
			raw, err := json.Marshal(outbox.Stored(call))
			if err != nil {
				return Committed{}, fmt.Errorf("encode outbox call %s: %w", call.Method, err)
			}
			rec.Calls = append(rec.Calls, raw)
		}
		raw, err := json.Marshal(rec)
		if err != nil {
			return Committed{}, fmt.Errorf("encode group calls: %w", err)
		}
		args = append(args, raw)
		out.Relay = true
	}
	reply, err := script.Run(ctx, r.sc, keys, args...).Slice()
	if err != nil {
		return Committed{}, fmt.Errorf("commit chat: %w", err)
	}
	if code, _ := reply[0].(int64); code != 1 {
		return Committed{}, ErrLockLost
	}
	out.Outbox = batchOf(reply[1])
	if n, _ := reply[2].(int64); n == 1 {
		out.Paid = true
	}
	if len(reply) == 6 {
		out.Next = entryOf(reply[3], reply[4], reply[5])
		c.Head = out.Next
	} else {
		c.Head = nil
	}
	return out, nil
}

// DeadEntry is one dead-lettered entry, as the dead list holds it (the
// payload stays sealed).
type DeadEntry struct {
	Chat     int64     `json:"chat"`
	Score    string    `json:"score"`
	Payload  []byte    `json:"payload"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
	Attempts int       `json:"attempts"`
}

// Dead lists the newest n dead-lettered entries of all shards, newest
// last.
func (r *Redis) Dead(ctx context.Context, n int64) ([]DeadEntry, error) {
	pipe := r.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, Shards)
	for i := range Shards {
		cmds[i] = pipe.LRange(ctx, r.DeadKey(i), -n, -1)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	var out []DeadEntry
	for _, c := range cmds {
		for _, raw := range c.Val() {
			var d DeadEntry
			if err := json.Unmarshal([]byte(raw), &d); err != nil {
				return nil, fmt.Errorf("read dead letters: %w", err)
			}
			out = append(out, d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	if int64(len(out)) > n {
		out = out[int64(len(out))-n:]
	}
	return out, nil
}

// KEYS: l, ready. ARGV: token, chat, retry score.
const releaseLua = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
return 1
`

// Release gives c's lock back without writing, and asks that the chat be
// looked at again at retryAt (the failed entry stays at the head).
func (r *Redis) Release(ctx context.Context, c *Claim, retryAt time.Time) error {
	keys := []string{r.key(c.Chat, "l"), r.readyKey(c.Chat)}
	if err := r.release.Run(ctx, r.sc, keys, c.Token, c.Chat, ms(retryAt)).Err(); err != nil {
		return fmt.Errorf("release chat: %w", err)
	}
	return nil
}

// Enqueue appends calls to chat's outbox in one transaction and marks the
// chat ready for a sender. With once != "", the calls are appended only if
// nothing was appended under once in the last 30 days.
func (r *Redis) Enqueue(ctx context.Context, chat int64, once string, calls ...outbox.Call) (bool, error) {
	if len(calls) == 0 {
		return false, nil
	}
	onceKey, hasOnce := r.key(chat, "x:"), "0"
	if once != "" {
		onceKey, hasOnce = r.key(chat, "x:"+once), "1"
	}
	args, err := encodeCalls([]any{hasOnce, onceTTL.Milliseconds(), chat, ms(r.now())}, calls)
	if err != nil {
		return false, err
	}
	keys := []string{r.key(chat, "o"), onceKey, r.readyKey(chat), r.depthKey(chat)}
	n, err := r.rdb.Eval(ctx, enqueueLua, keys, args...).Int64()
	if err != nil {
		return false, fmt.Errorf("enqueue outbox: %w", err)
	}
	return n == 1, nil
}

// relayRecord is one turn's calls for the support group, kept in the
// merchant chat's relay list (g) until Relay has appended them to the
// group's outbox (once per ID, so a relay repeated after a crash adds
// nothing twice).
type relayRecord struct {
	Chat  int64             `json:"chat"`
	ID    string            `json:"id"`
	Calls []json.RawMessage `json:"calls"` // outbox.Call each
}

// KEYS: g. ARGV: the record relayed. Pops it if it is still the head.
const relayDoneLua = `
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then redis.call('LPOP', KEYS[1]) end
return redis.call('LLEN', KEYS[1])
`

// Relay appends the group calls chat's turns left (Committed.Relay) to
// the group's outbox, oldest first, each record once: a relay cut short
// (a crash) is done again by whoever sweeps the chat next, and the group
// gets each call once.
func (r *Redis) Relay(ctx context.Context, chat int64) error {
	for range 100 {
		raw, err := r.rdb.LIndex(ctx, r.key(chat, "g"), 0).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("relay group calls: %w", err)
		}
		var rec relayRecord
		if err := json.Unmarshal([]byte(raw), &rec); err == nil && len(rec.Calls) > 0 {
			args := []any{"1", onceTTL.Milliseconds(), rec.Chat, ms(r.now())}
			for _, c := range rec.Calls {
				args = append(args, []byte(c))
			}
			keys := []string{r.key(rec.Chat, "o"), r.key(rec.Chat, "x:relay:"+rec.ID), r.readyKey(rec.Chat), r.depthKey(rec.Chat)}
			if err := r.rdb.Eval(ctx, enqueueLua, keys, args...).Err(); err != nil {
				return fmt.Errorf("relay group calls: %w", err)
			}
		}
		left, err := r.rdb.Eval(ctx, relayDoneLua, []string{r.key(chat, "g")}, raw).Int64()
		if err != nil {
			return fmt.Errorf("relay group calls: %w", err)
		}
		if left == 0 {
			return nil
		}
	}
	return nil
}

// KEYS: o, once, ready, depth. ARGV: once ("1" check), once TTL ms, chat, ready
// score, calls...
const enqueueLua = pushFn + `
if ARGV[1] == '1' and not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 0 end
push(KEYS[1], 5, #ARGV)
redis.call('INCRBY', KEYS[4], #ARGV - 4)
redis.call('ZADD', KEYS[3], 'LT', ARGV[4], ARGV[3])
return 1
`

// OutboxBatch is how many calls, from the head of a chat's outbox, the
// scripts hand out at once (Commit, ClaimOutbox, MarkSent): the sender
// sends them in order and marks those it finished in one round trip, which
// hands out the next batch. After a crash, the calls of a batch sent but
// not yet marked (at most OutboxBatch) are sent again.
const OutboxBatch = 8

// withBatch prepends the outbox's batch size to a script, as the local
// outboxBatch.
func withBatch(src string) string {
	return "local outboxBatch = " + strconv.Itoa(OutboxBatch) + "\n" + src
}

// popSentLua defines popSent(o, depth, first, last, more): it pops the
// calls ARGV[first..last] (sent, in order) from the head of list o, each
// only if it is the head by then — a call removed meanwhile is skipped,
// never another popped in its place — lowers the depth counter by as many,
// and returns the up to more calls that head the list after them.
const popSentLua = `
local function popSent(o, depth, first, last, more)
	local head = redis.call('LRANGE', o, 0, last - first + more)
	local popped = 0
	for i = first, last do
		if head[popped + 1] == ARGV[i] then popped = popped + 1 end
	end
	if popped > 0 then
		redis.call('LTRIM', o, popped, -1)
		redis.call('DECRBY', depth, popped)
	end
	local rest = {}
	for i = popped + 1, math.min(#head, popped + more) do rest[#rest + 1] = head[i] end
	return rest
end
`

// KEYS: o, ol, ready, q, blocked, g. ARGV: token, TTL ms, chat.
// Replies {0} held by another or blocked, {1} nothing to send, {1, calls}:
// the first OutboxBatch calls.
const claimOutLua = `
if redis.call('EXISTS', KEYS[5]) == 1 then
	if redis.call('ZCARD', KEYS[4]) == 0 and redis.call('LLEN', KEYS[6]) == 0 then redis.call('ZREM', KEYS[3], ARGV[3]) end
	return {0}
end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0} end
local e = redis.call('LRANGE', KEYS[1], 0, outboxBatch - 1)
if not e[1] then
	redis.call('DEL', KEYS[2])
	if redis.call('ZCARD', KEYS[4]) == 0 and redis.call('LLEN', KEYS[6]) == 0 then redis.call('ZREM', KEYS[3], ARGV[3]) end
	return {1}
end
return {1, e}
`

// ErrNotSender means another sender holds the chat's outbox, or the chat
// blocked the bot.
var ErrNotSender = errors.New("outbox held by another sender")

// ClaimOutbox makes token the chat's outbox sender and returns the first
// waiting calls, up to OutboxBatch of them in order (none when nothing
// waits, and then the lock was given back).
func (r *Redis) ClaimOutbox(ctx context.Context, chat int64, token string) ([][]byte, error) {
	keys := []string{r.key(chat, "o"), r.key(chat, "ol"), r.readyKey(chat), r.key(chat, "q"), r.blockedFn(chat), r.key(chat, "g")}
	reply, err := r.claimOut.Run(ctx, r.sc, keys, token, r.lockTTL.Milliseconds(), chat).Slice()
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	return nextBatch(reply)
}

// nextBatch reads the outbox scripts' reply: {0} not the sender, {1}
// nothing waits, {1, calls, ...}.
func nextBatch(reply []any) ([][]byte, error) {
	if code, _ := reply[0].(int64); code == 0 {
		return nil, ErrNotSender
	}
	if len(reply) < 2 {
		return nil, nil
	}
	return batchOf(reply[1]), nil
}

// batchOf reads a list of calls a script replied (nil when empty).
func batchOf(v any) [][]byte {
	items, _ := v.([]any)
	var calls [][]byte
	for _, it := range items {
		s, _ := it.(string)
		calls = append(calls, []byte(s))
	}
	return calls
}

// markSentLua marks the calls sent (KEYS o, ol, ready, q, depth, g; ARGV
// token, TTL ms, chat, recheck score, k, the k calls sent in order) and
// leaves the next batch in e, k the number sent; markOutLua and markFoldLua
// both begin with it.
const markSentLua = popSentLua + `
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return {0} end
if not holder then
	-- The lease ran out while this sender waited for a send budget and
	-- nobody took it: the calls were sent, so they are marked and the
	-- lease taken again, rather than sent a second time by whoever comes
	-- next.
	redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
end
local k = tonumber(ARGV[5])
local e = popSent(KEYS[1], KEYS[5], 6, 5 + k, outboxBatch)
if not e[1] then
	redis.call('DEL', KEYS[2])
	if redis.call('ZCARD', KEYS[4]) == 0 and redis.call('LLEN', KEYS[6]) == 0 then redis.call('ZREM', KEYS[3], ARGV[3]) end
	return {1}
end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
`

// markOutLua: markSentLua's KEYS and ARGV. Replies {0} another sender
// holds the outbox, {1} done (lock given back), {1, next batch}.
const markOutLua = markSentLua + `
return {1, e}
`

// MarkSent removes the calls sent (those of the batch ClaimOutbox, Commit
// or MarkSent handed out that the sender finished, in order) from the head
// of the outbox, in one round trip, and returns the next batch; nil when
// the outbox is empty and the lock was given back. A call no longer at the
// head (removed meanwhile) is skipped. ErrNotSender means the lock was
// lost: stop.
func (r *Redis) MarkSent(ctx context.Context, chat int64, token string, sent [][]byte) ([][]byte, error) {
	reply, err := r.markOut.Run(ctx, r.sc, r.markKeys(chat), r.markArgs(chat, token, sent)...).Slice()
	if err != nil {
		return nil, fmt.Errorf("mark calls sent: %w", err)
	}
	return nextBatch(reply)
}

// markKeys are markSentLua's KEYS for chat.
func (r *Redis) markKeys(chat int64) []string {
	return []string{r.key(chat, "o"), r.key(chat, "ol"), r.readyKey(chat), r.key(chat, "q"), r.depthKey(chat), r.key(chat, "g")}
}

// markArgs are markSentLua's ARGV.
func (r *Redis) markArgs(chat int64, token string, sent [][]byte) []any {
	args := make([]any, 0, 5+len(sent)+8)
	args = append(args, token, r.lockTTL.Milliseconds(), chat, ms(r.now().Add(r.lockTTL)), len(sent))
	for _, c := range sent {
		args = append(args, c)
	}
	return args
}

// Fold is a send budget to take for a call in the script that hands it
// out: bot/sender's Prefetch (its budget script's KEYS and ARGV).
type Fold struct {
	Keys []string
	Args []any
}

// foldableLua defines foldable(call, chat): whether the outbox call (JSON)
// is one Budgeted message to chat, whose budget a script may take ahead:
// not a notification (the sender lets it yield to replies), not a call
// that posts nothing or several messages, not to another chat. firstFoldable
// (calls, chat) is the first such call of a batch, nil when none.
const foldableLua = `
local function foldable(raw, chat)
	local ok, c = pcall(cjson.decode, raw)
	if not ok or type(c) ~= 'table' or type(c.m) ~= 'string' or type(c.p) ~= 'table' then return false end
	local free = {answerCallbackQuery=1, deleteMessage=1, setMessageReaction=1, editForumTopic=1,
		closeForumTopic=1, reopenForumTopic=1, copyMessages=1, forwardMessages=1, sendMediaGroup=1}
	return not free[c.m] and c.q ~= 1 and c.p.chat_id == tonumber(chat)
end
local function firstFoldable(calls, chat)
	for _, raw in ipairs(calls) do
		if foldable(raw, chat) then return raw end
	end
	return nil
end
`

// markFoldLua is markOutLua, and then, when a call of the next batch is one
// Budgeted message to this chat (not a notification, not a call that posts
// nothing or several messages), the budget script (take, prepended by
// WithSendBudget) for the first such call. KEYS: o, ol, ready, q, depth, g,
// cooldown, chat budget, global budget. ARGV: markSentLua's, then the
// budget script's ARGV. Replies as markOutLua, with a third item 1 when
// that call's budget was taken.
const markFoldLua = foldableLua + markSentLua + `
local paid = 0
if firstFoldable(e, ARGV[3]) then
	local b = {}
	for i = 6 + k, 13 + k do b[#b + 1] = ARGV[i] end
	local r = take({KEYS[7], KEYS[8], KEYS[9]}, b)
	if r[1] == 1 then paid = 1 end
end
return {1, e, paid}
`

// MarkSentFold is MarkSent that also takes, in the same round trip, the
// send budget fold describes for the first call of the next batch that is
// one Budgeted message to chat; paid tells it was taken (the caller gives
// it to its sender: sender.Prepaid). Without WithSendBudget, or a nil fold,
// it is MarkSent.
func (r *Redis) MarkSentFold(ctx context.Context, chat int64, token string, sent [][]byte, fold *Fold) (next [][]byte, paid bool, err error) {
	if fold == nil || r.markFold == nil || len(fold.Keys) != 3 || len(fold.Args) != 8 {
		next, err = r.MarkSent(ctx, chat, token, sent)
		return next, false, err
	}
	keys := append(r.markKeys(chat), fold.Keys...)
	args := append(r.markArgs(chat, token, sent), fold.Args...)
	reply, err := r.markFold.Run(ctx, r.sc, keys, args...).Slice()
	if err != nil {
		return nil, false, fmt.Errorf("mark calls sent: %w", err)
	}
	next, err = nextBatch(reply)
	if len(reply) == 3 {
		n, _ := reply[2].(int64)
		paid = n == 1
	}
	return next, paid, err
}

// KEYS: ol, ready, q, g, o, depth. ARGV: token, chat, retry score ("" none),
// the calls sent before the one given back, in order. Those are marked
// (popped as markSentLua pops them) unless another sender holds the lease.
const releaseOutLua = popSentLua + `
local holder = redis.call('GET', KEYS[1])
if #ARGV > 3 and (not holder or holder == ARGV[1]) then popSent(KEYS[5], KEYS[6], 4, #ARGV, 0) end
if holder == ARGV[1] then redis.call('DEL', KEYS[1]) end
if ARGV[3] ~= '' then
	redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
elseif redis.call('ZCARD', KEYS[3]) == 0 and redis.call('LLEN', KEYS[4]) == 0 then
	redis.call('ZREM', KEYS[2], ARGV[2])
end
return 1
`

// ReleaseOutbox gives the outbox back, with what is left unsent, and asks
// that it be tried again at retryAt (zero: not until something new
// arrives, e.g. a chat that blocked the bot). sent are the calls of the
// batch the sender finished before the one it gives back: they are marked
// sent in the same round trip (as MarkSent would), unless another sender
// holds the lease.
func (r *Redis) ReleaseOutbox(ctx context.Context, chat int64, token string, retryAt time.Time, sent ...[]byte) error {
	retry := ""
	if !retryAt.IsZero() {
		retry = ms(retryAt)
	}
	keys := []string{r.key(chat, "ol"), r.readyKey(chat), r.key(chat, "q"), r.key(chat, "g"), r.key(chat, "o"), r.depthKey(chat)}
	args := make([]any, 0, 3+len(sent))
	args = append(args, token, chat, retry)
	for _, c := range sent {
		args = append(args, c)
	}
	if err := r.releaseOut.Run(ctx, r.sc, keys, args...).Err(); err != nil {
		return fmt.Errorf("release outbox: %w", err)
	}
	return nil
}

// KEYS: o, ol, depth. ARGV: tag prefix. Replies how many calls were dropped.
// A call whose tag is prefix + "<status>:<app>" is dropped when a later call
// in the outbox has a tag of the same prefix and application.
const dropSupersededLua = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local all = redis.call('LRANGE', KEYS[1], 0, -1)
local app = {}
local last = {}
local p = ARGV[1]
for i, raw in ipairs(all) do
	local ok, c = pcall(cjson.decode, raw)
	if ok and type(c) == 'table' and type(c.t) == 'string' and string.sub(c.t, 1, #p) == p then
		local rest = string.sub(c.t, #p + 1)
		local a = string.match(rest, '^[^:]*:(.*)$')
		if a then
			app[i] = a
			last[a] = i
		end
	end
end
local kept = {}
local dropped = 0
for i, raw in ipairs(all) do
	if app[i] and last[app[i]] ~= i then
		dropped = dropped + 1
	else
		table.insert(kept, raw)
	end
end
if dropped > 0 then
	redis.call('DEL', KEYS[1])
	for _, raw in ipairs(kept) do redis.call('RPUSH', KEYS[1], raw) end
	redis.call('DECRBY', KEYS[3], dropped)
end
return dropped
`

// DropSuperseded removes from chat's outbox the calls a later call makes
// moot: those tagged prefix+"<status>:<app>" followed by another of the same
// application (a merchant back after blocking the bot hears the newest
// status only). It does nothing while a sender holds the outbox.
func (r *Redis) DropSuperseded(ctx context.Context, chat int64, prefix string) (int64, error) {
	keys := []string{r.key(chat, "o"), r.key(chat, "ol"), r.depthKey(chat)}
	n, err := r.rdb.Eval(ctx, dropSupersededLua, keys, prefix).Int64()
	if err != nil {
		return 0, fmt.Errorf("drop superseded calls: %w", err)
	}
	return n, nil
}

// Due returns up to n chats of each shard whose ready time has come (one
// pipeline over the shards).
func (r *Redis) Due(ctx context.Context, n int64) ([]int64, error) {
	shards := make([]int, Shards)
	for i := range shards {
		shards[i] = i
	}
	return r.DueIn(ctx, shards, n)
}

// DueIn is Due over the given shards only (a sweeper holding their leases).
func (r *Redis) DueIn(ctx context.Context, shards []int, n int64) ([]int64, error) {
	pipe := r.rdb.Pipeline()
	now := ms(r.now())
	cmds := make([]*redis.StringSliceCmd, len(shards))
	for i, s := range shards {
		cmds[i] = pipe.ZRangeByScore(ctx, r.shardKey(s, "ready"), &redis.ZRangeBy{Min: "-inf", Max: now, Count: n})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read ready chats: %w", err)
	}
	var chats []int64
	for _, c := range cmds {
		for _, s := range c.Val() {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil {
				chats = append(chats, id)
			}
		}
	}
	return chats, nil
}

// Wake asks that chat be looked at now (its queue applied, its outbox
// sent) by whichever replica sweeps first: an operator's command that lifts
// what held it (merchantbot desk resume).
func (r *Redis) Wake(ctx context.Context, chat int64) error {
	if err := r.rdb.ZAdd(ctx, r.readyKey(chat), redis.Z{Score: float64(r.now().UnixMilli()), Member: chat}).Err(); err != nil {
		return fmt.Errorf("wake chat: %w", err)
	}
	return nil
}

// OutboxLen is how many calls wait in chat's outbox (metrics, tests).
func (r *Redis) OutboxLen(ctx context.Context, chat int64) (int64, error) {
	n, err := r.rdb.LLen(ctx, r.key(chat, "o")).Result()
	if err != nil {
		return 0, fmt.Errorf("outbox length: %w", err)
	}
	return n, nil
}

// QueueLen is how many entries wait in chat's queue (tests, metrics).
func (r *Redis) QueueLen(ctx context.Context, chat int64) (int64, error) {
	n, err := r.rdb.ZCard(ctx, r.key(chat, "q")).Result()
	if err != nil {
		return 0, fmt.Errorf("queue length: %w", err)
	}
	return n, nil
}

// State reads chat's state record without the lock (nil when none): what
// the last commit left, for tests and tools.
func (r *Redis) State(ctx context.Context, chat int64) ([]byte, error) {
	rec, err := r.rdb.Get(ctx, r.key(chat, "s")).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read chat state: %w", err)
	}
	return rec, nil
}

// StateKey is the key of chat's state record (a test writes a fixture
// state there, sealed as the pipeline seals it).
func (r *Redis) StateKey(chat int64) string { return r.key(chat, "s") }

// Reset deletes chat's state record (one that no longer decodes).
func (r *Redis) Reset(ctx context.Context, chat int64) error {
	if err := r.rdb.Del(ctx, r.key(chat, "s")).Err(); err != nil {
		return fmt.Errorf("reset chat state: %w", err)
	}
	return nil
}
