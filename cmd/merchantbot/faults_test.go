package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// The fault tests (issue 11) run `merchantbot serve` as a serveChild process, so
// that it can be killed as an operator's kill -9 or an OOM killer would:
// no deferred function, no shutdown, no flush. The binary is built once per
// test run (faultBinary); each test gets its own fake Bot API, key prefix
// and, where it restarts Redis, its own redis-server.

var faultBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// TestMain removes the binary the fault tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if faultBin.dir != "" {
		_ = os.RemoveAll(faultBin.dir)
	}
	os.Exit(code)
}

// faultBinary builds merchantbot once for every fault test of this run.
func faultBinary(t *testing.T) string {
	t.Helper()
	faultBin.once.Do(func() {
		faultBin.dir, faultBin.err = os.MkdirTemp("", "merchantbot-faults-")
		if faultBin.err != nil {
			return
		}
		faultBin.path = filepath.Join(faultBin.dir, "merchantbot")
		out, err := exec.Command("go", "build", "-o", faultBin.path, ".").CombinedOutput()
		if err != nil {
			faultBin.err = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	require.NoError(t, faultBin.err)
	return faultBin.path
}

// faultRig is one deployment of the bot as serveChild processes: the fake Bot
// API, a Redis, a key prefix and the environment every process gets.
type faultRig struct {
	t       *testing.T
	bin     string
	fake    *telegramtest.Server
	prefix  string
	env     map[string]string
	webhook bool
	procs   []*serveChild
	// nextAddr is the HTTP_ADDR of the next start, when the test needs
	// to know it before (the sandbox pushes events there).
	nextAddr string
}

func newFaultRig(t *testing.T, webhook bool, fakeOpts ...telegramtest.Option) *faultRig {
	t.Helper()
	bin := faultBinary(t)
	fake := telegramtest.New(append([]telegramtest.Option{
		telegramtest.WithWebhookBackoff(20*time.Millisecond, 200*time.Millisecond)}, fakeOpts...)...)
	t.Cleanup(fake.Close)
	rdb, prefix := redistest.New(t)
	_ = rdb
	var k [32]byte
	_, _ = rand.Read(k[:])
	r := &faultRig{t: t, bin: bin, fake: fake, prefix: prefix, webhook: webhook, env: map[string]string{
		"TELEGRAM_TOKEN":   fake.Token(),
		"TELEGRAM_API_URL": fake.URL(),
		"REDIS_URL":        redistest.URL(),
		"REDIS_PREFIX":     prefix,
		"BACKEND_URL":      "sandbox",
		"DATA_KEY":         hex.EncodeToString(k[:]),
		"SANDBOX_CODE":     "123456",
		"LOG_LEVEL":        "info",
		// The fake enforces no limits; Telegram's 1 message a second per
		// chat would make 50 merchants walk for minutes.
		"SEND_RATE":      "10000",
		"SEND_RATE_CHAT": "10000",
	}}
	if webhook {
		r.env["WEBHOOK_SECRET"] = "s3cret-" + rand.Text()[:10]
	}
	return r
}

// serveChild is one `merchantbot serve` process.
type serveChild struct {
	cmd    *exec.Cmd
	addr   string
	stdout string // file: the sandbox's "SMS"
	stderr string // file: the JSON log
	exited chan struct{}
}

// start runs a new serve process and waits until it serves /healthz (and,
// in webhook mode, registered its webhook).
func (r *faultRig) start() *serveChild {
	t := r.t
	t.Helper()
	dir := t.TempDir()
	addr := r.nextAddr
	if addr == "" {
		addr = freeAddr(t)
	}
	r.nextAddr = ""
	c := &serveChild{addr: addr, stdout: filepath.Join(dir, "stdout"), stderr: filepath.Join(dir, "stderr"),
		exited: make(chan struct{})}
	env := os.Environ()
	for k, v := range r.env {
		env = append(env, k+"="+v)
	}
	env = append(env, "HTTP_ADDR="+c.addr)
	if r.webhook {
		env = append(env, "WEBHOOK_URL=http://"+c.addr+"/telegram/webhook")
	}
	out, err := os.Create(c.stdout)
	require.NoError(t, err)
	errf, err := os.Create(c.stderr)
	require.NoError(t, err)
	setWebhooks := r.fake.CallCount("setWebhook")
	c.cmd = exec.Command(r.bin, "serve")
	c.cmd.Env, c.cmd.Stdout, c.cmd.Stderr = env, out, errf
	require.NoError(t, c.cmd.Start())
	go func() {
		_ = c.cmd.Wait()
		out.Close()
		errf.Close()
		close(c.exited)
	}()
	r.procs = append(r.procs, c)
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			t.Logf("serve %s log (tail):\n%s", c.addr, tail(c.logs(), 40))
		}
	})
	r.waitHealthy(c)
	if r.webhook {
		r.waitFor("setWebhook", func(s *telegramtest.Snapshot) bool { return s.CallCount("setWebhook") > setWebhooks })
	}
	return c
}

