package miniapp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/miniapp"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// formButton is the web_app button of m, if any.
func formButton(m telegramtest.Message) (url string, ok bool) {
	for _, b := range m.Buttons() {
		if b.WebApp != nil {
			return b.WebApp.URL, true
		}
	}
	return "", false
}

// TestCardQuestionOffersTheForm: with MINIAPP_URL the card question has
// the web_app button opening the form; without it the question says
// nothing of a form and has no such button.
func TestCardQuestionOffersTheForm(t *testing.T) {
	e := newEnv(t)
	m := e.walkToCard(101, "en")
	u, ok := formButton(m)
	require.True(t, ok, "the card question has the form's button: %+v", m.Buttons())
	assert.Equal(t, e.srv.URL+miniapp.Path+"?lang=en", u)
	assert.Contains(t, m.Text, "card form")
	assert.Contains(t, m.Text, "never appears in this chat")

	off := newEnv(t, withoutMiniApp())
	m = off.walkToCard(102, "en")
	_, ok = formButton(m)
	assert.False(t, ok, "no form button without MINIAPP_URL")
	assert.NotContains(t, strings.ToLower(m.Text), "form")
}

// TestSubmittedFormGoesOnInTheChat: launch data made as Telegram makes it
// opens a session (the holder offered from the merchant record), reads the
// bank from the BIN, and the submission goes through the chat's queue: the
// chat shows the card masked and the next unanswered question. The same
// launch again is a replay (409) and changes nothing. No request or
// response body, log line or Redis value holds the number or the phone in
// clear.
func TestSubmittedFormGoesOnInTheChat(t *testing.T) {
	e := newEnv(t)
	const chat = 103
	e.walkToCard(chat, "en")
	launch := e.launch(chat, "en", time.Now())

	status, body := e.post("session", map[string]any{"init_data": launch})
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, "张三", body["holder"])

	status, body = e.post("bin", map[string]any{"init_data": launch, "bin": card[:10], "length": len(card), "lang": "en"})
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, true, body["known"])
	assert.Equal(t, true, body["debit"])
	assert.Contains(t, body["bank"], "Industrial and Commercial Bank of China")
	status, _ = e.post("bin", map[string]any{"init_data": launch, "bin": card[:11], "length": len(card)})
	assert.Equal(t, http.StatusBadRequest, status, "a BIN is at most 10 digits: the number is never asked about")

	sent := len(e.fake.Sent(chat))
	status, body = e.submit(launch, card, "张三", "上海张江支行", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, map[string]any{"ok": true}, body)
	_, asked := e.formAnswered(chat, sent, map[string]string{
		dialogs.StepCard: card, dialogs.StepHolder: "张三", dialogs.StepBranch: "上海张江支行"})
	assert.False(t, asked.Asks(dialogs.StepSummary), "the form left the phone open")

	status, body = e.submit(launch, card, "", "", "")
	assert.Equal(t, http.StatusConflict, status)
	assert.Equal(t, "replayed", body["error"])
	// The same launch with its hash in capitals signs the same: still a replay.
	before, hash, found := strings.Cut(launch, "hash=")
	require.True(t, found)
	hashValue, after, _ := strings.Cut(hash, "&")
	if after != "" {
		after = "&" + after
	}
	upper := before + "hash=" + strings.ToUpper(hashValue) + after
	require.NotEqual(t, launch, upper)
	status, body = e.submit(upper, card, "", "", "")
	assert.Equal(t, http.StatusConflict, status, "the hash's case makes no new launch")
	assert.Equal(t, "replayed", body["error"])
	status, body = e.post("session", map[string]any{"init_data": launch})
	assert.Equal(t, http.StatusConflict, status, "the page opened again with a launch sent already is told so")
	assert.Equal(t, "replayed", body["error"])
	e.walkTo(chat, dialogs.StepSummary, samples) // the chat goes on, typed
	st := e.state(chat)
	assert.Equal(t, card, st.Secrets.CardNumber)
	assert.Equal(t, "上海张江支行", st.Branch)
	assert.Equal(t, phone, st.Secrets.ReservedPhone)

	var outbound []string
	for _, m := range e.fake.Sent(chat) {
		outbound = append(outbound, m.Text)
	}
	stored, err := redistest.Dump(context.Background(), e.rdb, e.prefix)
	require.NoError(t, err)
	require.NotEmpty(t, stored)
	for _, in := range []string{card, phone} {
		assert.Empty(t, leaktest.Leaks(in, e.bodies.String()), "the form's API bodies hold %s", in)
		assert.Empty(t, leaktest.Leaks(in, e.logs.String()), "the log holds %s", in)
		assert.Empty(t, leaktest.Leaks(in, stored...), "Redis holds %s in clear", in)
		assert.Empty(t, leaktest.Leaks(in, e.scrape()), "the metrics hold %s", in)
	}
	assert.Contains(t, e.scrape(), `kind="form"`, "the form's turn is counted like any update")
	assert.Empty(t, leaktest.Leaks(card, outbound...), "the chat shows the card in clear")
	assert.Contains(t, e.bodies.String(), `"form":{"data":`, "the bodies recorded are the form's")

	// A sealed form opens only with the launch it was made for.
	other := e.launch(chat, "en", time.Now())
	form, err := miniapp.Seal(e.fake.Token(), launch, card, "", "", "")
	require.NoError(t, err)
	status, body = e.post("submit", map[string]any{"init_data": other, "form": form})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid", body["error"])
}

