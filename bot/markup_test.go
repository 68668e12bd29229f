package bot

import (
	"encoding/json"
	"testing"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/locales"
)

// TestMarkupJSON pins the exact reply_markup the bot sends: only the fields
// it sets, one action per inline button.
func TestMarkupJSON(t *testing.T) {
	tests := []struct {
		name   string
		markup any
		want   string
	}{
		{"inline", &InlineKeyboardMarkup{InlineKeyboard: [][]InlineKeyboardButton{
			{{Text: "Yes", CallbackData: "y"}, {Text: "No", CallbackData: "n"}},
			{{Text: "Help", URL: "https://example.com/help"}},
		}}, `{"inline_keyboard":[[{"text":"Yes","callback_data":"y"},{"text":"No","callback_data":"n"}],[{"text":"Help","url":"https://example.com/help"}]]}`},
		{"share contact", &ReplyKeyboardMarkup{
			Keyboard:       [][]KeyboardButton{{{Text: "Share", RequestContact: true}}},
			ResizeKeyboard: true, OneTimeKeyboard: true,
		}, `{"keyboard":[[{"text":"Share","request_contact":true}]],"resize_keyboard":true,"one_time_keyboard":true}`},
		{"plain reply keyboard", ReplyKeyboardMarkup{Keyboard: [][]KeyboardButton{{{Text: "A"}}}},
			`{"keyboard":[[{"text":"A"}]]}`},
		{"remove", ReplyKeyboardRemove{}, `{"remove_keyboard":true}`},
		{"remove by pointer", &ReplyKeyboardRemove{}, `{"remove_keyboard":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.markup)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}

	t.Run("a button with no action or two is refused", func(t *testing.T) {
		for _, b := range []InlineKeyboardButton{
			{Text: "none"},
			{Text: "both", CallbackData: "x", URL: "https://example.com"},
		} {
			_, err := json.Marshal(InlineKeyboardMarkup{InlineKeyboard: [][]InlineKeyboardButton{{b}}})
			assert.ErrorIs(t, err, errButtonAction, b.Text)
		}
	})

	// Why these types exist: the library's own button carries an empty
	// copy_text beside the callback data. If this starts failing, the
	// library was fixed and markup.go could go.
	t.Run("go-telegram/bot adds copy_text", func(t *testing.T) {
		got, err := json.Marshal(models.InlineKeyboardButton{Text: "Yes", CallbackData: "y"})
		require.NoError(t, err)
		assert.Contains(t, string(got), `"copy_text":{"text":""}`)
	})
}

// TestKeyboardWire renders a dialog's buttons and checks the JSON that goes
// into reply_markup, byte for byte.
func TestKeyboardWire(t *testing.T) {
	b := offlineBot(t)
	markup, _ := b.keyboard(42, locales.English, 3, [][]dialogs.Button{
		{{Key: "btn_check_done", Data: "ck:ok.0"}},
		{{Key: "btn_why", Data: "ck:why.0"}},
	})
	kb := markup.(*InlineKeyboardMarkup)
	ok0, why0 := kb.InlineKeyboard[0][0], kb.InlineKeyboard[1][0]
	want := `{"inline_keyboard":[[{"text":` + quote(t, ok0.Text) + `,"callback_data":` + quote(t, ok0.CallbackData) +
		`}],[{"text":` + quote(t, why0.Text) + `,"callback_data":` + quote(t, why0.CallbackData) + `}]]}`
	got, err := json.Marshal(markup)
	require.NoError(t, err)
	assert.Equal(t, want, string(got))

	contact, _ := b.keyboard(42, locales.English, 3, [][]dialogs.Button{{{Key: "btn_share_contact", RequestContact: true}}})
	got, err = json.Marshal(contact)
	require.NoError(t, err)
	label := b.render.Button(locales.English, dialogs.Button{Key: "btn_share_contact", RequestContact: true})
	assert.Equal(t, `{"keyboard":[[{"text":`+quote(t, label)+`,"request_contact":true}]],"resize_keyboard":true,"one_time_keyboard":true}`, string(got))

	// The parameters go-telegram/bot marshals hold the markup as it is.
	got, err = json.Marshal(&tg.SendMessageParams{ChatID: 42, Text: "x", ReplyMarkup: ReplyKeyboardRemove{}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"chat_id":42,"text":"x","reply_markup":{"remove_keyboard":true}}`, string(got))
}

func quote(t *testing.T, s string) string {
	t.Helper()
	q, err := json.Marshal(s)
	require.NoError(t, err)
	return string(q)
}

// TestWebAppButton: a web_app button carries its URL alone; one with
// callback data beside it, or without a URL, is refused where it is built.
func TestWebAppButton(t *testing.T) {
	out, err := json.Marshal(InlineKeyboardButton{Text: "Form", WebApp: &WebAppInfo{URL: "https://bot.example.com/miniapp/"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"text":"Form","web_app":{"url":"https://bot.example.com/miniapp/"}}`, string(out))
	_, err = json.Marshal(InlineKeyboardButton{Text: "Form", CallbackData: "x", WebApp: &WebAppInfo{URL: "https://b/"}})
	assert.ErrorIs(t, err, errButtonAction)
	_, err = json.Marshal(InlineKeyboardButton{Text: "Form", WebApp: &WebAppInfo{}})
	assert.ErrorIs(t, err, errButtonAction)
}
