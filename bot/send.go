package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/bot/sender"
	"github.com/merchantbot/merchantbot/dialogs"
)

// ResultHandler receives the result of a tagged call after Telegram
// accepted it (at least once): e.g. the id of a copied message.
type ResultHandler func(ctx context.Context, chat int64, c outbox.Call, result json.RawMessage) error

// handed is an outbox lease a commit just won, waiting for the chat's
// sender goroutine.
type handed struct {
	token string
	first [][]byte // the batch handed out
	lease *chatq.Lease
}

type handovers struct {
	mu     sync.Mutex
	m      map[int64]handed
	claims map[int64]*chatq.Claim // chats the intake claimed, for their worker
}

// handClaim gives a chat the intake claimed to its worker.
func (b *Bot) handClaim(c *chatq.Claim) {
	b.handed.mu.Lock()
	if old := b.handed.claims[c.Chat]; old != nil {
		// Cannot happen while the lock holds (one claim at a time); should
		// it, the older lease is given back rather than leaked.
		defer b.release(old, time.Now())
	}
	b.handed.claims[c.Chat] = c
	b.handed.mu.Unlock()
	b.workers.kick(c.Chat)
}

func (b *Bot) takeClaim(chat int64) (*chatq.Claim, bool) {
	b.handed.mu.Lock()
	defer b.handed.mu.Unlock()
	c, ok := b.handed.claims[chat]
	delete(b.handed.claims, chat)
	return c, ok
}

// handSend gives chat's outbox, won by a commit under token, to a sender.
func (b *Bot) handSend(chat int64, token string, first [][]byte, lease *chatq.Lease) {
	b.handOver(chat, token, first, lease)
	b.senders.kick(chat)
}

// handOver leaves chat's outbox, won by a commit under token, for the
// sender that runs next for chat.
func (b *Bot) handOver(chat int64, token string, first [][]byte, lease *chatq.Lease) {
	b.handed.mu.Lock()
	if old, ok := b.handed.m[chat]; ok {
		old.lease.Stop() // cannot happen while the lease holds; should it, not renewed for ever
	}
	b.handed.m[chat] = handed{token: token, first: first, lease: lease}
	b.handed.mu.Unlock()
}

func (b *Bot) takeHanded(chat int64) (handed, bool) {
	b.handed.mu.Lock()
	defer b.handed.mu.Unlock()
	h, ok := b.handed.m[chat]
	delete(b.handed.m, chat)
	return h, ok
}

