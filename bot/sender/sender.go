// Package sender is the one path for every outgoing Bot API call. It keeps the bot inside
// Telegram's limits across all replicas (budgets live in Redis), honours retry_after, retries
// transient failures and records chats that blocked the bot.
package sender

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Kind says which budgets a call counts against.
type Kind int

const (
	// Budgeted is anything that posts into a chat (sendMessage, copyMessage, editMessageText...):
	// it takes a token from the global budget and from the chat's or group's budget.
	Budgeted Kind = iota
	// Unlimited calls (answerCallbackQuery, deleteMessage, setMyCommands...) are not
	// rate-limited, only retried.
	Unlimited
	// Yielding posts into a chat like Budgeted, but yields the global budget to Budgeted
	// calls waiting in this process: a merchant's replies go before the calls of
	// outbox.Notification priority (status changes, reminders).
	Yielding
)

// blockedTTL is how long a block is remembered without news from the merchant; Unblock ends
// it earlier when the merchant writes again.
const blockedTTL = 180 * 24 * time.Hour

// Sender makes Bot API calls on behalf of every part of the bot. It is safe for concurrent use.
type Sender struct {
	rdb redis.UniversalClient
	// chatTag is the hash tag of a chat's keys (WithChatTag); split is
	// true on a Redis Cluster, where the global budget is in another slot
	// than a chat's keys.
	chatTag func(chatID int64) string
	split   bool
	prefix  string
	limits  Limits
	log     *slog.Logger
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	jitter  func(n int64) int64

	maxAttempts int
	backoffBase time.Duration
	backoffMax  time.Duration
	maxWait     time.Duration // a longer 429 wait is returned as *RetryLater; 0: always wait

	repliesWaiting atomic.Int64  // Messages waiting for a budget here, ahead of Notifications
	gate           chan struct{} // held by the one caller asking Redis for the global budget
	gateQueue      atomic.Int64  // callers holding or waiting for gate

	stats counters
	// prepaid counts budgets taken ahead for a chat's next message
	// (Prefetch, Prepaid).
	prepaidMu sync.Mutex
	prepaid   map[int64]int
	// cooldowns are the 429 cooldowns this process saw (chat id → unix ms),
	// for when every budget is lifted and Redis is not asked.
	cooldowns sync.Map
}

// New returns a Sender whose budgets, cooldowns and block records live in rdb.
func New(rdb redis.UniversalClient, opts ...Option) *Sender {
	s := &Sender{
		rdb:         rdb,
		prefix:      "mb:rl:",
		limits:      DefaultLimits(),
		log:         slog.New(slog.DiscardHandler),
		now:         time.Now,
		sleep:       sleepContext,
		jitter:      rand.Int64N,
		maxAttempts: 5,
		backoffBase: 250 * time.Millisecond,
		backoffMax:  8 * time.Second,
		gate:        make(chan struct{}, 1),
		chatTag:     func(int64) string { return "" },
	}
	_, s.split = rdb.(*redis.ClusterClient)
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Do makes call, waiting first for the budgets of kind, and retries it while retrying can help:
// after a 429 (waiting retry_after, which also holds back other callers for chatID on every
// replica), a 5xx or a network error (exponential backoff with jitter), up to the maximum number
// of attempts. A 403 records chatID as blocked and returns an error wrapping ErrBlocked; other
// API errors (400...) are returned at once. A failure is returned as *SendError. call must use
// the ctx it is given and be safe to repeat.
func (s *Sender) Do(ctx context.Context, chatID int64, kind Kind, call func(ctx context.Context) error) error {
	return s.DoN(ctx, chatID, kind, 1, call)
}

// DoN is Do for a call that posts n messages (copyMessages or
// forwardMessages of n ids, an album of n): it takes n tokens of the chat's
// (or group's) budget and of the global one, as Telegram counts them. A call
// of more messages than a budget's burst goes when that budget is full, and
// the messages beyond the burst are owed: later calls wait until they are
// paid back.
func (s *Sender) DoN(ctx context.Context, chatID int64, kind Kind, n int, call func(ctx context.Context) error) error {
	n = max(n, 1)
	for attempt := 1; ; attempt++ {
		prepaid := attempt == 1 && kind == Budgeted && n == 1 && s.usePrepaid(chatID)
		if (kind == Budgeted || kind == Yielding) && !prepaid {
			if err := s.acquire(ctx, chatID, kind, n); err != nil {
				return s.fail(chatID, attempt-1, err)
			}
		}
		err := call(ctx)
		if err == nil {
			s.stats.sent.Add(1)
			return nil
		}
		if ctx.Err() != nil {
			return s.fail(chatID, attempt, canceled(ctx, err))
		}

		what, wait := classify(err)
		switch what {
		case blocked:
			s.markBlocked(ctx, chatID)
			s.stats.blocked.Add(1)
			return &SendError{ChatID: chatID, Attempts: attempt, Err: fmt.Errorf("%w: %w", ErrBlocked, err)}
		case giveUp:
			return s.fail(chatID, attempt, err)
		case retryAfter:
			s.stats.rateLimited429.Add(1)
			if wait <= 0 {
				wait = s.backoff(attempt)
			}
			if chatID != 0 {
				s.setCooldown(ctx, chatID, wait)
			}
			if s.maxWait > 0 && wait > s.maxWait {
				s.stats.failed.Add(1)
				return &SendError{ChatID: chatID, Attempts: attempt, Err: &RetryLater{After: wait, Err: err}}
			}
		case backoff:
			wait = s.backoff(attempt)
		}
		if attempt >= s.maxAttempts {
			return s.fail(chatID, attempt, err)
		}

		s.stats.retried.Add(1)
		s.log.LogAttrs(ctx, slog.LevelWarn, "telegram call failed, retrying",
			slog.Int64("chat_id", chatID), slog.Int("attempt", attempt),
			slog.Duration("wait", wait), slog.String("error", redact(err)))
		if err := s.wait(ctx, wait); err != nil {
			return s.fail(chatID, attempt, canceled(ctx, err))
		}
	}
}

func (s *Sender) fail(chatID int64, attempts int, err error) error {
	s.stats.failed.Add(1)
	return &SendError{ChatID: chatID, Attempts: attempts, Err: err}
}

// canceled makes sure an error caused by the end of ctx matches ctx.Err() with errors.Is.
func canceled(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w: %w", ctxErr, err)
	}
	return err
}

