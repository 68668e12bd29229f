package telegramtest_test

import (
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

func TestParseHTML(t *testing.T) {
	tests := []struct {
		in       string
		plain    string
		entities []models.MessageEntity
		err      string
	}{
		{in: "plain", plain: "plain"},
		{in: "a &lt;b&gt; &amp; &quot;c&quot; &#65;&#x42;", plain: `a <b> & "c" AB`},
		{in: "AT&T & co", plain: "AT&T & co"}, // Telegram leaves a bare & alone
		{in: "2 > 1", plain: "2 > 1"},
		{in: "<b>bold</b> <i>it</i>", plain: "bold it", entities: []models.MessageEntity{
			{Type: "bold", Offset: 0, Length: 4}, {Type: "italic", Offset: 5, Length: 2}}},
		{in: "💳 <u>x</u>", plain: "💳 x", entities: []models.MessageEntity{{Type: "underline", Offset: 3, Length: 1}}},
		{in: `<a href="https://t.me/x?a=1&amp;b=2">link</a>`, plain: "link",
			entities: []models.MessageEntity{{Type: "text_link", Length: 4, URL: "https://t.me/x?a=1&b=2"}}},
		{in: `<pre><code class="language-go">x</code></pre>`, plain: "x", entities: []models.MessageEntity{
			{Type: "pre", Length: 1, Language: "go"}}},
		{in: `<b><i>x</i></b>`, plain: "x", entities: []models.MessageEntity{
			{Type: "bold", Length: 1}, {Type: "italic", Length: 1}}},
		{in: `<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>`, plain: "st", entities: []models.MessageEntity{
			{Type: "spoiler", Length: 1}, {Type: "spoiler", Offset: 1, Length: 1}}},
		{in: "<blockquote expandable>q</blockquote><s>x</s>", plain: "qx", entities: []models.MessageEntity{
			{Type: "expandable_blockquote", Length: 1}, {Type: "strikethrough", Offset: 1, Length: 1}}},
		{in: "<B>x</B>", plain: "x", entities: []models.MessageEntity{{Type: "bold", Length: 1}}},
		{in: "<b></b>", plain: ""},

		{in: "Shop <Best> Ltd", err: `Unsupported start tag "best" at byte offset 5`},
		{in: "1 < 2", err: `Unsupported start tag "" at byte offset 2`},
		{in: "a<b", err: "Unclosed start tag at byte offset 1"},
		{in: "line<br>", err: `Unsupported start tag "br" at byte offset 4`},
		{in: "<b>open", err: `Can't find end tag corresponding to start tag "b"`},
		{in: "close</b>", err: "Unexpected end tag at byte offset 5"},
		{in: "<b><i>x</b></i>", err: `Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{in: `<span class="x">y</span>`, err: `Tag "span" must have class "tg-spoiler" at byte offset 0`},
		{in: "<a href=x!y>z</a>", err: "Unexpected end of name token at byte offset 8"},
		{in: "bad \xff utf8", err: "strings must be encoded in UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			plain, entities, err := telegramtest.ParseHTML(tt.in)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.plain, plain)
			assert.Equal(t, tt.entities, entities)
		})
	}
}

func TestSendMessageRejectsBadHTML(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	r := postJSON(t, ctx, srv, "sendMessage", map[string]any{"chat_id": 1, "text": "Name: <Tom & Jerry>", "parse_mode": "HTML"})
	assert.Equal(t, 400, r.ErrorCode)
	assert.Equal(t, `Bad Request: can't parse entities: Unsupported start tag "tom" at byte offset 6`, r.Description)

	r = postJSON(t, ctx, srv, "sendMessage", map[string]any{"chat_id": 1, "text": "<b></b>", "parse_mode": "HTML"})
	assert.Equal(t, "Bad Request: message text is empty", r.Description)

	r = postJSON(t, ctx, srv, "sendMessage", map[string]any{"chat_id": 1, "text": "Name: <Tom>", "parse_mode": ""})
	assert.True(t, r.OK, "without parse_mode the text is taken as it is")
}

func FuzzParseHTML(f *testing.F) {
	for _, seed := range []string{"<b>x</b>", "a &lt; b", `<a href="u">l</a>`, "<pre><code>x</code></pre>", "💳<i>é</i>", "<", "&#x1F600;"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		plain, entities, err := telegramtest.ParseHTML(in)
		if err != nil {
			return
		}
		require.True(t, utf8.ValidString(plain))
		n := len(utf16.Encode([]rune(plain)))
		for _, e := range entities {
			require.True(t, e.Offset >= 0 && e.Length > 0 && e.Offset+e.Length <= n, "entity %+v inside %d units", e, n)
		}
	})
}
