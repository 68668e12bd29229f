package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/notify"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

const (
	chatID = int64(4242)
	delay  = 2 * time.Minute
	secret = "events-secret"
)

// world is the sandbox acquirer over HTTP pushing to the bot's events
// handler, the notifier on real Redis, and a chat bound to 张三.
type world struct {
	t      *testing.T
	clk    *clock
	sb     *sandbox.Sandbox
	api    *backend.Client
	n      *notify.Notifier
	pipe   *pipeline
	events *httptest.Server
	pushed chan backend.Receipt
}

func newWorld(t *testing.T, lang string) *world {
	t.Helper()
	rdb, prefix := testRedis(t)
	w := &world{t: t, clk: &clock{t: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)}, pushed: make(chan backend.Receipt, 100)}
	w.sb = sandbox.New(sandbox.WithClock(w.clk.Now), sandbox.WithReviewDelay(delay),
		sandbox.WithEvents(func(r backend.Receipt) { w.pushed <- r }))
	acq := httptest.NewServer(sandbox.Handler(w.sb))
	t.Cleanup(acq.Close)
	var err error
	w.api, err = backend.NewClient(acq.URL)
	require.NoError(t, err)
	w.pipe = newPipeline(t, rdb, prefix, w.clk, w.sb)
	w.n = notify.New(rdb, prefix, w.pipe, notify.WithClock(w.clk.Now))
	w.events = httptest.NewServer(w.n.Handler([]byte(secret)))
	t.Cleanup(w.events.Close)
	w.pipe.bind(chatID, zhangSan, lang, w.clk.Now())
	return w
}

// submit files an application for 张三 straight at the acquirer.
func (w *world) submit() backend.Receipt {
	w.t.Helper()
	r, err := w.api.Submit(context.Background(), "key-"+w.clk.Now().String(), backend.Application{
		MerchantNo: zhangSan, CardNumber: "6222021234567890128", HolderName: "张三", BankCode: "ICBC",
		BankName: "中国工商银行", Branch: "上海张江支行", ReservedPhone: "13912345678", CardType: "DC"})
	require.NoError(w.t, err)
	return r
}

// push delivers every status change the sandbox made since the last call,
// through a Pusher signing on the test's clock, and waits for them all.
func (w *world) push() []backend.Event {
	w.t.Helper()
	var batch []backend.Receipt
	for {
		select {
		case r := <-w.pushed:
			batch = append(batch, r)
			continue
		default:
		}
		break
	}
	rec := &recorder{next: w.events.Config.Handler}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	p := sandbox.NewPusher(srv.URL, []byte(secret), sandbox.PushClock(w.clk.Now), sandbox.PushBackoff(time.Millisecond, time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	for _, r := range batch {
		p.Push(r)
	}
	deadline := time.Now().Add(10 * time.Second)
	for rec.count() < len(batch) && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	require.Equal(w.t, len(batch), rec.count(), "every event acknowledged")
	return rec.events()
}

// recorder passes requests to the handler and keeps the acknowledged ones.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	acks []backend.Event
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := readAll(req)
	req.Body = readCloser(body)
	rw := httptest.NewRecorder()
	r.next.ServeHTTP(rw, req)
	if rw.Code == http.StatusOK {
		var ev backend.Event
		_ = json.Unmarshal(body, &ev)
		r.mu.Lock()
		r.acks = append(r.acks, ev)
		r.mu.Unlock()
	}
	w.WriteHeader(rw.Code)
}

func (r *recorder) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.acks) }
func (r *recorder) events() []backend.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]backend.Event(nil), r.acks...)
}

// send posts body to the events handler signed at ts with key.
func (w *world) send(body []byte, key string, ts time.Time) int {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.events.URL, bytes.NewReader(body))
	require.NoError(w.t, err)
	stamp, sig := backend.Sign([]byte(key), ts, body)
	req.Header.Set(backend.HeaderEventTimestamp, stamp)
	req.Header.Set(backend.HeaderEventSignature, sig)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(w.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func eventBody(t *testing.T, r backend.Receipt) []byte {
	t.Helper()
	b, err := json.Marshal(backend.EventOf(r))
	require.NoError(t, err)
	return b
}

func TestPushedEventsOneMessageEachInTheMerchantsLanguage(t *testing.T) {
	for _, tt := range []struct{ lang, review, approved, effective string }{
		{"en", "now under review", "is approved", "small test transaction"},
		{"zh-Hans", "已进入审核", "已审核通过", "小额测试交易"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			w := newWorld(t, tt.lang)
			w.submit()
			w.push() // "submitted": tracked, not announced
			assert.Empty(t, w.pipe.messages(chatID))
			for _, want := range []string{tt.review, tt.approved, "", tt.effective} {
				w.clk.Advance(delay / 2)
				w.sb.Tick()
				w.push()
				if want == "" {
					continue // halfway to effective: nothing new
				}
				said := w.pipe.messages(chatID)
				require.NotEmpty(t, said)
				assert.Contains(t, said[len(said)-1], want)
				assert.Contains(t, said[len(said)-1], "622202*********0128")
			}
			assert.Len(t, w.pipe.messages(chatID), 3, "one message per status")
		})
	}
}

