package sender

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// takeScript decides, in one round trip, whether a message may go now: the
// chat's 429 cooldown, the chat's (or group's) budget and the global budget,
// all or none. Taking the tokens together means no budget is held while the
// other one is waited for (a chat token held through a global wait, or the
// other way round, idles it for everyone).
//
// The budgets are GCRA, as redis_rate computes them and in its key and value
// format ("rate:"+key holding the theoretical arrival time in seconds since
// 2017, by Redis's clock), so replicas running the former three-call path
// share budgets with this one during a rolling upgrade.
//
// A call that posts n messages (copyMessages of n ids) takes n tokens: it
// may go once min(n, burst) tokens are there, and moves the budget's
// theoretical arrival time on by n intervals, so that the messages beyond
// the burst are paid back before anything else goes.
//
// KEYS: cooldown, chat budget, global budget (a budget whose rate is 0 is
// not checked). ARGV: now in unix ms by the sender's clock (cooldowns only),
// the number of messages, then rate, burst, period in seconds for the chat
// and for the global budget. Returns {1, 0, 0} when allowed, else {0,
// microseconds to wait, 1 when the global budget is the longer wait}.
var takeScript = redis.NewScript(TakeLua)

// TakeLua is takeScript's source: chatq runs it inside its mark script to
// take the next message's budget in the same round trip (Prefetch).
const TakeLua = `
local now_ms = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local until_ms = tonumber(redis.call("GET", KEYS[1]) or "0")
if until_ms and until_ms > now_ms then
  return {0, (until_ms - now_ms) * 1000, 0}
end
local t = redis.call("TIME")
local now = (tonumber(t[1]) - 1483228800) + tonumber(t[2]) / 1000000
local wait = 0
local global_bound = 0
local tats = {}
for i = 0, 1 do
  local rate = tonumber(ARGV[3 + 3 * i])
  if rate > 0 then
    local burst = tonumber(ARGV[4 + 3 * i])
    local interval = tonumber(ARGV[5 + 3 * i]) / rate
    local tat = tonumber(redis.call("GET", KEYS[2 + i]) or "0") or 0
    tat = math.max(tat, now)
    local diff = now - (tat + interval * math.min(cost, burst) - interval * burst)
    if diff < 0 and -diff > wait then
      wait = -diff
      global_bound = i
    end
    tats[i] = tat + interval * cost
  end
end
if wait > 0 then
  return {0, math.ceil(wait * 1000000), global_bound}
end
for i = 0, 1 do
  if tats[i] then
    redis.call("SET", KEYS[2 + i], string.format("%.6f", tats[i]), "EX", math.max(1, math.ceil(tats[i] - now)))
  end
end
return {1, 0, 0}
`

// budget is one limit as the script reads it; a zero rate is not checked.
type budget struct {
	key   string
	limit redis_rate.Limit
}

func (b budget) args() []any {
	if b.key == "" || b.limit.Rate <= 0 {
		return []any{0, 0, 0}
	}
	return []any{b.limit.Rate, b.limit.Burst, b.limit.Period.Seconds()}
}

// budgets are the limits a Budgeted or Yielding call to chatID counts
// against: none at all with both limits lifted (SEND_RATE=0,
// SEND_RATE_CHAT=0), so that such a sender costs Redis nothing.
func (s *Sender) budgets(chatID int64) (chat, global budget) {
	switch {
	case chatID < 0:
		chat = budget{"rate:" + s.prefix + "group:" + s.chatTag(chatID) + strconv.FormatInt(chatID, 10), s.limits.PerGroup}
	case chatID > 0 && !s.limits.NoPerChat:
		chat = budget{"rate:" + s.prefix + "chat:" + s.chatTag(chatID) + strconv.FormatInt(chatID, 10), s.limits.PerChat}
	}
	if !s.limits.NoGlobal {
		global = budget{"rate:" + s.prefix + "global", s.limits.Global}
	}
	return chat, global
}

// take waits until a message to chatID may go under the chat's cooldown
// and both budgets, each attempt one round trip.
//
// Callers of one process waiting for the global budget queue for it in
// the order they came (gate, a channel: its waiters are served first in,
// first out) and only the head of the queue asks Redis. Left to race, the
// winners are random: some chats fall behind, and once the others are done
// their backlog drains at their own 1/s, well under the global rate (a tail
// of a notification wave). In order, every chat moves at the same pace; and
// Redis hears one caller per token, not every waiter.
func (s *Sender) take(ctx context.Context, chatID int64, kind Kind, n int, chat, global budget, throttled *bool) error {
	// A chat's 429 cooldown holds whether or not its budget is on
	// (SEND_RATE_CHAT=0 lifts the budget, not Telegram's retry_after).
	cooldown := s.prefix + "cooldown:none" // not set by anyone
	if chatID != 0 {
		cooldown = s.cooldownKey(chatID)
	}
	globalKey := global.key
	if globalKey == "" {
		globalKey = "rate:" + s.prefix + "global" // not read: its rate is 0
	}
	chatKey := chat.key
	if chatKey == "" {
		chatKey = globalKey // not read: its rate is 0
	}
	keys := []string{cooldown, chatKey, globalKey}
	inGate, chatDone := false, false
	defer func() {
		if inGate {
			s.leaveGate()
		}
	}()
	for {
		if !inGate && global.key != "" && s.gateQueue.Load() > 0 {
			if err := s.enterGate(ctx); err != nil {
				return err
			}
			inGate = true
		}
		// A Yielding call holding the gate lets the replies queued behind it go first.
		for inGate && kind == Yielding && s.repliesWaiting.Load() > 0 {
			*throttled = true
			s.leaveGate()
			inGate = false
			if err := s.wait(ctx, 10*time.Millisecond); err != nil {
				return err
			}
		}
		if !inGate && global.key != "" && s.gateQueue.Load() > 0 {
			continue
		}
		res, err := s.takeTokens(ctx, keys, n, chat, global, &chatDone)
		if err != nil {
			return fmt.Errorf("rate limit: %w", err)
		}
		if len(res) == 3 && res[0] == 1 {
			return nil
		}
		*throttled = true
		wait, globalBound := time.Millisecond, false
		if len(res) == 3 {
			wait = max(time.Duration(res[1])*time.Microsecond, wait)
			globalBound = res[2] == 1
		}
		switch {
		case globalBound && !inGate:
			if err := s.enterGate(ctx); err != nil {
				return err
			}
			inGate = true
			continue // the head of the queue may find its token already due
		case !globalBound && inGate:
			s.leaveGate() // this chat's own wait holds no one else up
			inGate = false
		}
		if err := s.wait(ctx, wait); err != nil {
			return err
		}
	}
}

