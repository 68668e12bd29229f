package telegramtest_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/url"
	"testing"

	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBodyFormats(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	keyboard := `{"inline_keyboard":[[{"text":"Go","callback_data":"go"}]]}`

	r := postJSON(t, ctx, srv, "sendMessage", map[string]any{
		"chat_id":      int64(-1001234567890),
		"text":         "json <b>body</b>",
		"parse_mode":   "HTML",
		"reply_markup": json.RawMessage(keyboard), // an object, not a string, in a JSON body
	})
	require.True(t, r.OK, r.Description)
	var msg models.Message
	require.NoError(t, json.Unmarshal(r.Result, &msg))
	assert.Equal(t, "json body", msg.Text)
	require.NotNil(t, msg.ReplyMarkup)
	assert.Equal(t, "go", msg.ReplyMarkup.InlineKeyboard[0][0].CallbackData)

	r = postForm(t, ctx, srv, "sendMessage", url.Values{
		"chat_id": {"42"}, "text": {"form & body"}, "reply_markup": {keyboard}, "disable_notification": {"true"},
	})
	require.True(t, r.OK, r.Description)

	r = do(t, ctx, srv.URL()+"/bot"+srv.Token()+"/sendMessage?chat_id=42&text=query", "", nil)
	require.True(t, r.OK, r.Description)

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("chat_id", "42"))
	require.NoError(t, mw.WriteField("text", "multipart"))
	require.NoError(t, mw.Close())
	r = do(t, ctx, srv.URL()+"/bot"+srv.Token()+"/sendMessage", mw.FormDataContentType(), &body)
	require.True(t, r.OK, r.Description)

	sent := srv.Sent(42)
	require.Len(t, sent, 3)
	assert.Equal(t, "form & body", sent[0].Text)
	assert.NotNil(t, sent[0].InlineKeyboard)
	assert.Equal(t, "query", sent[1].Text)
	assert.Equal(t, "multipart", sent[2].Text)

	calls := srv.CallsTo("sendMessage")
	require.Len(t, calls, 4)
	id, ok := calls[0].Params.Int64("chat_id")
	assert.True(t, ok)
	assert.Equal(t, int64(-1001234567890), id)
	assert.True(t, calls[1].Params.Bool("disable_notification"))
	assert.False(t, calls[2].Params.Has("reply_markup"))

	r = do(t, ctx, srv.URL()+"/bot"+srv.Token()+"/sendMessage", "application/json", bytes.NewReader([]byte("{not json")))
	assert.Equal(t, 400, r.ErrorCode)
}
