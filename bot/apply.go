package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"

	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/locales"
)

// applyUpdate runs one Telegram update of chat against st and returns the
// calls that answer it. Only private chats with people reach the dialog;
// every callback query is answered exactly once, forged button data with a
// polite note (one answered in the webhook's response already is not
// answered again: the note is a message). An error means the update was not dealt with and is to be
// tried again (the support group's, when Redis or Telegram failed it; a
// merchant's, when the support desk could not do its part of the turn).
func (b *Bot) applyUpdate(ctx context.Context, u *update, st *dialogs.State) ([]outbox.Call, error) {
	if u.MyChatMember != nil {
		b.memberChanged(ctx, u)
		return nil, nil
	}
	if b.desk != nil && u.chat == b.supportChat && u.chat != 0 {
		// An agent's answer is not dropped because Telegram did not say
		// in time who is an agent: the turn is tried again, with backoff,
		// and dead-lettered (logged) only after maxAttempts.
		if err := b.desk.HandleGroup(ctx, u.Update); err != nil {
			return nil, fmt.Errorf("support group update: %w", err)
		}
		return nil, nil
	}
	return b.applyPrivate(ctx, u, st)
}

// applyPrivate runs an update of any other chat: a merchant's private chat
// reaches the dialog.
func (b *Bot) applyPrivate(ctx context.Context, u *update, st *dialogs.State) ([]outbox.Call, error) {
	if !u.private || u.chat == 0 {
		b.log.Debug("update outside a private chat ignored", "update_id", u.ID, "kind", u.kind, "chat_id", u.chat)
		if u.CallbackQuery != nil && !u.answered {
			return []outbox.Call{b.answerCall(u, "")}, nil // no client is left with a spinner
		}
		return nil, nil
	}
	var in dialogs.Input
	switch {
	case u.Message != nil:
		in = messageInput(u.Message)
	case u.EditedMessage != nil:
		in = editInput(u.EditedMessage)
	case u.CallbackQuery != nil:
		seq, data, ok := b.codec.decode(u.chat, u.CallbackQuery.Data)
		if !ok {
			b.log.Info("button data not ours", "update_id", u.ID, "chat_id", u.chat, "data_len", len(u.CallbackQuery.Data))
			lang := st.Lang
			if lang == "" {
				lang = locales.Normalize(u.lang())
			}
			if u.answered {
				// Answered in the webhook's response, without a toast: said
				// in the chat instead.
				return b.sayCalls(u.chat, lang, dialogs.MsgStaleButton), nil
			}
			return []outbox.Call{b.answerCall(u, b.catalog.Render(lang, string(dialogs.MsgStaleButton), nil))}, nil
		}
		in = buttonInput(u, seq, data)
	default:
		return nil, nil
	}
	// A client that just shared a contact has the button to share one.
	in.NoContact = b.noContact && in.Kind != dialogs.InContact
	out := b.runDialog(ctx, st, in)
	b.log.Debug("update applied", "update_id", u.ID, "chat_id", u.chat, "input", inputKind(in.Kind),
		"replies", len(out.Replies), "effects", len(out.Effects), "stale", out.Stale)
	calls := b.replyCalls(u, out, intakeDeleted(u))
	msg, edited := u.Message, false
	if u.EditedMessage != nil {
		msg, edited = u.EditedMessage, true
	}
	more, err := b.effects(ctx, u.chat, out, msg, edited)
	if err != nil {
		return nil, err
	}
	return append(calls, more...), nil
}