// backoff returns the wait before attempt+1: base·2^(attempt-1) capped at max, the upper half
// of it random so that replicas retrying together spread out.
func (s *Sender) backoff(attempt int) time.Duration {
	d := s.backoffMax
	if shift := attempt - 1; shift < 32 && s.backoffBase<<shift < s.backoffMax {
		d = s.backoffBase << shift
	}
	half := d / 2
	return half + time.Duration(s.jitter(int64(d-half)+1))
}

// acquire waits until a Budgeted call to chatID may go: no 429 cooldown for the
// chat, a token from the chat's (or group's) budget and one from the global
// budget, decided together by one script (budget.go), so a message costs one
// Redis round trip when no one waits, and none when the limits are lifted.
// A Yielding call first lets the Budgeted ones waiting in this process go.
func (s *Sender) acquire(ctx context.Context, chatID int64, kind Kind, n int) error {
	chat, global := s.budgets(chatID)
	if chat.key == "" && global.key == "" {
		// No budget to ask Redis for: the chat's 429 cooldown is honoured as
		// this process saw it (another replica's is met by its own 429).
		return s.waitLocalCooldown(ctx, chatID)
	}
	var throttled bool
	defer func() {
		if throttled {
			s.stats.throttled.Add(1)
		}
	}()
	if kind == Budgeted {
		s.repliesWaiting.Add(1)
		defer s.repliesWaiting.Add(-1)
	}
	for kind == Yielding && global.key != "" && s.repliesWaiting.Load() > 0 {
		throttled = true
		if err := s.wait(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	return s.take(ctx, chatID, kind, n, chat, global, &throttled)
}

func (s *Sender) cooldownKey(chatID int64) string {
	return s.prefix + "cooldown:" + s.chatTag(chatID) + strconv.FormatInt(chatID, 10)
}

// setCooldown holds back Messages to chatID on every replica for d. Failing to record it only
// costs other callers a 429 of their own, so the error is logged, not returned.
func (s *Sender) setCooldown(ctx context.Context, chatID int64, d time.Duration) {
	until := s.now().Add(d).UnixMilli()
	if chat, global := s.budgets(chatID); chat.key == "" && global.key == "" {
		s.cooldowns.Store(chatID, until) // no script will read the shared one
	}
	if err := s.rdb.Set(ctx, s.cooldownKey(chatID), until, d).Err(); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "record telegram cooldown",
			slog.Int64("chat_id", chatID), slog.String("error", err.Error()))
	}
}

// waitLocalCooldown waits out the 429 cooldown this process recorded for
// chatID, when no budget script (which reads the shared one) runs.
func (s *Sender) waitLocalCooldown(ctx context.Context, chatID int64) error {
	v, ok := s.cooldowns.Load(chatID)
	if !ok {
		return nil
	}
	wait := time.Duration(v.(int64)-s.now().UnixMilli()) * time.Millisecond
	if wait <= 0 {
		s.cooldowns.CompareAndDelete(chatID, v)
		return nil
	}
	s.stats.throttled.Add(1)
	return s.wait(ctx, wait)
}

type beforeWaitKey struct{}

// BeforeWait returns ctx carrying f, which Do calls before each wait it
// makes (for a budget, the global budget's queue, a retry_after, a backoff):
// the outbox sender marks then the calls it sent so far, so that a process
// that dies during a long wait does not send them again.
func BeforeWait(ctx context.Context, f func()) context.Context {
	return context.WithValue(ctx, beforeWaitKey{}, f)
}

// beforeWait calls ctx's BeforeWait function, if any.
func beforeWait(ctx context.Context) {
	if f, ok := ctx.Value(beforeWaitKey{}).(func()); ok && f != nil {
		f()
	}
}

// wait sleeps d (s.sleep), first telling ctx's BeforeWait.
func (s *Sender) wait(ctx context.Context, d time.Duration) error {
	beforeWait(ctx)
	return s.sleep(ctx, d)
}

// sleepContext waits for d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
