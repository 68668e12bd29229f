package sender

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/go-telegram/bot"

	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

const secret = "card 4111 1111 1111 1111" // message text that must never appear in an error

func wantStats(t *testing.T, s *Sender, want Stats) {
	t.Helper()
	if got := s.Stats(); got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}

func wantHits(t *testing.T, api *fakeAPI, want int64) {
	t.Helper()
	if got := api.hits.Load(); got != want {
		t.Errorf("Bot API called %d times, want %d", got, want)
	}
}

func TestTooManyRequestsWaitsRetryAfter(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{script: []reply{tooMany(2)}}
	b := newBot(t, api)
	clock := newFakeTime()
	s := New(rdb, WithPrefix(prefix), WithLimits(roomy), WithClock(clock.Now), WithSleep(clock.Sleep))

	if err := s.Do(t.Context(), 42, Budgeted, sendText(b, 42, secret)); err != nil {
		t.Fatalf("Do: %v", err)
	}
	wantHits(t, api, 2)
	if sleeps := clock.Sleeps(); len(sleeps) != 1 || sleeps[0] < 2*time.Second {
		t.Errorf("sleeps = %v, want one of at least retry_after (2s)", sleeps)
	}
	wantStats(t, s, Stats{Sent: 1, Retried: 1, RateLimited429: 1})
}

func TestTooManyRequestsHoldsBackOtherReplicas(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{script: []reply{tooMany(3)}}
	b := newBot(t, api)
	clock := newFakeTime()
	first := New(rdb, WithPrefix(prefix), WithLimits(roomy), WithClock(clock.Now), WithSleep(clock.Sleep), WithMaxAttempts(1))
	second := New(rdb, WithPrefix(prefix), WithLimits(roomy), WithClock(clock.Now), WithSleep(clock.Sleep))

	err := first.Do(t.Context(), 42, Budgeted, sendText(b, 42, secret))
	var tooManyErr *bot.TooManyRequestsError
	if !errors.As(err, &tooManyErr) {
		t.Fatalf("first Do = %v, want the 429 after its only attempt", err)
	}
	if got := clock.Sleeps(); len(got) != 0 {
		t.Fatalf("first replica slept %v with no attempt left", got)
	}

	if err := second.Do(t.Context(), 7, Budgeted, sendText(b, 7, "other chat")); err != nil {
		t.Fatalf("Do to another chat: %v", err)
	}
	if got := clock.Sleeps(); len(got) != 0 {
		t.Errorf("another chat waited %v for chat 42's cooldown", got)
	}
	if err := second.Do(t.Context(), 42, Budgeted, sendText(b, 42, secret)); err != nil {
		t.Fatalf("second Do: %v", err)
	}
	if got := clock.Sleeps(); len(got) != 1 || got[0] != 3*time.Second {
		t.Errorf("second replica slept %v, want the 3s cooldown set by the first", got)
	}
	wantHits(t, api, 3)
	wantStats(t, second, Stats{Sent: 2, Throttled: 1})
}

func TestForbiddenRecordsBlockedChat(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{always: &reply{}}
	*api.always = apiError(http.StatusForbidden, "Forbidden: bot was blocked by the user")
	b := newBot(t, api)
	clock := newFakeTime()
	s := New(rdb, WithPrefix(prefix), WithLimits(roomy), WithClock(clock.Now), WithSleep(clock.Sleep))
	ctx := t.Context()

	err := s.Do(ctx, 42, Budgeted, sendText(b, 42, secret))
	if !errors.Is(err, ErrBlocked) || !errors.Is(err, bot.ErrorForbidden) {
		t.Fatalf("Do = %v, want ErrBlocked wrapping bot.ErrorForbidden", err)
	}
	if strings.Contains(err.Error(), "4111") {
		t.Errorf("error quotes the message: %q", err)
	}
	wantHits(t, api, 1)
	if got := clock.Sleeps(); len(got) != 0 {
		t.Errorf("slept %v before giving up on a blocked chat", got)
	}
	wantStats(t, s, Stats{Blocked: 1})

	if blocked, err := s.Blocked(ctx, 42); err != nil || !blocked {
		t.Fatalf("Blocked(42) = %v, %v; want true", blocked, err)
	}
	if since, err := rdb.Get(ctx, prefix+"blocked:42").Int64(); err != nil || since != clock.Now().Unix() {
		t.Errorf("blocked record = %d, %v; want the time of the 403 %d", since, err, clock.Now().Unix())
	}
	if ttl := rdb.TTL(ctx, prefix+"blocked:42").Val(); ttl < 30*24*time.Hour {
		t.Errorf("blocked record expires in %v, want a long TTL", ttl)
	}
	if blocked, err := s.Blocked(ctx, 43); err != nil || blocked {
		t.Errorf("Blocked(43) = %v, %v; want false", blocked, err)
	}
	if err := s.Unblock(ctx, 42); err != nil {
		t.Fatalf("Unblock: %v", err)
	}
	if blocked, err := s.Blocked(ctx, 42); err != nil || blocked {
		t.Errorf("Blocked(42) after Unblock = %v, %v; want false", blocked, err)
	}
}

