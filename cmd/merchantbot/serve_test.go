package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/sender"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/internal/guidedtest"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// The end-to-end tests run the real `merchantbot serve` (run with a stub
// getenv) against the fake Bot API, the in-process sandbox with fixed SMS
// codes, and the real Redis under a key prefix of the test's own. They wait
// on conditions (with deadlines), never on time.

// deployment is what replicas of one bot share: the fake Bot API, Redis and
// the environment.
type deployment struct {
	t      *testing.T
	fake   *telegramtest.Server
	rdb    *redis.Client
	prefix string
	key    string // DATA_KEY, hex
	env    map[string]string
	q      *chatq.Redis  // the chat record the replicas commit
	cipher *store.Cipher // seals its state as DATA_KEY does
}

func newDeployment(t *testing.T, webhook bool) *deployment {
	t.Helper()
	fake := telegramtest.New()
	t.Cleanup(fake.Close)
	rdb, prefix := redistest.New(t) // its keys go after the replicas, which are stopped first
	var k [32]byte
	_, _ = rand.Read(k[:])
	key := hex.EncodeToString(k[:])
	cipher, err := store.NewCipher(k[:])
	require.NoError(t, err)
	d := &deployment{
		t: t, fake: fake, rdb: rdb, prefix: prefix, key: key,
		q: chatq.New(rdb, chatq.WithPrefix(prefix)), cipher: cipher,
		env: map[string]string{
			"TELEGRAM_TOKEN":   fake.Token(),
			"TELEGRAM_API_URL": fake.URL(),
			"REDIS_URL":        redistest.URL(),
			"BACKEND_URL":      "sandbox",
			"REDIS_PREFIX":     prefix,
			"DATA_KEY":         key,
			"SANDBOX_CODE":     "123456",
			"LOG_LEVEL":        "debug",
		},
	}
	if webhook {
		d.env["WEBHOOK_SECRET"] = "s3cret-" + rand.Text()[:10]
	}
	return d
}

// replica is one running `merchantbot serve`.
type replica struct {
	addr   string
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// start runs one replica and waits until it serves /healthz and receives
// updates.
func (d *deployment) start() *replica {
	t := d.t
	t.Helper()
	r := &replica{addr: freeAddr(t), logs: &syncBuffer{}, done: make(chan error, 1)}
	env := map[string]string{"HTTP_ADDR": r.addr}
	for k, v := range d.env {
		env[k] = v
	}
	if _, ok := env["WEBHOOK_SECRET"]; ok {
		env["WEBHOOK_URL"] = "http://" + r.addr + "/telegram/webhook"
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	setWebhooks := d.fake.CallCount("setWebhook")
	go func() {
		r.done <- run(ctx, []string{"merchantbot", "serve"}, func(k string) string { return env[k] },
			strings.NewReader(""), &syncBuffer{}, r.logs)
	}()
	t.Cleanup(func() {
		r.stop(t)
		d.checkLogs(r)
		if t.Failed() {
			t.Logf("replica %s log:\n%s", r.addr, r.logs.String())
		}
	})
	waitHTTP(t, r, "http://"+r.addr+"/healthz")
	if _, ok := env["WEBHOOK_URL"]; ok {
		d.waitFor("setWebhook", func(s *telegramtest.Snapshot) bool { return s.CallCount("setWebhook") > setWebhooks })
	}
	return r
}

// stop ends the replica as SIGTERM would and waits until run returned.
func (r *replica) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		assert.NoError(t, err, "run returned an error")
	case <-time.After(30 * time.Second):
		t.Errorf("run did not return after cancel")
	}
}

// checkLogs: no token, no data key, no card number in any log line.
func (d *deployment) checkLogs(r *replica) {
	logs := r.logs.String()
	for _, secret := range []string{d.fake.Token(), d.key, "6222021234567890128", "6228480000123456782", "13912345678"} {
		assert.NotContains(d.t, logs, secret, "a secret in the log")
	}
	if s, ok := d.env["WEBHOOK_SECRET"]; ok {
		assert.NotContains(d.t, logs, s, "the webhook secret in the log")
	}
	if key := d.env["BACKEND_API_KEY"]; key != "" {
		assert.NotContains(d.t, logs, key, "the acquirer's API key in the log")
	}
	// The sandbox's "SMS" go to stdout as marked plain lines, as a phone
	// would get them; a log line never holds a verification code.
	code := d.env["SANDBOX_CODE"]
	for _, line := range strings.Split(logs, "\n") {
		if strings.HasPrefix(line, "{") && code != "" {
			assert.NotContains(d.t, line, code, "a verification code in a log line")
		}
	}
}

