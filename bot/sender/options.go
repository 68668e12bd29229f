package sender

import (
	"context"
	"log/slog"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// Limits are the send budgets shared by every replica. A zero field keeps its default.
type Limits struct {
	Global   redis_rate.Limit // all Budgeted calls of the bot
	PerChat  redis_rate.Limit // one private chat (chat id > 0)
	PerGroup redis_rate.Limit // one group, supergroup or channel (chat id < 0)
	// NoGlobal and NoPerChat lift the global and the private-chat budgets (SEND_RATE=0,
	// SEND_RATE_CHAT=0: a Bot API with paid broadcasts, or a test server). Groups keep theirs.
	NoGlobal, NoPerChat bool
}

// DefaultLimits follow the Bot API FAQ: ~30 messages/s overall, 1/s per chat and 20/min per
// group. The per-chat and per-group bursts of 3 let a reply of two or three messages go at once.
func DefaultLimits() Limits {
	return Limits{
		Global:   redis_rate.PerSecond(30),
		PerChat:  redis_rate.Limit{Rate: 1, Burst: 3, Period: time.Second},
		PerGroup: redis_rate.Limit{Rate: 20, Burst: 3, Period: time.Minute},
	}
}

// Option configures a Sender.
type Option func(*Sender)

// WithPrefix sets the prefix of every Redis key the Sender writes (default "mb:rl:").
// Budget keys additionally get "rate:" in front, as redis_rate named them.
func WithPrefix(prefix string) Option {
	return func(s *Sender) { s.prefix = prefix }
}

// WithChatTag puts tag(chat) in every per-chat key (block record, cooldown,
// chat budget): chatq.ChatTag, so that they share the hash slot of the
// chat's outbox, whose scripts read the block record. Default: no tag
// (one Redis instance only).
func WithChatTag(tag func(chatID int64) string) Option {
	return func(s *Sender) { s.chatTag = tag }
}

// WithLimits replaces the default limits; zero fields keep their default.
func WithLimits(l Limits) Option {
	return func(s *Sender) {
		if !l.Global.IsZero() {
			s.limits.Global = l.Global
		}
		if !l.PerChat.IsZero() {
			s.limits.PerChat = l.PerChat
		}
		if !l.PerGroup.IsZero() {
			s.limits.PerGroup = l.PerGroup
		}
		s.limits.NoGlobal, s.limits.NoPerChat = l.NoGlobal, l.NoPerChat
	}
}

// WithLogger sets the logger; by default nothing is logged.
func WithLogger(log *slog.Logger) Option {
	return func(s *Sender) {
		if log != nil {
			s.log = log
		}
	}
}

// WithClock sets the clock used for 429 cooldowns and block timestamps.
func WithClock(now func() time.Time) Option {
	return func(s *Sender) {
		if now != nil {
			s.now = now
		}
	}
}

// WithSleep sets how the Sender waits. sleep must return ctx.Err() as soon as ctx is done.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Sender) {
		if sleep != nil {
			s.sleep = sleep
		}
	}
}

// WithMaxAttempts bounds how many times one call is made (default 5, minimum 1).
func WithMaxAttempts(n int) Option {
	return func(s *Sender) { s.maxAttempts = max(n, 1) }
}

// WithBackoff sets the exponential backoff used after 5xx and network errors:
// base·2ⁿ capped at max, of which a random half is jitter (defaults 250ms and 8s).
func WithBackoff(base, maxDelay time.Duration) Option {
	return func(s *Sender) {
		if base > 0 {
			s.backoffBase = base
		}
		if maxDelay > 0 {
			s.backoffMax = maxDelay
		}
	}
}

// WithMaxWait makes Do return at once, with a *RetryLater, when Telegram asks to wait longer
// than d after a 429: a caller that holds a lease (the outbox) gives it back and comes again
// rather than sleep past it. The cooldown is recorded all the same. 0 (default) always waits.
func WithMaxWait(d time.Duration) Option {
	return func(s *Sender) { s.maxWait = max(d, 0) }
}