func TestServerErrorsRetriedWithBackoff(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{script: []reply{
		apiError(http.StatusInternalServerError, "Internal Server Error"),
		apiError(http.StatusBadGateway, "Bad Gateway"),
	}}
	b := newBot(t, api)
	clock := newFakeTime()
	s := New(rdb, WithPrefix(prefix), WithLimits(roomy), WithClock(clock.Now), WithSleep(clock.Sleep),
		WithBackoff(100*time.Millisecond, time.Second))

	if err := s.Do(t.Context(), 42, Budgeted, sendText(b, 42, secret)); err != nil {
		t.Fatalf("Do: %v", err)
	}
	wantHits(t, api, 3)
	sleeps := clock.Sleeps()
	if len(sleeps) != 2 {
		t.Fatalf("sleeps = %v, want two backoffs", sleeps)
	}
	// base·2ⁿ, of which the upper half is jitter.
	for i, bounds := range [][2]time.Duration{{50 * time.Millisecond, 100 * time.Millisecond}, {100 * time.Millisecond, 200 * time.Millisecond}} {
		if sleeps[i] < bounds[0] || sleeps[i] > bounds[1] {
			t.Errorf("backoff %d = %v, want within %v", i+1, sleeps[i], bounds)
		}
	}
	wantStats(t, s, Stats{Sent: 1, Retried: 2})
}

func TestNetworkErrorRetried(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{script: []reply{{hangUp: true}}}
	b := newBot(t, api)
	clock := newFakeTime()
	s := New(rdb, WithPrefix(prefix), WithLimits(roomy), WithClock(clock.Now), WithSleep(clock.Sleep))

	if err := s.Do(t.Context(), 42, Budgeted, sendText(b, 42, secret)); err != nil {
		t.Fatalf("Do: %v", err)
	}
	wantHits(t, api, 2)
	wantStats(t, s, Stats{Sent: 1, Retried: 1})
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{always: &reply{}}
	*api.always = apiError(http.StatusBadGateway, "Bad Gateway")
	b := newBot(t, api)
	clock := newFakeTime()
	s := New(rdb, WithPrefix(prefix), WithLimits(roomy), WithClock(clock.Now), WithSleep(clock.Sleep), WithMaxAttempts(3))

	err := s.Do(t.Context(), 42, Budgeted, sendText(b, 42, secret))
	var sendErr *SendError
	if !errors.As(err, &sendErr) || sendErr.Attempts != 3 || sendErr.ChatID != 42 {
		t.Fatalf("Do = %#v, want a SendError after 3 attempts", err)
	}
	wantHits(t, api, 3)
	wantStats(t, s, Stats{Retried: 2, Failed: 1})
}

func TestBadRequestNotRetried(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{always: &reply{}}
	*api.always = apiError(http.StatusBadRequest, "Bad Request: can't parse entities")
	b := newBot(t, api)
	clock := newFakeTime()
	s := New(rdb, WithPrefix(prefix), WithLimits(roomy), WithClock(clock.Now), WithSleep(clock.Sleep))

	err := s.Do(t.Context(), 42, Budgeted, sendText(b, 42, secret))
	if !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("Do = %v, want bot.ErrorBadRequest", err)
	}
	if strings.Contains(err.Error(), "4111") {
		t.Errorf("error quotes the message: %q", err)
	}
	wantHits(t, api, 1)
	if got := clock.Sleeps(); len(got) != 0 {
		t.Errorf("slept %v before returning a 400", got)
	}
	wantStats(t, s, Stats{Failed: 1})
}

