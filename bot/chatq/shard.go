package chatq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Shards is how many shards the chats are spread over: each shard's keys
// (its chats' queues, states and outboxes, and its own ready set, dead
// letters, wake set, depth counter and merchant index) share one Redis
// Cluster hash slot, so every script touches one slot, and the shards'
// slots are spread evenly over the 16,384 (shard i's slot lies in
// [i*256, (i+1)*256)), so the masters of a cluster share the work. On one
// instance the shards live side by side. The number is part of the key
// layout: changing it moves every chat (docs/PERFORMANCE.md).
const Shards = 64

// ShardOf is the shard of chat.
func ShardOf(chat int64) int {
	return int((uint64(chat) * 0x9E3779B97F4A7C15) >> 58) // top 6 bits: 64 shards
}

// ShardTag is the hash tag of shard i, braces included ("{s7.41}"): the
// smallest "s<i>.<k>" whose slot lies in shard i's 256 slots.
func ShardTag(i int) string { return shardTags()[i] }

// ChatTag is the hash tag of chat's shard: a key holding it (bot/sender's
// per-chat keys) shares the slot of the chat's queue.
func ChatTag(chat int64) string { return ShardTag(ShardOf(chat)) }

var shardTags = sync.OnceValue(func() []string {
	tags := make([]string, Shards)
	width := 16384 / Shards
	for i := range tags {
		for k := 0; ; k++ {
			t := "s" + strconv.Itoa(i) + "." + strconv.Itoa(k)
			if s := int(Slot(t)); s >= i*width && s < (i+1)*width {
				tags[i] = "{" + t + "}"
				break
			}
		}
	}
	return tags
})