func waitHTTP(t *testing.T, r *replica, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-r.done:
			t.Fatalf("serve stopped before serving %s: %v\n%s", url, err, r.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered 200: %v\n%s", url, err, r.logs.String())
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not asserting on time
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func (d *deployment) waitFor(what string, cond func(*telegramtest.Snapshot) bool) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	if err := d.fake.WaitFor(ctx, cond); err != nil {
		d.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// settle waits until every update so far was applied and answered:
// Telegram (the fake) holds none unconfirmed (the bot confirms an update
// once it is stored in its chat's queue), and every chat's queue and
// outbox in Redis are empty (applied, and every reply sent).
func (d *deployment) settle() error {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	if err := d.fake.WaitFor(ctx, func(s *telegramtest.Snapshot) bool { return s.Pending() == 0 }); err != nil {
		return err
	}
	for {
		_, n, err := chatq.New(d.rdb, chatq.WithPrefix(d.prefix)).Depth(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d chats still have work: %w", n, ctx.Err())
		case <-time.After(5 * time.Millisecond): // polling a condition, not asserting on time
		}
	}
}

func (d *deployment) state(chat int64) *dialogs.State {
	d.t.Helper()
	rec, err := d.q.State(context.Background(), chat)
	require.NoError(d.t, err)
	if rec == nil {
		return nil
	}
	st, err := store.DecodeState(d.cipher, chat, rec)
	require.NoError(d.t, err)
	return st
}

// merchant is one person in a private chat with the bot, walking the
// dialog as the guide says (guided_test.go).
type merchant struct {
	d    *deployment
	chat int64
	g    *guided
}

func (d *deployment) merchant(chat int64, lang string) merchant {
	return merchant{d: d, chat: chat, g: newGuided(d.fake, chat, lang)}
}

// action is one thing the merchant does and what the bot's latest message
// must then say: the scripted moves of a test, off the guide's way.
type action struct {
	do   func(m merchant) error
	want string
}

func say(text, want string) action {
	return action{func(m merchant) error { m.d.fake.SendText(m.chat, m.chat, text); return nil }, want}
}

func command(c, want string) action {
	return action{func(m merchant) error { m.d.fake.SendCommand(m.chat, m.chat, c); return nil }, want}
}

func press(label, want string) action {
	return action{func(m merchant) error {
		_, err := m.d.fake.PressButtonLabeled(m.chat, m.chat, label)
		return err
	}, want}
}

// walk does each action once the one before it was applied. It returns an
// error rather than failing the test, so that merchants can walk at once.
func (m merchant) walk(steps []action) error {
	for i, s := range steps {
		if err := s.do(m); err != nil {
			return fmt.Errorf("chat %d, step %d: %w", m.chat, i+1, err)
		}
		if err := m.d.settle(); err != nil {
			return fmt.Errorf("chat %d, step %d: not applied: %w", m.chat, i+1, err)
		}
		last, ok := m.d.fake.LastSent(m.chat)
		if !ok || !strings.Contains(last.Text, s.want) {
			return fmt.Errorf("chat %d, step %d: the bot said %q, want %q", m.chat, i+1, last.Text, s.want)
		}
	}
	return nil
}

func (m merchant) mustWalk(steps []action) {
	m.d.t.Helper()
	require.NoError(m.d.t, m.walk(steps))
}

// walkTo walks as the guide says until stop (asks(step), submitted).
func (m merchant) walkTo(stop func(guidedtest.Move) bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	if err := m.g.walk(ctx, stop); err != nil {
		return err
	}
	return m.d.settle() // every reply sent (a menu follows the submission)
}

func (m merchant) mustWalkTo(stop func(guidedtest.Move) bool) {
	m.d.t.Helper()
	require.NoError(m.d.t, m.walkTo(stop))
}

// TestServeCardChange walks the whole card change in Chinese and English
// (DESIGN.md §2's actions, no forced wait),
// by long polling and by webhook: two deployments, two merchants each, all
// four walking at once (each chat is held to Telegram's one message a
// second, so walking them one after another would take minutes).
func TestServeCardChange(t *testing.T) {
	t.Parallel()
	type walker struct {
		d                       *deployment
		m                       merchant
		name, masked, submitted string
	}
	var walkers []walker
	for _, mode := range []string{"polling", "webhook"} {
		d := newDeployment(t, mode == "webhook")
		d.start()
		walkers = append(walkers,
			walker{d, d.merchant(8001, "zh-hans"), "zh/" + mode, "622202*********0128", "提交成功"},
			walker{d, d.merchant(8002, "en"), "en/" + mode, "622848*********6782", "Submitted!"})
	}
	errs := make([]error, len(walkers))
	var wg sync.WaitGroup
	for i, w := range walkers {
		wg.Go(func() { errs[i] = w.m.walkTo(submitted) })
	}
	wg.Wait()
	for i, w := range walkers {
		t.Run(w.name, func(t *testing.T) {
			require.NoError(t, errs[i])
			fake, chat := w.d.fake, w.m.chat
			sent := fake.Sent(chat)
			require.NotEmpty(t, sent)
			assert.Contains(t, sent[len(sent)-1].Text, w.submitted, "the submission, the menu after it")
			assert.Contains(t, sent[len(sent)-1].Text, w.masked)
			assert.Len(t, fake.Deleted(chat), 1, "the card number message was deleted")
			for _, msg := range fake.Transcript(chat) {
				assert.NotRegexp(t, `\d{16}`, strings.NewReplacer(" ", "", "-", "").Replace(msg.Text),
					"a full card number in the chat")
			}
			st := w.d.state(chat)
			require.NotNil(t, st)
			assert.Equal(t, dialogs.StepMenu, st.Step)
			assert.NotEmpty(t, st.LastApp)
			assert.True(t, st.Secrets.Empty(), "card data wiped after submit")
			answered, pressed := 0, 0
			for _, a := range fake.CallbackAnswers() {
				if a.Text == "" {
					answered++
				}
			}
			for _, o := range walkers {
				if o.d == w.d {
					pressed += o.m.g.presses
				}
			}
			assert.Equal(t, pressed, answered, "every button of both merchants answered once (the English one types the holder)")
		})
	}
	polling, webhook := walkers[0].d.fake, walkers[2].d.fake
	assert.Zero(t, polling.CallCount("setWebhook"))
	assert.Zero(t, webhook.CallCount("getUpdates"))
}

// TestServeDoubleTapAndStale: two quick taps of one button apply it once;
// a button of an earlier step is answered politely and changes nothing.
func TestServeDoubleTapAndStale(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, false)
	d.start()
	m := d.merchant(8003, "en")
	m.mustWalkTo(asks(dialogs.StepMenu))
	welcome, _ := d.fake.LastSent(m.chat)
	change, ok := welcome.Button("Change settlement card")
	require.True(t, ok)
	d.fake.PressButton(m.chat, m.chat, welcome.ID, change.CallbackData)
	d.fake.PressButton(m.chat, m.chat, welcome.ID, change.CallbackData)
	require.NoError(t, d.settle())
	st := d.state(m.chat)
	assert.Equal(t, dialogs.StepMerchant, st.Step)
	status, ok := welcome.Button("Check review status")
	require.True(t, ok)
	d.fake.PressButton(m.chat, m.chat, welcome.ID, status.CallbackData)
	require.NoError(t, d.settle())
	assert.Equal(t, st.Seq, d.state(m.chat).Seq, "a stale button changes nothing")
	for _, msg := range d.fake.Sent(m.chat) {
		assert.NotContains(t, msg.Text, "That button belongs to an earlier step", "told on the button, not in the chat")
	}
	stale := 0
	for _, a := range d.fake.CallbackAnswers() {
		if strings.Contains(a.Text, "That button belongs to an earlier step") {
			stale++
		}
	}
	assert.Equal(t, 2, stale, "the second tap and the old button are told so")
	assert.Len(t, d.fake.CallbackAnswers(), 3, "every tap answered once")
}

// TestServeForgedWebhook: a request with a missing or wrong secret gets 401
// and is not applied.
func TestServeForgedWebhook(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, true)
	r := d.start()
	const victim = 8004
	forged := fmt.Sprintf(`{"update_id":999999,"message":{"message_id":1,"date":1,
		"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"X"},
		"text":"/start","entities":[{"type":"bot_command","offset":0,"length":6}]}}`, victim, victim)
	for _, secret := range []string{"", "wrong", d.env["WEBHOOK_SECRET"] + "x"} {
		req, err := http.NewRequest(http.MethodPost, "http://"+r.addr+"/telegram/webhook", strings.NewReader(forged))
		require.NoError(t, err)
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "secret %q", secret)
	}
	// The bot is alive and applies what Telegram sends.
	d.merchant(8005, "en").mustWalkTo(asks(dialogs.StepMenu))
	assert.Empty(t, d.fake.Sent(victim))
	assert.Nil(t, d.state(victim))
}

