package bot

import (
	"strings"
	"unicode"

	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/dialogs"
)

// update is one Telegram update with what every step of the pipeline needs
// to know about it.
type update struct {
	*models.Update
	chat    int64        // the chat it belongs to; 0 when none
	private bool         // a private chat with a person: the only place the dialog runs
	from    *models.User // who did it, nil when unknown
	kind    string       // for logs: "message", "callback_query", ...

	answered bool // its callback query was answered in the webhook's response (envelope.Answered)
}

func newUpdate(u *models.Update) *update {
	up := &update{Update: u, kind: updateKind(u)}
	switch {
	case u.Message != nil:
		m := u.Message
		up.chat, up.from = m.Chat.ID, m.From
		up.private = m.Chat.Type == models.ChatTypePrivate
	case u.EditedMessage != nil:
		m := u.EditedMessage
		up.chat, up.from = m.Chat.ID, m.From
		up.private = m.Chat.Type == models.ChatTypePrivate
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		from := q.From
		up.from = &from
		switch {
		case q.Message.Message != nil:
			up.chat = q.Message.Message.Chat.ID
			up.private = q.Message.Message.Chat.Type == models.ChatTypePrivate
		case q.Message.InaccessibleMessage != nil:
			up.chat = q.Message.InaccessibleMessage.Chat.ID
			up.private = q.Message.InaccessibleMessage.Chat.Type == models.ChatTypePrivate
		}
	case u.MyChatMember != nil:
		m := u.MyChatMember
		from := m.From
		up.chat, up.from = m.Chat.ID, &from
		up.private = m.Chat.Type == models.ChatTypePrivate
	}
	if up.from != nil && up.from.IsBot {
		up.private = false // bots do not change settlement cards
	}
	return up
}

// lang is the client's language code ("" when unknown).
func (u *update) lang() string {
	if u.from == nil {
		return ""
	}
	return u.from.LanguageCode
}

// buttonMessage is the id of the message whose button was pressed (0: none).
func (u *update) buttonMessage() int {
	if u.CallbackQuery == nil {
		return 0
	}
	switch m := u.CallbackQuery.Message; {
	case m.Message != nil:
		return m.Message.ID
	case m.InaccessibleMessage != nil:
		return m.InaccessibleMessage.MessageID
	}
	return 0
}

// messageInput turns a message of a private chat into what the dialog reads.
func messageInput(m *models.Message) dialogs.Input {
	// Message ids of a private chat count from 1 over both sides: a later
	// one means the merchant wrote, or the bot answered, before.
	in := dialogs.Input{Kind: dialogs.InOther, MessageID: m.ID, Returning: m.ID > 1}
	if m.From != nil {
		in.LanguageCode = m.From.LanguageCode
	}
	switch {
	case m.Text != "":
		if name, arg, ok := command(m); ok {
			in.Kind, in.Text, in.Arg = dialogs.InCommand, name, arg
		} else {
			in.Kind, in.Text = dialogs.InText, m.Text
		}
	case m.Contact != nil:
		in.Kind = dialogs.InContact
		// Only the sender's own contact, sent with the share-contact button,
		// proves the phone: a forwarded message or a contact card of someone
		// else carries another user id, or none.
		owned := m.From != nil && m.Contact.UserID != 0 && m.Contact.UserID == m.From.ID && m.ForwardOrigin == nil
		in.Contact = &dialogs.Contact{Phone: m.Contact.PhoneNumber, OwnedBySender: owned}
	case isMedia(m):
		in.Kind, in.Text = dialogs.InMedia, m.Caption
	}
	return in
}

// editInput is an edited message: the dialog only looks for a card number
// in it.
func editInput(m *models.Message) dialogs.Input {
	in := dialogs.Input{Kind: dialogs.InEdit, MessageID: m.ID, Text: m.Text}
	if m.Text == "" {
		in.Text = m.Caption
	}
	if m.From != nil {
		in.LanguageCode = m.From.LanguageCode
	}
	return in
}

// command reads "/name@bot payload" when the message starts with a
// bot_command entity, or, without one (clients and servers that send no
// entities, forwarded text whose entities are other kinds), with a slash
// and a command name as Telegram would have marked it. A known name is then
// the command, an unknown one gets the unknown-command answer, as with the
// entity. Text shown as code at its start is not a command.
func command(m *models.Message) (name, arg string, ok bool) {
	entity := len(m.Entities) > 0 && m.Entities[0].Type == models.MessageEntityTypeBotCommand && m.Entities[0].Offset == 0
	if !entity && (startsAsCode(m.Entities) || !looksLikeCommand(m.Text)) {
		return "", "", false
	}
	word, rest := firstWord(m.Text)
	name = strings.TrimPrefix(word, "/")
	name, _, _ = strings.Cut(name, "@") // /start@merchant_bot
	if name == "" {
		return "", "", false
	}
	return name, strings.TrimSpace(rest), true
}

// firstWord cuts text at its first space, line break or tab.
func firstWord(text string) (word, rest string) {
	i := strings.IndexFunc(text, unicode.IsSpace)
	if i < 0 {
		return text, ""
	}
	return text[:i], text[i:]
}

// startsAsCode reports text whose start is formatted as code: a command
// quoted, not given.
func startsAsCode(entities []models.MessageEntity) bool {
	for _, e := range entities {
		if e.Offset == 0 && (e.Type == models.MessageEntityTypeCode || e.Type == models.MessageEntityTypePre) {
			return true
		}
	}
	return false
}

func isMedia(m *models.Message) bool {
	return len(m.Photo) > 0 || m.Sticker != nil || m.Document != nil || m.Voice != nil ||
		m.Video != nil || m.VideoNote != nil || m.Animation != nil || m.Audio != nil ||
		m.PaidMedia != nil || m.Story != nil
}

// buttonInput is the dialog's view of a pressed button whose data decoded.
func buttonInput(u *update, seq int, data string) dialogs.Input {
	return dialogs.Input{
		Kind:         dialogs.InButton,
		Data:         data,
		Seq:          seq,
		MessageID:    u.buttonMessage(),
		LanguageCode: u.lang(),
		Returning:    true, // the bot sent the button
	}
}

// updateKind names the field an update carries, as allowed_updates does.
func updateKind(u *models.Update) string {
	switch {
	case u.Message != nil:
		return models.AllowedUpdateMessage
	case u.CallbackQuery != nil:
		return models.AllowedUpdateCallbackQuery
	case u.MyChatMember != nil:
		return models.AllowedUpdateMyChatMember
	case u.EditedMessage != nil:
		return models.AllowedUpdateEditedMessage
	case u.ChannelPost != nil:
		return models.AllowedUpdateChannelPost
	}
	return "other"
}

// looksLikeCommand is "/name" or "/name@bot" at the start of text, name
// made of Latin letters, digits and underscores as Telegram allows.
func looksLikeCommand(text string) bool {
	word, _ := firstWord(text)
	word, _, _ = strings.Cut(word, "@")
	if len(word) < 2 || word[0] != '/' || len(word) > 33 {
		return false
	}
	for _, r := range word[1:] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
