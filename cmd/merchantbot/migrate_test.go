package main

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

// TestMigrateLayout: data written in the layout before shards (one chat
// mid-dialog with a queued update, an unsent call, its ready and wake
// entries, a dead letter, a merchant binding, a block record and a desk
// key) is read through the sharded layout after migrateLayout, and a second
// run (another replica starting) moves nothing.
func TestMigrateLayout(t *testing.T) {
	rdb, prefix := redistest.New(t)
	ctx := context.Background()
	const chat = int64(4242)
	c := "{" + strconv.FormatInt(chat, 10) + "}:"
	now := time.Now()
	dead, _ := json.Marshal(chatq.DeadEntry{Chat: chat, Score: "1", Payload: []byte("sealed"), Reason: "panic", At: now})
	pipe := rdb.Pipeline()
	pipe.Set(ctx, prefix+c+"s", "state-record", time.Hour)
	pipe.ZAdd(ctx, prefix+c+"q", redisZ(7, "update-7"))
	pipe.ZAdd(ctx, prefix+c+"u", redisZ(6, "6"))
	pipe.RPush(ctx, prefix+c+"o", `{"m":"sendMessage"}`)
	pipe.Set(ctx, prefix+c+"x:st:app1:3", "1", time.Hour)
	pipe.Set(ctx, prefix+"outbox:depth", 1, 0)
	pipe.ZAdd(ctx, prefix+"ready", redisZ(float64(now.Add(-time.Second).UnixMilli()), "4242"))
	pipe.ZAdd(ctx, prefix+"wake", redisZ(float64(now.Add(time.Hour).UnixMilli()), "4242"))
	pipe.RPush(ctx, prefix+"dead", dead)
	pipe.Set(ctx, prefix+"merchant:822100050110001", "4242", 0)
	pipe.Set(ctx, prefix+"rl:blocked:4242", now.Unix(), time.Hour)
	pipe.Set(ctx, prefix+"ho:c:4242", "conv", 0)
	_, err := pipe.Exec(ctx)
	require.NoError(t, err)

	moved, err := migrateLayout(ctx, rdb, prefix)
	require.NoError(t, err)
	assert.Equal(t, 12, moved)

	q := chatq.New(rdb, chatq.WithPrefix(prefix))
	st, err := q.State(ctx, chat)
	require.NoError(t, err)
	assert.Equal(t, "state-record", string(st))
	n, err := q.QueueLen(ctx, chat)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	n, err = q.OutboxLen(ctx, chat)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	calls, chats, err := q.Depth(ctx)
	require.NoError(t, err)
	assert.Equal(t, [2]int64{1, 1}, [2]int64{calls, chats})
	due, err := q.Due(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, []int64{chat}, due)
	letters, err := q.Dead(ctx, 10)
	require.NoError(t, err)
	require.Len(t, letters, 1)
	assert.Equal(t, chat, letters[0].Chat)
	bound, ok, err := q.Merchant(ctx, "822100050110001")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, chat, bound)
	added, err := q.AddEvent(ctx, chat, "st:app1:3", []byte("again"), now)
	require.NoError(t, err)
	assert.False(t, added, "the once key moved with the chat")
	added, err = q.AddUpdate(ctx, chat, 6, []byte("update-6 again"), now)
	require.NoError(t, err)
	assert.False(t, added, "the applied ids moved with the chat")
	for _, key := range []string{
		chatq.WakeKeyOf(prefix, chatq.ShardOf(chat)),
		prefix + "rl:blocked:" + chatq.ChatTag(chat) + "4242",
		prefix + "{ho}:c:4242",
	} {
		n, err := rdb.Exists(ctx, key).Result()
		require.NoError(t, err)
		assert.Equal(t, int64(1), n, key)
	}
	left, err := redistest.Keys(ctx, rdb, prefix+"{4242}*")
	require.NoError(t, err)
	assert.Empty(t, left)

	moved, err = migrateLayout(ctx, rdb, prefix)
	require.NoError(t, err)
	assert.Zero(t, moved, "marked done")
}

func redisZ(score float64, member string) redis.Z { return redis.Z{Score: score, Member: member} }
