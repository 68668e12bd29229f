package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// short locks: a process that "died" is taken over within a second or two.
var short = []harnessOption{lockTTL(time.Second), botOptions(WithMaxTurn(500 * time.Millisecond))}

// TestCrashBetweenCommitAndSend: the process dies right after the commit
// that holds a reply, before sending it. The next process sends it, once.
func TestCrashBetweenCommitAndSend(t *testing.T) {
	var crash atomic.Bool
	crash.Store(true)
	a := newHarness(t, append(short, botOptions(withCrashHook(func(chat int64) bool { return crash.Load() })))...)
	const chat = 601
	a.fake.SetUserLanguage(chat, "en")
	a.command(chat, "/start")
	a.waitIdle() // stored and confirmed to Telegram
	require.Eventually(t, func() bool {
		n, _ := a.q.QueueLen(context.Background(), chat)
		return n == 0
	}, 10*time.Second, 5*time.Millisecond, "applied and committed")
	a.stop()
	assert.Empty(t, a.fake.Sent(chat), "nothing was sent before the crash")

	b := newHarness(t, append(short, replicaOf(a))...)
	b.waitText(chat, enWelcome)
	b.settle()
	assert.Len(t, b.fake.Sent(chat), 1, "sent once")
}

func withCrashHook(f func(chat int64) bool) Option { return func(b *Bot) { b.crashAfterCommit = f } }

// TestBotAPIOutage: the Bot API answers 500 for longer than the sender
// retries; the replies wait in the outbox and arrive, in order, once it is
// back, without the merchant writing again.
func TestBotAPIOutage(t *testing.T) {
	h := newHarness(t, botOptions(WithRetry(10*time.Millisecond, 200*time.Millisecond)))
	const chat = 602
	h.fake.SetUserLanguage(chat, "en")
	h.fake.SetOutage(http.StatusInternalServerError)
	h.command(chat, "/start")
	h.command(chat, "/help")
	h.waitIdle()
	require.Eventually(t, func() bool { return h.fake.CallCount("sendMessage") >= 10 }, 20*time.Second, 5*time.Millisecond,
		"the sender keeps trying")
	assert.Empty(t, h.fake.Sent(chat))
	h.fake.SetOutage(0)
	h.settle()
	sent := h.fake.Sent(chat)
	require.Len(t, sent, 2)
	assert.Contains(t, sent[0].Text, enWelcome)
	assert.Contains(t, sent[1].Text, "I guide you through")
}

// TestStopWithReplyStuckOn429: a reply waits on a long 429 when the bot is
// stopped; the next process delivers it when Telegram allows.
func TestStopWithReplyStuckOn429(t *testing.T) {
	a := newHarness(t, append(short, grace(200*time.Millisecond))...)
	const chat = 603
	a.fake.SetUserLanguage(chat, "en")
	a.fake.FailNext("sendMessage", http.StatusTooManyRequests, "", 2, 1)
	a.command(chat, "/start")
	require.Eventually(t, func() bool { return a.fake.CallCount("sendMessage") >= 1 }, 10*time.Second, 5*time.Millisecond)
	a.stop()
	assert.Empty(t, a.fake.Sent(chat))

	b := newHarness(t, append(short, replicaOf(a))...)
	b.waitText(chat, enWelcome)
	b.settle()
	assert.Len(t, b.fake.Sent(chat), 1)
}