func TestErrorNeverQuotesEchoedMessage(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{echo: true}
	b := newBot(t, api)
	clock := newFakeTime()
	s := New(rdb, WithPrefix(prefix), WithLimits(roomy), WithClock(clock.Now), WithSleep(clock.Sleep), WithMaxAttempts(2))

	err := s.Do(t.Context(), 42, Budgeted, sendText(b, 42, secret))
	if err == nil {
		t.Fatal("Do succeeded against a proxy error page")
	}
	var raw error = err.(*SendError).Err
	if !strings.Contains(raw.Error(), "4111") {
		t.Fatalf("the library's error %q does not quote the page; the test proves nothing", raw)
	}
	if strings.Contains(err.Error(), "4111") {
		t.Errorf("error quotes the message: %q", err)
	}
	if !strings.Contains(err.Error(), "chat 42") || !strings.Contains(err.Error(), "sendMessage") {
		t.Errorf("error %q should still name the chat and the method", err)
	}
	wantHits(t, api, 2) // an HTML error page is a transient proxy failure
}

func TestContextCanceledDuringRetryWait(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{script: []reply{tooMany(30)}}
	b := newBot(t, api)
	waiting := make(chan struct{})
	s := New(rdb, WithPrefix(prefix), WithLimits(roomy), WithSleep(func(ctx context.Context, d time.Duration) error {
		close(waiting)
		return sleepContext(ctx, d)
	}))
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-waiting; cancel() }()

	err := s.Do(ctx, 42, Budgeted, sendText(b, 42, secret))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Do = %v, want context.Canceled", err)
	}
	wantHits(t, api, 1)
	wantStats(t, s, Stats{RateLimited429: 1, Retried: 1, Failed: 1})
}

