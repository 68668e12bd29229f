package bot

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/go-redis/redis_rate/v10"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/bot/sender"
)

// The outbox's mark takes a send budget for the next batch's first call
// that is one Budgeted message to the chat (a reply, a group relay), and
// only when there is one: not for a call that posts nothing, nor for a
// notification (which yields to replies in the sender), nor for a message
// to another chat.
func TestMarkFoldsTheNextBudget(t *testing.T) {
	rdb, _, prefix := testRedis(t)
	ctx := context.Background()
	send := sender.New(rdb, sender.WithPrefix(prefix+"rl:"), sender.WithChatTag(chatq.ChatTag),
		sender.WithLimits(sender.Limits{PerChat: redis_rate.PerSecond(1), PerGroup: redis_rate.PerMinute(20), NoGlobal: true}))
	q := chatq.New(rdb, chatq.WithPrefix(prefix), chatq.WithBlockedKey(send.BlockedKey), chatq.WithSendBudget(sender.TakeLua))
	require.NoError(t, q.Preload(ctx))
	msg := func(chat int64, method string, prio outbox.Priority) outbox.Call {
		p, _ := json.Marshal(map[string]any{"chat_id": chat, "text": "x"})
		return outbox.Call{Method: method, Params: p, Priority: prio}
	}
	for _, c := range []struct {
		name string
		next []outbox.Call
		paid bool
	}{
		{"a reply", []outbox.Call{msg(0, "sendMessage", outbox.Reply)}, true},
		{"a call that posts nothing", []outbox.Call{msg(0, "deleteMessage", outbox.Reply)}, false},
		{"a notification", []outbox.Call{msg(0, "sendMessage", outbox.Notification)}, false},
		{"another chat", []outbox.Call{msg(1, "sendMessage", outbox.Reply)}, false},
		{"a reply after a call that posts nothing", []outbox.Call{msg(0, "answerCallbackQuery", outbox.Reply),
			msg(0, "sendMessage", outbox.Reply)}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			chat := int64(700 + len(c.name))
			calls := []outbox.Call{msg(chat, "sendMessage", outbox.Reply)}
			for _, next := range c.next {
				var p map[string]any
				require.NoError(t, json.Unmarshal(next.Params, &p))
				if p["chat_id"] == float64(0) {
					next = msg(chat, next.Method, next.Priority)
				}
				calls = append(calls, next)
			}
			_, err := q.Enqueue(ctx, chat, "", calls...)
			require.NoError(t, err)
			first, err := q.ClaimOutbox(ctx, chat, "tok")
			require.NoError(t, err)
			require.Len(t, first, len(calls), "one batch")
			p := send.Prefetch(chat)
			require.NotNil(t, p)
			got, paid, err := q.MarkSentFold(ctx, chat, "tok", first[:1], &chatq.Fold{Keys: p.Keys, Args: p.Args})
			require.NoError(t, err)
			assert.NotNil(t, got)
			assert.Equal(t, c.paid, paid)
			n, err := rdb.Exists(ctx, p.Keys[1]).Result()
			require.NoError(t, err)
			assert.Equal(t, c.paid, n == 1, "the chat's budget key is written only by a take")
		})
	}
	// Budgets lifted: nothing to fold.
	lifted := sender.New(rdb, sender.WithPrefix(prefix+"rl:"), sender.WithLimits(sender.Limits{NoPerChat: true, NoGlobal: true}))
	assert.Nil(t, lifted.Prefetch(5))
}
