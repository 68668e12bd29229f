package bot

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// newHookHarness starts a bot that receives by webhook only: the fake
// delivers each update over HTTP to its Handler and runs a method found in
// the response's body, as Telegram does. It returns the handler's URL.
func newHookHarness(t *testing.T, hopts ...harnessOption) (*harness, string) {
	t.Helper()
	h := newHarness(t, append([]harnessOption{webhookOnly()}, hopts...)...)
	srv := httptest.NewServer(h.bot.Handler("/hook", "s3cret"))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			t.Logf("bot log:\n%s", h.logs.String())
		}
	})
	require.NoError(t, h.bot.SetWebhook(context.Background(), srv.URL+"/hook", "s3cret"))
	return h, srv.URL + "/hook"
}

// answersByQuery maps each answered callback query to its text, failing on
// one answered twice.
func answersByQuery(t *testing.T, fake *telegramtest.Server) map[string]string {
	t.Helper()
	answers := map[string]string{}
	for _, a := range fake.CallbackAnswers() {
		_, twice := answers[a.QueryID]
		assert.False(t, twice, "query %s answered twice", a.QueryID)
		answers[a.QueryID] = a.Text
	}
	return answers
}

// TestButtonAnsweredInTheWebhookResponse: over the webhook, a merchant's
// button is answered in the response to the update's delivery, once the
// update is stored: the bot makes no answerCallbackQuery request and its
// turn puts none in the outbox (the fake would have seen it, refused, as
// a second answer). A redelivery is answered again; nothing else changes.
func TestButtonAnsweredInTheWebhookResponse(t *testing.T) {
	h, hook := newHookHarness(t)
	const chat = 540
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/start")
	h.waitText(chat, enWelcome)
	h.settle()
	id := h.press(chat, "Change settlement card")
	h.waitText(chat, enAskNo)
	h.settle()

	answers := h.fake.CallbackAnswers()
	require.Len(t, answers, 1)
	assert.Equal(t, strconv.FormatInt(id, 10), answers[0].QueryID)
	assert.Empty(t, answers[0].Text)
	assert.Equal(t, 1, h.fake.ResponseCount("answerCallbackQuery"), "in the webhook's response")
	assert.Zero(t, h.fake.CallCount("answerCallbackQuery"), "no request: not in the outbox either")
	assert.Equal(t, 1, countText(h.fake.Sent(chat), enAskNo))

	// The response itself, and a redelivery's (Telegram did not get the
	// first): the same answer; the update is applied once.
	raw := fmt.Sprintf(`{"update_id":%d,"callback_query":{"id":"q-%d","chat_instance":"1",
		"from":{"id":%d,"is_bot":false,"first_name":"M","language_code":"en"},
		"message":{"message_id":1,"date":1,"chat":{"id":%d,"type":"private"}},"data":"forged"}}`, 990001, chat, chat, chat)
	for range 2 {
		code, ctype, body := postHook(t, hook, raw)
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "application/json", ctype)
		assert.JSONEq(t, fmt.Sprintf(`{"method":"answerCallbackQuery","callback_query_id":"q-%d"}`, chat), body)
	}
	h.settle()
	assert.Equal(t, 1, countText(h.fake.Sent(chat), enStale), "applied once")
	assert.Zero(t, h.fake.CallCount("answerCallbackQuery"))

	// A message's response carries nothing.
	code, _, body := postHook(t, hook, fmt.Sprintf(`{"update_id":990002,"message":{"message_id":2,"date":1,
		"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"M"},"text":"hi"}}`, chat, chat))
	assert.Equal(t, http.StatusOK, code)
	assert.Empty(t, body)
	h.settle()
}

func postHook(t *testing.T, url, body string) (code int, contentType, answer string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set(secretHeader, "s3cret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestStaleTapOverWebhook: over the webhook a merchant's button is answered
// in the response, before the turn, so without a toast; a tap that turns out
// stale is then told in the chat, without buttons. A button this replica
// knows to be of an earlier generation (committed before the tap came) is
// left to the turn instead, which answers it with the toast on the button,
// as over polling, and says nothing in the chat. Nothing changes either way.
func TestStaleTapOverWebhook(t *testing.T) {
	h, _ := newHookHarness(t)
	const chat = 541
	welcome, first, second, st := h.doubleTapChange(chat)

	status, ok := welcome.Button("Check review status")
	require.True(t, ok)
	third := h.fake.PressButton(chat, chat, welcome.ID, status.CallbackData) // of an earlier step, after its commit
	forged := h.fake.PressButton(chat, chat, welcome.ID, "m:change")
	h.settle()

	answers := answersByQuery(t, h.fake)
	for _, id := range []int64{first, forged} {
		text, ok := answers[strconv.FormatInt(id, 10)]
		assert.True(t, ok, "query %d answered", id)
		assert.Empty(t, text, "query %d: a webhook response's answer, without a toast", id)
	}
	assert.Contains(t, answers[strconv.FormatInt(third, 10)], enStale, "known stale: the turn's toast")
	secondText, ok := answers[strconv.FormatInt(second, 10)]
	require.True(t, ok, "the second tap answered")
	inResponse := h.fake.ResponseCount("answerCallbackQuery")
	assert.Equal(t, 4, inResponse+h.fake.CallCount("answerCallbackQuery"), "each answered once")

	sent := h.fake.Sent(chat)
	assert.Equal(t, 1, countText(sent, enAskNo), "asked once: the question is on screen")
	toldInChat := 1 // the forged button: nothing known of it before the turn
	if secondText == "" {
		toldInChat++ // the second tap came before the first was committed: answered in the response
	} else {
		assert.Contains(t, secondText, enStale)
	}
	assert.Equal(t, toldInChat, countText(sent, enStale), "told once each, on the button or in the chat")
	for _, m := range sent {
		if strings.Contains(m.Text, enStale) {
			assert.Empty(t, m.ReplyMarkup, "no buttons, no keyboard removal")
		}
	}
	after := h.stateOf(chat)
	assert.Equal(t, st.Step, after.Step, "nothing changed")
	assert.Equal(t, st.Seq, after.Seq)
}

// TestDeskButtonOverWebhook: a button of the support group arriving over
// the webhook is answered by the desk, through the group's outbox, with
// the toast its state calls for: never in the webhook's response.
func TestDeskButtonOverWebhook(t *testing.T) {
	const group = -1001234567890
	h, _ := newHookHarness(t, withDesk(group))
	const chat = 542
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/support")
	h.waitText(chat, "connected to support")
	h.settle()
	h.waitFor("the context card", func(s *telegramtest.Snapshot) bool {
		for _, m := range s.Sent(group) {
			if _, ok := m.Button("🙋 Claim"); ok {
				return true
			}
		}
		return false
	})
	outsider := models.User{ID: 4343, FirstName: "Eve"}
	h.fake.SetChatMember(group, outsider, models.ChatMemberTypeMember, false)
	id, err := h.fake.PressButtonLabeled(group, outsider.ID, "🙋 Claim")
	require.NoError(t, err)
	h.waitFor("the desk's answer", func(s *telegramtest.Snapshot) bool { return len(s.CallbackAnswers()) > 0 })
	h.settle()
	answers := answersByQuery(t, h.fake)
	assert.Contains(t, answers[strconv.FormatInt(id, 10)], "Only agents can do this", "the desk's toast")
	assert.Equal(t, 1, h.fake.CallCount("answerCallbackQuery"), "a request of the desk's")
	assert.Zero(t, h.fake.ResponseCount("answerCallbackQuery"), "not in the webhook's response")
}