func (r *faultRig) waitHealthy(c *serveChild) {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if httpOK("http://" + c.addr + "/healthz") {
			return
		}
		select {
		case <-c.exited:
			r.t.Fatalf("serve exited before serving:\n%s", tail(c.logs(), 40))
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("serve never answered /healthz:\n%s", tail(c.logs(), 40))
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
}

// kill ends the process with SIGKILL and waits until it is gone.
func (c *serveChild) kill() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
}

// term ends the process as an orchestrator would (SIGTERM) and waits.
func (c *serveChild) term() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		c.kill()
	}
}

func (c *serveChild) logs() string {
	b, _ := os.ReadFile(c.stderr)
	return string(b)
}

func (r *faultRig) allLogs() string {
	var b strings.Builder
	for _, c := range r.procs {
		b.WriteString(c.logs())
		o, _ := os.ReadFile(c.stdout)
		b.Write(o)
	}
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (r *faultRig) waitFor(what string, cond func(*telegramtest.Snapshot) bool) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	if err := r.fake.WaitFor(ctx, cond); err != nil {
		r.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// walker is a merchant who does each action once the bot answered the one
// before (its latest message holds the action's want), however long a
// fault makes that take, up to a deadline.
type walker struct {
	fake *telegramtest.Server
	chat int64
}

func (w walker) walk(ctx context.Context, steps []action) error {
	m := merchant{d: &deployment{fake: w.fake}, chat: w.chat}
	for i, s := range steps {
		before := len(w.fake.Sent(w.chat))
		if err := s.do(m); err != nil {
			return fmt.Errorf("chat %d, step %d: %w", w.chat, i+1, err)
		}
		err := w.fake.WaitFor(ctx, func(v *telegramtest.Snapshot) bool {
			sent := v.Sent(w.chat)
			return len(sent) > before && strings.Contains(sent[len(sent)-1].Text, s.want)
		})
		if err != nil {
			last, _ := w.fake.LastSent(w.chat)
			return fmt.Errorf("chat %d, step %d: want %q, the bot's latest is %q: %w", w.chat, i+1, s.want, last.Text, err)
		}
	}
	return nil
}

func httpOK(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// walkAll has merchants walk the card change up to the summary at once, as
// the guide says (even chats in Chinese, odd ones in English): no
// application (the sandbox plays one acquirer per process, and a kill
// starts a new one). fault, if set, runs once the bot sent `after` messages
// in all, while they are still walking.
func walkAll(t *testing.T, fake *telegramtest.Server, chats []int64, after int, fault func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	errs := make([]error, len(chats))
	var wg sync.WaitGroup
	for i, chat := range chats {
		lang := "zh-hans"
		if chat%2 == 1 {
			lang = "en"
		}
		g := newGuided(fake, chat, lang)
		wg.Go(func() { errs[i] = g.walk(ctx, asks(dialogs.StepSummary)) })
	}
	if fault != nil {
		err := fake.WaitFor(ctx, func(v *telegramtest.Snapshot) bool { return v.CallCount("sendMessage") >= after })
		require.NoError(t, err)
		fault()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

// botTexts is what the bot sent to chat, in order, as it sent it (a later
// edit, such as a checklist turning into "✅ confirmed", does not hide a
// message that was sent twice), once the fake's call log holds every
// message chat shows (waitLogged).
func botTexts(t *testing.T, fake *telegramtest.Server, chat int64) []string {
	t.Helper()
	waitLogged(t, fake, chat)
	var texts []string
	id := fmt.Sprint(chat)
	for _, c := range fake.CallsTo("sendMessage") {
		if c.Code == http.StatusOK && c.Params.String("chat_id") == id {
			texts = append(texts, c.Params.String("text"))
		}
	}
	return texts
}

// checkTranscript: the bot's messages in chat are exactly want (the
// transcript of a merchant who walked the same flow with no fault): each
// answer once and in order, none missing, none extra. The last messages
// repeated as a block right after them (A A, or A B A B) are the one
// doubling README admits (the process died after Telegram took the calls
// of an outbox batch and before they were marked sent, so the batch goes
// again, at most chatq.OutboxBatch calls): they are counted and reported,
// not failed.
func checkTranscript(t *testing.T, fake *telegramtest.Server, chat int64, want []string) (doubled int) {
	t.Helper()
	var got []string
	texts := botTexts(t, fake, chat)
	for i := 0; i < len(texts); {
		if k := repeats(got, texts[i:]); k > 0 {
			doubled += k
			i += k
			continue
		}
		got = append(got, texts[i])
		i++
	}
	assert.Equal(t, want, got, "chat %d's transcript", chat)
	return doubled
}

// repeats is the length of the shortest block, up to chatq.OutboxBatch
// messages, that both ends got and begins next; 0 when none does.
func repeats(got, next []string) int {
	for k := 1; k <= chatq.OutboxBatch && k <= len(got) && k <= len(next); k++ {
		if slices.Equal(got[len(got)-k:], next[:k]) {
			return k
		}
	}
	return 0
}

// waitLogged waits until the fake's call log holds a sendMessage for every
// message chats show: the fake shows a message (what a walk waits for) a
// moment before it logs the call that sent it.
func waitLogged(t *testing.T, fake *telegramtest.Server, chats ...int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, fake.WaitFor(ctx, func(v *telegramtest.Snapshot) bool {
		for _, chat := range chats {
			logged, id := 0, fmt.Sprint(chat)
			for _, c := range v.CallsTo("sendMessage") {
				if c.Code == http.StatusOK && c.Params.String("chat_id") == id {
					logged++
				}
			}
			if logged < len(v.Sent(chat)) {
				return false
			}
		}
		return true
	}))
}

// references walks one merchant of each language with no fault and
// returns their transcripts: what every merchant of that language must see.
func references(t *testing.T, fake *telegramtest.Server) map[int64][]string {
	t.Helper()
	const zh, en = 100, 101
	walkAll(t, fake, []int64{zh, en}, 0, nil)
	return map[int64][]string{0: botTexts(t, fake, zh), 1: botTexts(t, fake, en)}
}

// oldLease is how long a killed process's chat locks and outbox leases
// held its chats before leases were renewed (and so short): the recovery
// the kill test shows must come well before it.
const oldLease = 30 * time.Second

// TestFaultKill9: SIGKILL while 50 merchants are mid-dialog, then a new
// process: every merchant goes on at the right step and sees each answer
// once, in order (in polling and in webhook mode), and every merchant's
// pending reply arrives within seconds of the restart — the dead process's
// leases run out within chatq.DefaultLockTTL of its last renewal — not after
// the 30 s leases of old.
func TestFaultKill9(t *testing.T) {
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			faultKill9(t, newFaultRig(t, mode == "webhook"), mode)
		})
	}
}

// faultKill9 is TestFaultKill9's run on rig r (one instance or a cluster).
func faultKill9(t *testing.T, r *faultRig, mode string) {
	first := r.start()
	want := references(t, r.fake)
	base := r.fake.CallCount("sendMessage")
	chats := make([]int64, 50)
	for i := range chats {
		chats[i] = int64(1000 + i)
	}
	// Killed a third of the way: every merchant has answers stored
	// and updates in flight (queued, applied but unsent, unacked).
	var killed, restarted time.Time
	walkAll(t, r.fake, chats, base+150, func() {
		first.kill()
		killed = time.Now()
		r.start()
		restarted = time.Now()
	})
	// Each merchant was waiting for a reply when the process died
	// (they act only once answered): the slowest first reply after
	// the kill is how long the deployment took to recover.
	var slowest time.Time
	for _, chat := range chats {
		id := fmt.Sprint(chat)
		for _, c := range r.fake.CallsTo("sendMessage") {
			if c.Code == http.StatusOK && c.Params.String("chat_id") == id && c.At.After(killed) {
				if c.At.After(slowest) {
					slowest = c.At
				}
				break
			}
		}
	}
	require.False(t, slowest.IsZero(), "replies after the kill")
	t.Logf("%s: restarted %.1fs after kill -9; every merchant's pending reply arrived %.1fs after the restart (%.1fs after the kill)",
		mode, restarted.Sub(killed).Seconds(), slowest.Sub(restarted).Seconds(), slowest.Sub(killed).Seconds())
	assert.Less(t, slowest.Sub(killed), oldLease/2, "recovered long before the 30 s leases of old would have let anyone")
	doubled := 0
	for _, chat := range chats {
		n := checkTranscript(t, r.fake, chat, want[chat%2])
		// One batch per chat is in flight at a time: the kill can
		// leave at most its calls sent and unmarked.
		assert.LessOrEqual(t, n, chatq.OutboxBatch, "chat %d: more messages sent twice than one batch holds", chat)
		doubled += n
	}
	t.Logf("%s: %d of %d messages sent twice across the kill (the documented case)",
		mode, doubled, r.fake.CallCount("sendMessage")-base)
}

// answerLoser stands between the bot and the fake Bot API and, while armed,
// lets a sendMessage reach Telegram and then drops the connection before the
// answer: a timeout at its worst, since Telegram did post the message.
type answerLoser struct {
	proxy *httputil.ReverseProxy
	left  atomic.Int32 // answers still to lose
	lost  atomic.Int32
}

func (l *answerLoser) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(strings.ToLower(r.URL.Path), "/sendmessage") || l.left.Add(-1) < 0 {
		l.proxy.ServeHTTP(w, r)
		return
	}
	l.proxy.ServeHTTP(httptest.NewRecorder(), r) // Telegram takes the call
	l.lost.Add(1)
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// TestFaultBotAPI: the Bot API answers 502 to everything for a while, then
// loses the answers of a few sendMessage calls it did carry out: every
// merchant's replies arrive after, once each but for the calls whose
// answers were lost (the bot cannot know Telegram took those; README's
// documented doubling).
func TestFaultBotAPI(t *testing.T) {
	r := newFaultRig(t, false)
	target, err := url.Parse(r.fake.URL())
	require.NoError(t, err)
	loser := &answerLoser{proxy: httputil.NewSingleHostReverseProxy(target)}
	front := httptest.NewServer(loser)
	t.Cleanup(front.Close)
	r.env["TELEGRAM_API_URL"] = front.URL
	r.start()
	want := references(t, r.fake)
	base := r.fake.CallCount("sendMessage")
	chats := make([]int64, 20)
	for i := range chats {
		chats[i] = int64(2000 + i)
	}
	walkAll(t, r.fake, chats, base+40, func() {
		r.fake.SetOutage(http.StatusBadGateway)
		r.waitFor("calls refused by the outage", func(s *telegramtest.Snapshot) bool {
			failed := 0
			for _, c := range s.CallsTo("sendMessage") {
				if c.Code == http.StatusBadGateway {
					failed++
				}
			}
			return failed >= 30
		})
		r.fake.SetOutage(0)
		loser.left.Store(10)
	})
	doubled := 0
	for _, chat := range chats {
		doubled += checkTranscript(t, r.fake, chat, want[chat%2])
	}
	assert.LessOrEqual(t, doubled, int(loser.lost.Load()), "only a call whose answer was lost is sent twice")
	t.Logf("%d answers lost, %d messages sent twice", loser.lost.Load(), doubled)
}

// testRedisServer is a redis-server of the test's own on a free loopback port,
// with append-only persistence, that the test may kill and start again (the
// shared test Redis is never touched).
type testRedisServer struct {
	t      *testing.T
	addr   string
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
}

func startTestRedisServer(t *testing.T) *testRedisServer {
	t.Helper()
	p := &testRedisServer{t: t, addr: freeAddr(t), dir: t.TempDir()}
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *testRedisServer) URL() string { return "redis://" + p.addr + "/0" }

// start runs redis-server on p's port and data directory and waits until it
// answers PING: what it had written to its append-only file is back.
func (p *testRedisServer) start() {
	p.t.Helper()
	_, port, _ := strings.Cut(p.addr, ":")
	p.cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", p.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no")
	logs, err := os.Create(filepath.Join(p.dir, "redis.log"))
	require.NoError(p.t, err)
	p.cmd.Stdout, p.cmd.Stderr = logs, logs
	require.NoError(p.t, p.cmd.Start())
	exited := make(chan struct{})
	p.exited = exited
	go func() { _ = p.cmd.Wait(); logs.Close(); close(exited) }()
	rdb := redis.NewClient(&redis.Options{Addr: p.addr})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(p.dir, "redis.log"))
			p.t.Fatalf("private redis-server did not start:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
}

