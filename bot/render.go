package bot

import (
	"context"
	"errors"
	"html"
	"strings"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/bot/sender"
	"github.com/merchantbot/merchantbot/dialogs"
)

// outgoing is one Reply as Bot API messages.
type outgoing struct {
	texts   []string           // HTML, each within Telegram's limit
	markup  models.ReplyMarkup // goes with the last text; nil: none
	contact bool               // markup is the share-contact keyboard
}

// deliver carries out an Outcome in chat: effects first (the card number
// disappears before the bot talks on), then the replies in order.
func (b *Bot) deliver(ctx context.Context, u *update, out dialogs.Outcome) {
	chat, lang := u.chat, out.Lang
	for _, e := range out.Effects {
		switch e.Kind {
		case dialogs.DeleteMessage:
			b.deleteMerchantMessage(ctx, chat, lang, e.MessageID)
		case dialogs.HandOff:
			b.handOff(ctx, u, e.Step)
		}
	}
	// The share-contact keyboard stays on screen until a message removes it
	// (one_time_keyboard only hides it once pressed, and the merchant may type
	// the phone instead). Which chat shows it is not known here, so the first
	// message of every answer that has no keyboard of its own removes it,
	// unless the dialog asks for the contact again; where there is none the
	// removal does nothing.
	removeKeyboard := !asksContact(out)
	editable := 0 // the message whose button was pressed, while it can be edited
	if u.CallbackQuery != nil && u.CallbackQuery.Message.Message != nil {
		editable = u.CallbackQuery.Message.Message.ID
	}
	for _, r := range out.Replies {
		m := b.outgoing(chat, lang, out.Seq, r)
		if r.Edit && editable != 0 && len(m.texts) == 1 && !m.contact {
			target := editable
			editable = 0 // one message shows one reply
			if b.edit(ctx, chat, target, m) {
				continue
			}
		}
		if removeKeyboard && m.markup == nil {
			// Only a new message can carry it: an edit takes inline keyboards only.
			m.markup = ReplyKeyboardRemove{}
			removeKeyboard = false
		}
		if err := b.post(ctx, chat, m); errors.Is(err, sender.ErrBlocked) {
			return // nobody to talk to
		}
	}
}

func asksContact(out dialogs.Outcome) bool {
	for _, r := range out.Replies {
		for _, row := range r.Buttons {
			for _, btn := range row {
				if btn.RequestContact {
					return true
				}
			}
		}
	}
	return false
}

// outgoing renders r: its text escaped for HTML once, as a whole (the
// templates hold no markup, so every merchant-supplied string in it is
// escaped exactly once), split below Telegram's limit, and its buttons.
func (b *Bot) outgoing(chat int64, lang string, seq int, r dialogs.Reply) outgoing {
	var m outgoing
	for _, part := range splitText(b.render.Reply(lang, r), maxMessageText) {
		m.texts = append(m.texts, html.EscapeString(part))
	}
	m.markup, m.contact = b.keyboard(chat, lang, seq, r.Buttons)
	return m
}

// keyboard renders buttons as an inline keyboard with signed data, or, when
// one asks for the merchant's contact, as a one-time reply keyboard with the
// share-contact button (a message carries one keyboard; the dialog never
// mixes the two). It builds markup.go's types, not go-telegram/bot's, whose
// inline buttons carry an empty copy_text beside the callback data.
func (b *Bot) keyboard(chat int64, lang string, seq int, rows [][]dialogs.Button) (models.ReplyMarkup, bool) {
	var (
		inline  [][]InlineKeyboardButton
		contact []KeyboardButton
	)
	for _, row := range rows {
		var line []InlineKeyboardButton
		for _, btn := range row {
			label := b.render.Button(lang, btn)
			if btn.RequestContact {
				contact = append(contact, KeyboardButton{Text: label, RequestContact: true})
				continue
			}
			data, err := b.codec.encode(chat, seq, btn.Data)
			if err != nil {
				b.log.Error("button left out", "data", btn.Data, "err", err)
				continue
			}
			line = append(line, InlineKeyboardButton{Text: label, CallbackData: data})
		}
		if len(line) > 0 {
			inline = append(inline, line)
		}
	}
	switch {
	case len(contact) > 0:
		if len(inline) > 0 {
			b.log.Error("inline buttons left out of a share-contact message", "rows", len(inline))
		}
		return &ReplyKeyboardMarkup{
			Keyboard:        [][]KeyboardButton{contact},
			ResizeKeyboard:  true,
			OneTimeKeyboard: true,
		}, true
	case len(inline) > 0:
		return &InlineKeyboardMarkup{InlineKeyboard: inline}, false
	}
	return nil, false
}

