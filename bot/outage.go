package bot

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/dialogs"
)

// outageNotices remembers which merchants were told, during this outage of
// Redis, that their message waits: Telegram hands an unstored update over
// again and again (polling fetches the batch again, a webhook is
// redelivered), and the merchant must hear it once, not at every attempt.
// It lives in the process only: Redis, the shared memory, is what is away.
type outageNotices struct {
	mu   sync.Mutex
	told map[int64]bool
}

// first reports whether chat is not yet told, and marks it told.
func (o *outageNotices) first(chat int64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.told[chat] {
		return false
	}
	if o.told == nil {
		o.told = map[int64]bool{}
	}
	o.told[chat] = true
	return true
}

// over forgets the chats whose updates were stored: a later outage tells
// them again.
func (o *outageNotices) over(stored []chatq.Pending) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.told) == 0 {
		return
	}
	for _, p := range stored {
		delete(o.told, p.Chat)
	}
}

// tellUnstored tells each merchant whose update could not be stored (Redis
// out of reach) that their progress is safe and the message will be
// answered, or can be sent again shortly: nothing of it may go through the
// outbox, which is in Redis, so the notice goes straight to the Bot API,
// once per chat and outage, outside the shared send budgets (which are in
// Redis too).
func (b *Bot) tellUnstored(pending []chatq.Pending, langs map[int64]string) {
	for _, p := range pending {
		if p.Chat <= 0 || !b.outage.first(p.Chat) { // a merchant's private chat, once
			continue
		}
		c := b.sayCalls(p.Chat, langs[p.Chat], dialogs.MsgStoreDown)[0]
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := b.callJSON(ctx, c.Method, c.Params, false); err != nil {
			b.log.Warn("tell merchant their update waits for Redis", "chat_id", p.Chat,
				"err", hideToken(err.Error(), b.token))
		}
		cancel()
	}
}

// redisDownPatience is how long retryWhileRedisDown tries: a Redis restart with
// append-only persistence takes seconds.
const redisDownPatience = 30 * time.Second

// retryWhileRedisDown runs op, and while it fails (Redis out of reach) runs it again
// every 200 ms for up to redisDownPatience, or until the bot stops. A lock or outbox lease this replica could not give
// back, or a sent call it could not mark, would otherwise hold the chat
// until the lease ran out on its own, and an unmarked call would be sent
// twice (markOut marks a call whose lease ran out while nobody took it). op's own retries are safe: each checks the holder's token.
func (b *Bot) retryWhileRedisDown(what string, chat int64, op func(ctx context.Context) error) error {
	deadline := time.Now().Add(redisDownPatience)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := op(ctx)
		cancel()
		final := errors.Is(err, chatq.ErrNotSender) || errors.Is(err, chatq.ErrLockLost)
		if err == nil || final || time.Now().After(deadline) || b.stopping.Load() {
			if err != nil && !final {
				b.log.Warn(what, "chat_id", chat, "err", err)
			}
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