func TestSameEventTwiceAndPushPlusPollGiveOneMessage(t *testing.T) {
	w := newWorld(t, "en")
	r := w.submit()
	require.NoError(t, w.n.Track(context.Background(), r.ID))
	w.clk.Advance(delay)
	w.sb.Tick()
	approved, err := w.api.Application(context.Background(), r.ID)
	require.NoError(t, err)
	require.Equal(t, backend.StatusApproved, approved.Status)

	body := eventBody(t, approved)
	assert.Equal(t, http.StatusOK, w.send(body, secret, w.clk.Now()))
	assert.Equal(t, http.StatusOK, w.send(body, secret, w.clk.Now()), "a repeat is acknowledged")
	assert.Equal(t, 1, w.pipe.postCount())

	// The poller sees the same change: nothing new.
	w.clk.Advance(notify.DefaultPollInterval * 2)
	p := notify.NewPoller(w.n, w.api, notify.PollRate(0))
	n, err := p.Round(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	// By now the application is effective: the poll announces that, once.
	assert.Equal(t, 2, w.pipe.postCount())
	said := w.pipe.messages(chatID)
	assert.Contains(t, said[len(said)-1], "small test transaction")

	// The late push of "approved" and of "effective" say nothing more.
	for _, st := range []backend.Status{backend.StatusReview, backend.StatusApproved, backend.StatusEffective} {
		late := approved
		late.Status = st
		assert.Equal(t, http.StatusOK, w.send(eventBody(t, late), secret, w.clk.Now()))
	}
	assert.Equal(t, 2, w.pipe.postCount())
	assert.Len(t, w.pipe.messages(chatID), 2)
}

func TestPollFirstThenPushGivesOneMessage(t *testing.T) {
	w := newWorld(t, "en")
	r := w.submit()
	require.NoError(t, w.n.Track(context.Background(), r.ID))
	w.clk.Advance(delay)
	w.sb.Tick()
	w.clk.Advance(notify.DefaultPollInterval)
	// effective is 2 minutes after approved; the poll at +7 min sees it.
	p := notify.NewPoller(w.n, w.api, notify.PollRate(0))
	_, err := p.Round(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, w.pipe.postCount(), "the newest status only")
	w.push() // every pushed status, late
	assert.Equal(t, 1, w.pipe.postCount())
}

func TestForgedAndStaleEventsAreRefused(t *testing.T) {
	w := newWorld(t, "en")
	r := w.submit()
	w.clk.Advance(delay)
	w.sb.Tick()
	approved, err := w.api.Application(context.Background(), r.ID)
	require.NoError(t, err)
	body := eventBody(t, approved)

	assert.Equal(t, http.StatusUnauthorized, w.send(body, "guessed-secret", w.clk.Now()), "forged")
	assert.Equal(t, http.StatusUnauthorized, w.send(body, secret, w.clk.Now().Add(-5*time.Minute-time.Second)), "stale")
	assert.Equal(t, http.StatusUnauthorized, w.send(body, secret, w.clk.Now().Add(6*time.Minute)), "from the future")

	// A body changed after signing.
	req, _ := http.NewRequest(http.MethodPost, w.events.URL, bytes.NewReader([]byte(strings.Replace(string(body), "approved", "rejected", 1))))
	stamp, sig := backend.Sign([]byte(secret), w.clk.Now(), body)
	req.Header.Set(backend.HeaderEventTimestamp, stamp)
	req.Header.Set(backend.HeaderEventSignature, sig)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "tampered")

	assert.Equal(t, http.StatusBadRequest, w.send([]byte(`{"event_id":"x"}`), secret, w.clk.Now()), "signed, but no event")
	assert.Equal(t, 0, w.pipe.postCount())
	assert.Equal(t, http.StatusOK, w.send(body, secret, w.clk.Now().Add(-4*time.Minute)), "4 minutes old is fine")
	assert.Equal(t, 1, w.pipe.postCount())
}

