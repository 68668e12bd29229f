package telegramtest

import (
	"math"
	"strings"
	"time"
)

// Rate is a token bucket: Count sends per Per on average, with bursts of up to Burst.
type Rate struct {
	Count int
	Per   time.Duration
	Burst int
}

// RateLimits are the flood limits enforced on sending methods. A zero Rate is not enforced.
type RateLimits struct {
	PrivateChat Rate // per chat with a positive id
	Group       Rate // per chat with a negative id
	Global      Rate // across all chats
}

// TelegramRateLimits are the limits Telegram documents: about one message a second in a private
// chat (short bursts tolerated), 20 a minute in a group, 30 a second in all.
func TelegramRateLimits() RateLimits {
	return RateLimits{
		PrivateChat: Rate{Count: 1, Per: time.Second, Burst: 3},
		Group:       Rate{Count: 20, Per: time.Minute, Burst: 20},
		Global:      Rate{Count: 30, Per: time.Second, Burst: 30},
	}
}

type bucket struct {
	tokens float64
	last   time.Time
}

// wait reports how long until the bucket holds a token, after refilling it to now.
func (b *bucket) wait(r Rate, now time.Time) time.Duration {
	perToken := r.Per.Seconds() / float64(r.Count)
	if b.last.IsZero() {
		b.tokens = float64(r.Burst)
	} else if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(float64(r.Burst), b.tokens+elapsed/perToken)
	}
	b.last = now
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * perToken * float64(time.Second))
}

type limiter struct {
	limits RateLimits
	global bucket
	chats  map[int64]*bucket
}

func newLimiter(l RateLimits) *limiter {
	return &limiter{limits: l, chats: map[int64]*bucket{}}
}

// take spends one token for chatID and from the global bucket, or none at all and returns how
// many seconds Telegram would ask the bot to wait.
func (l *limiter) take(chatID int64, now time.Time) (retryAfter int) {
	chatRate := l.limits.PrivateChat
	if chatID < 0 {
		chatRate = l.limits.Group
	}
	var wait time.Duration
	var chat *bucket
	if enforced(chatRate) {
		chat = l.chats[chatID]
		if chat == nil {
			chat = &bucket{}
			l.chats[chatID] = chat
		}
		wait = chat.wait(chatRate, now)
	}
	if enforced(l.limits.Global) {
		wait = max(wait, l.global.wait(l.limits.Global, now))
	}
	if wait > 0 {
		return max(1, int(math.Ceil(wait.Seconds())))
	}
	if chat != nil {
		chat.tokens--
	}
	if enforced(l.limits.Global) {
		l.global.tokens--
	}
	return 0
}

func enforced(r Rate) bool { return r.Count > 0 && r.Per > 0 && r.Burst > 0 }

// fault is a failure a test asked for: the next `left` calls of a method get it.
type fault struct {
	err  apiError
	left int
}

// anyMethod makes FailNext apply to every method.
const anyMethod = "*"

// FailNext makes the next `times` calls of method (case-insensitive; "*" for any method) fail
// with code and description, before the call has any effect. An empty description is Telegram's
// usual one for the code ("Forbidden: bot was blocked by the user" for 403, "Too Many Requests:
// retry after N" for 429). retryAfter, when positive, is sent as parameters.retry_after.
// Failures queued for the same method are used in the order they were queued.
func (s *Server) FailNext(method string, code int, description string, retryAfter int, times int) {
	if times <= 0 {
		times = 1
	}
	if description == "" {
		description = defaultDescription(code, retryAfter)
	}
	key := strings.ToLower(method)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[key] = append(s.faults[key], &fault{
		err:  apiError{code: code, desc: description, retryAfter: retryAfter},
		left: times,
	})
}

func (s *Server) takeFaultLocked(method string) *apiError {
	for _, key := range []string{strings.ToLower(method), anyMethod} {
		queue := s.faults[key]
		if len(queue) == 0 {
			continue
		}
		f := queue[0]
		f.left--
		if f.left <= 0 {
			queue[0] = nil
			s.faults[key] = queue[1:]
		}
		e := f.err
		return &e
	}
	return nil
}

// SetBlocked makes sending to chatID fail with 403 as if the user blocked the bot (or, for a
// group, removed it) until it is called again with false.
func (s *Server) SetBlocked(chatID int64, blocked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if blocked {
		s.blocked[chatID] = true
	} else {
		delete(s.blocked, chatID)
	}
}

func (s *Server) blockedLocked(chatID int64) *apiError {
	if !s.blocked[chatID] {
		return nil
	}
	if chatID < 0 {
		return forbidden("bot was kicked from the group chat")
	}
	return forbidden("bot was blocked by the user")
}

// SetOutage makes every method but getUpdates fail with code (500, 502...) until it is called
// again with 0: the Bot API down for as long as a test wants, while updates still arrive.
func (s *Server) SetOutage(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.outage = nil
		return
	}
	s.outage = &apiError{code: code, desc: defaultDescription(code, 0)}
}