// Slot is Redis Cluster's hash slot of key (CRC16/XMODEM of its hash tag,
// or of the whole key, mod 16384).
func Slot(key string) uint16 {
	if i := indexByte(key, '{'); i >= 0 {
		if j := indexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc % 16384
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// WakeKeyOf is shard i's wake set under prefix (what Redis.WakeKey names).
func WakeKeyOf(prefix string, i int) string { return prefix + ShardTag(i) + ":wake" }

// MerchantKeyOf is the binding of merchant no kept in shard i under prefix.
func MerchantKeyOf(prefix string, i int, no string) string {
	return prefix + ShardTag(i) + ":merchant:" + no
}

// FindMerchant finds the chat bound to merchant no under prefix: the
// newest binding of any shard (a commit binds it in the chat's shard), in
// one pipeline over the shards. ok is false when none is.
func FindMerchant(ctx context.Context, rdb redis.Cmdable, prefix, no string) (chat int64, ok bool, err error) {
	pipe := rdb.Pipeline()
	cmds := make([]*redis.StringCmd, Shards)
	for i := range Shards {
		cmds[i] = pipe.Get(ctx, MerchantKeyOf(prefix, i, no))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, false, fmt.Errorf("find merchant's chat: %w", err)
	}
	newest := int64(-1)
	for _, c := range cmds {
		v, err := c.Result()
		if err != nil {
			continue
		}
		if id, at, found := ParseBinding(v); found && at > newest {
			chat, ok, newest = id, true, at
		}
	}
	return chat, ok, nil
}

// KeyOf is chat's key of kind ("s" state, "l" lock, "o" outbox…; see the
// package comment) under prefix, for tools and tests that reach into the
// record.
func KeyOf(prefix string, chat int64, kind string) string {
	return prefix + ChatTag(chat) + ":" + strconv.FormatInt(chat, 10) + ":" + kind
}

// ReadyKeyOf is the ready set of chat's shard under prefix.
func ReadyKeyOf(prefix string, chat int64) string {
	return prefix + ShardTag(ShardOf(chat)) + ":ready"
}

// sweepFn defines sweep(lease, ready, token, lease TTL ms, now ms, count):
// a shard's due chats for the holder of its sweep lease, false when
// another sweeper holds the shard. A shard with nothing due costs one
// ZRANGEBYSCORE: its lease is neither read nor renewed (it runs out, and
// the first sweeper to find work there takes it again), so an idle bot's
// sweeps write nothing.
const sweepFn = `
local function sweep(lease, ready, token, ttl, now, count)
	local due = redis.call('ZRANGEBYSCORE', ready, '-inf', now, 'LIMIT', 0, count)
	if not due[1] then return due end
	local h = redis.call('GET', lease)
	if h and h ~= token then return false end
	redis.call('SET', lease, token, 'PX', ttl)
	return due
end
`

// sweepLua sweeps one shard. KEYS: sweep lease, ready. ARGV: token, lease
// TTL ms, now ms, count.
const sweepLua = sweepFn + `
return sweep(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
`

// sweepAllLua sweeps every shard of one instance in one script (not on a
// cluster, where a script keeps to one slot). KEYS: each shard's sweep
// lease and ready set, in turn. ARGV as sweepLua. Replies the due chats
// of the shards won.
const sweepAllLua = sweepFn + `
local out = {}
for i = 1, #KEYS, 2 do
	local due = sweep(KEYS[i], KEYS[i + 1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
	if due then
		for _, c in ipairs(due) do out[#out + 1] = c end
	end
end
return out
`

// KEYS: sweep lease. ARGV: token.
const sweepReleaseLua = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`

// KEYS: each shard's depth counter and ready set, in turn. Replies {calls,
// chats}: Depth on one instance in one script.
const depthAllLua = `
local calls, chats = 0, 0
for i = 1, #KEYS, 2 do
	calls = calls + (tonumber(redis.call('GET', KEYS[i])) or 0)
	chats = chats + redis.call('ZCARD', KEYS[i + 1])
end
return {calls, chats}
`

// single reports whether r runs on one instance, where a script may touch
// the keys of every shard (a cluster client is the only multi-node client
// New is given).
func (r *Redis) single() bool {
	_, ok := r.rdb.(*redis.Client)
	return ok
}

// Sweep returns up to n due chats of each shard whose sweep lease token
// holds or wins now (<prefix><tag>:sweep, living the lock TTL, renewed at
// each call that finds the shard has work): one sweeper per shard, so
// replicas do not all read and kick the same chats; a sweeper that dies
// leaves its shards to the others within the lock TTL. On one instance one
// script sweeps every shard; on a cluster, a pipeline of plain reads finds
// the shards with chats due, and a pipeline of sweepLua sweeps those only
// (an idle cluster costs one ZRANGEBYSCORE per shard).
func (r *Redis) Sweep(ctx context.Context, token string, n int64) ([]int64, error) {
	if r.single() {
		return r.sweepAll(ctx, token, n)
	}
	now := ms(r.now())
	shards, err := DueShards(ctx, r.rdb, func(i int) string { return r.shardKey(i, "ready") }, now)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	if len(shards) == 0 {
		return nil, nil
	}
	cmds, err := r.pipeSweep(ctx, shards, token, now, n)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		if err := r.sweep.Load(ctx, r.rdb).Err(); err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
		cmds, err = r.pipeSweep(ctx, shards, token, now, n)
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	var chats []int64
	for _, c := range cmds {
		ids, err := c.StringSlice()
		if err != nil {
			continue // another sweeper's shard (nil reply)
		}
		chats = appendChats(chats, ids)
	}
	return chats, nil
}

func (r *Redis) pipeSweep(ctx context.Context, shards []int, token, now string, n int64) ([]*redis.Cmd, error) {
	pipe := r.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(shards))
	for j, i := range shards {
		cmds[j] = r.sweep.EvalSha(ctx, pipe, []string{r.shardKey(i, "sweep"), r.shardKey(i, "ready")},
			token, r.lockTTL.Milliseconds(), now, n)
	}
	_, err := pipe.Exec(ctx)
	return cmds, err
}

func (r *Redis) sweepAll(ctx context.Context, token string, n int64) ([]int64, error) {
	keys := make([]string, 0, 2*Shards)
	for i := range Shards {
		keys = append(keys, r.shardKey(i, "sweep"), r.shardKey(i, "ready"))
	}
	ids, err := r.sweepAllScript.Run(ctx, r.rdb, keys, token, r.lockTTL.Milliseconds(), ms(r.now()), n).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	return appendChats(nil, ids), nil
}

func appendChats(chats []int64, ids []string) []int64 {
	for _, s := range ids {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			chats = append(chats, id)
		}
	}
	return chats
}

// StopSweeping gives back the sweep leases token holds (a replica that
// stops), so that the others take its shards at their next sweep.
func (r *Redis) StopSweeping(ctx context.Context, token string) error {
	pipe := r.rdb.Pipeline()
	for i := range Shards {
		pipe.Eval(ctx, sweepReleaseLua, []string{r.shardKey(i, "sweep")}, token)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("stop sweeping: %w", err)
	}
	return nil
}

// DueShards finds the shards whose sorted set (keyOf: the shard's key) holds
// a member scored at most now: one plain ZRANGEBYSCORE per shard, pipelined
// (go-redis sends each master its share), so that the lease scripts of a
// sweep or a waker run on a cluster for those shards only.
func DueShards(ctx context.Context, rdb redis.Cmdable, keyOf func(shard int) string, now string) ([]int, error) {
	pipe := rdb.Pipeline()
	probes := make([]*redis.StringSliceCmd, Shards)
	for i := range Shards {
		probes[i] = pipe.ZRangeByScore(ctx, keyOf(i), &redis.ZRangeBy{Min: "-inf", Max: now, Count: 1})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	var shards []int
	for i, p := range probes {
		if len(p.Val()) > 0 {
			shards = append(shards, i)
		}
	}
	return shards, nil
}