func TestEventIsAcknowledgedOnlyOnceQueued(t *testing.T) {
	w := newWorld(t, "en")
	r := w.submit()
	w.clk.Advance(delay)
	w.sb.Tick()
	approved, err := w.api.Application(context.Background(), r.ID)
	require.NoError(t, err)
	body := eventBody(t, approved)

	w.pipe.mu.Lock()
	w.pipe.fail = errors.New("redis down")
	w.pipe.mu.Unlock()
	assert.Equal(t, http.StatusServiceUnavailable, w.send(body, secret, w.clk.Now()), "not stored: send again")

	w.pipe.mu.Lock()
	w.pipe.fail = nil
	w.pipe.mu.Unlock()
	assert.Equal(t, http.StatusOK, w.send(body, secret, w.clk.Now()), "the retry goes through")
	assert.Equal(t, 1, w.pipe.postCount())
}

func TestPollerFindsAMissedEvent(t *testing.T) {
	w := newWorld(t, "zh-Hans")
	r := w.submit()
	w.push() // only "submitted" arrives; everything after is lost
	w.clk.Advance(delay)
	w.sb.Tick()
	<-w.pushed // under_review, dropped
	<-w.pushed // approved, dropped

	p := notify.NewPoller(w.n, w.api, notify.PollRate(0), notify.PollJitter(func(time.Duration) time.Duration { return 0 }))
	n, err := p.Round(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 0, n, "not due before the interval")
	w.clk.Advance(notify.DefaultPollInterval - delay)
	n, err = p.Round(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	said := w.pipe.messages(chatID)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], "已生效", "the newest status (effective by now), once")
	assert.Contains(t, said[0], r.ID)

	// Final: no longer polled.
	w.clk.Advance(notify.DefaultPollInterval * 2)
	n, err = p.Round(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 0, n)
}

// countingApps is an acquirer whose applications stay under review; it
// counts the pollers' calls.
type countingApps struct {
	mu sync.Mutex
	n  int
}

func (c *countingApps) Application(_ context.Context, id string) (backend.Receipt, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return backend.Receipt{ID: id, MerchantNo: zhangSan, Status: backend.StatusReview}, nil
}

func (c *countingApps) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func TestTwoReplicasDoNotDoubleThePolling(t *testing.T) {
	w := newWorld(t, "en")
	ctx := context.Background()
	for _, app := range []string{"CC1", "CC2", "CC3"} {
		require.NoError(t, w.n.Track(ctx, app))
	}
	apps := &countingApps{}
	a := notify.NewPoller(w.n, apps, notify.PollRate(0))
	b := notify.NewPoller(w.n, apps, notify.PollRate(0))
	round := func(p *notify.Poller) int {
		n, err := p.Round(ctx)
		require.NoError(t, err)
		return n
	}
	w.clk.Advance(notify.DefaultPollInterval)
	assert.Equal(t, 3, round(a))
	w.clk.Advance(2 * notify.DefaultPollInterval)
	assert.Equal(t, 0, round(b), "the other replica holds the lease")
	assert.Equal(t, 3, round(a))
	assert.Equal(t, 6, apps.calls())

	// The holder dies and its lease runs out: the other takes over.
	w.pipe.rdb.Del(ctx, w.pipe.prefix+"notify:poll-lease")
	w.clk.Advance(2 * notify.DefaultPollInterval)
	assert.Equal(t, 3, round(b))
	assert.Equal(t, 9, apps.calls())
	assert.Equal(t, 3, w.pipe.postCount(), "each application announced under review once")
}