// takeTokens runs takeScript over keys (cooldown, chat budget, global
// budget). On a Redis Cluster the global budget lives in another slot than
// the chat's keys, so a call under both is two scripts there: the chat's
// (cooldown and chat budget), then, once that allowed (*chatDone, kept
// across the retries of one take), the global one. The chat's token is then
// taken before the global wait; on one instance both go together, all or
// none.
func (s *Sender) takeTokens(ctx context.Context, keys []string, n int, chat, global budget, chatDone *bool) ([]int64, error) {
	args := func(c, g budget) []any {
		return append(append([]any{s.now().UnixMilli(), n}, c.args()...), g.args()...)
	}
	if !s.split {
		return takeScript.Run(ctx, s.rdb, keys, args(chat, global)...).Int64Slice()
	}
	if !*chatDone {
		chatKey := keys[0]
		if chat.key != "" {
			chatKey = chat.key
		}
		res, err := takeScript.Run(ctx, s.rdb, []string{keys[0], chatKey, chatKey}, args(chat, budget{})...).Int64Slice()
		if err != nil || len(res) != 3 || res[0] != 1 {
			return res, err
		}
		*chatDone = true
	}
	if global.key == "" {
		return []int64{1, 0, 0}, nil
	}
	return takeScript.Run(ctx, s.rdb, []string{"{" + global.key + "}none", global.key, global.key}, args(budget{}, global)...).Int64Slice()
}

func (s *Sender) enterGate(ctx context.Context) error {
	beforeWait(ctx)
	s.gateQueue.Add(1)
	select {
	case s.gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		s.gateQueue.Add(-1)
		return ctx.Err()
	}
}

func (s *Sender) leaveGate() {
	<-s.gate
	s.gateQueue.Add(-1)
}

// Prefetch is what a store's script needs to take the budget of the next
// Budgeted message to a chat, one message, in the round trip that marks
// the previous call sent: TakeLua's KEYS and ARGV.
type Prefetch struct {
	Keys []string
	Args []any
}

// Prefetch returns the take of one Budgeted message to chatID, to run in
// the same round trip as something else (chatq's MarkSent), or nil when it
// cannot be folded: budgets lifted, callers queued for the global budget
// (they go first), or a Redis Cluster (the global budget is in another
// slot). A take that succeeded is given to Prepaid.
func (s *Sender) Prefetch(chatID int64) *Prefetch {
	if s.split || chatID == 0 || s.gateQueue.Load() > 0 {
		return nil
	}
	chat, global := s.budgets(chatID)
	if chat.key == "" && global.key == "" {
		return nil
	}
	globalKey := global.key
	if globalKey == "" {
		globalKey = "rate:" + s.prefix + "global"
	}
	chatKey := chat.key
	if chatKey == "" {
		chatKey = globalKey
	}
	return &Prefetch{
		Keys: []string{s.cooldownKey(chatID), chatKey, globalKey},
		Args: append(append([]any{s.now().UnixMilli(), 1}, chat.args()...), global.args()...),
	}
}

// Prepaid records that the budget of the next Budgeted message of one to
// chatID was taken (a Prefetch that succeeded): that Do does not ask Redis.
func (s *Sender) Prepaid(chatID int64) {
	s.prepaidMu.Lock()
	defer s.prepaidMu.Unlock()
	if s.prepaid == nil {
		s.prepaid = map[int64]int{}
	}
	s.prepaid[chatID]++
}

// Forfeit drops the budgets taken ahead for chatID's next messages: the
// sender stopped before it reached them (a long retry_after, a lease lost,
// the chat blocked), and when it comes back their moment has passed (a
// cooldown may have begun since): they are asked for again.
func (s *Sender) Forfeit(chatID int64) {
	s.prepaidMu.Lock()
	defer s.prepaidMu.Unlock()
	delete(s.prepaid, chatID)
}

// usePrepaid takes one prepaid budget of chatID, if there is one.
func (s *Sender) usePrepaid(chatID int64) bool {
	s.prepaidMu.Lock()
	defer s.prepaidMu.Unlock()
	if s.prepaid[chatID] == 0 {
		return false
	}
	if s.prepaid[chatID]--; s.prepaid[chatID] == 0 {
		delete(s.prepaid, chatID)
	}
	return true
}