// kill ends redis-server at once, as a crash would.
func (p *testRedisServer) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
}

// storeDown tells the store_down notice in both languages.
var storeDown = []string{"please try again shortly", "暂时无法保存您的消息"}

func isStoreDown(text string) bool {
	for _, s := range storeDown {
		if strings.Contains(strings.ToLower(text), strings.ToLower(s)) {
			return true
		}
	}
	return false
}

// TestFaultRedisRestart: Redis (append-only, fsync always) is killed while
// 20 merchants walk and started again a moment later. Merchants whose
// message could not be taken in are told once that their progress is safe;
// the same bot process, never restarted, then answers everything once and
// in order.
func TestFaultRedisRestart(t *testing.T) {
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			red := startTestRedisServer(t)
			r := newFaultRig(t, mode == "webhook")
			r.env["REDIS_URL"] = red.URL()
			faultRedisRestart(t, r, red, mode)
		})
	}
}

// restartable is a Redis the test may kill and start again: one server or
// one master of a cluster.
type restartable interface {
	kill()
	start()
}

// faultRedisRestart is TestFaultRedisRestart's run on rig r, whose Redis
// red is killed and started again while 20 merchants walk.
func faultRedisRestart(t *testing.T, r *faultRig, red restartable, mode string) {
	bot := r.start()
	want := references(t, r.fake)
	base := r.fake.CallCount("sendMessage")
	chats := make([]int64, 20)
	for i := range chats {
		chats[i] = int64(3000 + i)
	}
	walkAll(t, r.fake, chats, base+40, func() {
		red.kill()
		if c, ok := red.(interface{ waitDown() }); ok {
			// One master of a cluster: the merchants of the other masters'
			// shards may all be done before the cluster refuses writes,
			// and nobody is then told anything. Down is when it refuses.
			c.waitDown()
			red.start()
			return
		}
		r.waitFor("a merchant told their progress is safe", func(s *telegramtest.Snapshot) bool {
			for _, c := range s.CallsTo("sendMessage") {
				if c.Code == http.StatusOK && isStoreDown(c.Params.String("text")) {
					return true
				}
			}
			return false
		})
		red.start()
	})
	select {
	case <-bot.exited:
		t.Fatal("the bot exited; it must ride out a Redis restart")
	default:
	}
	told := 0
	for _, chat := range chats {
		var rest []string
		notices := 0
		for _, text := range botTexts(t, r.fake, chat) {
			if isStoreDown(text) {
				notices++
				continue
			}
			rest = append(rest, text)
		}
		assert.LessOrEqual(t, notices, 1, "chat %d told more than once in one outage", chat)
		told += notices
		assert.Equal(t, want[chat%2], collapse(rest), "chat %d's transcript", chat)
	}
	t.Logf("%s: %d merchants told their progress is safe", mode, told)
}