func TestContextCanceledDuringLimiterWait(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{}
	b := newBot(t, api)
	waiting := make(chan struct{})
	limits := roomy
	limits.PerChat = redis_rate.Limit{Rate: 1, Burst: 1, Period: time.Hour}
	s := New(rdb, WithPrefix(prefix), WithLimits(limits), WithSleep(func(ctx context.Context, d time.Duration) error {
		close(waiting)
		return sleepContext(ctx, d)
	}))
	if err := s.Do(t.Context(), 42, Budgeted, sendText(b, 42, "first")); err != nil {
		t.Fatalf("first Do: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-waiting; cancel() }()

	err := s.Do(ctx, 42, Budgeted, sendText(b, 42, "second"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("second Do = %v, want context.Canceled", err)
	}
	wantHits(t, api, 1)
	wantStats(t, s, Stats{Sent: 1, Failed: 1, Throttled: 1})
}

func TestPerChatBudget(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{}
	b := newBot(t, api)
	rec := &recorder{then: sleepContext}
	// 1 message per 250ms after a burst of 3: the shape of the real 1/s, four times faster.
	const interval = 250 * time.Millisecond
	limits := roomy
	limits.PerChat = redis_rate.Limit{Rate: 1, Burst: 3, Period: interval}
	s := New(rdb, WithPrefix(prefix), WithLimits(limits), WithSleep(rec.Sleep))

	for i := range 5 {
		if err := s.Do(t.Context(), 42, Budgeted, sendText(b, 42, secret)); err != nil {
			t.Fatalf("Do %d: %v", i, err)
		}
	}
	wantHits(t, api, 5)
	// The burst of 3 goes at once; the 4th and 5th each wait for the next token.
	wantStats(t, s, Stats{Sent: 5, Throttled: 2})
	for _, d := range rec.Sleeps() {
		if d <= 0 || d > interval {
			t.Errorf("waited %v, want within (0, %v]", d, interval)
		}
	}
}

func TestGroupsHaveTheirOwnBudget(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{}
	b := newBot(t, api)
	limits := roomy
	limits.PerGroup = redis_rate.Limit{Rate: 1, Burst: 1, Period: time.Hour}
	s := New(rdb, WithPrefix(prefix), WithLimits(limits), WithSleep(stopWaiting))
	ctx := t.Context()

	for i := range 3 {
		if err := s.Do(ctx, 42, Budgeted, sendText(b, 42, "private")); err != nil {
			t.Fatalf("private Do %d: %v", i, err)
		}
	}
	if err := s.Do(ctx, -100123, Budgeted, sendText(b, -100123, "group")); err != nil {
		t.Fatalf("first group Do: %v", err)
	}
	if err := s.Do(ctx, -100123, Budgeted, sendText(b, -100123, "group")); !errors.Is(err, errStop) {
		t.Fatalf("second group Do = %v, want it to wait for the group budget", err)
	}
	wantHits(t, api, 4)
	wantStats(t, s, Stats{Sent: 4, Failed: 1, Throttled: 1})
}

func TestReplicasShareGlobalBudget(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{}
	b := newBot(t, api)
	// A budget of 10 that refills one token a second, so none comes back during the burst.
	limits := roomy
	limits.Global = redis_rate.Limit{Rate: 10, Burst: 10, Period: 10 * time.Second}
	replicas := []*Sender{
		New(rdb, WithPrefix(prefix), WithLimits(limits), WithSleep(stopWaiting)),
		New(rdb, WithPrefix(prefix), WithLimits(limits), WithSleep(stopWaiting)),
	}

	var sent, waited atomic.Int64
	var wg sync.WaitGroup
	for r, s := range replicas {
		for i := range 10 {
			chatID := int64(1000*(r+1) + i) // distinct chats: only the global budget binds
			wg.Go(func() {
				switch err := s.Do(t.Context(), chatID, Budgeted, sendText(b, chatID, secret)); {
				case err == nil:
					sent.Add(1)
				case errors.Is(err, errStop):
					waited.Add(1)
				default:
					t.Errorf("Do(%d): %v", chatID, err)
				}
			})
		}
	}
	wg.Wait()

	if sent.Load() != 10 || waited.Load() != 10 {
		t.Errorf("%d sent at once and %d had to wait, want 10 and 10", sent.Load(), waited.Load())
	}
	wantHits(t, api, 10)
	if got := replicas[0].Stats().Throttled + replicas[1].Stats().Throttled; got != 10 {
		t.Errorf("replicas throttled %d calls together, want 10", got)
	}
}

func TestFreeCallsSkipBudgetsButRetry(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{script: []reply{apiError(http.StatusInternalServerError, "Internal Server Error")}}
	b := newBot(t, api)
	clock := newFakeTime()
	tight := redis_rate.Limit{Rate: 1, Burst: 1, Period: time.Hour}
	s := New(rdb, WithPrefix(prefix), WithLimits(Limits{Global: tight, PerChat: tight, PerGroup: tight}),
		WithClock(clock.Now), WithSleep(clock.Sleep))

	for i := range 3 {
		call := func(ctx context.Context) error {
			_, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: 42, MessageID: i})
			return err
		}
		if err := s.Do(t.Context(), 42, Unlimited, call); err != nil {
			t.Fatalf("Unlimited Do %d: %v", i, err)
		}
	}
	wantHits(t, api, 4)
	if got := clock.Sleeps(); len(got) != 1 {
		t.Errorf("sleeps = %v, want only the backoff after the 500", got)
	}
	wantStats(t, s, Stats{Sent: 3, Retried: 1})
}

func TestOneRoundTripPerMessageNoneWhenLifted(t *testing.T) {
	rdb, prefix := redistest.New(t)
	hook := &redistest.RoundTrips{}
	rdb.AddHook(hook)
	api := &fakeAPI{}
	b := newBot(t, api)
	limited := New(rdb, WithPrefix(prefix), WithLimits(roomy))
	lifted := New(rdb, WithPrefix(prefix), WithLimits(Limits{NoGlobal: true, NoPerChat: true}))

	if err := limited.Do(t.Context(), 42, Budgeted, sendText(b, 42, "limited")); err != nil {
		t.Fatalf("limited Do: %v", err)
	}
	// go-redis tries EVALSHA, then EVAL once the script is not cached yet.
	if n := hook.N(); n < 1 || n > 2 {
		t.Errorf("first limited message: %d Redis round trips, want 1 (2 while the script loads)", n)
	}
	hook.Reset()
	if err := limited.Do(t.Context(), 43, Budgeted, sendText(b, 43, "limited")); err != nil {
		t.Fatalf("limited Do: %v", err)
	}
	if n := hook.N(); n != 1 {
		t.Errorf("limited message: %d Redis round trips, want 1", n)
	}
	hook.Reset()
	for i := range 3 {
		if err := lifted.Do(t.Context(), 42, Yielding, sendText(b, 42, "lifted")); err != nil {
			t.Fatalf("lifted Do %d: %v", i, err)
		}
	}
	if n := hook.N(); n != 0 {
		t.Errorf("limits lifted: %d Redis round trips, want 0", n)
	}
	wantHits(t, api, 5)
}

func TestGroupsKeepTheirBudgetWithChatLimitLifted(t *testing.T) {
	rdb, prefix := redistest.New(t)
	api := &fakeAPI{}
	b := newBot(t, api)
	s := New(rdb, WithPrefix(prefix), WithSleep(stopWaiting), WithLimits(Limits{
		PerGroup: redis_rate.Limit{Rate: 1, Burst: 1, Period: time.Hour}, NoGlobal: true, NoPerChat: true,
	}))
	for i := range 3 {
		if err := s.Do(t.Context(), 42, Budgeted, sendText(b, 42, "private")); err != nil {
			t.Fatalf("private Do %d: %v", i, err)
		}
	}
	if err := s.Do(t.Context(), -100123, Budgeted, sendText(b, -100123, "group")); err != nil {
		t.Fatalf("first group Do: %v", err)
	}
	if err := s.Do(t.Context(), -100123, Budgeted, sendText(b, -100123, "group")); !errors.Is(err, errStop) {
		t.Fatalf("second group Do = %v, want it to wait for the group budget", err)
	}
	wantHits(t, api, 4)
}

// Callers waiting for the global budget get it in the order they asked:
// left to race for each token, some chats of a notification wave fall
// behind and finish it alone, at their own 1/s.
func TestGlobalBudgetServedInOrder(t *testing.T) {
	rdb, prefix := redistest.New(t)
	limits := roomy
	limits.Global = redis_rate.Limit{Rate: 1, Burst: 1, Period: 50 * time.Millisecond}
	s := New(rdb, WithPrefix(prefix), WithLimits(limits))
	var (
		mu    sync.Mutex
		order []int64
	)
	record := func(chat int64) func(context.Context) error {
		return func(context.Context) error {
			mu.Lock()
			order = append(order, chat)
			mu.Unlock()
			return nil
		}
	}
	if err := s.Do(t.Context(), 1, Yielding, record(1)); err != nil { // spends the burst
		t.Fatalf("first Do: %v", err)
	}
	var wg sync.WaitGroup
	want := []int64{1}
	for i := range 6 {
		chat := int64(100 + i)
		want = append(want, chat)
		wg.Go(func() {
			if err := s.Do(t.Context(), chat, Yielding, record(chat)); err != nil {
				t.Errorf("Do(%d): %v", chat, err)
			}
		})
		// The next caller comes once this one queues.
		for deadline := time.Now().Add(5 * time.Second); s.gateQueue.Load() < int64(i+1); {
			if time.Now().After(deadline) {
				t.Fatalf("caller %d never queued for the global budget", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(order, want) {
		t.Errorf("sent in the order %v, want %v (the order they asked)", order, want)
	}
}

// With the per-chat budget lifted (SEND_RATE_CHAT=0), a private chat's 429
// still holds back the next message to it, on this replica and on another;
// with every budget lifted, on this one (no Redis is asked then).
func TestCooldownHonouredWithChatLimitLifted(t *testing.T) {
	for _, tt := range []struct {
		name   string
		limits Limits
		shared bool // the second message goes from another replica
	}{
		{"chat limit lifted, another replica", Limits{Global: roomy.Global, PerGroup: roomy.PerGroup, NoPerChat: true}, true},
		{"chat limit lifted, same replica", Limits{Global: roomy.Global, PerGroup: roomy.PerGroup, NoPerChat: true}, false},
		{"every limit lifted, same replica", Limits{NoGlobal: true, NoPerChat: true}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rdb, prefix := redistest.New(t)
			api := &fakeAPI{script: []reply{tooMany(3)}}
			b := newBot(t, api)
			clock := newFakeTime()
			first := New(rdb, WithPrefix(prefix), WithLimits(tt.limits), WithClock(clock.Now), WithSleep(clock.Sleep), WithMaxAttempts(1))
			second := first
			if tt.shared {
				second = New(rdb, WithPrefix(prefix), WithLimits(tt.limits), WithClock(clock.Now), WithSleep(clock.Sleep))
			}
			var tooManyErr *bot.TooManyRequestsError
			if err := first.Do(t.Context(), 42, Budgeted, sendText(b, 42, secret)); !errors.As(err, &tooManyErr) {
				t.Fatalf("first Do = %v, want the 429", err)
			}
			if err := second.Do(t.Context(), 42, Budgeted, sendText(b, 42, secret)); err != nil {
				t.Fatalf("second Do: %v", err)
			}
			if got := clock.Sleeps(); len(got) != 1 || got[0] != 3*time.Second {
				t.Errorf("slept %v before the next message to the chat, want the 3s retry_after", got)
			}
			wantHits(t, api, 2)
		})
	}
}

// A call that posts several messages (copyMessages of 5 ids) takes a token
// of the group's budget, and of the global one, for each of them: the group's
// next message waits until the messages beyond its burst are paid back.
func TestEveryMessageOfOneCallTakesAToken(t *testing.T) {
	ctx := t.Context()
	t.Run("group", func(t *testing.T) {
		rdb, prefix := redistest.New(t)
		api := &fakeAPI{}
		b := newBot(t, api)
		limits := roomy
		limits.PerGroup = redis_rate.Limit{Rate: 20, Burst: 3, Period: time.Minute} // one every 3 s
		rec := &recorder{then: stopWaiting}
		s := New(rdb, WithPrefix(prefix), WithLimits(limits), WithSleep(rec.Sleep))
		const group = -100123
		if err := s.DoN(ctx, group, Budgeted, 5, sendText(b, group, "five copies")); err != nil {
			t.Fatalf("DoN of 5 with a full budget: %v", err)
		}
		if err := s.Do(ctx, group, Budgeted, sendText(b, group, "next")); !errors.Is(err, errStop) {
			t.Fatalf("next group Do = %v, want it to wait for the group budget", err)
		}
		// 5 messages against a burst of 3: 3 more intervals of 3 s before one more.
		if got := rec.Sleeps(); len(got) != 1 || got[0] < 8*time.Second || got[0] > 9*time.Second {
			t.Errorf("waited %v, want about 9s (the two messages beyond the burst and the next)", got)
		}
		wantHits(t, api, 1)
	})
	t.Run("global", func(t *testing.T) {
		rdb, prefix := redistest.New(t)
		api := &fakeAPI{}
		b := newBot(t, api)
		limits := roomy
		limits.Global = redis_rate.Limit{Rate: 30, Burst: 30, Period: time.Second}
		rec := &recorder{then: stopWaiting}
		s := New(rdb, WithPrefix(prefix), WithLimits(limits), WithSleep(rec.Sleep))
		if err := s.DoN(ctx, -100123, Budgeted, 100, sendText(b, -100123, "a hundred copies")); err != nil {
			t.Fatalf("DoN of 100: %v", err)
		}
		if err := s.Do(ctx, 42, Budgeted, sendText(b, 42, "another chat")); !errors.Is(err, errStop) {
			t.Fatalf("Do to another chat = %v, want it to wait for the global budget", err)
		}
		// 100 messages against 30 a second: about 71/30 s before one more.
		if got := rec.Sleeps(); len(got) != 1 || got[0] < 2*time.Second || got[0] > 3*time.Second {
			t.Errorf("waited %v, want about 2.4s", got)
		}
	})
}
