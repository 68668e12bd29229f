package miniapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/bot"
	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/metrics"
	"github.com/merchantbot/merchantbot/bot/miniapp"
	"github.com/merchantbot/merchantbot/bot/sender"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/internal/guidedtest"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
	"github.com/merchantbot/merchantbot/locales"
)

// The card the tests type (ICBC, debit, 19 digits, Luhn valid) and its
// mask as the chat shows it.
const (
	card       = "6222021234567890128"
	cardMasked = "622202*********0128"
	phone      = "13912345678"
	merchantNo = "822100050110001"
)

// env is one bot process with the card form: the real pipeline (bot.Bot,
// chatq on the test Redis, the dialog on the sandbox acquirer) against the
// fake Bot API, its HTTP handler (health and the form) on 127.0.0.1.
type env struct {
	t      *testing.T
	fake   *telegramtest.Server
	rdb    *redis.Client
	prefix string
	q      *chatq.Redis
	cipher *store.Cipher
	bot    *bot.Bot
	writer *bot.Writer
	srv    *httptest.Server
	logs   *syncBuffer
	bodies *syncBuffer // every request and response body of the form's API
	scrape func() string
}

type envConfig struct {
	miniApp bool
	now     func() time.Time
	chats   func(miniapp.Chats) miniapp.Chats // wraps what the form's handler reads and posts through
}

type envOption func(*envConfig)

// withoutMiniApp runs the bot without MINIAPP_URL.
func withoutMiniApp() envOption { return func(c *envConfig) { c.miniApp = false } }

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	cfg := envConfig{miniApp: true, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	rdb, prefix := redistest.New(t)
	fake := telegramtest.New()
	t.Cleanup(fake.Close)
	cipher, err := store.NewCipher(store.RandomKey())
	require.NoError(t, err)
	catalog, err := locales.Load()
	require.NoError(t, err)
	bins, err := cardbin.Load()
	require.NoError(t, err)
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	roomy := sender.Limits{Global: redis_rate.PerSecond(1000), PerChat: redis_rate.PerSecond(1000), PerGroup: redis_rate.PerSecond(1000)}
	send := sender.New(rdb, sender.WithPrefix(prefix+"rl:"), sender.WithLimits(roomy), sender.WithLogger(log),
		sender.WithMaxWait(time.Second))
	q := chatq.New(rdb, chatq.WithPrefix(prefix), chatq.WithBlockedKey(send.BlockedKey))
	require.NoError(t, q.Preload(context.Background()))
	engine := dialogs.NewEngine(sandbox.New(sandbox.WithCodes(func() string { return "123456" })), bins)
	writer := bot.NewWriter(q, cipher)
	m := metrics.New()
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	srv.Start()
	t.Cleanup(srv.Close)
	opts2 := []bot.Option{bot.WithServerURL(fake.URL()), bot.WithLogger(log), bot.WithPollTimeout(2 * time.Second),
		bot.WithRetry(10*time.Millisecond, 100*time.Millisecond), bot.WithSweep(50*time.Millisecond, 500*time.Millisecond),
		bot.WithWriter(writer), bot.WithMetrics(m)}
	if cfg.miniApp {
		// Telegram opens https only; the test's browser reaches the same
		// handler over plain http on 127.0.0.1.
		opts2 = append(opts2, bot.WithMiniApp(srv.URL))
	}
	b, err := bot.New(fake.Token(), engine, catalog, q, cipher, send, opts2...)
	require.NoError(t, err)
	e := &env{t: t, fake: fake, rdb: rdb, prefix: prefix, q: q, cipher: cipher, bot: b, writer: writer, srv: srv,
		logs: logs, bodies: &syncBuffer{}, scrape: func() string {
			rec := httptest.NewRecorder()
			m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			return rec.Body.String()
		}}
	mux.Handle("/", b.Handler("", ""))
	if cfg.miniApp {
		var chats miniapp.Chats = writer
		if cfg.chats != nil {
			chats = cfg.chats(chats)
		}
		h, err := miniapp.New(fake.Token(), chats, miniapp.NewRedisUsed(rdb, prefix), bins, miniapp.WithLogger(log),
			miniapp.WithClock(cfg.now))
		require.NoError(t, err)
		mux.Handle(miniapp.Path, recordBodies(e.bodies, h))
	}
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, b.Start(ctx))
	go b.Run(ctx)
	polled := make(chan error, 1)
	go func() { polled <- b.Poll(ctx, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-polled:
		case <-time.After(20 * time.Second):
			t.Errorf("Poll did not return")
		}
		if t.Failed() {
			t.Logf("bot log:\n%s", logs.String())
		}
	})
	e.waitFor("the bot polls", func(s *telegramtest.Snapshot) bool { return s.Polling() })
	return e
}

