package telegramtest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inlineKeyboard is an inline keyboard as the Bot API documents it. go-telegram/bot's
// models.InlineKeyboardButton cannot be sent to the fake: it adds an empty copy_text to every
// button, which the fake refuses as a second action.
type inlineKeyboard struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

const (
	twoActions   = "Bad Request: can't parse inline keyboard button: exactly one of the optional fields must be used to specify type of the button"
	noAction     = "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
	dataInvalid  = "Bad Request: BUTTON_DATA_INVALID"
	tooLong      = "Bad Request: message is too long"
	editNotFound = "Bad Request: message to edit not found"
	notModified  = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
)

func TestInlineButtonRefusals(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	const chat = 31

	tests := []struct {
		name   string
		button string
		want   string // "" when accepted
	}{
		{"callback data", `{"text":"a","callback_data":"x"}`, ""},
		{"url", `{"text":"a","url":"https://example.com"}`, ""},
		{"copy text", `{"text":"a","copy_text":{"text":"code"}}`, ""},
		{"empty switch_inline_query is a use", `{"text":"a","switch_inline_query":""}`, ""},
		{"64 bytes of data", `{"text":"a","callback_data":"` + strings.Repeat("d", 64) + `"}`, ""},
		{"null fields are absent", `{"text":"a","callback_data":"x","url":null,"copy_text":null}`, ""},
		{"go-telegram/bot's copy_text beside callback_data", `{"text":"a","callback_data":"x","copy_text":{"text":""}}`, twoActions},
		{"callback data and url", `{"text":"a","callback_data":"x","url":"https://example.com"}`, twoActions},
		{"no action", `{"text":"a"}`, noAction},
		{"empty callback data is no action", `{"text":"a","callback_data":""}`, noAction},
		{"65 bytes of data", `{"text":"a","callback_data":"` + strings.Repeat("d", 65) + `"}`, dataInvalid},
		{"64 bytes are bytes, not characters", `{"text":"a","callback_data":"` + strings.Repeat("字", 22) + `"}`, dataInvalid},
		{"no text", `{"callback_data":"x"}`, `Bad Request: can't parse inline keyboard button: Field "text" must be of type String`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			markup := json.RawMessage(`{"inline_keyboard":[[` + tt.button + `]]}`)
			r := postJSON(t, ctx, srv, "sendMessage", map[string]any{"chat_id": chat, "text": "t", "reply_markup": markup})
			if tt.want == "" {
				assert.True(t, r.OK, r.Description)
				return
			}
			assert.False(t, r.OK)
			assert.Equal(t, 400, r.ErrorCode)
			assert.Equal(t, tt.want, r.Description)
		})
	}

	t.Run("edits check their keyboard too", func(t *testing.T) {
		r := postJSON(t, ctx, srv, "sendMessage", map[string]any{"chat_id": chat, "text": "edit me"})
		require.True(t, r.OK, r.Description)
		var m models.Message
		require.NoError(t, json.Unmarshal(r.Result, &m))
		bad := json.RawMessage(`{"inline_keyboard":[[{"text":"a","callback_data":"x","copy_text":{"text":""}}]]}`)
		r = postJSON(t, ctx, srv, "editMessageText", map[string]any{"chat_id": chat, "message_id": m.ID, "text": "new", "reply_markup": bad})
		assert.Equal(t, twoActions, r.Description)
		got, _ := srv.LastSent(chat)
		assert.Equal(t, "edit me", got.Text)
		assert.Nil(t, got.InlineKeyboard, "a refused edit changes nothing")
	})

	t.Run("go-telegram/bot's own keyboard type is refused", func(t *testing.T) {
		b := newBot(t, srv, bot.WithSkipGetMe())
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat, Text: "t", ReplyMarkup: &models.InlineKeyboardMarkup{
			InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "a", CallbackData: "x"}}}}})
		require.ErrorIs(t, err, bot.ErrorBadRequest)
		assert.Contains(t, err.Error(), twoActions)
	})
}

