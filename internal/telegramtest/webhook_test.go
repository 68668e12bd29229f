package telegramtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// hook records what reaches a webhook and answers with the next status from statuses.
type hook struct {
	mu       sync.Mutex
	statuses []int
	got      []models.Update
	secrets  []string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var u models.Update
	_ = json.Unmarshal(body, &u)
	h.mu.Lock()
	h.got = append(h.got, u)
	h.secrets = append(h.secrets, r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
	status := http.StatusOK
	if len(h.statuses) > 0 {
		status, h.statuses = h.statuses[0], h.statuses[1:]
	}
	h.mu.Unlock()
	w.WriteHeader(status)
}

func (h *hook) received() ([]models.Update, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]models.Update(nil), h.got...), append([]string(nil), h.secrets...)
}

func TestWebhookDeliveryAndRedelivery(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	h := &hook{statuses: []int{http.StatusInternalServerError}}
	target := httptest.NewServer(h)
	t.Cleanup(target.Close)

	first := srv.SendText(1, 1, "before the webhook")
	b := newBot(t, srv, bot.WithSkipGetMe())
	_, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: target.URL, SecretToken: "s3cret"})
	require.NoError(t, err)
	second := srv.SendText(1, 1, "after")

	require.NoError(t, srv.WaitFor(ctx, func(s *telegramtest.Snapshot) bool { return s.Pending() == 0 }))
	got, secrets := h.received()
	ids := make([]int64, len(got))
	for i, u := range got {
		ids[i] = u.ID
	}
	assert.Equal(t, []int64{first, first, second}, ids, "the 500 is redelivered before the next update")
	assert.Equal(t, []string{"s3cret", "s3cret", "s3cret"}, secrets)

	deliveries := srv.Deliveries()
	require.Len(t, deliveries, 3)
	assert.Equal(t, http.StatusInternalServerError, deliveries[0].Status)
	assert.Contains(t, deliveries[0].Err, "Wrong response from the webhook: 500")
}

func TestWebhookRoundRobinToRealBots(t *testing.T) {
	srv := newServer(t)
	ctx, cancel := context.WithCancel(testContext(t))
	t.Cleanup(cancel)

	// Two replicas of the real bot, each behind its own webhook handler.
	var replicas []*httptest.Server
	for i := range 2 {
		b := newBot(t, srv, bot.WithSkipGetMe(), bot.WithWebhookSecretToken("s3cret"),
			bot.WithDefaultHandler(func(ctx context.Context, b *bot.Bot, u *models.Update) {
				_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "replica " + itoa(int64(i))})
			}))
		go b.StartWebhook(ctx)
		rs := httptest.NewServer(b.WebhookHandler())
		t.Cleanup(rs.Close)
		replicas = append(replicas, rs)
		_, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: rs.URL, SecretToken: "s3cret"})
		require.NoError(t, err)
	}
	srv.SetWebhookTargets(replicas[0].URL, replicas[1].URL)

	for range 4 {
		srv.SendText(5, 5, "hi")
	}
	sent, err := srv.WaitSent(ctx, 5, 4)
	require.NoError(t, err)
	counts := map[string]int{}
	for _, m := range sent {
		counts[m.Text]++
	}
	assert.Equal(t, map[string]int{"replica 0": 2, "replica 1": 2}, counts)
}

// A webhook may answer an update with a Bot API method in its 2xx response's body, as
// Telegram allows: the fake runs it as it would a request, records its effect, and counts it
// apart from the requests; a non-2xx response's body is not read.
func TestWebhookResponseCarriesAMethod(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	var (
		mu     sync.Mutex
		status = []int{http.StatusInternalServerError, http.StatusOK, http.StatusOK, http.StatusOK}
	)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u models.Update
		_ = json.NewDecoder(r.Body).Decode(&u)
		mu.Lock()
		code := status[0]
		status = status[1:]
		mu.Unlock()
		switch {
		case u.CallbackQuery != nil:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_, _ = io.WriteString(w, `{"method":"answerCallbackQuery","callback_query_id":"`+u.CallbackQuery.ID+`","text":"done"}`)
		case u.Message != nil:
			w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
			w.WriteHeader(code)
			_, _ = io.WriteString(w, "method=sendMessage&chat_id="+itoa(u.Message.Chat.ID)+"&text=echo")
		}
	}))
	t.Cleanup(target.Close)
	b := newBot(t, srv, bot.WithSkipGetMe())
	_, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: target.URL})
	require.NoError(t, err)

	press := srv.PressButton(3, 3, 99, "x")
	srv.SendText(3, 3, "hi")
	require.NoError(t, srv.WaitFor(ctx, func(s *telegramtest.Snapshot) bool { return s.Pending() == 0 }))

	answers := srv.CallbackAnswers()
	require.Len(t, answers, 1, "the 500's body is not run; the redelivery's 200 is")
	assert.Equal(t, itoa(press), answers[0].QueryID)
	assert.Equal(t, "done", answers[0].Text)
	sent := srv.Sent(3)
	require.Len(t, sent, 1)
	assert.Equal(t, "echo", sent[0].Text)

	assert.Zero(t, srv.CallCount("answerCallbackQuery"), "no request")
	assert.Zero(t, srv.CallCount("sendMessage"))
	assert.Equal(t, 1, srv.ResponseCount("answerCallbackQuery"))
	assert.Equal(t, 1, srv.ResponseCount("sendmessage"))
	responses := srv.Responses()
	require.Len(t, responses, 2)
	for _, c := range responses {
		assert.True(t, c.InResponse)
		assert.Equal(t, http.StatusOK, c.Code)
		assert.NotContains(t, c.Params, "method")
	}
	assert.Empty(t, srv.CallsTo("answerCallbackQuery"))

	// A harness relaying updates itself hands the bot's response over.
	method, err := srv.RunResponse(ctx, "application/json",
		[]byte(`{"method":"answerCallbackQuery","callback_query_id":"no such query"}`))
	assert.Equal(t, "answerCallbackQuery", method)
	assert.ErrorContains(t, err, "query ID is invalid", "told to the harness, not to the bot")
	method, err = srv.RunResponse(ctx, "", nil)
	assert.Equal(t, "", method)
	assert.NoError(t, err)
	assert.Equal(t, 2, srv.ResponseCount("answerCallbackQuery"))
	assert.Equal(t, 400, srv.Responses()[2].Code, "an unknown query is refused, silently")
	assert.Len(t, srv.CallbackAnswers(), 1)
}