// sendOutbox sends chat's outbox in order while this replica holds it.
// The outbox is handed out in batches (up to chatq.OutboxBatch calls from
// its head): the calls of a batch are sent one after the other, and those
// done with are marked sent together, in the round trip that hands out the
// next batch, or before the sender waits for a call (a budget, a
// retry_after). A crash in between sends them again (at least once: the Bot
// API has no idempotency key); so does a lease lost mid-batch, to whoever
// holds it next. A call Telegram refuses for good is replaced by its Else,
// or dropped and logged. When Telegram is out of reach or asks for a long
// pause, the outbox is given back with a time to try again, on any replica,
// and the calls of the batch sent before are marked in the same round trip.
//
// The outbox lease is renewed for as long as this sender works on it,
// waits included: a budget wait or a 429's retry_after longer than the
// lease does not let another replica (or this one's sweeper) claim the
// outbox and send the same head. Renewing was chosen over giving the call
// back before a long wait: the wait is spent either way, and a call given
// back mid-wait loses its place in the budgets' queue. A 429 longer than
// the sender's patience (sender.WithMaxWait) still gives the outbox back,
// to free the slot, not for the lease's sake. Should the renewals fail (Redis
// out of reach), the lease is no longer Held once it may have run out, and
// no request is made for it (do checks right before each one).
func (b *Bot) sendOutbox(ctx context.Context, chat int64) {
	h, ok := b.takeHanded(chat)
	if !ok {
		h.token = newToken()
		since := time.Now()
		first, err := b.q.ClaimOutbox(ctx, chat, h.token)
		if err != nil {
			if !errors.Is(err, chatq.ErrNotSender) && ctx.Err() == nil {
				b.log.Warn("claim outbox", "chat_id", chat, "err", err)
			}
			return
		}
		if first == nil {
			return // nothing waits; the lease was given back
		}
		h.first, h.lease = first, b.leases.HoldOutbox(chat, h.token, since)
	}
	defer h.lease.Stop()
	// Waits for the budgets end as soon as the lease is lost.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer context.AfterFunc(h.lease.Context(), func() { cancel(context.Cause(h.lease.Context())) })()
	// A budget taken ahead (by the commit, or the mark, for a call further
	// in the batch) is given up when the sender stops before that call.
	pf, _ := b.send.(prefetcher)
	finished := false
	if pf != nil {
		defer func() {
			if !finished {
				pf.Forfeit(chat)
			}
		}()
	}
	batch := h.first
	for len(batch) > 0 {
		done := make([][]byte, 0, len(batch))
		// Before the sender waits (a budget, a retry_after), the calls done
		// so far are marked: a crash during the wait does not send them
		// again. The next batch it returns is the rest of this one.
		sctx := sender.BeforeWait(ctx, func() {
			if len(done) == 0 || !h.lease.Held() {
				return
			}
			mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if _, err := b.q.MarkSent(mctx, chat, h.token, done); err == nil {
				done = done[:0]
			}
		})
		for _, raw := range batch {
			if !h.lease.Held() {
				return // another sender may hold it now: it sends what is left, done included
			}
			if ctx.Err() != nil {
				b.releaseOutbox(chat, h.token, time.Now(), done)
				return
			}
			if b.crashMidBatch != nil && b.crashMidBatch(chat, len(done)) {
				return // as a process killed here would: done is sent and unmarked
			}
			retryAt, blocked, lost := b.sendOne(sctx, chat, raw, h.lease)
			switch {
			case lost:
				b.log.Warn("outbox lease lost; its next holder sends what is left", "chat_id", chat)
				return
			case blocked:
				b.releaseOutbox(chat, h.token, time.Time{}, done) // until the merchant unblocks
				return
			case !retryAt.IsZero():
				b.releaseOutbox(chat, h.token, retryAt, done)
				return
			}
			done = append(done, raw)
		}
		var (
			next [][]byte
			paid bool
		)
		// The mark also takes the send budget of a message of the next
		// batch when it can (one round trip per batch, budget included,
		// with the limits on).
		var fold *chatq.Fold
		if pf != nil {
			if p := pf.Prefetch(chat); p != nil {
				fold = &chatq.Fold{Keys: p.Keys, Args: p.Args}
			}
		}
		err := b.retryWhileRedisDown("mark calls sent", chat, func(ctx context.Context) (err error) {
			next, paid, err = b.q.MarkSentFold(ctx, chat, h.token, done, fold)
			return err
		})
		if paid && pf != nil {
			pf.Prepaid(chat)
		}
		if err != nil {
			// Sent but not marked: the lease runs out and the calls go
			// again from whoever sends next.
			return
		}
		batch = next
	}
	finished = true
}

// releaseOutbox gives the outbox back, marking sent the calls done before
// the one that could not be sent (one round trip).
func (b *Bot) releaseOutbox(chat int64, token string, retryAt time.Time, done [][]byte) {
	_ = b.retryWhileRedisDown("release outbox", chat, func(ctx context.Context) error {
		return b.q.ReleaseOutbox(ctx, chat, token, retryAt, done...)
	})
}