// post sends m's texts in order, the keyboard with the last.
func (b *Bot) post(ctx context.Context, chat int64, m outgoing) error {
	for i, text := range m.texts {
		p := &tg.SendMessageParams{
			ChatID:             chat,
			Text:               text,
			ParseMode:          models.ParseModeHTML,
			LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tg.True()},
		}
		if i == len(m.texts)-1 && m.markup != nil {
			p.ReplyMarkup = m.markup
		}
		err := b.send.Do(ctx, chat, sender.Message, func(ctx context.Context) error {
			_, err := b.api.SendMessage(ctx, p)
			return err
		})
		if err != nil {
			b.log.Warn("send message", "chat_id", chat, "err", scrub(err.Error(), b.token))
			return err
		}
	}
	return nil
}

// edit replaces message id with m; false means it could not be (too old,
// deleted) and m must be sent instead.
func (b *Bot) edit(ctx context.Context, chat int64, id int, m outgoing) bool {
	p := &tg.EditMessageTextParams{
		ChatID:             chat,
		MessageID:          id,
		Text:               m.texts[0],
		ParseMode:          models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tg.True()},
	}
	if m.markup != nil {
		p.ReplyMarkup = m.markup // without it, the edit removes the inline keyboard
	}
	err := b.send.Do(ctx, chat, sender.Message, func(ctx context.Context) error {
		_, err := b.api.EditMessageText(ctx, p)
		return err
	})
	switch {
	case err == nil:
		return true
	case strings.Contains(err.Error(), "message is not modified"):
		return true // it already says this
	}
	b.log.Info("edit message failed, sending instead", "chat_id", chat, "err", scrub(err.Error(), b.token))
	return false
}

// say sends one message of ours, without buttons.
func (b *Bot) say(ctx context.Context, chat int64, lang string, key dialogs.MsgID) {
	_ = b.post(ctx, chat, b.outgoing(chat, lang, 0, dialogs.Reply{Key: key}))
}

// deleteMerchantMessage removes the merchant's message that carried a card
// number and tells them whether it worked.
func (b *Bot) deleteMerchantMessage(ctx context.Context, chat int64, lang string, id int) {
	if id == 0 {
		return
	}
	p := &tg.DeleteMessageParams{ChatID: chat, MessageID: id}
	err := b.send.Do(ctx, chat, sender.Free, func(ctx context.Context) error {
		_, err := b.api.DeleteMessage(ctx, p)
		return err
	})
	if err != nil {
		b.log.Warn("delete card message", "chat_id", chat, "message_id", id, "err", scrub(err.Error(), b.token))
		b.say(ctx, chat, lang, dialogs.MsgDeleteFailed)
		return
	}
	b.say(ctx, chat, lang, dialogs.MsgMessageDeleted)
}

// deleteQuietly deletes a message again after a redelivery; whether it was
// still there is not the merchant's concern.
func (b *Bot) deleteQuietly(ctx context.Context, chat int64, id int) {
	p := &tg.DeleteMessageParams{ChatID: chat, MessageID: id}
	err := b.send.Do(ctx, chat, sender.Free, func(ctx context.Context) error {
		_, err := b.api.DeleteMessage(ctx, p)
		return err
	})
	if err != nil {
		b.log.Debug("delete redelivered card message", "chat_id", chat, "message_id", id, "err", scrub(err.Error(), b.token))
	}
}