// TestServeRestartMidDialog stops the process at the consent question and
// starts a new one: the merchant continues at the same step, with the
// buttons already on screen.
func TestServeRestartMidDialog(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, false)
	first := d.start()
	m := d.merchant(8006, "en")
	m.mustWalkTo(asks(dialogs.StepConsent)) // identified, prerequisites confirmed
	first.stop(t)
	st := d.state(m.chat)
	require.Equal(t, dialogs.StepConsent, st.Step)
	require.False(t, st.Consent)

	d.start()
	m.mustWalkTo(asks(dialogs.StepHolder)) // consent, then the card
	st = d.state(m.chat)
	assert.Equal(t, dialogs.StepHolder, st.Step)
	assert.True(t, st.Consent)
}

// TestServeSupportWithoutDesk: with no SUPPORT_CHAT_ID nobody reads a
// hand-off, so /support gives the acquirer's hotline (ACQUIRER_HOTLINE)
// and the merchant stays at the question they were at: no "you are
// connected to support" after "nobody will read this", and /help promises
// no agent.
func TestServeSupportWithoutDesk(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, false)
	d.env["ACQUIRER_HOTLINE"] = "95516"
	d.start()
	m := d.merchant(8010, "en")
	m.mustWalkTo(asks(dialogs.StepCard)) // at the card question
	before := len(d.fake.Sent(m.chat))
	m.mustWalk([]action{
		command("/support", "Please type the number of the new settlement card"),
		command("/help", "Please type the number of the new settlement card"),
	})
	var said []string
	for _, msg := range d.fake.Sent(m.chat)[before:] {
		said = append(said, msg.Text)
	}
	all := strings.Join(said, "\n")
	assert.Contains(t, all, "customer service: 95516")
	assert.NotContains(t, all, "connected to support")
	assert.NotContains(t, all, "nobody will read")
	assert.NotContains(t, all, "support agent will answer")
	assert.Equal(t, dialogs.StepCard, d.state(m.chat).Step)
}