// collapse drops a message repeated right after itself: README's doubling.
func collapse(texts []string) []string {
	var out []string
	for _, s := range texts {
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

// faultyAcquirer stands in front of the sandbox's HTTP API and spoils the
// first submission as mode says, after the sandbox took it in: the worst
// case, where the acquirer holds the application and the bot does not know.
type faultyAcquirer struct {
	next    http.Handler
	mode    string // "5xx", "timeout" or "slow"
	hold    time.Duration
	spoiled atomic.Bool
}

func (a *faultyAcquirer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/applications" || a.spoiled.Swap(true) {
		a.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	a.next.ServeHTTP(rec, r)
	switch a.mode {
	case "5xx":
		http.Error(w, `{"code":"unavailable","message":"try later"}`, http.StatusServiceUnavailable)
	case "timeout":
		select { // past the client's timeout: it gives up, the answer is lost
		case <-r.Context().Done():
		case <-time.After(a.hold):
		}
	case "slow":
		time.Sleep(a.hold) // within the client's timeout: merely slow
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}
}

// TestFaultAcquirer: the acquirer answers the submission with a 503, never
// answers it (the client times out) or answers it slowly, each time after
// taking it in. The merchant is told and offered to submit again; submitting
// again (same idempotency key) gives the one application the acquirer
// holds, never a second.
func TestFaultAcquirer(t *testing.T) {
	for _, mode := range []string{"5xx", "timeout", "slow"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			sb := sandbox.New(sandbox.WithCodes(func() string { return "123456" }))
			acq := &faultyAcquirer{next: sandbox.Handler(sb), mode: mode, hold: 2 * time.Second}
			if mode == "timeout" {
				acq.hold = backend.DefaultTimeout + 5*time.Second
			}
			front := httptest.NewServer(acq)
			t.Cleanup(front.Close)
			r := newFaultRig(t, false)
			r.env["BACKEND_URL"] = front.URL
			delete(r.env, "SANDBOX_CODE")
			r.start()
			const chat = 4001 // odd: English
			ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
			defer cancel()
			g := newGuided(r.fake, chat, "en")
			w := walker{r.fake, chat}
			require.NoError(t, g.walk(ctx, asks(dialogs.StepVerify)))
			if mode == "slow" {
				require.NoError(t, g.walk(ctx, submitted))
			} else {
				before := len(botTexts(t, r.fake, chat))
				require.NoError(t, w.walk(ctx, []action{say("123456", "Press the button to submit")}))
				told := botTexts(t, r.fake, chat)[before:]
				assert.True(t, slices.ContainsFunc(told, func(s string) bool { return strings.Contains(s, "not reachable right now") }),
					"the merchant is told: %q", told)
				require.NoError(t, w.walk(ctx, []action{press("Submit", "What would you like to do?")}))
			}
			apps, err := sb.Applications(context.Background(), "822100050110003")
			require.NoError(t, err)
			require.Len(t, apps, 1, "the acquirer holds exactly one application")
			submitted := 0
			for _, text := range botTexts(t, r.fake, chat) {
				if strings.Contains(text, "Submitted!") {
					submitted++
					assert.Contains(t, text, apps[0].ID, "the merchant is given the application the acquirer holds")
				}
			}
			assert.Equal(t, 1, submitted, "told once that it is submitted")
		})
	}
}

