package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/miniapp"
	"github.com/merchantbot/merchantbot/dialogs"
)

// TestServeCardForm: serve with MINIAPP_URL offers the form at the card
// question and serves it on HTTP_ADDR with its security headers; launch
// data signed for the bot's token, with the card sealed as the page seals
// it, moves the chat on with the card masked. The replica's log is checked
// for the number at cleanup (checkLogs).
func TestServeCardForm(t *testing.T) {
	d := newDeployment(t, false)
	d.env["MINIAPP_URL"] = "https://bot.example.test/"
	r := d.start()
	m := d.merchant(8101, "en")
	require.NoError(t, m.walkTo(asks(dialogs.StepCard)))
	last, ok := d.fake.LastSent(m.chat)
	require.True(t, ok)
	var form string
	for _, b := range last.Buttons() {
		if b.WebApp != nil {
			form = b.WebApp.URL
		}
	}
	assert.Equal(t, "https://bot.example.test/miniapp/?lang=en", form, "the card question opens the form at MINIAPP_URL")

	base := "http://" + r.addr + miniapp.Path
	res, err := http.Get(base)
	require.NoError(t, err)
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, string(page), `<script src="app.js" defer></script>`)
	assert.Equal(t, miniapp.CSP, res.Header.Get("Content-Security-Policy"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))

	user, _ := json.Marshal(map[string]any{"id": m.chat, "first_name": "M", "language_code": "en"})
	launch := miniapp.SignLaunch(url.Values{"user": {string(user)}, "query_id": {"AAHserve"},
		"auth_date": {strconv.FormatInt(time.Now().Unix(), 10)}}, d.fake.Token())
	sealed, err := miniapp.Seal(d.fake.Token(), launch, "6228480000123456782", "", "", "")
	require.NoError(t, err)
	body, _ := json.Marshal(map[string]any{"init_data": launch, "form": sealed})
	res, err = http.Post(base+"api/submit", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", answer)
	require.NoError(t, d.settle())
	last, _ = d.fake.LastSent(m.chat)
	assert.Contains(t, last.Text, "622848*********6782", "the card noted, the holder asked: one message")
	assert.Contains(t, last.Text, "Please type the card holder's name")
	assert.Equal(t, dialogs.StepHolder, d.state(m.chat).Step)
}
