package bot

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/bot/sender"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/locales"
)

// runJob applies one update from the queue. In long polling an update that
// failed for a passing reason is retried right here, before the chat's next
// update, so that order holds; it is given up only when the work context
// ends (shutdown), and then stays unconfirmed.
func (b *Bot) runJob(ctx context.Context, j *job) {
	wait := b.retryMin
	for {
		err := b.handle(ctx, j.u)
		if err == nil || !j.retry || ctx.Err() != nil {
			j.done(err)
			return
		}
		b.log.Warn("update not applied, retrying", "update_id", j.u.ID, "chat_id", j.u.chat,
			"wait", wait, "err", scrub(err.Error(), b.token))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			j.done(ctx.Err())
			return
		case <-t.C:
		}
		wait = min(2*wait, b.retryMax)
	}
}

// recoverPanic keeps the worker alive through a panic in one update: it is
// logged with the update id (never its content) and the merchant is told
// their progress is safe. The dialog's state was not saved, so the update
// counts as handled: applying it again would only panic again.
func (b *Bot) recoverPanic(next handler) handler {
	return func(ctx context.Context, u *update) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			b.log.Error("panic while handling update", "update_id", u.ID, "kind", u.kind, "chat_id", u.chat,
				"panic_type", fmt.Sprintf("%T", r), "stack", string(debug.Stack()))
			err = nil
			if u.private && u.chat != 0 {
				b.say(ctx, u.chat, locales.Normalize(u.lang()), dialogs.MsgProgressSafe)
			}
		}()
		return next(ctx, u)
	}
}

// answerCallback answers every callback query once, so no client is left
// with a spinner: forged or foreign button data gets a polite note and goes
// no further; a genuine button is answered by applyDialog as soon as the
// dialog has run (before its replies go out), and a failure on the way
// (panic, error, duplicate) is covered by the defer.
func (b *Bot) answerCallback(next handler) handler {
	return func(ctx context.Context, u *update) error {
		q := u.CallbackQuery
		if q == nil {
			return next(ctx, u)
		}
		// Answered once the dialog has run (applyDialog), so a stale press
		// is answered on the button itself instead of with new messages;
		// this covers every other way out (forged, duplicate, error, panic).
		defer func() { b.answer(ctx, u, u.toast) }()
		seq, data, ok := b.codec.decode(u.chat, q.Data)
		if !ok {
			b.log.Info("button data not ours", "update_id", u.ID, "chat_id", u.chat, "data_len", len(q.Data))
			u.toast = b.catalog.Render(locales.Normalize(u.lang()), string(dialogs.MsgStaleButton), nil)
			return nil
		}
		u.button = &pressed{seq: seq, data: data}
		return next(ctx, u)
	}
}

// answer answers u's callback query unless that was done already (a retry
// of the same update does not answer twice).
func (b *Bot) answer(ctx context.Context, u *update, text string) {
	if u.answered {
		return
	}
	u.answered = true
	p := &tg.AnswerCallbackQueryParams{CallbackQueryID: u.CallbackQuery.ID, Text: text}
	err := b.send.Do(ctx, u.chat, sender.Free, func(ctx context.Context) error {
		_, err := b.api.AnswerCallbackQuery(ctx, p)
		return err
	})
	if err != nil {
		b.log.Info("answer callback query", "update_id", u.ID, "chat_id", u.chat, "err", scrub(err.Error(), b.token))
	}
}

// privateOnly keeps the dialog to private chats with people.
func (b *Bot) privateOnly(next handler) handler {
	return func(ctx context.Context, u *update) error {
		if !u.private || u.chat == 0 {
			b.log.Debug("update outside a private chat ignored", "update_id", u.ID, "kind", u.kind, "chat_id", u.chat)
			return nil
		}
		return next(ctx, u)
	}
}

// applyDialog hands the merchant's input to the dialog and carries out the
// answer.
func (b *Bot) applyDialog(ctx context.Context, u *update) error {
	var in dialogs.Input
	switch {
	case u.Message != nil:
		in = messageInput(u.Message)
	case u.EditedMessage != nil:
		in = editInput(u.EditedMessage)
	case u.button != nil:
		in = buttonInput(u, u.button.seq, u.button.data)
	default:
		return nil
	}
	out, err := b.dialog.Handle(ctx, u.chat, u.ID, in)
	switch {
	case errors.Is(err, dialogs.ErrDuplicate):
		b.log.Debug("update applied before", "update_id", u.ID, "chat_id", u.chat)
		if u.Message != nil && dialogs.LooksLikeCard(u.Message.Text+" "+u.Message.Caption) {
			// Applied, but the process may have died before it deleted the
			// message: a card number must not stay in the chat. (A second
			// delete of a deleted message is refused, and that is fine.)
			b.deleteQuietly(ctx, u.chat, u.Message.ID)
		}
		return nil
	case errors.Is(err, store.ErrBadRecord):
		// Applying it again cannot help: say so rather than retry forever.
		b.log.Error("chat state unreadable", "update_id", u.ID, "chat_id", u.chat)
		b.say(ctx, u.chat, locales.Normalize(in.LanguageCode), dialogs.MsgProgressSafe)
		return nil
	case err != nil:
		return fmt.Errorf("apply update %d: %w", u.ID, err)
	}
	b.log.Debug("update applied", "update_id", u.ID, "chat_id", u.chat, "input", inputKind(in.Kind),
		"replies", len(out.Replies), "effects", len(out.Effects), "stale", out.Stale)
	if u.CallbackQuery != nil {
		if out.Stale && len(out.Replies) > 0 {
			// A button of an earlier step, or a second tap: its answer shows
			// on the button; the question it would repeat is on screen.
			b.answer(ctx, u, toastText(b.render.Reply(out.Lang, out.Replies[0])))
			return nil
		}
		// Stop the spinner now: the replies may wait for the chat's rate.
		b.answer(ctx, u, "")
	}
	b.deliver(ctx, u, out)
	return nil
}

// memberChanged follows the merchant blocking and unblocking the bot: a
// merchant who is back is no longer skipped by the sender. Telegram sends
// this before anything the merchant writes after unblocking, so it costs
// no Redis round trip on every message.
func (b *Bot) memberChanged(ctx context.Context, u *update) error {
	m := u.MyChatMember
	if !u.private {
		return nil
	}
	switch m.NewChatMember.Type {
	case models.ChatMemberTypeMember:
		if err := b.send.Unblock(ctx, u.chat); err != nil {
			return fmt.Errorf("unblock chat: %w", err)
		}
		b.log.Info("merchant unblocked the bot", "chat_id", u.chat)
	case models.ChatMemberTypeBanned:
		b.log.Info("merchant blocked the bot", "chat_id", u.chat)
	}
	return nil
}

func inputKind(k dialogs.InputKind) string {
	switch k {
	case dialogs.InText:
		return "text"
	case dialogs.InCommand:
		return "command"
	case dialogs.InButton:
		return "button"
	case dialogs.InContact:
		return "contact"
	case dialogs.InMedia:
		return "media"
	case dialogs.InEdit:
		return "edit"
	}
	return "other"
}

// toastText fits a callback answer: Telegram shows at most 200 characters.
func toastText(s string) string {
	if r := []rune(s); len(r) > 200 {
		return string(r[:199]) + "…"
	}
	return s
}
