package notify

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/dialogs"
)

// Waker posts dialogs.EventWake to chats whose time in the wake set
// (chatq's per-shard wake sets, <prefix><tag>:wake: member chat id, score unix ms of dialogs.WakeAt, written by
// the chat pipeline after every commit) has come. Any number of replicas
// may run one: a due member is claimed atomically by moving its score
// ahead by the claim time, so one replica wins it; the winner removes it
// once posted (unless a commit set a new time meanwhile). A replica that
// dies between claim and post leaves the member to come due again after
// the claim time. The dialog decides on its own clock what a wake means,
// so a wake posted twice says nothing the second time.
type Waker struct {
	n        *Notifier
	claimFor time.Duration
	tick     time.Duration
	token    string // holds this Waker's shard leases
}

// WakeOption configures a Waker.
type WakeOption func(*Waker)

// WakeTiming sets how long a claim holds (default 1 min) and how often Run
// looks for due chats (default 1 s).
func WakeTiming(claimFor, tick time.Duration) WakeOption {
	return func(w *Waker) { w.claimFor, w.tick = claimFor, tick }
}

// NewWaker returns a Waker posting through n's Poster, on n's clock.
func NewWaker(n *Notifier, opts ...WakeOption) *Waker {
	w := &Waker{n: n, claimFor: time.Minute, tick: time.Second, token: newWakeToken()}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Run wakes due chats until ctx is done.
func (w *Waker) Run(ctx context.Context) {
	t := time.NewTicker(w.tick)
	defer t.Stop()
	for {
		if _, err := w.Once(ctx); err != nil && ctx.Err() == nil {
			w.n.log.Warn("wake round", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// claimScript moves a due member's score ahead by the claim time: the
// caller that sees it due wins it, the others see it in the future.
var claimScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1`)

// doneScript removes a claimed member unless a commit rescheduled it.
var doneScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0`)

// wakeDueFn defines due(lease, wake set, token, lease TTL ms, now ms,
// count): a shard's due wakes for the holder of its wake lease (living
// three ticks, renewed at each round that finds the shard has some), so
// one waker reads each shard; false when another Waker holds it, else
// member, score, ... A shard with nothing due costs one ZRANGEBYSCORE: its
// lease is neither read nor renewed.
const wakeDueFn = `
local function due(lease, set, token, ttl, now, count)
	local d = redis.call('ZRANGEBYSCORE', set, '-inf', now, 'WITHSCORES', 'LIMIT', 0, count)
	if not d[1] then return d end
	local h = redis.call('GET', lease)
	if h and h ~= token then return false end
	redis.call('SET', lease, token, 'PX', ttl)
	return d
end
`

// wakeDueScript reads one shard. KEYS: lease, wake set. ARGV: token, lease
// TTL ms, now ms, count.
var wakeDueScript = redis.NewScript(wakeDueFn + `
return due(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])`)

// wakeDueAllScript reads every shard of one instance in one script (not on
// a cluster, where a script keeps to one slot). KEYS: each shard's lease
// and wake set, in turn. ARGV as wakeDueScript. Replies shard, member,
// score, ... for the shards won.
var wakeDueAllScript = redis.NewScript(wakeDueFn + `
local out = {}
for i = 1, #KEYS, 2 do
	local d = due(KEYS[i], KEYS[i + 1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
	if d then
		for j = 1, #d, 2 do
			out[#out + 1] = tostring((i - 1) / 2)
			out[#out + 1] = d[j]
			out[#out + 1] = d[j + 1]
		end
	end
end
return out`)

// Once wakes the chats that are due now in the shards whose wake lease
// this Waker holds or wins (each shard's wake set and lease are in its own
// slot), and says how many it won: on one instance one script reads every
// shard; on a cluster, a pipeline of plain reads finds the shards with
// wakes due and a pipeline of scripts reads those.
func (w *Waker) Once(ctx context.Context) (int, error) {
	now := w.n.now().UnixMilli()
	ttl := (3 * w.tick).Milliseconds()
	due := make([][]redis.Z, chatq.Shards)
	if _, single := w.n.rdb.(*redis.Client); single {
		keys := make([]string, 0, 2*chatq.Shards)
		for i := range chatq.Shards {
			keys = append(keys, w.n.wakeLeaseKey(i), w.n.wakeKey(i))
		}
		flat, err := wakeDueAllScript.Run(ctx, w.n.rdb, keys, w.token, ttl, now, pollBatch).StringSlice()
		if err != nil {
			return 0, fmt.Errorf("due wakes: %w", err)
		}
		for j := 0; j+2 < len(flat); j += 3 {
			i, err := strconv.Atoi(flat[j])
			if err != nil || i < 0 || i >= chatq.Shards {
				continue
			}
			score, _ := strconv.ParseFloat(flat[j+2], 64)
			due[i] = append(due[i], redis.Z{Member: flat[j+1], Score: score})
		}
	} else {
		shards, err := w.dueShards(ctx, now)
		if err != nil {
			return 0, err
		}
		if len(shards) == 0 {
			return 0, nil
		}
		cmds, err := w.pipeDue(ctx, shards, ttl, now)
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			// Redis restarted (or was flushed) since the script was loaded.
			if err := wakeDueScript.Load(ctx, w.n.rdb).Err(); err != nil {
				return 0, fmt.Errorf("due wakes: %w", err)
			}
			cmds, err = w.pipeDue(ctx, shards, ttl, now)
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			return 0, fmt.Errorf("due wakes: %w", err)
		}
		for j, c := range cmds {
			flat, err := c.StringSlice()
			if err != nil {
				continue // another Waker's shard
			}
			i := shards[j]
			for k := 0; k+1 < len(flat); k += 2 {
				score, _ := strconv.ParseFloat(flat[k+1], 64)
				due[i] = append(due[i], redis.Z{Member: flat[k], Score: score})
			}
		}
	}
	won := 0
	for i, d := range due {
		if len(d) == 0 {
			continue
		}
		n, err := w.wake(ctx, w.n.wakeKey(i), now, d)
		won += n
		if err != nil {
			return won, err
		}
	}
	return won, nil
}

// dueShards finds, on a cluster, the shards with wakes due: one plain
// ZRANGEBYSCORE per shard, pipelined (the lease scripts run for those
// only).
func (w *Waker) dueShards(ctx context.Context, now int64) ([]int, error) {
	shards, err := chatq.DueShards(ctx, w.n.rdb, w.n.wakeKey, strconv.FormatInt(now, 10))
	if err != nil {
		return nil, fmt.Errorf("due wakes: %w", err)
	}
	return shards, nil
}

func (w *Waker) pipeDue(ctx context.Context, shards []int, ttl, now int64) ([]*redis.Cmd, error) {
	pipe := w.n.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(shards))
	for j, i := range shards {
		cmds[j] = wakeDueScript.EvalSha(ctx, pipe, []string{w.n.wakeLeaseKey(i), w.n.wakeKey(i)},
			w.token, ttl, now, pollBatch)
	}
	_, err := pipe.Exec(ctx)
	return cmds, err
}

func (w *Waker) wake(ctx context.Context, key string, now int64, due []redis.Z) (int, error) {
	won := 0
	for _, z := range due {
		member, ok := z.Member.(string)
		if !ok {
			continue
		}
		chat, err := strconv.ParseInt(member, 10, 64)
		if err != nil {
			w.n.log.Warn("wake set holds a non-chat member", "member", member)
			w.n.rdb.ZRem(ctx, key, member)
			continue
		}
		claim := now + w.claimFor.Milliseconds()
		claimed, err := claimScript.Run(ctx, w.n.rdb, []string{key}, member, now, claim).Int()
		if err != nil {
			return won, fmt.Errorf("claim wake: %w", err)
		}
		if claimed == 0 {
			continue // another replica's
		}
		won++
		once := "wake:" + member + ":" + strconv.FormatInt(int64(z.Score), 10)
		if _, err := w.n.post.Post(ctx, chat, once, dialogs.EventWake, ""); err != nil {
			w.n.log.Warn("post wake; retried after the claim", "chat", chat, "err", err)
			continue
		}
		if err := doneScript.Run(ctx, w.n.rdb, []string{key}, member, claim).Err(); err != nil {
			w.n.log.Warn("wake done", "chat", chat, "err", err)
		}
	}
	return won, nil
}

// wakeLeaseKey is the wake lease of shard i, in its wake set's slot.
func (n *Notifier) wakeLeaseKey(shard int) string { return n.wakeKey(shard) + "-lease" }

func newWakeToken() string { return rand.Text() }