// TestNoSecondSenderDuringALongWait: two replicas, leases of 300 ms, and
// Telegram answers the reply with a 429 asking to wait 1 s (over three
// leases). Whichever replica waits keeps its outbox lease: the other never
// sends the same reply, and Telegram receives it exactly once after the 429.
func TestNoSecondSenderDuringALongWait(t *testing.T) {
	opts := []harnessOption{lockTTL(300 * time.Millisecond), botOptions(WithMaxTurn(200 * time.Millisecond))}
	a := newHarness(t, opts...)
	b := newHarness(t, append(opts, replicaOf(a))...)
	const chat = 605
	a.fake.SetUserLanguage(chat, "en")
	a.fake.FailNext("sendMessage", http.StatusTooManyRequests, "", 1, 1)
	a.command(chat, "/start")
	a.waitText(chat, enWelcome)
	a.settle()
	b.settle()
	var ok, refused int
	for _, c := range a.fake.CallsTo("sendMessage") {
		if c.Params.String("chat_id") != fmt.Sprint(chat) {
			continue
		}
		if c.Code == http.StatusOK {
			ok++
		} else {
			refused++
		}
	}
	assert.Equal(t, 1, refused, "the 429")
	assert.Equal(t, 1, ok, "the reply reached Telegram exactly once")
}

// TestNoSecondSenderDuringALongBudgetWait: the same with a budget wait: a
// group's budget of one message a second holds the second of two messages
// over three leases; the other replica never sends it too.
func TestNoSecondSenderDuringALongBudgetWait(t *testing.T) {
	limits := roomy
	limits.PerGroup = redis_rate.Limit{Rate: 1, Burst: 1, Period: time.Second}
	opts := []harnessOption{lockTTL(300 * time.Millisecond), botOptions(WithMaxTurn(200 * time.Millisecond)), sendLimits(limits)}
	a := newHarness(t, opts...)
	b := newHarness(t, append(opts, replicaOf(a))...)
	const group = -1001234500001
	var calls []outbox.Call
	for _, text := range []string{"first", "second"} {
		params, err := json.Marshal(map[string]any{"chat_id": group, "text": text})
		require.NoError(t, err)
		calls = append(calls, outbox.Call{Method: "sendMessage", Params: params, Priority: outbox.Group})
	}
	_, err := a.bot.Enqueue(context.Background(), group, "", calls...)
	require.NoError(t, err)
	a.waitSent(group, 2)
	a.settle()
	b.settle()
	var texts []string
	for _, m := range a.fake.Sent(group) {
		texts = append(texts, m.Text)
	}
	assert.Equal(t, []string{"first", "second"}, texts, "each message reached the group once")
}

// slowChat holds every turn of one chat until released.
type slowChat struct {
	Engine
	chat    int64
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *slowChat) Handle(ctx context.Context, st *dialogs.State, in dialogs.Input) dialogs.Outcome {
	if in.Text == "slow" {
		s.once.Do(func() { close(s.entered) })
		<-s.release
	}
	return s.Engine.Handle(ctx, st, in)
}

// TestSlowChatHoldsUpNoOther: one chat's turn hangs (a slow acquirer); 150
// other chats in long polling are all answered meanwhile.
func TestSlowChatHoldsUpNoOther(t *testing.T) {
	slow := &slowChat{entered: make(chan struct{}), release: make(chan struct{})}
	h := newHarness(t, wrapEngine(func(e Engine) Engine { slow.Engine = e; return slow }),
		botOptions(WithMaxTurn(time.Minute)), lockTTL(2*time.Minute))
	defer close(slow.release)
	h.fake.SetUserLanguage(700, "en")
	h.text(700, "slow")
	<-slow.entered
	for chat := int64(701); chat <= 850; chat++ {
		h.fake.SetUserLanguage(chat, "en")
		h.command(chat, "/start")
	}
	h.waitFor("150 other chats answered", func(s *telegramtest.Snapshot) bool {
		for chat := int64(701); chat <= 850; chat++ {
			if m, ok := s.LastSent(chat); !ok || !strings.Contains(m.Text, enWelcome) {
				return false
			}
		}
		return true
	})
	assert.Empty(t, h.fake.Sent(700), "the slow chat is still in its turn")
}

// orderLog records the order in which a chat's messages are applied.
type orderLog struct {
	Engine
	mu  sync.Mutex
	ids []int
}

func (o *orderLog) Handle(ctx context.Context, st *dialogs.State, in dialogs.Input) dialogs.Outcome {
	o.mu.Lock()
	o.ids = append(o.ids, in.MessageID)
	o.mu.Unlock()
	return o.Engine.Handle(ctx, st, in)
}

