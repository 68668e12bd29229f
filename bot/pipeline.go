package bot

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
)

// The delivery model (DESIGN.md §5). An update is stored, sealed, in its
// chat's queue before Telegram is told it arrived (intake.go). A worker
// that holds the chat's lock applies the queue one entry at a time, in
// update_id order, and commits each turn's new state together with the Bot
// API calls it produced into the chat's outbox (this file). A sender that
// holds the outbox lock sends those calls in order and marks each one sent
// (send.go). Any replica can do any of it; a chat left half-way by a
// replica that died is taken up by another through the ready set (sweep).

// envelope is what a queue entry holds, sealed: a Telegram update as
// received, or an event posted by the bot itself. Answered marks an update
// whose callback query the webhook answered in its response (intake.go):
// the turn does not answer it again. (Entries written before it existed
// have none: the turn answers them.)
type envelope struct {
	Update   json.RawMessage `json:"u,omitempty"`
	Answered bool            `json:"a,omitempty"`
	Event    *event          `json:"e,omitempty"`
	Form     *form           `json:"f,omitempty"`
}

// form is the card form a merchant submitted (Writer.PostForm): sealed in
// the queue like every entry, since it holds the card number.
type form struct {
	Card   string `json:"c"`
	Holder string `json:"h,omitempty"`
	Branch string `json:"b,omitempty"`
	Phone  string `json:"p,omitempty"`
	Lang   string `json:"l,omitempty"` // the form's language_code
}

type event struct {
	Name string `json:"n"`
	Arg  string `json:"a,omitempty"`
}

func newToken() string { return rand.Text() }

// applyQueue applies chat's queue while this replica can hold the chat. A
// turn under way is finished even when the bot is stopping (its backend
// calls must not be cut in half); no new one is started then.
func (b *Bot) applyQueue(ctx context.Context, chat int64) {
	if b.stopping.Load() {
		if c, ok := b.takeClaim(chat); ok {
			b.release(c, time.Now())
		}
		return
	}
	c, ok := b.takeClaim(chat)
	var err error
	if !ok {
		since := time.Now()
		if c, err = b.q.Claim(ctx, chat, newToken()); err == nil && c.Head != nil {
			b.leases.HoldChat(c, since)
		}
	}
	switch {
	case errors.Is(err, chatq.ErrBusy):
		return // its holder goes on; if it died, the ready set brings the chat back
	case err != nil:
		if ctx.Err() == nil {
			b.log.Warn("claim chat", "chat_id", chat, "err", err)
		}
		return
	case c.Head == nil:
		return
	}
	// The last turn's outbox is sent from here, once the chat is given
	// back: nothing else is left for this goroutine to do.
	sendHere := false
	defer func() {
		if sendHere {
			b.senders.runHere(chat)
		}
	}()
	// The lock is renewed until here: given back by the last commit or a
	// release, lost (the commit was refused), or, after a crash, left to
	// run out within its lease.
	defer c.Lease.Stop()
	st := b.decodeState(chat, c.State)
	for c.Head != nil {
		if b.stopping.Load() {
			b.release(c, time.Now())
			return
		}
		began := time.Now()
		turn, kind, ok := b.turn(context.WithoutCancel(ctx), c, st)
		if !ok {
			b.metrics.UpdateRetried()
			// The entry failed (a panic, Redis or Telegram under the support
			// desk): it stays at the head, to be tried again after a pause,
			// and dead-lettered after maxAttempts.
			b.release(c, time.Now().Add(b.retryWait(c.Head.Attempts)))
			return
		}
		sendToken := newToken()
		committing := time.Now()
		pf, _ := b.send.(prefetcher)
		if pf != nil && len(turn.Calls) > 0 {
			// The commit takes the send budget of the call it hands out.
			if p := pf.Prefetch(chat); p != nil {
				turn.Fold = &chatq.Fold{Keys: p.Keys, Args: p.Args}
			}
		}
		done, err := b.q.Commit(context.WithoutCancel(ctx), c, turn, sendToken)
		if err != nil {
			if !errors.Is(err, chatq.ErrLockLost) {
				b.log.Warn("commit turn", "chat_id", chat, "err", err)
				b.release(c, time.Now().Add(b.retryMin))
			}
			return
		}
		b.seqs.set(chat, st.Seq)
		if done.Paid && pf != nil {
			pf.Prepaid(chat)
		}
		b.metrics.UpdateApplied(kind, time.Since(began))
		if b.crashAfterCommit != nil && b.crashAfterCommit(chat) {
			return // as a process killed here would: the lock and the outbox lease run out
		}
		if done.Relay {
			// The group's outbox is in another shard: its calls were
			// committed with the turn and are moved there now (or, if this
			// fails or the process dies, by the sweep: the chat stays ready).
			if err := b.q.Relay(context.WithoutCancel(ctx), chat); err != nil {
				b.log.Warn("relay group calls; the sweep retries", "chat_id", chat, "err", err)
			}
		}
		if len(turn.Group) > 0 {
			b.senders.kick(turn.GroupChat)
		}
		if done.Outbox != nil {
			b.handOver(chat, sendToken, done.Outbox, b.leases.HoldOutbox(chat, sendToken, committing))
			if c.Head == nil {
				sendHere = true // the last entry: sent once the chat is given back
			} else {
				b.senders.kick(chat)
			}
		}
	}
}