// effects carries out what the dialog asked besides talking (deletions are
// in replyCalls): a hand-off's notice goes to the support group with the
// turn; a submission is followed by the notifications (at least once: a
// crash before it leaves the application to the acquirer's own events).
//
// The desk's work is done here, inside the turn, before its commit: a
// crash in between applies the turn again, so a relay may go twice but is
// never lost. For the same reason a desk that fails (Redis, the group's
// outbox) fails the turn: it is not committed (the merchant is not told
// they are connected while no conversation is open, nor is a message they
// sent meanwhile dropped) and is tried again with backoff, dead-lettered
// after maxAttempts. The desk's work is safe to do again: Open keeps the
// hand-off it opened (its Since) and posts one card, Relay queues a
// message once.
func (b *Bot) effects(ctx context.Context, chat int64, out dialogs.Outcome, msg *models.Message, edited bool) ([]outbox.Call, error) {
	var calls []outbox.Call
	if b.desk != nil {
		if err := b.desk.Apply(ctx, chat, out.Effects, msg, edited); err != nil {
			return nil, fmt.Errorf("support desk: %w", err)
		}
	}
	relayed := false
	for _, e := range out.Effects {
		switch e.Kind {
		case dialogs.HandOff:
			b.metrics.HandOff()
		case dialogs.Relay:
			if b.desk == nil && !relayed {
				// Nobody would read it: say so rather than let it vanish.
				calls = append(calls, b.sayCalls(chat, out.Lang, dialogs.MsgNoSupportDesk)...)
				relayed = true
			}
		case dialogs.Submitted:
			if b.submitted != nil {
				if err := b.submitted(ctx, e.App); err != nil {
					b.log.Warn("follow submitted application", "chat_id", chat, "err", err)
				}
			}
		}
	}
	return calls, nil
}

// applyEvent runs an event posted into chat's queue.
func (b *Bot) applyEvent(ctx context.Context, chat int64, st *dialogs.State, ev *event) ([]outbox.Call, error) {
	if ev.Name == dialogs.EventHandBack {
		b.metrics.HandBack()
	}
	out := b.runDialog(ctx, st, dialogs.Input{Kind: dialogs.InEvent, Text: ev.Name, Arg: ev.Arg, NoContact: b.noContact})
	calls := b.replyCalls(&update{Update: &models.Update{}, chat: chat, private: true}, out, 0)
	if tag := notificationTag(ev); tag != "" {
		// Said on the bot's own account: after the merchant's replies, and
		// superseded by a later status of the same application while the
		// merchant has blocked the bot (newest status only).
		for i := range calls {
			calls[i].Priority, calls[i].Tag = outbox.Notification, tag
		}
	}
	more, err := b.effects(ctx, chat, out, nil, false)
	if err != nil {
		return nil, err
	}
	return append(calls, more...), nil
}

// applyForm runs the card form a merchant submitted from the Mini App
// (bot/miniapp) as the dialog's InForm input: answered in the chat as if
// typed, the card shown masked.
func (b *Bot) applyForm(ctx context.Context, chat int64, st *dialogs.State, f *form) ([]outbox.Call, error) {
	in := dialogs.Input{Kind: dialogs.InForm, LanguageCode: f.Lang, Returning: true, NoContact: b.noContact,
		Form: &dialogs.Form{Card: f.Card, Holder: f.Holder, Branch: f.Branch, ReservedPhone: f.Phone}}
	out := b.runDialog(ctx, st, in)
	b.log.Debug("card form applied", "chat_id", chat, "replies", len(out.Replies), "step", st.Step)
	calls := b.replyCalls(&update{Update: &models.Update{}, chat: chat, private: true}, out, 0)
	more, err := b.effects(ctx, chat, out, nil, false)
	if err != nil {
		return nil, err
	}
	return append(calls, more...), nil
}

// statusTagPrefix starts the tag of a status notification's calls:
// status:<status>:<application>.
const statusTagPrefix = "status:"

// notificationTag is the tag of what a status event says ("" for other
// events).
func notificationTag(ev *event) string {
	if ev.Name != dialogs.EventStatus {
		return ""
	}
	var se struct {
		Application string `json:"application_id"`
		Status      string `json:"status"`
	}
	if json.Unmarshal([]byte(ev.Arg), &se) != nil || se.Application == "" {
		return ""
	}
	return statusTagPrefix + se.Status + ":" + se.Application
}