// TestRemindersAndExpiryOnTheClock drives a merchant half-way, then lets two
// wake schedulers race on the injected clock.
func TestRemindersAndExpiryOnTheClock(t *testing.T) {
	w := newWorld(t, "en")
	const chat = int64(777)
	// 21:40 in Shanghai: the reminder would fall in the quiet hours.
	w.clk.t = time.Date(2026, 11, 25, 13, 40, 0, 0, time.UTC)
	for _, in := range []dialogs.Input{
		{Kind: dialogs.InCommand, Text: "start", LanguageCode: "en"},
		{Kind: dialogs.InButton, Data: "m:change"},
		{Kind: dialogs.InText, Text: "822100050110003"},
		{Kind: dialogs.InText, Text: "13800000003"},
	} {
		w.pipe.input(chat, in)
	}
	sms := w.pipe.state(chat)
	require.Equal(t, dialogs.StepIDCode, sms.Step)
	// The sandbox's code is random; bind with the shared contact path instead.
	w.pipe.mu.Lock()
	st := w.pipe.states[chat]
	st.Step, st.Bound, st.MerchantNo, st.MerchantName, st.PendingNo = dialogs.StepChecklist, true, "822100050110003", "阿依古丽·买买提", ""
	w.pipe.mu.Unlock()
	w.pipe.input(chat, dialogs.Input{Kind: dialogs.InButton, Data: "ck:all"})
	require.Equal(t, dialogs.StepConsent, w.pipe.state(chat).Step)
	w.pipe.input(chat, dialogs.Input{Kind: dialogs.InButton, Data: "cs:yes"})
	w.pipe.input(chat, dialogs.Input{Kind: dialogs.InText, Text: "6228480402564890018"})
	require.Equal(t, dialogs.StepHolder, w.pipe.state(chat).Step)
	require.NotEmpty(t, w.pipe.state(chat).Secrets.CardNumber)
	before := len(w.pipe.messages(chat))

	a, b := notify.NewWaker(w.n), notify.NewWaker(w.n)
	race := func() int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for _, wk := range []*notify.Waker{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := wk.Once(context.Background())
				assert.NoError(t, err)
				mu.Lock()
				won += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		return won
	}

	w.clk.Advance(30 * time.Minute) // 22:10: quiet
	assert.Equal(t, 0, race())
	assert.Len(t, w.pipe.messages(chat), before, "no reminder at night")

	w.clk.t = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) // 08:00 in Shanghai
	assert.Equal(t, 1, race(), "two schedulers, one wake")
	said := w.pipe.messages(chat)
	require.Len(t, said, before+1)
	assert.Contains(t, said[before], "half-way")
	assert.Equal(t, 0, race(), "nothing due until the expiry")

	w.clk.t = time.Date(2026, 11, 26, 13, 42, 0, 0, time.UTC) // 24 h after the card
	assert.Equal(t, 1, race())
	said = w.pipe.messages(chat)
	require.Len(t, said, before+2)
	assert.Contains(t, said[before+1], "data was deleted")
	st2 := w.pipe.state(chat)
	assert.True(t, st2.Secrets.Empty(), "card data wiped")
	assert.True(t, st2.Bound, "the binding outlives the draft")
	assert.Equal(t, "en", st2.Lang)
	w.clk.Advance(48 * time.Hour)
	assert.Equal(t, 0, race(), "told once")
	assert.Equal(t, 2, w.pipe.postCount())
}

func TestWakeNotPostedIsRetriedAfterTheClaim(t *testing.T) {
	w := newWorld(t, "en")
	ctx := context.Background()
	w.pipe.rdb.ZAdd(ctx, chatq.WakeKeyOf(w.pipe.prefix, chatq.ShardOf(chatID)), redisZ(w.clk.Now(), chatID))
	w.pipe.mu.Lock()
	w.pipe.fail = errors.New("queue down")
	w.pipe.mu.Unlock()
	wk := notify.NewWaker(w.n, notify.WakeTiming(time.Minute, time.Second))
	n, err := wk.Once(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "claimed")
	w.pipe.mu.Lock()
	w.pipe.fail = nil
	w.pipe.mu.Unlock()
	n, _ = wk.Once(ctx)
	assert.Equal(t, 0, n, "held by the claim")
	w.clk.Advance(time.Minute)
	n, _ = wk.Once(ctx)
	assert.Equal(t, 1, n, "due again after the claim")
	assert.Equal(t, 1, w.pipe.postCount())
	left, _ := w.pipe.rdb.ZCard(ctx, chatq.WakeKeyOf(w.pipe.prefix, chatq.ShardOf(chatID))).Result()
	assert.Zero(t, left, "a bound chat with nothing mid-way has nothing more due")
}