// TestServeTokenRevoked: a token Telegram stops accepting (401) ends serve
// with an error naming TELEGRAM_TOKEN (main exits 1), instead of a process
// that logs "stopping" and runs on until SIGTERM: by getUpdates' 401 in
// long polling, by the 401 of the reply to a webhook update in webhook mode.
func TestServeTokenRevoked(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			d := newDeployment(t, mode == "webhook")
			r := d.start()
			if mode == "polling" {
				d.fake.FailNext("getUpdates", http.StatusUnauthorized, "", 0, 1_000_000)
				d.fake.SendCommand(9101, 9101, "/start") // ends the long poll under way
			} else {
				d.fake.SetOutage(http.StatusUnauthorized)
				d.fake.SendCommand(9101, 9101, "/start")
			}
			select {
			case err := <-r.done:
				require.Error(t, err)
				assert.ErrorContains(t, err, "TELEGRAM_TOKEN")
				assert.ErrorContains(t, err, "revoked")
				assert.NotContains(t, err.Error(), d.fake.Token())
			case <-time.After(30 * time.Second):
				t.Fatal("serve runs on with a revoked token")
			}
			r.cancel()
			r.cancel = nil // run returned: nothing left to stop
		})
	}
}

// TestServeTwoReplicas: two processes share one Redis and one Bot API and
// take a burst of 20 updates from one merchant, sitting at the branch
// question. The burst alternates a branch name and /back: applied once each
// and in order, it leaves the merchant at the branch question with the last
// name, after exactly 20 replies, the i-th /back showing the i-th name.
// Applied out of order, a name lands on the phone question (an error reply),
// /back goes back too far, or a /back shows another name; applied twice, an
// extra reply appears.
func TestServeTwoReplicas(t *testing.T) {
	t.Parallel()
	d := newDeployment(t, false)
	const chat = 8007
	d.atBranchQuestion(chat)
	a, b := d.start(), d.start()
	d.fake.SetUserLanguage(chat, "en")

	for i := 1; i <= 10; i++ {
		d.fake.SendText(chat, chat, fmt.Sprintf("第%d支行", i))
		d.fake.SendCommand(chat, chat, "/back")
	}
	require.NoError(t, d.settle())
	d.waitFor("20 replies", func(s *telegramtest.Snapshot) bool { return len(s.Sent(chat)) >= 20 })
	a.stop(t) // both drain: every reply that was going to be sent is sent
	b.stop(t)

	st := d.state(chat)
	assert.Equal(t, dialogs.StepBranch, st.Step)
	assert.Equal(t, "第10支行", st.Branch)
	replies := d.fake.Sent(chat)
	assert.Len(t, replies, 20, "one reply per update")
	shown := map[string]int{}
	asked := 0
	for _, r := range replies {
		switch {
		case strings.Contains(r.Text, "the bank has on file for this card"):
			asked++
		case strings.Contains(r.Text, "Current answer: "):
			var name string
			_, err := fmt.Sscanf(r.Text[strings.Index(r.Text, "Current answer: ")+len("Current answer: "):], "%s", &name)
			require.NoError(t, err, r.Text)
			shown[name]++
		default:
			t.Errorf("unexpected reply %q", r.Text)
		}
	}
	assert.Equal(t, 10, asked)
	for i := 1; i <= 10; i++ {
		assert.Equal(t, 1, shown[fmt.Sprintf("第%d支行", i)], "the /back after branch %d", i)
	}
	t.Logf("updates applied by replica a: %d, by b: %d",
		strings.Count(a.logs.String(), `"msg":"update applied"`), strings.Count(b.logs.String(), `"msg":"update applied"`))
}

