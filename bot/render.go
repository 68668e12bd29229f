package bot

import (
	"html"
	"strings"

	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/locales"
)

// outgoing is one Reply as Bot API messages.
type outgoing struct {
	plain   string             // the text as rendered, before it is split and escaped
	texts   []string           // HTML, each within Telegram's limit
	markup  models.ReplyMarkup // goes with the last text; nil: none
	contact bool               // markup is the share-contact keyboard
}

// The bodies of the calls the outbox sends, with exactly the fields the Bot
// API documents and the bot sets.
type (
	sendMessageParams struct {
		ChatID             int64              `json:"chat_id"`
		MessageThreadID    int                `json:"message_thread_id,omitempty"`
		Text               string             `json:"text"`
		ParseMode          models.ParseMode   `json:"parse_mode,omitempty"`
		LinkPreviewOptions *linkPreview       `json:"link_preview_options,omitempty"`
		ReplyMarkup        models.ReplyMarkup `json:"reply_markup,omitempty"`
	}
	editMessageTextParams struct {
		ChatID             int64              `json:"chat_id"`
		MessageID          int                `json:"message_id"`
		Text               string             `json:"text"`
		ParseMode          models.ParseMode   `json:"parse_mode,omitempty"`
		LinkPreviewOptions *linkPreview       `json:"link_preview_options,omitempty"`
		ReplyMarkup        models.ReplyMarkup `json:"reply_markup,omitempty"`
	}
	deleteMessageParams struct {
		ChatID    int64 `json:"chat_id"`
		MessageID int   `json:"message_id"`
	}
	answerCallbackParams struct {
		CallbackQueryID string `json:"callback_query_id"`
		Text            string `json:"text,omitempty"`
	}
	linkPreview struct {
		IsDisabled bool `json:"is_disabled"`
	}
)

var noPreview = &linkPreview{IsDisabled: true}

// replyCalls turns an Outcome in u's chat into the calls that carry it out,
// in order: the button's answer first (the spinner stops), then the effects
// (a card number disappears before the bot talks on), then the replies.
// intakeDeleted is the message the intake already deleted (0: none).
func (b *Bot) replyCalls(u *update, out dialogs.Outcome, intakeDeleted int) []outbox.Call {
	chat, lang := u.chat, out.Lang
	var calls []outbox.Call
	if u.CallbackQuery != nil {
		var stale *dialogs.Reply
		if out.Stale && len(out.Replies) > 0 {
			// A button of an earlier step, or a second tap: it is told so,
			// once; the question it would repeat is on screen.
			stale = &out.Replies[0]
			out.Replies = nil
		}
		switch {
		case !u.answered && stale != nil:
			calls = append(calls, b.answerCall(u, toastText(b.render.Reply(lang, *stale)))) // shown on the button
		case !u.answered:
			calls = append(calls, b.answerCall(u, ""))
		case stale != nil:
			// Answered in the webhook's response already, without a toast:
			// said in the chat instead, without buttons.
			calls = append(calls, b.sayReply(chat, lang, *stale)...)
		}
	}
	// Each deletion says its own outcome once known (deleteCall); the one
	// the intake made already is not made, nor announced, again.
	deleted := intakeDeleted
	for _, e := range out.Effects {
		if e.Kind != dialogs.DeleteMessage || e.MessageID == 0 || e.MessageID == deleted {
			continue
		}
		calls = append(calls, b.deleteCall(chat, lang, e.MessageID))
		deleted = e.MessageID
	}
	// The share-contact keyboard stays on screen until a message removes it
	// (one_time_keyboard only hides it once pressed, and the merchant may
	// type the phone instead): the dialog says when (HideKeyboard), and the
	// first message without a keyboard of its own removes it; an edit cannot
	// (it takes inline keyboards only).
	hide := out.HideKeyboard
	editable := 0 // the message whose button was pressed, while it can be edited
	if u.CallbackQuery != nil && u.CallbackQuery.Message.Message != nil {
		editable = u.CallbackQuery.Message.Message.ID
	}
	send := func(m outgoing, quiet bool) {
		if hide && m.markup == nil {
			m.markup = ReplyKeyboardRemove{}
			hide = false
		}
		n := len(calls)
		calls = append(calls, b.messageCalls(chat, m, outbox.Reply)...)
		for i := n; i < len(calls); i++ {
			calls[i].Quiet = quiet
		}
	}
	// A reply without buttons waits for the next one to join it in one
	// message (joined): fewer messages, the later's buttons under both. A
	// reply the dialog marks Alone (its buttons edit its message later),
	// an edit, a reminder beside what is not one (Quiet: dropped in the
	// quiet hours on its own) and a text too long for one message go alone.
	var (
		held      outgoing
		heldQuiet bool
		holding   bool
	)
	for _, r := range out.Replies {
		m := b.outgoing(chat, lang, out.Seq, r)
		if holding {
			holding = false
			if j, ok := joined(held, m); ok && heldQuiet == r.Quiet && !r.Edit && !r.Alone && !(hide && m.markup != nil) {
				// (The removal of the keyboard goes with the held message:
				// joined to buttons, nothing might be left to carry it.)
				m = j
			} else {
				send(held, heldQuiet)
			}
		}
		if r.Edit && editable != 0 && len(m.texts) == 1 && !m.contact {
			target := editable
			editable = 0 // one message shows one reply
			sent := b.messageCalls(chat, m, outbox.Reply)
			edit := outbox.MustCall("editMessageText", editMessageTextParams{
				ChatID: chat, MessageID: target, Text: m.texts[0], ParseMode: models.ParseModeHTML,
				LinkPreviewOptions: noPreview, ReplyMarkup: m.markup,
			}, outbox.Reply)
			edit.Else = &sent[0] // too old or deleted: send it instead
			calls = append(calls, edit)
			continue
		}
		if !r.Edit && !r.Form && !r.Alone && m.markup == nil && len(m.texts) == 1 {
			held, heldQuiet, holding = m, r.Quiet, true
			continue
		}
		send(m, r.Quiet)
	}
	if holding {
		send(held, heldQuiet)
	}
	return calls
}