// TestRefusedFormsChangeNothing: forged and stale launch data (401),
// launch data of another user or a chat not at the card question (403):
// refused with a reason, and the chat neither changes nor hears anything.
func TestRefusedFormsChangeNothing(t *testing.T) {
	e := newEnv(t)
	const chat = 104
	e.walkToCard(chat, "en")
	before := *e.state(chat)
	sent := len(e.fake.Sent(chat))

	good := e.launch(chat, "en", time.Now())
	cases := []struct {
		name   string
		launch string
		status int
		reason string
	}{
		{"another bot's token", launchFor("999:other-bots-token", chat, "en", time.Now()), http.StatusUnauthorized, "forged"},
		{"a field changed", strings.Replace(good, "Merchant", "Someone", 1), http.StatusUnauthorized, "forged"},
		{"the hash cut", good[:len(good)-2], http.StatusUnauthorized, "forged"},
		{"no launch data", "", http.StatusUnauthorized, "forged"},
		{"over an hour old", e.launch(chat, "en", time.Now().Add(-miniapp.MaxAge-time.Minute)), http.StatusUnauthorized, "stale"},
		{"dated in the future", e.launch(chat, "en", time.Now().Add(10*time.Minute)), http.StatusUnauthorized, "stale"},
		{"a user without a dialog", e.launch(chat+1, "en", time.Now()), http.StatusForbidden, "other_chat"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := e.post("session", map[string]any{"init_data": c.launch})
			assert.Equal(t, c.status, status, "session")
			assert.Equal(t, c.reason, body["error"], "session")
			status, body = e.submit(c.launch, card, "张三", "", "")
			assert.Equal(t, c.status, status, "submit")
			assert.Equal(t, c.reason, body["error"], "submit")
		})
	}
	// A form wrongly queued would be applied before a later update of the
	// chat: once /help is answered, anything it did would show.
	e.settledAfterHelp(chat, sent, before)

	// Past the card question the form is closed.
	e.fake.SendText(chat, chat, card)
	e.waitText(chat, "Please type the card holder's name")
	sent = len(e.fake.Sent(chat))
	before = *e.state(chat)
	status, body := e.submit(good, card, "张三", "", "")
	assert.Equal(t, http.StatusForbidden, status)
	assert.Equal(t, "not_at_card", body["error"])
	e.settledAfterHelp(chat, sent, before)
}