// release gives the chat back after a failure, to be looked at again at
// retryAt, with a fresh context: the lock must go even on shutdown.
func (b *Bot) release(c *chatq.Claim, retryAt time.Time) {
	defer c.Lease.Stop()
	_ = b.retryWhileRedisDown("release chat", c.Chat, func(ctx context.Context) error { return b.q.Release(ctx, c, retryAt) })
}

func (b *Bot) retryWait(attempts int) time.Duration {
	return min(b.retryMin<<min(max(attempts-1, 0), 10), b.retryMax)
}

// decodeState reads a chat's record; one that no longer decodes (another
// DATA_KEY, damage) is dropped so the merchant can start again rather than
// be stuck.
func (b *Bot) decodeState(chat int64, rec []byte) *dialogs.State {
	if rec == nil {
		return &dialogs.State{}
	}
	st, err := store.DecodeState(b.cipher, chat, rec)
	if err != nil {
		b.log.Warn("unreadable chat state reset", "chat_id", chat)
		return &dialogs.State{}
	}
	return st
}

// turn applies the head of c to st (which it updates) and says what to
// commit. false means the entry failed and should be tried again later.
func (b *Bot) turn(ctx context.Context, c *chatq.Claim, st *dialogs.State) (t chatq.Turn, kind string, ok bool) {
	head := c.Head
	var (
		env envelope
		err error
	)
	u := b.decoded.take(head.Payload)
	if u == nil {
		b.decoded.opened.Add(1)
		env, u, err = b.open(head.Payload)
	}
	if u != nil {
		t.UpdateID = u.ID
	}
	lang := st.Lang
	if lang == "" && u != nil {
		lang = u.lang()
	}
	if err != nil {
		b.log.Error("queued entry does not open", "chat_id", c.Chat, "err_type", fmt.Sprintf("%T", err))
		b.metrics.UpdateDeadLettered()
		return b.deadTurn(c.Chat, lang, "does not open", u), "dead", true
	}
	if head.Attempts > b.maxAttempts {
		b.log.Error("update dead-lettered after repeated failures", "chat_id", c.Chat, "update_id", t.UpdateID,
			"attempts", head.Attempts)
		b.metrics.UpdateDeadLettered()
		return b.deadTurn(c.Chat, lang, "failed repeatedly", u), "dead", true
	}
	before := *st
	defer func() {
		if r := recover(); r != nil {
			*st = before
			b.log.Error("panic while applying update", "chat_id", c.Chat, "update_id", t.UpdateID,
				"attempt", head.Attempts, "panic_type", fmt.Sprintf("%T", r), "stack", stack())
			ok = false
		}
	}()
	var calls []outbox.Call
	switch {
	case env.Event != nil:
		kind = "event"
		calls, err = b.applyEvent(ctx, c.Chat, st, env.Event)
	case env.Form != nil:
		kind = "form"
		calls, err = b.applyForm(ctx, c.Chat, st, env.Form)
	default:
		kind = strings.ReplaceAll(u.kind, "_", "")
		calls, err = b.applyUpdate(ctx, u, st)
	}
	if err != nil {
		// Nothing of the attempt is kept: the next one starts from the
		// same state.
		*st = before
		b.log.Warn("update not dealt with; tried again", "chat_id", c.Chat, "update_id", t.UpdateID,
			"kind", kind, "attempt", head.Attempts, "err", err)
		return t, kind, false
	}
	for _, call := range calls {
		if call.Priority == outbox.Group {
			t.Group = append(t.Group, call)
			t.GroupChat = b.supportChat
		} else {
			t.Calls = append(t.Calls, call)
		}
	}
	if *st == (dialogs.State{}) {
		t.Delete = before != (dialogs.State{})
		t.KeepWake = !t.Delete // nothing of the chat is kept, nor woken
		return t, kind, true
	}
	t.Wake = b.engine.WakeAt(st)
	rec, err := store.EncodeState(b.cipher, c.Chat, st)
	if err != nil {
		b.log.Error("encode chat state", "chat_id", c.Chat, "err", err)
		*st = before
		return t, kind, false
	}
	t.State, t.StateTTL = rec, st.TTL()
	if st.Bound && st.MerchantNo != "" && (st.MerchantNo != before.MerchantNo || !before.Bound) {
		t.Merchant = st.MerchantNo
	}
	return t, kind, true
}

