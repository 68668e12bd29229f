package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/handoff"
	"github.com/merchantbot/merchantbot/bot/sender"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
	"github.com/merchantbot/merchantbot/locales"
)

// testRedis returns a client of the test Redis (dialogs/store/redistest)
// counting its round trips, and a key prefix of the test's own; the keys
// are deleted when the test ends.
func testRedis(t testing.TB) (redis.UniversalClient, *redistest.RoundTrips, string) {
	t.Helper()
	var (
		rdb    redis.UniversalClient
		prefix string
	)
	if onCluster {
		rdb, prefix = redistest.NewCluster(t)
	} else {
		rdb, prefix = redistest.New(t)
	}
	rt := &redistest.RoundTrips{}
	rdb.AddHook(rt)
	return rdb, rt, prefix
}

// onCluster makes the harnesses of the tests TestPipelineOnCluster runs
// talk to the test Redis Cluster (set only while it runs them; the bot's
// tests are not parallel).
var onCluster bool

// roomy limits never make a test wait.
var roomy = sender.Limits{
	Global:   redis_rate.PerSecond(1000),
	PerChat:  redis_rate.PerSecond(1000),
	PerGroup: redis_rate.PerSecond(1000),
}

// harness is one bot process: the real *Bot with the real dialog, store,
// sender and Bot API client, against the fake Bot API, the in-process sandbox
// and the real Redis.
type harness struct {
	t       *testing.T
	fake    *telegramtest.Server
	rdb     redis.UniversalClient // the dialog state's client
	state   *redistest.RoundTrips
	sendRT  *redistest.RoundTrips // the sender's client
	cipher  *store.Cipher
	q       *chatq.Redis
	prefix  string
	watch   redis.UniversalClient // uncounted: for waiting on the bot
	bot     *Bot
	send    *sender.Sender
	logs    *syncBuffer
	stopped chan error
	cancel  context.CancelFunc
}

type harnessConfig struct {
	wrap    func(Engine) Engine
	grace   time.Duration
	opts    []Option
	lockTTL time.Duration
	share   *harness // another process of the same deployment: its fake, Redis keys and key
	noPoll  bool     // receives by webhook (Handler) only
	desk    int64    // a support desk in this forum supergroup
	late    time.Duration
	limits  *sender.Limits
	deskRDB redis.Hook // on a client of the desk's own
}

// sendLimits replaces the roomy test budgets.
func sendLimits(l sender.Limits) harnessOption { return func(c *harnessConfig) { c.limits = &l } }

// withDesk attaches a support desk in group, a forum the bot may manage.
func withDesk(group int64) harnessOption { return func(c *harnessConfig) { c.desk = group } }

// deskLate sets how long a hand-off waits for the group before the
// merchant is told (handoff.WithLateAfter).
func deskLate(d time.Duration) harnessOption { return func(c *harnessConfig) { c.late = d } }

// deskRedis gives the desk a Redis client of its own (same keys) with
// hook on it: to fail the desk's Redis and nothing else.
func deskRedis(hook redis.Hook) harnessOption { return func(c *harnessConfig) { c.deskRDB = hook } }

// lockTTL shortens how long the locks of a process that died outlive it.
func lockTTL(d time.Duration) harnessOption { return func(c *harnessConfig) { c.lockTTL = d } }

// replicaOf runs the bot as another process of h's deployment.
func replicaOf(h *harness) harnessOption { return func(c *harnessConfig) { c.share = h } }

// webhookOnly leaves long polling to others: the bot serves Handler only.
func webhookOnly() harnessOption { return func(c *harnessConfig) { c.noPoll = true } }

type harnessOption func(*harnessConfig)

func wrapEngine(w func(Engine) Engine) harnessOption {
	return func(c *harnessConfig) { c.wrap = w }
}

func grace(d time.Duration) harnessOption {
	return func(c *harnessConfig) { c.grace = d }
}

func botOptions(opts ...Option) harnessOption {
	return func(c *harnessConfig) { c.opts = append(c.opts, opts...) }
}