// sendOne makes one outbox call (or its Else). It returns a time to try
// again when the call could not be made now, or blocked when the chat
// blocked the bot; otherwise the call is done with, sent or given up.
func (b *Bot) sendOne(ctx context.Context, chat int64, raw []byte, lease *chatq.Lease) (retryAt time.Time, blocked, lost bool) {
	var c outbox.Call
	if err := unmarshalHot(raw, &c); err != nil {
		b.log.Error("outbox call does not decode; dropped", "chat_id", chat)
		return time.Time{}, false, false
	}
	if c.Quiet && dialogs.QuietHours(b.now()) {
		// A reminder held up into the quiet hours (the Bot API or this
		// process was down): not sent at night. The dialog reminds again
		// when they end; a merchant back meanwhile needs no reminder.
		if _, err := b.Post(ctx, chat, "", dialogs.EventRemindLater, ""); err != nil {
			// Kept, not dropped: without the event nothing would remind.
			b.log.Warn("post remind_later; the reminder waits in the outbox", "chat_id", chat, "err", err)
			return time.Now().Add(b.retryMax), false, false
		}
		b.log.Info("reminder held up into the quiet hours; dropped, the dialog reminds in the morning", "chat_id", chat)
		return time.Time{}, false, false
	}
	for {
		result, err := b.do(ctx, chat, c, lease)
		if err != nil && (errors.Is(err, chatq.ErrLeaseLost) || errors.Is(context.Cause(ctx), chatq.ErrLeaseLost)) {
			return time.Time{}, false, true
		}
		outcome := callOutcome(ctx, err)
		b.metrics.TelegramCall(priorityName(c.Priority), outcome)
		if status, ok := notifiedStatus(c); ok {
			switch outcome {
			case "sent":
				b.metrics.NotificationSent(status)
			case "refused":
				b.metrics.NotificationFailed(status)
			}
		}
		if err != nil && c.Method == "deleteMessage" && c.Tag == "" && strings.Contains(err.Error(), "message to delete not found") {
			// Already gone: deleted straight away while Redis was out of
			// reach (deleteUnstored), or by an earlier try of this call
			// whose answer was lost. It is deleted: no "please delete it".
			err = nil
		}
		switch {
		case err == nil:
			if chat == b.supportChat && chat != 0 {
				b.metrics.SupportGroupBlocked(false)
			}
			b.sent(ctx, chat, c, result)
			if c.Then != nil {
				c = *c.Then
				continue
			}
			return time.Time{}, false, false
		case errors.Is(err, sender.ErrBlocked) && chat == b.supportChat && chat != 0:
			// Not a merchant who blocked the bot: the desk is cut off. Its
			// outbox is kept, and sent again when the bot is back in the
			// group (my_chat_member) or an operator resumes it.
			b.metrics.SupportGroupBlocked(true)
			b.log.Error("support group refuses the bot (403): the desk's calls wait; add the bot back to the group as an administrator, or run `merchantbot desk resume` once fixed",
				"chat_id", chat, "method", c.Method, "err", hideToken(err.Error(), b.token))
			return time.Time{}, true, false
		case errors.Is(err, sender.ErrBlocked):
			b.log.Info("chat blocked the bot; its outbox waits", "chat_id", chat)
			return time.Time{}, true, false
		case b.tokenRefused(c.Method, err):
			// Kept, not dropped: the process ends (serve watches
			// TokenRejected) and the next one, with a valid token, sends it.
			return time.Now().Add(b.retryMax), false, false
		case retryLater(ctx, err):
			var later *sender.RetryLater
			wait := b.retryMax
			if errors.As(err, &later) {
				wait = later.After
			}
			b.log.Warn("outbox call not sent, trying again later", "chat_id", chat, "method", c.Method,
				"wait", wait, "err", hideToken(err.Error(), b.token))
			return time.Now().Add(wait), false, false
		case c.Method == "editMessageText" && strings.Contains(err.Error(), "message is not modified"):
			return time.Time{}, false, false // it already says this
		case b.desk != nil && b.deskTags != "" && strings.HasPrefix(c.Tag, b.deskTags):
			handled, herr := b.desk.HandleFailed(ctx, chat, c, err)
			if herr != nil {
				b.log.Warn("support desk could not take a refused call", "chat_id", chat, "err", herr)
			}
			if handled {
				return time.Time{}, false, false
			}
			if c.Else != nil {
				c = *c.Else
				continue
			}
			b.log.Info("support desk call refused; dropped", "chat_id", chat, "method", c.Method, "err", hideToken(err.Error(), b.token))
			return time.Time{}, false, false
		case c.Else != nil:
			b.log.Info("outbox call refused, sending its alternative", "chat_id", chat, "method", c.Method,
				"err", hideToken(err.Error(), b.token))
			c = *c.Else
			continue
		case c.Optional:
			b.log.Debug("optional outbox call refused", "chat_id", chat, "method", c.Method, "err", hideToken(err.Error(), b.token))
			return time.Time{}, false, false
		}
		b.log.Error("outbox call refused by Telegram; dropped", "chat_id", chat, "method", c.Method,
			"err", hideToken(err.Error(), b.token))
		return time.Time{}, false, false
	}
}

// postsNothing tells methods that post nothing into a chat, so they take
// no message budget (Telegram's limits count messages): a group's topic
// titles must not eat the 20 messages a minute its relays need.
func postsNothing(method string) bool {
	switch method {
	case "answerCallbackQuery", "deleteMessage", "setMessageReaction",
		"editForumTopic", "closeForumTopic", "reopenForumTopic":
		return true
	}
	return false
}

