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