// newHarness starts a bot polling the fake server.
func newHarness(t *testing.T, hopts ...harnessOption) *harness {
	t.Helper()
	cfg := harnessConfig{grace: 5 * time.Second, late: 30 * time.Second}
	for _, o := range hopts {
		o(&cfg)
	}
	rdb, state, prefix := testRedis(t)
	sendRDB, sendRT, _ := testRedis(t)
	watch, _, _ := testRedis(t)
	var (
		fake   *telegramtest.Server
		cipher *store.Cipher
		err    error
	)
	if cfg.share != nil {
		fake, cipher, prefix = cfg.share.fake, cfg.share.cipher, cfg.share.prefix
	} else {
		fake = telegramtest.New()
		t.Cleanup(fake.Close)
		if cipher, err = store.NewCipher(store.RandomKey()); err != nil {
			t.Fatal(err)
		}
	}
	catalog, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	bins, err := cardbin.Load()
	if err != nil {
		t.Fatal(err)
	}
	sb := sandbox.New(sandbox.WithCodes(func() string { return "123456" }))
	var engine Engine = dialogs.NewEngine(sb, bins)
	if cfg.wrap != nil {
		engine = cfg.wrap(engine)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	limits := roomy
	if cfg.limits != nil {
		limits = *cfg.limits
	}
	send := sender.New(sendRDB, sender.WithPrefix(prefix+"rl:"), sender.WithChatTag(chatq.ChatTag), sender.WithLimits(limits), sender.WithLogger(log),
		sender.WithMaxWait(time.Second))
	qopts := []chatq.Option{chatq.WithPrefix(prefix), chatq.WithBlockedKey(send.BlockedKey), chatq.WithSendBudget(sender.TakeLua)}
	if cfg.lockTTL > 0 {
		qopts = append(qopts, chatq.WithLockTTL(cfg.lockTTL))
	}
	q := chatq.New(rdb, qopts...)
	if err := q.Preload(context.Background()); err != nil {
		t.Fatal(err)
	}
	opts := append([]Option{
		WithServerURL(fake.URL()),
		WithLogger(log),
		WithPollTimeout(2 * time.Second),
		WithRetry(10*time.Millisecond, 100*time.Millisecond),
		WithSweep(50*time.Millisecond, 500*time.Millisecond),
	}, cfg.opts...)
	ctx, cancel := context.WithCancel(context.Background())
	writer := NewWriter(q, cipher)
	opts = append(opts, WithWriter(writer))
	var desk *handoff.Desk
	if cfg.desk != 0 {
		fake.SetForum(cfg.desk, true)
		fake.SetChatMember(cfg.desk, fake.BotUser(), models.ChatMemberTypeAdministrator, true)
		client, err := NewClient(fake.Token(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		deskRDB := rdb
		if cfg.deskRDB != nil {
			deskRDB, _, _ = testRedis(t)
			deskRDB.AddHook(cfg.deskRDB)
		}
		desk = handoff.New(client, writer, writer, deskRDB, cfg.desk, catalog, handoff.WithPrefix(prefix),
			handoff.WithBackend(sb), handoff.WithGroupLanguage(locales.English), handoff.WithLogger(log),
			handoff.WithButtons(NewButtonCodec([]byte(fake.Token()))), handoff.WithLateAfter(cfg.late),
			handoff.WithTopicRetry(time.Second), handoff.WithTick(50*time.Millisecond), handoff.WithSender(send))
		if err := desk.Check(ctx); err != nil {
			t.Fatal(err)
		}
		opts = append(opts, WithDesk(desk, cfg.desk, handoff.TagPrefix))
	}
	b, err := New(fake.Token(), engine, catalog, q, cipher, send, opts...)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, fake: fake, rdb: rdb, state: state, sendRT: sendRT, cipher: cipher,
		q: q, prefix: prefix, watch: watch, bot: b, send: send, logs: logs, stopped: make(chan error, 1)}
	h.cancel = cancel
	if desk != nil {
		go func() { _ = desk.Run(ctx) }()
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	go b.Run(ctx)
	if cfg.noPoll {
		go func() {
			<-ctx.Done()
			gctx, cancel := context.WithTimeout(context.Background(), cfg.grace)
			defer cancel()
			_ = b.Drain(gctx)
			h.stopped <- nil
		}()
		return h
	}
	go func() { h.stopped <- b.Poll(ctx, cfg.grace) }()
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			t.Logf("bot log:\n%s", logs.String())
		}
	})
	h.waitFor("the bot polls", func(s *telegramtest.Snapshot) bool { return s.Polling() })
	return h
}

// stop cancels the bot's context and waits until Poll returned.
func (h *harness) stop() {
	h.t.Helper()
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.stopped:
		if err != nil {
			h.t.Errorf("Poll: %v", err)
		}
	case <-time.After(20 * time.Second):
		h.t.Errorf("Poll did not return after cancel")
	}
}

// waitFor waits (up to a generous deadline, never as an assertion on time)
// until cond holds.
func (h *harness) waitFor(what string, cond func(*telegramtest.Snapshot) bool) {
	h.t.Helper()
	waitFor(h.t, h.fake, what, cond)
}

func waitFor(t *testing.T, fake *telegramtest.Server, what string, cond func(*telegramtest.Snapshot) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := fake.WaitFor(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// waitText waits until the bot's latest message in chat contains want.
func (h *harness) waitText(chat int64, want string) telegramtest.Message {
	h.t.Helper()
	var got telegramtest.Message
	h.waitFor(fmt.Sprintf("a message with %q in chat %d", want, chat), func(s *telegramtest.Snapshot) bool {
		m, ok := s.LastSent(chat)
		got = m
		return ok && strings.Contains(m.Text, want)
	})
	return got
}

// waitSent waits until the bot sent at least n messages to chat.
func (h *harness) waitSent(chat int64, n int) []telegramtest.Message {
	h.t.Helper()
	var got []telegramtest.Message
	h.waitFor(fmt.Sprintf("%d messages in chat %d", n, chat), func(s *telegramtest.Snapshot) bool {
		got = s.Sent(chat)
		return len(got) >= n
	})
	return got
}

// waitIdle waits until every update the fake holds was confirmed.
func (h *harness) waitIdle() {
	h.t.Helper()
	h.waitFor("every update confirmed", func(s *telegramtest.Snapshot) bool { return s.Pending() == 0 })
}

// waitDone waits until no chat has work left: the ready set is empty (every
// queue and outbox drained) and no worker or sender runs here.
func (h *harness) waitDone() {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, n, err := chatq.New(h.watch, chatq.WithPrefix(h.prefix)).Depth(context.Background())
		if err != nil {
			h.t.Fatal(err)
		}
		if n == 0 && h.bot.workers.pending() == 0 && h.bot.senders.pending() == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("the bot still has work after 20s (%d chats ready)", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// state reads chat's dialog state.
func (h *harness) stateOf(chat int64) *dialogs.State {
	h.t.Helper()
	rec, err := h.q.State(context.Background(), chat)
	if err != nil {
		h.t.Fatal(err)
	}
	if rec == nil {
		return nil
	}
	st, err := store.DecodeState(h.cipher, chat, rec)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
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