// recordBodies keeps a copy of every request and response body.
func recordBodies(to *syncBuffer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			_, _ = to.Write(append(body, '\n'))
			r.Body = io.NopCloser(bytes.NewReader(body))
			w = &teeWriter{ResponseWriter: w, to: to}
		}
		next.ServeHTTP(w, r)
	})
}

type teeWriter struct {
	http.ResponseWriter
	to *syncBuffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	_, _ = w.to.Write(p)
	return w.ResponseWriter.Write(p)
}

func (e *env) waitFor(what string, cond func(*telegramtest.Snapshot) bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.fake.WaitFor(ctx, cond); err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// waitText waits until the bot's latest message in chat contains want.
func (e *env) waitText(chat int64, want string) telegramtest.Message {
	e.t.Helper()
	var got telegramtest.Message
	e.waitFor(fmt.Sprintf("a message with %q in chat %d", want, chat), func(s *telegramtest.Snapshot) bool {
		m, ok := s.LastSent(chat)
		got = m
		return ok && strings.Contains(m.Text, want)
	})
	return got
}

func (e *env) press(chat int64, label string) {
	e.t.Helper()
	_, err := e.fake.PressButtonLabeled(chat, chat, label)
	require.NoError(e.t, err)
}

// The texts the tests wait for, by language.
var texts = map[string]map[string]string{
	"en": {"welcome": "Hello! I help you change the settlement card", "change": "Change settlement card",
		"askNo": "Please type your 15-digit merchant number", "askPhone": "share your phone number",
		"checklist": "Before you change the card", "checksOK": "✅ All of the above are true",
		"consent": "Do you agree?", "agree": "I agree", "askCard": "Please type the number of the new settlement card",
		"askHolder": "Please type the card holder's name", "askBranch": "Please type the branch",
		"summary": "Please check", "form": "Fill in the card form"},
	"zh": {"welcome": "您好", "change": "更换结算卡", "askNo": "15 位商户号", "askPhone": "手机号",
		"checklist": "更换结算卡前", "checksOK": "✅ 以上都已做到，继续", "consent": "您是否同意", "agree": "同意",
		"askCard": "请输入新结算卡卡号", "askHolder": "请输入持卡人姓名", "askBranch": "开户支行",
		"summary": "请核对", "form": "在表单中填写银行卡"},
}

// walkToCard takes chat (merchant 822100050110001, whose client speaks
// lang) to the card question.
func (e *env) walkToCard(chat int64, lang string) telegramtest.Message {
	e.t.Helper()
	tx := texts[lang]
	e.fake.SetUserLanguage(chat, lang)
	e.fake.SendCommand(chat, chat, "/start")
	e.waitText(chat, tx["welcome"])
	e.press(chat, tx["change"])
	e.waitText(chat, tx["askNo"])
	e.fake.SendText(chat, chat, merchantNo)
	e.waitText(chat, tx["askPhone"])
	e.fake.ShareContact(chat, chat, "+8613800000001", chat)
	e.waitText(chat, tx["checklist"])
	e.press(chat, tx["checksOK"])
	e.waitText(chat, tx["consent"])
	e.press(chat, tx["agree"])
	return e.waitText(chat, tx["askCard"])
}

// state is chat's dialog as last committed.
func (e *env) state(chat int64) *dialogs.State {
	e.t.Helper()
	st, err := e.writer.ChatState(context.Background(), chat)
	require.NoError(e.t, err)
	return st
}

// launch is launch data for user, signed with the bot's token as Telegram
// signs it, dated at.
func (e *env) launch(user int64, lang string, at time.Time) string {
	return launchFor(e.fake.Token(), user, lang, at)
}

func launchFor(token string, user int64, lang string, at time.Time) string {
	u, _ := json.Marshal(map[string]any{"id": user, "first_name": "Merchant", "language_code": lang, "allows_write_to_pm": true})
	return miniapp.SignLaunch(url.Values{
		"query_id":  {"AAH" + strconv.FormatInt(user, 10) + strconv.FormatInt(at.UnixNano(), 36)},
		"user":      {string(u)},
		"auth_date": {strconv.FormatInt(at.Unix(), 10)},
	}, token)
}

// post sends body as JSON to the form's API and returns the status and
// the decoded answer.
func (e *env) post(what string, body map[string]any) (int, map[string]any) {
	e.t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(e.t, err)
	res, err := http.Post(e.srv.URL+miniapp.Path+"api/"+what, "application/json", bytes.NewReader(raw))
	require.NoError(e.t, err)
	defer res.Body.Close()
	var out map[string]any
	require.NoError(e.t, json.NewDecoder(res.Body).Decode(&out))
	return res.StatusCode, out
}

// submit seals the fields for e's bot, as the page does, and posts them.
func (e *env) submit(launch, card, holder, branch, phone string) (int, map[string]any) {
	e.t.Helper()
	form, err := miniapp.Seal(e.fake.Token(), launch, card, holder, branch, phone)
	require.NoError(e.t, err)
	return e.post("submit", map[string]any{"init_data": launch, "form": form})
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The chat after a submitted form is read by message id and walked as
// dialogs.Guide() says (internal/guidedtest, the load tool's merchant), so
// a step added among or after the form's fields needs no edit here: the
// tests wait for "the first question the form left open", never for the
// wording of the step that follows its last field today.

// reader reads the bot; the replies to commands and the note on a deleted
// message ask nothing.
var reader = func() *guidedtest.Reader {
	rec, err := guidedtest.NewRecogniser()
	if err != nil {
		panic(err) // the embedded locale files do not parse
	}
	return guidedtest.NewReader(rec, "welcome", "menu", "help", "status_not_bound", "message_deleted")
}()

// read reads one message of the bot (labels of buttons without callback
// data, the form's web_app button, are left blank).
func read(m telegramtest.Message) (guidedtest.Move, error) {
	var labels []string
	for _, b := range m.Buttons() {
		if b.CallbackData == "" {
			labels = append(labels, "")
			continue
		}
		labels = append(labels, b.Text)
	}
	return reader.Read(m.Text, labels)
}

// formFields are the steps the card form has a field for, and where the
// dialog keeps each one's answer.
var formFields = map[string]func(*dialogs.State) string{
	dialogs.StepCard:   func(st *dialogs.State) string { return st.Secrets.CardNumber },
	dialogs.StepHolder: func(st *dialogs.State) string { return st.Holder },
	dialogs.StepBranch: func(st *dialogs.State) string { return st.Branch },
	dialogs.StepPhone:  func(st *dialogs.State) string { return st.Secrets.ReservedPhone },
}

// guideOrder is each guided step's place in the order a merchant meets them.
func guideOrder() map[string]int {
	at := map[string]int{}
	for i, g := range dialogs.Guide() {
		at[g.Step] = i
	}
	return at
}

// formAnswered waits for the chat's answer to a form submitted when chat
// had sent messages, filled being the form's non-empty fields by step,
// and checks what holds wherever the steps are: one message notes the
// card, masked, and asks the first question the form left open — a step
// the form had no value for — and the dialog is at it;
// every field of the form whose step the guide puts before that question
// was answered with its value. It returns the question and its move.
func (e *env) formAnswered(chat int64, sent int, filled map[string]string) (telegramtest.Message, guidedtest.Move) {
	e.t.Helper()
	var lastErr error
	e.waitFor(fmt.Sprintf("a question after the form in chat %d", chat), func(s *telegramtest.Snapshot) bool {
		msgs := s.Sent(chat)
		if len(msgs) < sent+1 {
			return false
		}
		mv, err := read(msgs[len(msgs)-1])
		lastErr = err
		return err == nil && mv.Acts()
	})
	require.NoError(e.t, lastErr)
	msgs := e.fake.Sent(chat)[sent:]
	require.Len(e.t, msgs, 1, "the card noted and the first question the form left open, in one message")
	assert.Contains(e.t, msgs[0].Text, cardMasked)
	mv, err := read(msgs[0])
	require.NoError(e.t, err)
	require.NotEmpty(e.t, mv.Steps, "the message with the card asks a guided step's question: %q", msgs[0].Text)
	order := guideOrder()
	first := len(order)
	for _, s := range mv.Steps {
		_, answered := filled[s]
		assert.False(e.t, answered, "the form answered %s, yet the chat asks it again: %q", s, msgs[0].Text)
		first = min(first, order[s])
	}
	st := e.state(chat)
	assert.Contains(e.t, mv.Steps, st.Step, "the dialog is at the question asked")
	for step, v := range filled {
		if at, guided := order[step]; guided && at < first {
			assert.Equal(e.t, v, formFields[step](st), "the form's %s, asked before the open question, is answered", step)
		}
	}
	return msgs[0], mv
}

// walkTo answers chat's latest question as the guide says (the forward
// button, or the sample of the kind of answer the question takes) until
// the bot asks step; it returns that question.
func (e *env) walkTo(chat int64, step string, samples map[dialogs.AnswerKind]string) telegramtest.Message {
	e.t.Helper()
	from := 0
	for range 30 {
		var (
			msg     telegramtest.Message
			mv      guidedtest.Move
			lastErr error
		)
		e.waitFor(fmt.Sprintf("a question in chat %d", chat), func(s *telegramtest.Snapshot) bool {
			sent := s.Sent(chat)
			if len(sent) <= from {
				return false
			}
			m := sent[len(sent)-1]
			got, err := read(m)
			lastErr = err
			if err != nil || !(got.Acts() || got.Asks(step)) {
				return false
			}
			msg, mv = m, got
			return true
		})
		require.NoError(e.t, lastErr)
		if mv.Asks(step) {
			return msg
		}
		require.False(e.t, mv.Finished, "submitted before the bot asked %s", step)
		from = len(e.fake.Sent(chat))
		if mv.Button >= 0 {
			e.fake.PressButton(chat, chat, msg.ID, msg.Buttons()[mv.Button].CallbackData)
			continue
		}
		text, ok := samples[mv.Answer]
		require.True(e.t, ok, "the bot asks for a %s (%s): add a sample of that kind", mv.Answer, strings.Join(mv.IDs, "+"))
		e.fake.SendText(chat, chat, text)
	}
	e.t.Fatalf("chat %d: the bot did not ask %s after 30 answers", chat, step)
	return telegramtest.Message{}
}

// samples are the answers the merchant types in the chat, the form's
// values where the form has the field.
var samples = map[dialogs.AnswerKind]string{
	dialogs.AnswerHolder:        "张三",
	dialogs.AnswerBank:          "中国工商银行",
	dialogs.AnswerCity:          "上海",
	dialogs.AnswerBranch:        "上海张江支行",
	dialogs.AnswerReservedPhone: phone,
}