// One Waker reads each shard: a shard's wake lease, taken by the Waker
// whose round finds chats due there, keeps another Waker off its due chats
// until it runs out (three ticks unrenewed). A shard with nothing due is
// nobody's: reading it writes nothing.
func TestWakeLeasePerShard(t *testing.T) {
	w := newWorld(t, "en")
	ctx := context.Background()
	a := notify.NewWaker(w.n, notify.WakeTiming(time.Minute, 100*time.Millisecond))
	b := notify.NewWaker(w.n, notify.WakeTiming(time.Minute, 100*time.Millisecond))
	due := func() {
		w.clk.Advance(time.Second)
		w.pipe.rdb.ZAdd(ctx, chatq.WakeKeyOf(w.pipe.prefix, chatq.ShardOf(chatID)), redisZ(w.clk.Now(), chatID))
	}
	n, err := a.Once(ctx) // nothing due: no lease taken
	require.NoError(t, err)
	assert.Zero(t, n)
	leases, err := redistest.Keys(ctx, w.pipe.rdb, w.pipe.prefix+"*wake-lease")
	require.NoError(t, err)
	assert.Empty(t, leases, "an idle round writes nothing")
	due()
	n, err = a.Once(ctx) // a finds it due: the shard is a's
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	due()
	n, err = b.Once(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "the shard is a's")
	n, err = a.Once(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, 2, w.pipe.postCount())
	due()
	time.Sleep(400 * time.Millisecond) // a stops: its leases (3 ticks) run out
	n, err = b.Once(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "b takes the shard over")
}

type countPoster struct {
	mu sync.Mutex
	n  int
}

func (p *countPoster) Post(context.Context, int64, string, string, string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	return true, nil
}

// The wake leases hold on one instance (one script reads every shard) and
// on a cluster (one script per shard, each in its own slot).
func TestWakeLeasesInstanceAndCluster(t *testing.T) {
	for name, connect := range redistest.InstanceAndCluster() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			ctx := context.Background()
			var p countPoster
			n := notify.New(rdb, prefix, &p)
			a := notify.NewWaker(n, notify.WakeTiming(time.Minute, 100*time.Millisecond))
			b := notify.NewWaker(n, notify.WakeTiming(time.Minute, 100*time.Millisecond))
			chats := []int64{11, 12, 13, -100500}
			due := func() {
				for _, c := range chats {
					rdb.ZAdd(ctx, chatq.WakeKeyOf(prefix, chatq.ShardOf(c)), redis.Z{Score: float64(time.Now().UnixMilli() - 1), Member: c})
				}
			}
			due()
			won, err := a.Once(ctx)
			require.NoError(t, err)
			assert.Equal(t, len(chats), won, "a wins every shard")
			due()
			won, err = b.Once(ctx)
			require.NoError(t, err)
			assert.Zero(t, won, "held by a")
			won, err = a.Once(ctx)
			require.NoError(t, err)
			assert.Equal(t, len(chats), won)
			due()
			time.Sleep(400 * time.Millisecond) // a stops: its leases (3 ticks) run out
			won, err = b.Once(ctx)
			require.NoError(t, err)
			assert.Equal(t, len(chats), won, "b takes the shards over")
			assert.Equal(t, 3*len(chats), p.n)
		})
	}
}

// stuckApps is an acquirer whose applications stay in one status for as
// long as the test likes.
type stuckApps struct{ status backend.Status }

func (s stuckApps) Application(_ context.Context, id string) (backend.Receipt, error) {
	return backend.Receipt{ID: id, MerchantNo: zhangSan, Status: s.status, CardMasked: "622202*********0128"}, nil
}

// An application that stays under review (or approved, not yet effective)
// for months is polled all along and announced once: what the notifier
// remembers of it, and the outbox's once keys, last 30 days on Redis's
// clock, which the test moves with its own.
func TestLongStatusAnnouncedOnce(t *testing.T) {
	for _, st := range []backend.Status{backend.StatusReview, backend.StatusApproved} {
		t.Run(string(st), func(t *testing.T) {
			w := newWorld(t, "en")
			ctx := context.Background()
			require.NoError(t, w.n.Track(ctx, "APP1"))
			p := notify.NewPoller(w.n, stuckApps{status: st}, notify.PollRate(0),
				notify.PollJitter(func(time.Duration) time.Duration { return 0 }))
			for day := range 100 {
				w.clk.Advance(24 * time.Hour)
				age(t, w.pipe.rdb, w.pipe.prefix, 24*time.Hour)
				n, err := p.Round(ctx)
				require.NoError(t, err)
				require.Equal(t, 1, n, "day %d: polled", day)
			}
			assert.Equal(t, 1, w.pipe.postCount(), "announced once in 100 days of polls")
		})
	}
}

// answerApps answers every poll with what answer says; answer may change
// between rounds.
type answerApps struct {
	mu     sync.Mutex
	answer func(id string) backend.Receipt
}

func (a *answerApps) Application(_ context.Context, id string) (backend.Receipt, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.answer(id), nil
}