// runDialog bounds the backend calls of one turn well inside the chat
// lock's lifetime: a slow acquirer is answered "try again, your answers are
// kept" instead of the lock running out under a turn that then writes.
func (b *Bot) runDialog(ctx context.Context, st *dialogs.State, in dialogs.Input) dialogs.Outcome {
	tctx, cancel := context.WithTimeout(ctx, b.maxTurn)
	defer cancel()
	return b.engine.Handle(tctx, st, in)
}

// memberChanged follows the merchant blocking and unblocking the bot: a
// blocked chat's outbox waits (nothing is sent to it), and an unblocked
// one's is sent at once. Telegram sends this before anything the merchant
// writes after unblocking.
func (b *Bot) memberChanged(ctx context.Context, u *update) {
	if u.chat == b.supportChat && u.chat != 0 {
		b.supportMemberChanged(ctx, u)
		return
	}
	if !u.private {
		return
	}
	switch u.MyChatMember.NewChatMember.Type {
	case models.ChatMemberTypeMember:
		if n, err := b.q.DropSuperseded(ctx, u.chat, statusTagPrefix); err != nil {
			b.log.Warn("drop superseded notifications", "chat_id", u.chat, "err", err)
		} else if n > 0 {
			b.log.Info("superseded notifications dropped", "chat_id", u.chat, "calls", n)
		}
		if err := b.send.Unblock(ctx, u.chat); err != nil {
			b.log.Warn("unblock chat", "chat_id", u.chat, "err", err)
		}
		b.log.Info("merchant unblocked the bot", "chat_id", u.chat)
		b.senders.kick(u.chat)
	case models.ChatMemberTypeBanned:
		if err := b.send.Block(ctx, u.chat); err != nil {
			b.log.Warn("record blocked chat", "chat_id", u.chat, "err", err)
		}
		if b.desk != nil {
			if err := b.desk.MerchantBlocked(ctx, u.chat); err != nil {
				b.log.Warn("report blocked merchant to support", "chat_id", u.chat, "err", err)
			}
		}
		b.log.Info("merchant blocked the bot", "chat_id", u.chat)
	}
}

// supportMemberChanged follows the bot's own membership of the support
// group: removed or restricted, the desk's outbox waits (and an alert is
// raised); back as a member or administrator, it is sent again at once.
func (b *Bot) supportMemberChanged(ctx context.Context, u *update) {
	switch u.MyChatMember.NewChatMember.Type {
	case models.ChatMemberTypeAdministrator, models.ChatMemberTypeOwner, models.ChatMemberTypeMember:
		if err := b.send.Unblock(ctx, u.chat); err != nil {
			b.log.Warn("resume support group", "chat_id", u.chat, "err", err)
			return
		}
		b.metrics.SupportGroupBlocked(false)
		b.log.Info("bot is back in the support group; the desk's calls resume", "chat_id", u.chat)
		b.senders.kick(u.chat)
	case models.ChatMemberTypeLeft, models.ChatMemberTypeBanned:
		if err := b.send.Block(ctx, u.chat); err != nil {
			b.log.Warn("record support group lost", "chat_id", u.chat, "err", err)
		}
		b.metrics.SupportGroupBlocked(true)
		b.log.Error("bot removed from the support group: the desk's calls wait until it is added back", "chat_id", u.chat)
	}
}

// intakeDeleted is the id of u's message that the intake deletes because
// it looks like a card number (0: none).
func intakeDeleted(u *update) int {
	if !u.private {
		return 0
	}
	for _, m := range []*models.Message{u.Message, u.EditedMessage} {
		if m != nil && (dialogs.LooksLikeCard(m.Text) || dialogs.LooksLikeCard(m.Caption)) {
			return m.ID
		}
	}
	return 0
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
	case dialogs.InEvent:
		return "event"
	case dialogs.InForm:
		return "form"
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

func stack() string { return string(debug.Stack()) }