// joined is first and then as one message, separated by an empty line,
// with then's keyboard; false when the text would not fit one message.
// It joins the texts as rendered, before they are escaped, as outgoing
// splits them.
func joined(first, then outgoing) (outgoing, bool) {
	if len(first.texts) != 1 || len(then.texts) != 1 {
		return outgoing{}, false
	}
	parts := splitText(strings.TrimRight(first.plain, "\n")+"\n\n"+then.plain, maxMessageText)
	if len(parts) != 1 {
		return outgoing{}, false
	}
	then.plain, then.texts = parts[0], []string{html.EscapeString(parts[0])}
	return then, true
}

// messageCalls sends m's texts in order, the keyboard with the last.
func (b *Bot) messageCalls(chat int64, m outgoing, p outbox.Priority) []outbox.Call {
	calls := make([]outbox.Call, 0, len(m.texts))
	for i, text := range m.texts {
		params := sendMessageParams{ChatID: chat, Text: text, ParseMode: models.ParseModeHTML, LinkPreviewOptions: noPreview}
		if i == len(m.texts)-1 && m.markup != nil {
			params.ReplyMarkup = m.markup
		}
		calls = append(calls, outbox.MustCall("sendMessage", params, p))
	}
	return calls
}

// sayCalls is one message of ours, without buttons.
func (b *Bot) sayCalls(chat int64, lang string, key dialogs.MsgID) []outbox.Call {
	return b.sayReply(chat, lang, dialogs.Reply{Key: key})
}

// sayReply is r's text as a message of ours, without buttons (nor the card
// form's, nor a keyboard's removal).
func (b *Bot) sayReply(chat int64, lang string, r dialogs.Reply) []outbox.Call {
	r = dialogs.Reply{Key: r.Key, Args: r.Args, Lines: r.Lines}
	return b.messageCalls(chat, b.outgoing(chat, locales.Normalize(lang), 0, r), outbox.Reply)
}

// deleteCall removes the merchant's message that carried a card number and
// then says so; when Telegram refuses (too old to delete), the merchant is
// asked to delete it themselves instead. One notice, sent once the outcome
// is known: never "please delete it" followed by "I deleted it".
func (b *Bot) deleteCall(chat int64, lang string, id int) outbox.Call {
	c := outbox.MustCall("deleteMessage", deleteMessageParams{ChatID: chat, MessageID: id}, outbox.Reply)
	failed := b.sayCalls(chat, lang, dialogs.MsgDeleteFailed)
	done := b.sayCalls(chat, lang, dialogs.MsgMessageDeleted)
	c.Else, c.Then = &failed[0], &done[0]
	return c
}

// answerCall answers u's callback query, with a toast when text is set.
func (b *Bot) answerCall(u *update, text string) outbox.Call {
	c := outbox.MustCall("answerCallbackQuery", answerCallbackParams{CallbackQueryID: u.CallbackQuery.ID, Text: text}, outbox.Reply)
	c.Optional = true // a query older than Telegram's window cannot be answered: nothing to do
	return c
}

// outgoing renders r: its text escaped for HTML once, as a whole (the
// templates hold no markup, so every merchant-supplied string in it is
// escaped exactly once), split below Telegram's limit, and its buttons.
func (b *Bot) outgoing(chat int64, lang string, seq int, r dialogs.Reply) outgoing {
	var m outgoing
	form := r.Form && b.miniApp != "" && chat > 0 // web_app buttons work in private chats only
	if form {
		r.Lines = append(r.Lines, dialogs.Text{Key: dialogs.MsgFormOffer})
	}
	m.plain = b.render.Reply(lang, r)
	for _, part := range splitText(m.plain, maxMessageText) {
		m.texts = append(m.texts, html.EscapeString(part))
	}
	m.markup, m.contact = b.keyboard(chat, lang, seq, r.Buttons)
	if form && !m.contact {
		m.markup = b.withForm(m.markup, lang)
	}
	return m
}

// withForm puts the button that opens the card form (the Mini App at
// MINIAPP_URL, bot/miniapp) first on markup: an inline keyboard's first
// row, or the keyboard's only one.
func (b *Bot) withForm(markup models.ReplyMarkup, lang string) models.ReplyMarkup {
	button := []InlineKeyboardButton{{
		Text:   b.render.Text(lang, dialogs.MsgBtnForm, nil),
		WebApp: &WebAppInfo{URL: b.miniApp + MiniAppPath + "?lang=" + lang},
	}}
	kb, _ := markup.(*InlineKeyboardMarkup)
	if kb == nil {
		return &InlineKeyboardMarkup{InlineKeyboard: [][]InlineKeyboardButton{button}}
	}
	kb.InlineKeyboard = append([][]InlineKeyboardButton{button}, kb.InlineKeyboard...)
	return kb
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