// settledAfterHelp sends /help and, once it is answered, checks that the
// chat heard nothing but the help since sent and that its answers are as
// before.
func (e *env) settledAfterHelp(chat int64, sent int, before dialogs.State) {
	e.t.Helper()
	e.fake.SendCommand(chat, chat, "/help")
	e.waitFor("the help", func(s *telegramtest.Snapshot) bool {
		for _, m := range s.Sent(chat)[sent:] {
			if strings.Contains(m.Text, "You are at:") {
				return true
			}
		}
		return false
	})
	after := *e.state(chat)
	assert.Equal(e.t, before.Step, after.Step, "a refused form changes nothing")
	assert.Equal(e.t, before.Secrets, after.Secrets, "a refused form changes nothing")
	assert.Equal(e.t, before.Holder, after.Holder, "a refused form changes nothing")
	assert.Equal(e.t, before.Branch, after.Branch, "a refused form changes nothing")
	for _, m := range e.fake.Sent(chat)[sent:] {
		assert.NotContains(e.t, m.Text, "noted", "a refused form says nothing in the chat")
		assert.NotContains(e.t, m.Text, "card form you sent", "a refused form says nothing in the chat")
	}
}

// TestFormQueuedAfterTheChatMovedOn: a form that the handler let through
// at the card question but that reaches the queue after a typed card (the
// chat moved on meanwhile) is refused by the dialog in the chat, nothing
// of it taken.
func TestFormQueuedAfterTheChatMovedOn(t *testing.T) {
	e := newEnv(t)
	const chat = 105
	e.walkToCard(chat, "en")
	e.fake.SendText(chat, chat, card)
	e.waitText(chat, "Please type the card holder's name")
	_, err := e.writer.PostForm(context.Background(), chat, "", dialogs.Form{Card: "6222021234567890128", Holder: "张三", Branch: "x"}, "en")
	require.NoError(t, err)
	e.waitFor("the form refused", func(s *telegramtest.Snapshot) bool {
		for _, m := range s.Sent(chat) {
			if strings.Contains(m.Text, "moved past the card question") {
				return true
			}
		}
		return false
	})
	st := e.state(chat)
	assert.Equal(t, dialogs.StepHolder, st.Step)
	assert.Empty(t, st.Holder)
	assert.Empty(t, st.Branch)
}

// TestPageIsItsOwn: every file of the page is served with the security
// headers; the page holds no inline script or style and loads nothing
// from another origin, so the CSP (default-src 'self') holds.
func TestPageIsItsOwn(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"", "app.js", "app.css"} {
		res, err := http.Get(e.srv.URL + miniapp.Path + path)
		require.NoError(t, err)
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body := string(raw)
		require.Equal(t, http.StatusOK, res.StatusCode, path)
		h := res.Header
		assert.Equal(t, "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self' https://web.telegram.org",
			h.Get("Content-Security-Policy"), path)
		assert.Equal(t, "no-store", h.Get("Cache-Control"), path)
		assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"), path)
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
		for _, foreign := range []string{"http://", "https://", "//cdn", "telegram-web-app.js\"", "eval("} {
			code := body
			if path == "app.js" { // its comments cite Telegram's documentation
				var lines []string
				for _, l := range strings.Split(body, "\n") {
					if !strings.HasPrefix(strings.TrimSpace(l), "//") {
						lines = append(lines, l)
					}
				}
				code = strings.Join(lines, "\n")
			}
			assert.NotContains(t, code, foreign, "%s loads from elsewhere", path)
		}
		if path == "" {
			assert.Equal(t, strings.Count(body, "<script"), strings.Count(body, `<script src="app.js" defer></script>`),
				"every script is a file of the page")
			assert.NotContains(t, body, "style=", "no inline style")
			assert.NotContains(t, body, "<style", "no inline style")
			assert.Contains(t, body, `inputmode="numeric"`, "the card number gets a numeric keypad")
			for _, id := range []string{"card", "holder", "branch", "phone"} {
				assert.Contains(t, body, `<label for="`+id+`"`, "the %s field is labelled", id)
			}
		}
	}
	res, err := http.Post(e.srv.URL+miniapp.Path+"api/submit", "application/json", strings.NewReader(`{"init_data":"x","card":"`+card+`"}`))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode, "a field in clear is not a field of the form")
	res, err = http.Get(e.srv.URL + miniapp.Path + "api/submit?card=" + card)
	require.NoError(t, err)
	res.Body.Close()
	assert.NotEqual(t, http.StatusOK, res.StatusCode, "the API takes no GET")
}

