package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/bot/chatq"
)

// layoutMark is the key, under the prefix, saying the data is in the
// sharded layout (chatq.Shards shards): the one-shot migration ran.
const layoutMark = "layout"

// layoutVersion is layoutMark's value.
const layoutVersion = "shards64"

// oldChatKey matches a chat's key of the layout before shards:
// <prefix>{<chat>}:<kind>.
var oldChatKey = regexp.MustCompile(`^\{(-?[0-9]+)\}:(.+)$`)

// migrateLayout moves the data of the layout before shards (one Redis,
// REDIS_PREFIX's chats under {<chat>}, and single ready, wake and dead sets,
// depth counter, merchant index, block records and desk keys) into the
// sharded one, once: serve and console run it at start, before any update
// is taken in, and mark the prefix done (layoutMark). Every replica of the
// old version must be stopped first (docs/OPERATIONS.md); replicas of this
// version may start together: each step is idempotent. A Redis Cluster
// never held the old layout (its scripts crossed slots): nothing to do.
func migrateLayout(ctx context.Context, rdb redis.UniversalClient, prefix string) (moved int, err error) {
	if _, ok := rdb.(*redis.ClusterClient); ok {
		return 0, nil
	}
	if v, err := rdb.Get(ctx, prefix+layoutMark).Result(); err == nil && v == layoutVersion {
		return 0, nil
	} else if err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("read layout mark: %w", err)
	}
	var keys []string
	iter := rdb.Scan(ctx, 0, escapeGlob(prefix)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return 0, fmt.Errorf("scan old keys: %w", err)
	}
	for _, key := range keys {
		ok, err := migrateKey(ctx, rdb, prefix, strings.TrimPrefix(key, prefix))
		if err != nil {
			return moved, fmt.Errorf("migrate %s: %w", key, err)
		}
		if ok {
			moved++
		}
	}
	if err := rdb.Set(ctx, prefix+layoutMark, layoutVersion, 0).Err(); err != nil {
		return moved, fmt.Errorf("mark layout: %w", err)
	}
	return moved, nil
}

// migrateKey moves one key (rest: its name after the prefix) if it is of
// the old layout.
func migrateKey(ctx context.Context, rdb redis.UniversalClient, prefix, rest string) (bool, error) {
	rename := func(to string) (bool, error) {
		err := rdb.Rename(ctx, prefix+rest, to).Err()
		if err != nil && strings.Contains(err.Error(), "no such key") {
			return false, nil // another replica moved it
		}
		return err == nil, err
	}
	if m := oldChatKey.FindStringSubmatch(rest); m != nil {
		chat, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return false, nil
		}
		to := chatq.KeyOf(prefix, chat, m[2])
		if m[2] == "o" {
			n, err := rdb.LLen(ctx, prefix+rest).Result()
			if err != nil {
				return false, err
			}
			if err := rdb.IncrBy(ctx, prefix+chatq.ShardTag(chatq.ShardOf(chat))+":depth", n).Err(); err != nil {
				return false, err
			}
		}
		return rename(to)
	}
	switch {
	case rest == "ready" || rest == "wake":
		zs, err := rdb.ZRangeWithScores(ctx, prefix+rest, 0, -1).Result()
		if err != nil {
			return false, err
		}
		for _, z := range zs {
			chat, err := strconv.ParseInt(fmt.Sprint(z.Member), 10, 64)
			if err != nil {
				continue
			}
			to := chatq.ReadyKeyOf(prefix, chat)
			if rest == "wake" {
				to = chatq.WakeKeyOf(prefix, chatq.ShardOf(chat))
			}
			if err := rdb.ZAddLT(ctx, to, z).Err(); err != nil {
				return false, err
			}
		}
		return true, rdb.Del(ctx, prefix+rest).Err()
	case rest == "dead":
		raws, err := rdb.LRange(ctx, prefix+rest, 0, -1).Result()
		if err != nil {
			return false, err
		}
		for _, raw := range raws {
			var d chatq.DeadEntry
			if json.Unmarshal([]byte(raw), &d) != nil {
				continue
			}
			if err := rdb.RPush(ctx, prefix+chatq.ShardTag(chatq.ShardOf(d.Chat))+":dead", raw).Err(); err != nil {
				return false, err
			}
		}
		return true, rdb.Del(ctx, prefix+rest).Err()
	case rest == "outbox:depth":
		return true, rdb.Del(ctx, prefix+rest).Err() // counted again from the outboxes moved
	case strings.HasPrefix(rest, "merchant:"):
		v, err := rdb.Get(ctx, prefix+rest).Result()
		if err != nil {
			return false, nil
		}
		chat, _, ok := chatq.ParseBinding(v)
		if !ok {
			return false, nil
		}
		return rename(chatq.MerchantKeyOf(prefix, chatq.ShardOf(chat), strings.TrimPrefix(rest, "merchant:")))
	case strings.HasPrefix(rest, "rl:blocked:") || strings.HasPrefix(rest, "rl:cooldown:"):
		kind, id, _ := strings.Cut(strings.TrimPrefix(rest, "rl:"), ":")
		chat, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return false, nil // already tagged
		}
		return rename(prefix + "rl:" + kind + ":" + chatq.ChatTag(chat) + id)
	case strings.HasPrefix(rest, "ho:"):
		return rename(prefix + "{ho}:" + strings.TrimPrefix(rest, "ho:"))
	}
	return false, nil
}

// escapeGlob escapes SCAN's pattern characters in a prefix.
func escapeGlob(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}