// atBranchQuestion stores chat's dialog as it is after the card, holder
// and bank were given (a fixture: the flow up to there is walked elsewhere).
func (d *deployment) atBranchQuestion(chat int64) {
	d.t.Helper()
	ctx := context.Background()
	st := &dialogs.State{
		Step: dialogs.StepBranch, Seq: 30, Lang: "en",
		MerchantNo: "822100050110001", MerchantName: "张三", Bound: true, PhoneOnFile: "138****0001",
		DraftID: "fixture", Consent: true, CardType: "DC", BankCode: "ICBC", BankName: "中国工商银行", Holder: "张三",
		Touched: time.Now(),
		Secrets: dialogs.Secrets{CardNumber: "6222021234567890128"},
	}
	rec, err := store.EncodeState(d.cipher, chat, st)
	require.NoError(d.t, err)
	require.NoError(d.t, d.rdb.Set(ctx, d.q.StateKey(chat), rec, st.TTL()).Err())
}

// TestServeConfig: every bad setting is named, and no secret is quoted.
func TestServeConfig(t *testing.T) {
	good := map[string]string{
		"TELEGRAM_TOKEN": "123456:AAabc_DEF-ghi",
		"REDIS_URL":      "redis://127.0.0.1:6379/0",
		"DATA_KEY":       strings.Repeat("ab", 32),
		"BACKEND_URL":    "sandbox",
	}
	acquirer := map[string]string{"BACKEND_URL": "https://acquirer.example.com/api", "SANDBOX_CODE": ""}
	tests := []struct {
		name  string
		env   map[string]string // over good
		want  string
		quote string // must not appear in the error
	}{
		{"token missing", map[string]string{"TELEGRAM_TOKEN": ""}, "TELEGRAM_TOKEN: required", ""},
		{"token malformed", map[string]string{"TELEGRAM_TOKEN": "secret-token-value"}, "TELEGRAM_TOKEN: not a bot token", "secret-token-value"},
		{"api url", map[string]string{"TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL", ""},
		{"redis missing", map[string]string{"REDIS_URL": ""}, "REDIS_URL: required", ""},
		{"redis malformed", map[string]string{"REDIS_URL": "http://x"}, "REDIS_URL", ""},
		{"redis prefix with a hash tag", map[string]string{"REDIS_PREFIX": "mb{1}:"}, "REDIS_PREFIX: must not hold { or }", ""},
		{"redis cluster url", map[string]string{"REDIS_URL": "redis://127.0.0.1:7101?addr=127.0.0.1:7102&addr=127.0.0.1:7103"}, "", ""},
		{"backend missing", map[string]string{"BACKEND_URL": ""}, `BACKEND_URL: required (the acquirer API's URL, or "sandbox"`, ""},
		{"backend url", map[string]string{"BACKEND_URL": "localhost:8081"}, "BACKEND_URL", ""},
		{"backend url misspelt sandbox", map[string]string{"BACKEND_URL": "Sandbox"}, "BACKEND_URL", ""},
		{"api key with the sandbox", map[string]string{"BACKEND_API_KEY": "k3y-value"}, "BACKEND_API_KEY: not used with BACKEND_URL=sandbox", "k3y-value"},
		{"api key with a space", map[string]string{"BACKEND_URL": acquirer["BACKEND_URL"], "BACKEND_API_KEY": "two words"}, "BACKEND_API_KEY", "two words"},
		{"an acquirer without sandbox settings", acquirer, "", ""},
		{"sandbox code set with an acquirer", map[string]string{"BACKEND_URL": acquirer["BACKEND_URL"], "SANDBOX_CODE": "123456"}, "SANDBOX_CODE: only used with BACKEND_URL=sandbox", ""},
		{"sandbox resend with an acquirer", map[string]string{"BACKEND_URL": acquirer["BACKEND_URL"], "SANDBOX_RESEND_AFTER": "0s"}, "SANDBOX_RESEND_AFTER: only used with BACKEND_URL=sandbox", ""},
		{"sandbox api key", map[string]string{"SANDBOX_API_KEY": "k3y-value"}, "SANDBOX_API_KEY: used by `merchantbot sandbox` only", "k3y-value"},
		{"sandbox code", map[string]string{"SANDBOX_CODE": "12ab56"}, "SANDBOX_CODE", ""},
		{"support chat positive", map[string]string{"SUPPORT_CHAT_ID": "12345"}, "SUPPORT_CHAT_ID", ""},
		{"support chat not a number", map[string]string{"SUPPORT_CHAT_ID": "@support"}, "SUPPORT_CHAT_ID", ""},
		{"webhook url without secret", map[string]string{"WEBHOOK_URL": "https://bot.example.com/tg"}, "WEBHOOK_SECRET: required", ""},
		{"webhook secret without url", map[string]string{"WEBHOOK_SECRET": "abc"}, "WEBHOOK_URL: required", ""},
		{"webhook url on the events path", map[string]string{"WEBHOOK_URL": "https://bot.example.com/backend/events", "WEBHOOK_SECRET": "abc"}, "WEBHOOK_URL: path \"/backend/events\" is taken", ""},
		{"webhook url on the metrics path", map[string]string{"WEBHOOK_URL": "https://bot.example.com/metrics", "WEBHOOK_SECRET": "abc"}, "WEBHOOK_URL: path \"/metrics\" is taken", ""},
		{"webhook url over http", map[string]string{"WEBHOOK_URL": "http://bot.example.com/tg", "WEBHOOK_SECRET": "abc"}, "WEBHOOK_URL: \"http://bot.example.com/tg\" is http", ""},
		{"webhook url over http to a self-hosted Bot API", map[string]string{"WEBHOOK_URL": "http://bot.internal/tg", "WEBHOOK_SECRET": "abc", "TELEGRAM_API_URL": "http://bot-api.internal:8081"}, "", ""},
		{"support hours without a support chat", map[string]string{"SUPPORT_HOURS": "Mon-Fri 09:00-18:00"}, "SUPPORT_HOURS: only used with SUPPORT_CHAT_ID", ""},
		{"support tz without a support chat", map[string]string{"SUPPORT_TZ": "Asia/Shanghai"}, "SUPPORT_TZ: only used with SUPPORT_CHAT_ID", ""},
		{"support sign without a support chat", map[string]string{"SUPPORT_SIGN": "true"}, "SUPPORT_SIGN: only used with SUPPORT_CHAT_ID", ""},
		{"support reannounce without a support chat", map[string]string{"SUPPORT_REANNOUNCE": "5m"}, "SUPPORT_REANNOUNCE: only used with SUPPORT_CHAT_ID", ""},
		{"support lang without a support chat", map[string]string{"SUPPORT_LANG": "en"}, "SUPPORT_LANG: only used with SUPPORT_CHAT_ID", ""},
		{"support settings with a support chat", map[string]string{"SUPPORT_CHAT_ID": "-1001234567890", "SUPPORT_LANG": "en", "SUPPORT_SIGN": "true"}, "", ""},
		{"http addr", map[string]string{"HTTP_ADDR": "8080"}, "HTTP_ADDR", ""},
		{"data key missing", map[string]string{"DATA_KEY": ""}, "DATA_KEY: required", ""},
		{"data key short", map[string]string{"DATA_KEY": "c2hvcnQ="}, "DATA_KEY", "c2hvcnQ="},
		{"data key blank", map[string]string{"DATA_KEY": "  "}, "DATA_KEY: required", ""},
		{"old data key short", map[string]string{"DATA_KEY_OLD": strings.Repeat("cd", 32) + ",c2hvcnQ="}, "DATA_KEY_OLD: key 2", "c2hvcnQ="},
		{"events secret short", map[string]string{"BACKEND_EVENTS_SECRET": "abc"}, "BACKEND_EVENTS_SECRET", ""},
		{"send rate negative", map[string]string{"SEND_RATE": "-1"}, "SEND_RATE:", ""},
		{"send rate not a number", map[string]string{"SEND_RATE": "30/s"}, "SEND_RATE:", ""},
		{"send rate beyond reason", map[string]string{"SEND_RATE": "1e9"}, "SEND_RATE:", ""},
		{"send rate NaN", map[string]string{"SEND_RATE": "NaN"}, "SEND_RATE:", ""},
		{"chat send rate", map[string]string{"SEND_RATE_CHAT": "fast"}, "SEND_RATE_CHAT:", ""},
		{"chat send rate negative", map[string]string{"SEND_RATE_CHAT": "-0.5"}, "SEND_RATE_CHAT:", ""},
		{"log level", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL", ""},
		{"sms with the sandbox", map[string]string{"SMS": "log"}, "SMS: not used: the acquirer at BACKEND_URL sends its own SMS codes", ""},
		{"sms webhook with an acquirer", map[string]string{"BACKEND_URL": acquirer["BACKEND_URL"], "SMS_WEBHOOK_SECRET": "s3cret-value"}, "SMS_WEBHOOK_SECRET: not used", "s3cret-value"},
		{"mini app over http", map[string]string{"MINIAPP_URL": "http://bot.example.com"}, "MINIAPP_URL: \"http://bot.example.com\" is not https", ""},
		{"mini app not a url", map[string]string{"MINIAPP_URL": "bot.example.com"}, "MINIAPP_URL:", ""},
		{"mini app with the form's path", map[string]string{"MINIAPP_URL": "https://bot.example.com/miniapp/"}, "MINIAPP_URL:", ""},
		{"mini app with a query", map[string]string{"MINIAPP_URL": "https://bot.example.com/?x=1"}, "MINIAPP_URL:", ""},
		{"mini app", map[string]string{"MINIAPP_URL": "https://bot.example.com/"}, "", ""},
		{"webhook under the form's path", map[string]string{"MINIAPP_URL": "https://bot.example.com", "WEBHOOK_URL": "https://bot.example.com/miniapp/tg", "WEBHOOK_SECRET": "abc"}, "WEBHOOK_URL: path \"/miniapp/tg\" is taken by the card form", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range good {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := loadServeConfig(func(k string) string { return env[k] })
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			if tt.name == "log level" { // read by run before the rest
				err = run(context.Background(), []string{"merchantbot", "serve"}, func(k string) string { return env[k] },
					strings.NewReader(""), &syncBuffer{}, &syncBuffer{})
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "AAabc_DEF")
			if tt.quote != "" {
				assert.NotContains(t, err.Error(), tt.quote)
			}
		})
	}
	t.Run("serve refuses to start without BACKEND_URL", func(t *testing.T) {
		env := map[string]string{}
		for k, v := range good {
			env[k] = v
		}
		delete(env, "BACKEND_URL")
		var stdout, stderr syncBuffer
		err := run(context.Background(), []string{"merchantbot", "serve"}, func(k string) string { return env[k] },
			strings.NewReader(""), &stdout, &stderr)
		require.ErrorContains(t, err, "BACKEND_URL: required")
		assert.NotContains(t, stderr.String()+stdout.String(), "sandbox acquirer", "no sandbox was started")
	})
	t.Run("token rejected by Telegram", func(t *testing.T) {
		d := newDeployment(t, false)
		env := map[string]string{"TELEGRAM_TOKEN": "42:wrongTokenForThisServer", "HTTP_ADDR": freeAddr(t)}
		for k, v := range d.env {
			if _, set := env[k]; !set {
				env[k] = v
			}
		}
		err := run(context.Background(), []string{"merchantbot", "serve"}, func(k string) string { return env[k] },
			strings.NewReader(""), &syncBuffer{}, &syncBuffer{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "TELEGRAM_TOKEN: telegram rejected the bot token")
		assert.NotContains(t, err.Error(), "wrongTokenForThisServer")
	})
	t.Run("webhook secret shape", func(t *testing.T) {
		env := map[string]string{"WEBHOOK_URL": "https://bot.example.com/tg", "WEBHOOK_SECRET": "has space"}
		for k, v := range good {
			env[k] = v
		}
		_, err := loadServeConfig(func(k string) string { return env[k] })
		require.Error(t, err)
		assert.Contains(t, err.Error(), "WEBHOOK_SECRET")
		assert.NotContains(t, err.Error(), "has space")
	})
	t.Run("defaults", func(t *testing.T) {
		c, err := loadServeConfig(func(k string) string { return good[k] })
		require.NoError(t, err)
		assert.Equal(t, ":8080", c.httpAddr)
		assert.Equal(t, store.DefaultPrefix, c.redisPrefix)
		assert.Empty(t, c.webhookPath)
		assert.Equal(t, backendConfig{}, c.backend, "BACKEND_URL=sandbox: the in-process sandbox")
		assert.Equal(t, sender.DefaultLimits(), c.sendLimits, "Telegram's limits: 30/s, 1/s a chat, 20/min a group")
	})
	t.Run("acquirer, key and send rates", func(t *testing.T) {
		env := map[string]string{"BACKEND_URL": "https://acquirer.example.com/api", "BACKEND_API_KEY": "sk_live-abc.DEF~1",
			"SEND_RATE": "25", "SEND_RATE_CHAT": "2"}
		for k, v := range good {
			if _, set := env[k]; !set {
				env[k] = v
			}
		}
		c, err := loadServeConfig(func(k string) string { return env[k] })
		require.NoError(t, err)
		assert.Equal(t, backendConfig{url: "https://acquirer.example.com/api", apiKey: "sk_live-abc.DEF~1"}, c.backend)
		assert.Equal(t, redis_rate.PerSecond(25), c.sendLimits.Global)
		assert.Equal(t, redis_rate.Limit{Rate: 2, Burst: 3, Period: time.Second}, c.sendLimits.PerChat)
		assert.Equal(t, sender.DefaultLimits().PerGroup, c.sendLimits.PerGroup, "groups keep Telegram's 20 a minute")
		assert.False(t, c.sendLimits.NoGlobal || c.sendLimits.NoPerChat)
	})
	t.Run("send rates: 0 lifts a limit, fractions are kept", func(t *testing.T) {
		for _, tt := range []struct {
			rate, chat          string
			global, perChat     redis_rate.Limit
			noGlobal, noPerChat bool
		}{
			{"0", "0", sender.DefaultLimits().Global, sender.DefaultLimits().PerChat, true, true},
			{"0", "", sender.DefaultLimits().Global, sender.DefaultLimits().PerChat, true, false},
			{"2.5", "0.5",
				redis_rate.Limit{Rate: 1, Burst: 2, Period: 400 * time.Millisecond},
				redis_rate.Limit{Rate: 1, Burst: 3, Period: 2 * time.Second}, false, false},
		} {
			env := map[string]string{"SEND_RATE": tt.rate, "SEND_RATE_CHAT": tt.chat}
			for k, v := range good {
				env[k] = v
			}
			c, err := loadServeConfig(func(k string) string { return env[k] })
			require.NoError(t, err, "SEND_RATE=%q SEND_RATE_CHAT=%q", tt.rate, tt.chat)
			assert.Equal(t, tt.noGlobal, c.sendLimits.NoGlobal, "SEND_RATE=%q", tt.rate)
			assert.Equal(t, tt.noPerChat, c.sendLimits.NoPerChat, "SEND_RATE_CHAT=%q", tt.chat)
			if !tt.noGlobal {
				assert.Equal(t, tt.global, c.sendLimits.Global, "SEND_RATE=%q", tt.rate)
			}
			if !tt.noPerChat {
				assert.Equal(t, tt.perChat, c.sendLimits.PerChat, "SEND_RATE_CHAT=%q", tt.chat)
			}
		}
	})
	t.Run("webhook path", func(t *testing.T) {
		env := map[string]string{"WEBHOOK_URL": "https://bot.example.com/tg/hook", "WEBHOOK_SECRET": "a-b_C"}
		for k, v := range good {
			env[k] = v
		}
		c, err := loadServeConfig(func(k string) string { return env[k] })
		require.NoError(t, err)
		assert.Equal(t, "/tg/hook", c.webhookPath)
	})
}

// TestServeSendsAPIKey: serve with BACKEND_URL set talks to the acquirer
// over HTTP with BACKEND_API_KEY as the bearer token (the sandbox served
// over HTTP refuses a call without it), and never logs the key.
func TestServeSendsAPIKey(t *testing.T) {
	t.Parallel()
	const key = "sk_test_merchantbotKey"
	var calls, authorized atomic.Int64
	api := sandbox.Handler(sandbox.New(), sandbox.RequireAPIKey(key))
	acq := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") == "Bearer "+key {
			authorized.Add(1)
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(acq.Close)
	d := newDeployment(t, false)
	d.env["BACKEND_URL"] = acq.URL
	d.env["BACKEND_API_KEY"] = key
	delete(d.env, "SANDBOX_CODE") // the acquirer's own setting, refused with a real BACKEND_URL
	d.start()
	m := d.merchant(8008, "en")
	m.mustWalkTo(asks(dialogs.StepChecklist)) // the merchant number and the shared contact are checked by the acquirer
	assert.Positive(t, calls.Load())
	assert.Equal(t, calls.Load(), authorized.Load(), "every call carries the key")
	assert.True(t, d.state(m.chat).Bound)
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