func (a *answerApps) set(f func(id string) backend.Receipt) {
	a.mu.Lock()
	a.answer = f
	a.mu.Unlock()
}

// logged is a notifier over w's Redis and pipeline whose log the test reads.
func (w *world) logged() (*notify.Notifier, *bytes.Buffer) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	return notify.New(w.pipe.rdb, w.pipe.prefix, w.pipe, notify.WithClock(w.clk.Now), notify.WithLogger(log)), &buf
}

// pollRound lets the poll interval pass and runs one round of p.
func (w *world) pollRound(p *notify.Poller) int {
	w.t.Helper()
	w.clk.Advance(2 * notify.DefaultPollInterval)
	n, err := p.Round(context.Background())
	require.NoError(w.t, err)
	return n
}

// An answer about another application is the acquirer's word on that one,
// not on the application polled: nobody is told anything from it, not
// even the merchant it names.
func TestPollAnswerForAnotherApplicationIsNotApplied(t *testing.T) {
	const liSi, liSiChat = "822100050110002", int64(5151)
	w := newWorld(t, "en")
	w.pipe.bind(liSiChat, liSi, "en", w.clk.Now())
	n, log := w.logged()
	require.NoError(t, n.Track(context.Background(), "APP1"))
	apps := &answerApps{answer: func(string) backend.Receipt {
		return backend.Receipt{ID: "APP2", MerchantNo: liSi, Status: backend.StatusApproved, CardMasked: "622202*********0128"}
	}}
	p := notify.NewPoller(n, apps, notify.PollRate(0), notify.PollJitter(func(time.Duration) time.Duration { return 0 }))
	assert.Equal(t, 1, w.pollRound(p))
	assert.Zero(t, w.pipe.postCount())
	assert.Empty(t, w.pipe.messages(liSiChat), "the merchant the answer names is told nothing")
	assert.Empty(t, w.pipe.messages(chatID))
	assert.Contains(t, log.String(), "level=ERROR")
	assert.Contains(t, log.String(), "app=APP1 answered=APP2")
}

// An application whose answers the bot cannot use is polled at the usual
// interval, a warning each time, and given up with an error after
// MaxInvalidAnswers in a row, instead of retried every minute for ever; a
// usable answer in between starts the count again.
func TestUnusableAnswersAreGivenUp(t *testing.T) {
	for name, answer := range map[string]func(id string) backend.Receipt{
		"unknown status": func(id string) backend.Receipt {
			return backend.Receipt{ID: id, MerchantNo: zhangSan, Status: "cancelled"}
		},
		"no merchant": func(id string) backend.Receipt {
			return backend.Receipt{ID: id, Status: backend.StatusApproved}
		},
		"another application": func(string) backend.Receipt {
			return backend.Receipt{ID: "APP2", MerchantNo: zhangSan, Status: backend.StatusApproved}
		},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, "en")
			ctx := context.Background()
			n, log := w.logged()
			require.NoError(t, n.Track(ctx, "APP1"))
			usable := func(id string) backend.Receipt {
				return backend.Receipt{ID: id, MerchantNo: zhangSan, Status: backend.StatusReview, CardMasked: "622202*********0128"}
			}
			apps := &answerApps{answer: answer}
			p := notify.NewPoller(n, apps, notify.PollRate(0), notify.PollJitter(func(time.Duration) time.Duration { return 0 }))
			for range notify.MaxInvalidAnswers - 1 {
				require.Equal(t, 1, w.pollRound(p))
			}
			apps.set(usable)
			require.Equal(t, 1, w.pollRound(p), "a usable answer")
			apps.set(answer)
			for range notify.MaxInvalidAnswers - 1 {
				require.Equal(t, 1, w.pollRound(p), "the count started again")
			}
			assert.NotContains(t, log.String(), "given up")
			require.Equal(t, 1, w.pollRound(p), "the last unusable answer in a row")
			assert.Zero(t, w.pollRound(p), "given up")
			_, err := w.pipe.rdb.ZScore(ctx, notify.OpenKey(w.pipe.prefix), "APP1").Result()
			assert.ErrorIs(t, err, redis.Nil, "no longer open")
			assert.Equal(t, 1, w.pipe.postCount(), "only the usable answer was announced")
			assert.Equal(t, 1, strings.Count(log.String(), "level=ERROR msg=\"application given up"))
			assert.Contains(t, log.String(), "resume=\"ZADD "+notify.OpenKey(w.pipe.prefix)+" 0 APP1\"")
		})
	}
}