// deadTurn gives an entry up: it is copied to the dead-letter list and the
// merchant hears that their progress is safe.
func (b *Bot) deadTurn(chat int64, lang, reason string, u *update) chatq.Turn {
	t := chatq.Turn{Dead: reason, KeepWake: true}
	if u != nil {
		t.UpdateID = u.ID
		if u.CallbackQuery != nil && !u.answered {
			t.Calls = append(t.Calls, b.answerCall(u, ""))
		}
	}
	if chat > 0 {
		t.Calls = append(t.Calls, b.sayCalls(chat, lang, dialogs.MsgProgressSafe)...)
	}
	return t
}

// open unseals a queue entry.
func (b *Bot) open(payload []byte) (envelope, *update, error) {
	var env envelope
	plain, err := b.cipher.Open(payload)
	if err != nil {
		return env, nil, fmt.Errorf("unseal queue entry: %w", err)
	}
	if err := json.Unmarshal(plain, &env); err != nil {
		return env, nil, fmt.Errorf("decode queue entry: %w", err)
	}
	clear(plain)
	if env.Update == nil {
		if env.Event == nil && env.Form == nil {
			return env, nil, errors.New("empty queue entry")
		}
		return env, nil, nil
	}
	var mu models.Update
	if err := unmarshalHot(env.Update, &mu); err != nil {
		var id struct {
			ID int64 `json:"update_id"`
		}
		_ = json.Unmarshal(env.Update, &id)
		return env, &update{Update: &models.Update{ID: id.ID}}, fmt.Errorf("decode update: %w", err)
	}
	u := newUpdate(&mu)
	u.answered = env.Answered
	return env, u, nil
}

// sealUpdate makes the queue entry of an update as received: the envelope
// {"u": raw} ({"a":true,"u": raw} when answered) written around it rather
// than encoded, which would scan and compact raw once more (raw decoded
// already: it is valid JSON).
func sealUpdate(cipher *store.Cipher, raw json.RawMessage, answered bool) ([]byte, error) {
	plain := make([]byte, 0, len(raw)+15)
	if answered {
		plain = append(plain, `{"a":true,"u":`...)
	} else {
		plain = append(plain, `{"u":`...)
	}
	plain = append(plain, raw...)
	plain = append(plain, '}')
	sealed, err := cipher.Seal(plain)
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("seal queue entry: %w", err)
	}
	return sealed, nil
}

// seal makes a queue entry.
func seal(cipher *store.Cipher, env envelope) ([]byte, error) {
	plain, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode queue entry: %w", err)
	}
	sealed, err := cipher.Seal(plain)
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("seal queue entry: %w", err)
	}
	return sealed, nil
}

// Post is the Writer's Post (Writer.Post).
func (b *Bot) Post(ctx context.Context, chat int64, once, name, arg string) (bool, error) {
	return b.writer.Post(ctx, chat, once, name, arg)
}

// Enqueue is the Writer's Enqueue (Writer.Enqueue).
func (b *Bot) Enqueue(ctx context.Context, chat int64, once string, calls ...outbox.Call) (bool, error) {
	return b.writer.Enqueue(ctx, chat, once, calls...)
}

// depthEvery is how often the sweep loop reads the outbox depth gauge.
const depthEvery = 2 * time.Second

// sweep looks, every interval, for chats whose work was left (a replica
// died, a send is due again) and takes them up here: in the shards whose
// sweep lease this replica holds (chatq.Redis.Sweep), one sweeper each.
func (b *Bot) sweep(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var depthAt time.Time
	for {
		select {
		case <-ctx.Done():
			// The shards this replica swept go to the others at once.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = b.q.StopSweeping(sctx, b.sweepToken)
			cancel()
			return
		case <-t.C:
		}
		// The outbox depth gauge is read every depthEvery, not every sweep:
		// on a cluster it is a command per shard.
		if now := time.Now(); now.Sub(depthAt) >= depthEvery {
			depthAt = now
			if calls, _, err := b.q.Depth(ctx); err == nil {
				b.metrics.SetOutboxDepth(int(calls))
			}
		}
		chats, err := b.q.Sweep(ctx, b.sweepToken, 512)
		if err != nil {
			if ctx.Err() == nil {
				b.log.Warn("read ready chats", "err", err)
			}
			continue
		}
		for _, chat := range chats {
			if err := b.q.Relay(ctx, chat); err != nil && ctx.Err() == nil {
				b.log.Warn("relay group calls", "chat_id", chat, "err", err)
			}
			b.workers.kick(chat)
			b.senders.kick(chat)
		}
	}
}