// startSandbox runs `merchantbot sandbox` at addr as a serveChild process,
// pushing signed status events to eventsURL after a short review.
func (r *faultRig) startSandbox(addr, eventsURL, secret string) {
	t := r.t
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(r.bin, "sandbox", "-addr", addr, "-review-delay", "1s", "-events-url", eventsURL)
	cmd.Env = append(os.Environ(), "BACKEND_EVENTS_SECRET="+secret, "SANDBOX_CODE="+leakCode, "LOG_LEVEL=debug")
	logs, err := os.Create(filepath.Join(dir, "sandbox.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logs.Close(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	})
	deadline := time.Now().Add(20 * time.Second)
	for !httpOK("http://" + addr + "/healthz") {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logs.Name())
			t.Fatalf("sandbox never answered /healthz:\n%s", b)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
}

// leakCode is the SMS code of TestNoLeak: digits that occur in no card
// number or phone of the flows, searched for with digit boundaries.
const leakCode = "480913"

// secrets are what must never leave the merchant's own chat in clear: the
// card numbers and reserved phone as normalised and as typed, and the code.
var secrets = []*regexp.Regexp{
	regexp.MustCompile(`6222021234567890128`),
	regexp.MustCompile(`6228480000123456782`),
	regexp.MustCompile(`6228-4800-0012-3456-782`),
	regexp.MustCompile(`６２２２ ０２１２ ３４５６ ７８９０ １２８`),
	regexp.MustCompile(`(^|\D)13912345678(\D|$)`),
	regexp.MustCompile(`139-1234-5678`),
	regexp.MustCompile(`(^|\D)` + leakCode + `(\D|$)`),
}

// leakSupport is what the merchant of TestNoLeak writes to the agent: the
// card dotted, the phone starred and the code split, which the regular
// expressions above do not all see; the independent oracle (leaktest)
// reads them in their digit-only forms.
const leakSupport = "my card is 6228.4800.0012.3456.782 and phone *13912345678, code 480 913*"

// TestNoLeak runs whole flows at LOG_LEVEL=debug — a merchant to submitted
// and a status notification pushed by the acquirer; another through a
// support hand-off (typing a card number to the agent) and then to
// submitted — and searches the bot's logs, its /metrics page, every Redis
// key under its prefix, every request it made to the Bot API and every
// message in the support group for a card number, the reserved phone or
// the code.
func TestNoLeak(t *testing.T) {
	const group = -1009876543210
	r := newFaultRig(t, false)
	secret := "events-" + rand.Text()
	sbAddr, botAddr := freeAddr(t), freeAddr(t)
	r.env["BACKEND_URL"] = "http://" + sbAddr
	r.env["BACKEND_EVENTS_SECRET"] = secret
	r.env["SUPPORT_CHAT_ID"] = fmt.Sprint(group)
	r.env["LOG_LEVEL"] = "debug"
	delete(r.env, "SANDBOX_CODE")
	r.fake.SetForum(group, true)
	r.fake.SetChatMember(group, r.fake.BotUser(), models.ChatMemberTypeAdministrator, true)
	agent := models.User{ID: 4243, FirstName: "Agent"}
	r.fake.SetChatMember(group, agent, models.ChatMemberTypeAdministrator, false)
	r.startSandbox(sbAddr, "http://"+botAddr+"/backend/events", secret)
	r.nextAddr = botAddr
	bot := r.start()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	const a, b = 5000, 5001
	zh, en := newGuided(r.fake, a, "zh-hans"), newGuided(r.fake, b, "en")
	zh.persona = zh.with(dialogs.AnswerCode, "验证码是 "+leakCode)
	en.persona = en.with(dialogs.AnswerCode, "验证码是 "+leakCode)
	var wg sync.WaitGroup
	var errA, errB error
	wg.Go(func() { errA = zh.walk(ctx, submitted) })
	wg.Go(func() {
		if errB = en.walk(ctx, asks(dialogs.StepSummary)); errB != nil {
			return
		}
		r.fake.SendCommand(b, b, "/support")
		if errB = r.fake.WaitFor(ctx, func(s *telegramtest.Snapshot) bool { return len(s.Topics(group)) == 1 }); errB != nil {
			return
		}
		thread := r.fake.Topics(group)[0].ThreadID
		r.fake.SendText(b, b, leakSupport)
		if errB = r.fake.WaitFor(ctx, func(s *telegramtest.Snapshot) bool {
			for _, m := range s.Sent(group) {
				if strings.Contains(m.Text, "6782") && m.ThreadID == thread {
					return true
				}
			}
			return false
		}); errB != nil {
			return
		}
		r.fake.Send(group, agent.ID, telegramtest.UserMessage{Thread: thread, Text: "/claim"})
		r.fake.Send(group, agent.ID, telegramtest.UserMessage{Thread: thread, Text: "Please never send the code here."})
		if errB = r.fake.WaitFor(ctx, func(s *telegramtest.Snapshot) bool {
			last, ok := s.LastSent(b)
			return ok && strings.Contains(last.Text, "never send the code")
		}); errB != nil {
			return
		}
		r.fake.Send(group, agent.ID, telegramtest.UserMessage{Thread: thread, Text: "/close"})
		if errB = r.fake.WaitFor(ctx, func(s *telegramtest.Snapshot) bool {
			last, ok := s.LastSent(b)
			return ok && strings.Contains(last.Text, "Please check your application")
		}); errB != nil {
			return
		}
		errB = en.walk(ctx, submitted)
	})
	wg.Wait()
	require.NoError(t, errA)
	require.NoError(t, errB)
	// The acquirer reviews in a second and pushes the decision: each
	// merchant hears of it.
	for _, chat := range []int64{a, b} {
		require.NoError(t, r.fake.WaitFor(ctx, func(s *telegramtest.Snapshot) bool { return notified(s, chat) }),
			"chat %d never notified", chat)
	}
	require.Contains(t, bot.logs(), `"level":"DEBUG"`, "the log ran at debug level")
	require.Contains(t, bot.logs(), "event", "the decision came as a pushed event")

	var hay []struct{ where, text string }
	add := func(where, text string) { hay = append(hay, struct{ where, text string }{where, text}) }
	resp, err := http.Get("http://" + bot.addr + "/metrics")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	add("/metrics", string(page))
	add("bot log", bot.logs())
	out, _ := os.ReadFile(bot.stdout)
	add("bot stdout", string(out))
	for _, c := range r.fake.Calls() {
		for k, v := range c.Params {
			add("Bot API "+c.Method+" "+k, v)
		}
	}
	for _, m := range r.fake.Transcript(group) {
		add("support group", m.Text+"\n"+m.Caption)
	}
	rdb := redistest.Client(t)
	keys := 0
	for _, pattern := range []string{r.prefix + "*", "rate:" + r.prefix + "*"} {
		iter := rdb.Scan(context.Background(), 0, pattern, 500).Iterator()
		for iter.Next(context.Background()) {
			keys++
			key := iter.Val()
			add("redis key", key)
			add("redis "+key, redisValue(t, rdb, key))
		}
		require.NoError(t, iter.Err())
	}
	require.NotZero(t, keys, "the dump found the deployment's keys")
	for _, h := range hay {
		for _, in := range []string{leakSupport, "6222021234567890128", "6228480000123456782", "13912345678", leakCode} {
			if leaks := leaktest.Leaks(in, h.text); len(leaks) > 0 {
				t.Errorf("%s holds %q (of %q)", h.where, leaks, in)
			}
		}
		for _, s := range secrets {
			if loc := s.FindStringIndex(h.text); loc != nil {
				from, to := max(loc[0]-60, 0), min(loc[1]+60, len(h.text))
				t.Errorf("%s holds %s: …%s…", h.where, s, h.text[from:to])
			}
		}
	}
	t.Logf("searched %d texts: logs (%d bytes), /metrics, %d Redis keys, %d Bot API calls, %d support-group messages",
		len(hay), len(bot.logs()), keys, len(r.fake.Calls()), len(r.fake.Transcript(group)))
}

// notified: the acquirer's decision reached chat (a message after the
// submission naming the new status).
func notified(s *telegramtest.Snapshot, chat int64) bool {
	for _, m := range s.Sent(chat) {
		if strings.Contains(m.Text, "pproved") || strings.Contains(m.Text, "已通过") {
			return true
		}
	}
	return false
}

// redisValue reads a key whatever its type, as text.
func redisValue(t *testing.T, rdb *redis.Client, key string) string {
	ctx := context.Background()
	typ, err := rdb.Type(ctx, key).Result()
	require.NoError(t, err)
	var v any
	switch typ {
	case "string":
		v, err = rdb.Get(ctx, key).Result()
	case "list":
		v, err = rdb.LRange(ctx, key, 0, -1).Result()
	case "set":
		v, err = rdb.SMembers(ctx, key).Result()
	case "zset":
		v, err = rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
	case "hash":
		v, err = rdb.HGetAll(ctx, key).Result()
	case "stream":
		v, err = rdb.XRange(ctx, key, "-", "+").Result()
	case "none":
		return ""
	default:
		t.Errorf("redis key %s of type %s not read", key, typ)
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		require.NoError(t, err)
	}
	return fmt.Sprintf("%v", v)
}

// TestFaultRedisEmpty: Redis comes back empty (its data lost) while
// merchants are half-way. One who types their next answer, and one who
// presses a button of an earlier message, are told their earlier answers
// are gone and offered to start again, not shown a bare menu or a "stale
// button"; starting again works, in the same bot process.
func TestFaultRedisEmpty(t *testing.T) {
	red := startTestRedisServer(t)
	r := newFaultRig(t, false)
	r.env["REDIS_URL"] = red.URL()
	bot := r.start()
	const typer, presser = 6000, 6001 // zh, en
	walkAll(t, r.fake, []int64{typer}, 0, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	p := newGuided(r.fake, presser, "en")
	require.NoError(t, p.walk(ctx, asks(dialogs.StepChecklist)))
	red.kill()
	red.dir = t.TempDir()
	red.start()

	require.NoError(t, walker{r.fake, typer}.walk(ctx, []action{say("上海张江支行", "我这里已经没有您之前填写的内容")}))
	require.NoError(t, walker{r.fake, presser}.walk(ctx, []action{press("✅ All of the above are true", "I no longer have your earlier answers")}))
	for _, chat := range []int64{typer, presser} {
		last, _ := r.fake.LastSent(chat)
		_, ok := last.Button(map[int64]string{typer: "更换结算卡", presser: "Change settlement card"}[chat])
		assert.True(t, ok, "chat %d is offered to start again: %q", chat, last.Text)
	}
	require.NoError(t, p.walk(ctx, asks(dialogs.StepChecklist)), "starting again works")
	select {
	case <-bot.exited:
		t.Fatal("the bot exited")
	default:
	}
}