// A card number written in the form the way merchants write it — grouped
// with dashes, full-width digits — is read as the chat reads it typed
// (parse.Digits), not refused as malformed; its BIN too.
func TestFormReadsTheCardAsTheChatDoes(t *testing.T) {
	e := newEnv(t)
	const chat = 107
	e.walkToCard(chat, "en")
	launch := e.launch(chat, "en", time.Now())
	written := toFullWidth(card[:4]) + "-" + card[4:8] + " " + card[8:12] + "-" + card[12:]

	status, body := e.post("bin", map[string]any{"init_data": launch, "bin": toFullWidth(card[:6]), "length": len(card), "lang": "en"})
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Contains(t, body["bank"], "Industrial and Commercial Bank of China")

	sent := len(e.fake.Sent(chat))
	status, body = e.submit(launch, written, "张三", "上海张江支行", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	e.formAnswered(chat, sent, map[string]string{
		dialogs.StepCard: card, dialogs.StepHolder: "张三", dialogs.StepBranch: "上海张江支行"})
	assert.Equal(t, card, e.state(chat).Secrets.CardNumber)
}

// A number written with dots, as the chat takes it (parse.FindCard).
func TestFormReadsADottedCardAsTheChatDoes(t *testing.T) {
	e := newEnv(t)
	const chat = 108
	e.walkToCard(chat, "en")
	launch := e.launch(chat, "en", time.Now())
	written := card[:4] + "." + card[4:8] + "．" + card[8:12] + "." + card[12:]
	sent := len(e.fake.Sent(chat))
	status, body := e.submit(launch, written, "张三", "上海张江支行", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	e.formAnswered(chat, sent, map[string]string{
		dialogs.StepCard: card, dialogs.StepHolder: "张三", dialogs.StepBranch: "上海张江支行"})
	assert.Equal(t, card, e.state(chat).Secrets.CardNumber)
}

func toFullWidth(ascii string) string {
	var b strings.Builder
	for _, r := range ascii {
		b.WriteRune(r - '0' + '０')
	}
	return b.String()
}

// flakyChats fails ChatState while down is set, as Redis out of reach would.
type flakyChats struct {
	miniapp.Chats
	down *atomic.Bool
}

func (f flakyChats) ChatState(ctx context.Context, chat int64) (*dialogs.State, error) {
	if f.down.Load() {
		return nil, errors.New("redis: connection refused")
	}
	return f.Chats.ChatState(ctx, chat)
}

// TestSubmitWhileTheChatCannotBeRead: a submission refused because the
// chat's state could not be read (503: the page says nothing was taken,
// try again) gives its launch back, so the retry goes through instead of
// being called a replay.
func TestSubmitWhileTheChatCannotBeRead(t *testing.T) {
	var down atomic.Bool
	e := newEnv(t, func(c *envConfig) {
		c.chats = func(in miniapp.Chats) miniapp.Chats { return flakyChats{Chats: in, down: &down} }
	})
	const chat = 109
	e.walkToCard(chat, "en")
	launch := e.launch(chat, "en", time.Now())
	status, body := e.post("session", map[string]any{"init_data": launch})
	require.Equal(t, http.StatusOK, status, "%v", body)

	down.Store(true)
	status, body = e.submit(launch, card, "张三", "上海张江支行", "")
	require.Equal(t, http.StatusServiceUnavailable, status, "%v", body)
	down.Store(false)
	status, body = e.submit(launch, card, "张三", "上海张江支行", "")
	assert.Equal(t, http.StatusOK, status, "the retry the page asked for goes through: %v", body)
}
