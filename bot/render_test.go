package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/sender"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
	"github.com/merchantbot/merchantbot/locales"
)

// offlineBot is a Bot that never goes on the network: for rendering.
func offlineBot(t *testing.T) *Bot {
	t.Helper()
	catalog, err := locales.Load()
	require.NoError(t, err)
	b, err := New("1:offline", nil, catalog, chatq.New(nil), nil, nopSender{})
	require.NoError(t, err)
	return b
}

type nopSender struct{}

func (nopSender) Do(context.Context, int64, sender.Kind, func(context.Context) error) error {
	return nil
}
func (nopSender) DoN(context.Context, int64, sender.Kind, int, func(context.Context) error) error {
	return nil
}
func (nopSender) Block(context.Context, int64) error   { return nil }
func (nopSender) Unblock(context.Context, int64) error { return nil }

// TestEscapeOnce renders merchant-supplied strings full of HTML specials:
// what Telegram shows after parsing the HTML is exactly what was typed, so
// they were escaped once, not zero times (a parse error or a tag) nor twice
// (a visible "&amp;").
func TestEscapeOnce(t *testing.T) {
	b := offlineBot(t)
	nasty := `<b>&"'</b> &amp; <a href="x">`
	r := dialogs.Reply{
		Key:   "bound",
		Args:  dialogs.Arg{"Name": nasty, "No": "822100050110001"},
		Lines: []dialogs.Text{{Key: "current_answer", Args: dialogs.Arg{"Value": nasty}}, {Key: "help_where", Args: dialogs.Arg{"Step": dialogs.Text{Key: "step_card"}}}},
	}
	for _, lang := range []string{locales.Chinese, locales.English} {
		m := b.outgoing(42, lang, 1, r)
		require.Len(t, m.texts, 1)
		plain, entities, err := telegramtest.ParseHTML(m.texts[0])
		require.NoError(t, err, m.texts[0])
		assert.Empty(t, entities)
		assert.Equal(t, 2, strings.Count(plain, nasty), plain)
		assert.Equal(t, b.render.Reply(lang, r), plain)
	}
}

func TestKeyboards(t *testing.T) {
	b := offlineBot(t)
	t.Run("inline buttons carry signed data", func(t *testing.T) {
		rows := [][]dialogs.Button{
			{{Key: "btn_check_done", Data: "ck:ok.0"}, {Key: "btn_why", Data: "ck:why.0"}},
			{{Key: "btn_resume", Args: dialogs.Arg{"Step": dialogs.Text{Key: "step_card"}}, Data: "m:change"}},
		}
		markup, contact := b.keyboard(42, locales.English, 7, rows)
		assert.False(t, contact)
		kb, ok := markup.(*InlineKeyboardMarkup)
		require.True(t, ok)
		require.Len(t, kb.InlineKeyboard, 2)
		assert.Equal(t, "Continue card change (new card number)", kb.InlineKeyboard[1][0].Text)
		seq, data, ok := b.codec.decode(42, kb.InlineKeyboard[0][1].CallbackData)
		assert.True(t, ok)
		assert.Equal(t, 7, seq)
		assert.Equal(t, "ck:why.0", data)
	})
	t.Run("share contact is a one-time reply keyboard", func(t *testing.T) {
		markup, contact := b.keyboard(42, locales.Chinese, 1, [][]dialogs.Button{{{Key: "btn_share_contact", RequestContact: true}}})
		assert.True(t, contact)
		kb, ok := markup.(*ReplyKeyboardMarkup)
		require.True(t, ok)
		assert.True(t, kb.OneTimeKeyboard)
		assert.Equal(t, []KeyboardButton{{Text: "📱 分享我的手机号", RequestContact: true}}, kb.Keyboard[0])
	})
	t.Run("no buttons, no keyboard", func(t *testing.T) {
		markup, _ := b.keyboard(42, locales.Chinese, 1, nil)
		assert.Nil(t, markup)
	})
}

// TestLongReplySplit sends a reply longer than a message in pieces, each
// within Telegram's limit after HTML parsing, the buttons on the last.
func TestLongReplySplit(t *testing.T) {
	b := offlineBot(t)
	long := strings.Repeat("<&>🎉 line of merchant text\n", 400) // escaping triples its specials
	r := dialogs.Reply{Key: "current_answer", Args: dialogs.Arg{"Value": long}, Buttons: [][]dialogs.Button{{{Key: "btn_keep", Data: "keep"}}}}
	m := b.outgoing(42, locales.English, 1, r)
	require.Greater(t, len(m.texts), 1)
	var shown strings.Builder
	for _, text := range m.texts {
		plain, _, err := telegramtest.ParseHTML(text)
		require.NoError(t, err)
		assert.LessOrEqual(t, utf16Len(plain), maxMessageText)
		shown.WriteString(plain + "\n")
	}
	assert.Equal(t, strings.Count(long, "🎉"), strings.Count(shown.String(), "🎉"))
	assert.NotNil(t, m.markup)
}