// do makes c through the one sender: budgets, retry_after, retries. Each
// request is made only while lease (nil: none) is held.
func (b *Bot) do(ctx context.Context, chat int64, c outbox.Call, lease *chatq.Lease) (json.RawMessage, error) {
	kind := sender.Budgeted
	switch {
	case postsNothing(c.Method):
		kind = sender.Unlimited
	case c.Priority == outbox.Notification:
		kind = sender.Yielding
	}
	target := chat
	if id, ok := leadingChatID(c.Params); ok {
		target = id
	} else {
		var to struct {
			ChatID int64 `json:"chat_id"`
		}
		if json.Unmarshal(c.Params, &to) == nil && to.ChatID != 0 {
			target = to.ChatID
		}
	}
	var result json.RawMessage
	err := b.send.DoN(ctx, target, kind, messagesPosted(c), func(ctx context.Context) error {
		if !lease.Held() {
			return chatq.ErrLeaseLost
		}
		r, err := b.callJSON(ctx, c.Method, c.Params, c.Tag != "")
		result = r
		return err
	})
	return result, err
}

// messagesPosted is how many messages c posts, as Telegram's limits count
// them: one per id copied or forwarded, one per item of an album. A long
// text is split before it reaches the outbox (render.go), one call per
// message, so a sendMessage is one.
func messagesPosted(c outbox.Call) int {
	switch c.Method {
	case "copyMessages", "forwardMessages", "sendMediaGroup":
	default:
		return 1
	}
	var p struct {
		MessageIDs []json.RawMessage `json:"message_ids"`
		Media      []json.RawMessage `json:"media"`
	}
	if json.Unmarshal(c.Params, &p) != nil {
		return 1
	}
	return max(len(p.MessageIDs)+len(p.Media), 1)
}

// leadingChatID reads chat_id when it is the first field of params, as
// json.Marshal writes the go-telegram/bot parameters the outbox holds:
// scanning the whole body again for it cost as much as decoding the call.
func leadingChatID(params []byte) (int64, bool) {
	rest, ok := bytes.CutPrefix(params, []byte(`{"chat_id":`))
	if !ok {
		return 0, false
	}
	end := bytes.IndexAny(rest, ",}")
	if end <= 0 {
		return 0, false
	}
	id, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	if err != nil || id == 0 {
		return 0, false
	}
	return id, true
}

// retryLater tells an error that waiting can fix (Telegram out of reach, a
// 5xx, a long 429, Redis for the budgets, shutdown) from a refusal.
func retryLater(ctx context.Context, err error) bool {
	var (
		later   *sender.RetryLater
		migrate *tg.MigrateError
	)
	switch {
	case ctx.Err() != nil, errors.As(err, &later):
		return true
	case errors.As(err, &migrate), errors.Is(err, tg.ErrorUnauthorized), errors.Is(err, tg.ErrorNotFound):
		return false
	}
	return transient(err)
}

// sent hands a tagged call's result to its handler.
func (b *Bot) sent(ctx context.Context, chat int64, c outbox.Call, result json.RawMessage) {
	if c.Tag == "" {
		return
	}
	if b.desk != nil && b.deskTags != "" && strings.HasPrefix(c.Tag, b.deskTags) {
		if err := b.desk.HandleResult(ctx, chat, c, result); err != nil {
			b.log.Warn("support desk result", "chat_id", chat, "tag", c.Tag, "err", err)
		}
		return
	}
	for prefix, h := range b.results {
		if strings.HasPrefix(c.Tag, prefix) {
			if err := h(ctx, chat, c, result); err != nil {
				b.log.Warn("result handler", "chat_id", chat, "tag", c.Tag, "err", err)
			}
			return
		}
	}
}

func priorityName(p outbox.Priority) string {
	switch p {
	case outbox.Notification:
		return "notification"
	case outbox.Group:
		return "group"
	}
	return "reply"
}

func callOutcome(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return "sent"
	case errors.Is(err, sender.ErrBlocked):
		return "blocked"
	case retryLater(ctx, err):
		return "later"
	}
	return "refused"
}

// notifiedStatus is the status a status notification's call tells.
func notifiedStatus(c outbox.Call) (string, bool) {
	rest, ok := strings.CutPrefix(c.Tag, statusTagPrefix)
	if !ok {
		return "", false
	}
	status, _, ok := strings.Cut(rest, ":")
	return status, ok
}