// TestTextLength counts as Telegram does: UTF-16 code units of the text after entity parsing.
func TestTextLength(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	const chat = 32
	tests := []struct {
		name, text, parseMode string
		ok                    bool
	}{
		{"4096 ASCII", strings.Repeat("a", 4096), "", true},
		{"4097 ASCII", strings.Repeat("a", 4097), "", false},
		{"4096 CJK", strings.Repeat("字", 4096), "", true},
		{"4097 CJK", strings.Repeat("字", 4097), "", false},
		{"2048 emoji are 4096 units", strings.Repeat("🎉", 2048), "", true},
		{"2049 emoji are 4098 units", strings.Repeat("🎉", 2049), "", false},
		{"tags do not count", "<b>" + strings.Repeat("a", 4090) + "</b>" + strings.Repeat("&lt;", 6), "HTML", true},
		{"entities do count once decoded", strings.Repeat("&amp;", 4097), "HTML", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := postJSON(t, ctx, srv, "sendMessage", map[string]any{"chat_id": chat, "text": tt.text, "parse_mode": tt.parseMode})
			if tt.ok {
				assert.True(t, r.OK, r.Description)
				return
			}
			assert.Equal(t, 400, r.ErrorCode)
			assert.Equal(t, tooLong, r.Description)
		})
	}

	r := postJSON(t, ctx, srv, "sendMessage", map[string]any{"chat_id": chat, "text": "short"})
	require.True(t, r.OK, r.Description)
	var m models.Message
	require.NoError(t, json.Unmarshal(r.Result, &m))
	r = postJSON(t, ctx, srv, "editMessageText", map[string]any{"chat_id": chat, "message_id": m.ID, "text": strings.Repeat("🎉", 2049)})
	assert.Equal(t, tooLong, r.Description, "an edit is held to the same limit")
}

func TestEditRefusals(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	const chat = 33
	keyboard := json.RawMessage(`{"inline_keyboard":[[{"text":"Go","callback_data":"go"}]]}`)
	r := postJSON(t, ctx, srv, "sendMessage", map[string]any{"chat_id": chat, "text": "Pick", "reply_markup": keyboard})
	require.True(t, r.OK, r.Description)
	var m models.Message
	require.NoError(t, json.Unmarshal(r.Result, &m))

	for _, tt := range []struct {
		name   string
		params map[string]any
	}{
		{"unknown message", map[string]any{"chat_id": chat, "message_id": m.ID + 100, "text": "x"}},
		{"unknown chat", map[string]any{"chat_id": 9_999, "message_id": m.ID, "text": "x"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := postJSON(t, ctx, srv, "editMessageText", tt.params)
			assert.Equal(t, 400, r.ErrorCode)
			assert.Equal(t, editNotFound, r.Description)
		})
	}

	r = postJSON(t, ctx, srv, "deleteMessage", map[string]any{"chat_id": chat, "message_id": m.ID + 1})
	assert.Equal(t, "Bad Request: message to delete not found", r.Description)

	t.Run("identical edit", func(t *testing.T) {
		r := postJSON(t, ctx, srv, "editMessageText", map[string]any{"chat_id": chat, "message_id": m.ID, "text": "Pick", "reply_markup": keyboard})
		assert.Equal(t, 400, r.ErrorCode)
		assert.Equal(t, notModified, r.Description)
		// The same text without the keyboard is a change: it removes the keyboard.
		r = postJSON(t, ctx, srv, "editMessageText", map[string]any{"chat_id": chat, "message_id": m.ID, "text": "Pick"})
		assert.True(t, r.OK, r.Description)
	})

	t.Run("a deleted message cannot be edited", func(t *testing.T) {
		r := postJSON(t, ctx, srv, "deleteMessage", map[string]any{"chat_id": chat, "message_id": m.ID})
		require.True(t, r.OK, r.Description)
		r = postJSON(t, ctx, srv, "editMessageText", map[string]any{"chat_id": chat, "message_id": m.ID, "text": "late"})
		assert.Equal(t, editNotFound, r.Description)
	})
}