// TestTwoReplicasApplyInOrder: 20 updates of one chat, 20 ms apart,
// delivered by webhook alternately to two replicas, are applied in
// update_id order.
func TestTwoReplicasApplyInOrder(t *testing.T) {
	applied := &orderLog{} // one log for both: the order the deployment applied them in
	a := newHarness(t, webhookOnly(), wrapEngine(func(e Engine) Engine { applied.Engine = e; return applied }))
	b := newHarness(t, webhookOnly(), replicaOf(a), wrapEngine(func(e Engine) Engine { return &orderLog{Engine: applied} }))
	srvA := httptest.NewServer(a.bot.Handler("/hook", "s3cret"))
	defer srvA.Close()
	srvB := httptest.NewServer(b.bot.Handler("/hook", "s3cret"))
	defer srvB.Close()
	const chat = 604
	want := make([]int, 0, 20)
	for i := 1; i <= 20; i++ {
		url := srvA.URL
		if i%2 == 0 {
			url = srvB.URL
		}
		body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1,"chat":{"id":%d,"type":"private"},
			"from":{"id":%d,"is_bot":false,"first_name":"M","language_code":"en"},"text":"hello %d"}}`, 1000+i, i, chat, chat, i)
		req, err := http.NewRequest(http.MethodPost, url+"/hook", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set(secretHeader, "s3cret")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		want = append(want, i)
		time.Sleep(20 * time.Millisecond) // the pace of the report, not an assertion
	}
	a.waitDone()
	b.waitDone()
	applied.mu.Lock()
	defer applied.mu.Unlock()
	assert.Equal(t, want, applied.ids, "applied once each, in update_id order, across both replicas")
}

// TestGroupBudgetHoldsUpNoMerchant: six merchants ask for support at once;
// the support group takes 20 messages a minute (3 at once), so its context
// cards trickle in, while every merchant is answered at once: group traffic
// has an outbox of its own.
func TestGroupBudgetHoldsUpNoMerchant(t *testing.T) {
	const group = -1001234567890
	limits := roomy
	limits.PerGroup = redis_rate.Limit{Rate: 20, Burst: 3, Period: time.Minute}
	h := newHarness(t, withDesk(group), sendLimits(limits))
	chats := []int64{641, 642, 643, 644, 645, 646}
	for _, chat := range chats {
		h.fake.SetUserLanguage(chat, "en")
		h.command(chat, "/support")
	}
	var groupWhenAnswered int
	h.waitFor("every merchant answered", func(s *telegramtest.Snapshot) bool {
		for _, chat := range chats {
			if m, ok := s.LastSent(chat); !ok || !strings.Contains(m.Text, "connected to support") {
				return false
			}
		}
		groupWhenAnswered = len(s.Sent(group))
		return true
	})
	assert.Less(t, groupWhenAnswered, len(chats), "the merchants did not wait for the group's budget")
	// Topic creation goes through the group's outbox and budget too (it
	// posts a service message): every merchant's topic is made in turn.
	h.waitFor("every merchant's topic in the group", func(s *telegramtest.Snapshot) bool {
		return len(s.Topics(group)) >= len(chats)
	})
}

// TestStopWhileStarting: a SIGTERM that comes while long polling is still
// removing the webhook (Telegram answering 5xx, the sender retrying) is a
// clean stop, not an error that fails the process.
func TestStopWhileStarting(t *testing.T) {
	h := newHarness(t, webhookOnly())
	h.fake.FailNext("deleteWebhook", 502, "Bad Gateway", 0, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.bot.Poll(ctx, time.Second) }()
	h.waitFor("a deleteWebhook tried", func(s *telegramtest.Snapshot) bool { return s.CallCount("deleteWebhook") > 0 })
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err, "stopped while starting is a clean stop")
	case <-time.After(20 * time.Second):
		t.Fatal("Poll did not return after cancel")
	}
}
