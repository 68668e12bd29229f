package bot

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

const deskGroup = -1001234567890

// inGroup is the text of every message the bot holds in the support group.
func inGroup(s *telegramtest.Snapshot) []string {
	var out []string
	for _, m := range s.Sent(deskGroup) {
		out = append(out, m.Text+m.Caption)
	}
	return out
}

// hasInOrder reports whether texts holds each of want, in that order.
func hasInOrder(texts []string, want ...string) bool {
	i := 0
	for _, t := range texts {
		if i < len(want) && strings.Contains(t, want[i]) {
			i++
		}
	}
	return i == len(want)
}

func sentTexts(s *telegramtest.Snapshot, chat int64) []string {
	var out []string
	for _, m := range s.Sent(chat) {
		out = append(out, m.Text)
	}
	return out
}

// TestDeskTopicFailsThenIsMade: createForumTopic answers 429 (longer than
// the sender waits), then 502 five times (the sender's own retries), then
// works. Meanwhile the merchant writes twice and is told the truth: no
// agent has their messages yet, they are kept. Then the topic is made, the
// card goes first, the two messages follow in order, and the merchant is
// told support has them.
func TestDeskTopicFailsThenIsMade(t *testing.T) {
	h := newHarness(t, withDesk(deskGroup), deskLate(300*time.Millisecond))
	const chat = 701
	h.fake.SetUserLanguage(chat, "en")
	h.fake.FailNext("createForumTopic", http.StatusTooManyRequests, "", 2, 1)
	h.fake.FailNext("createForumTopic", http.StatusBadGateway, "", 0, 5)
	h.command(chat, "/support")
	h.waitText(chat, "connected to support")
	h.text(chat, "first question")
	h.text(chat, "second question")
	h.waitFor("the merchant told no agent has their messages", func(s *telegramtest.Snapshot) bool {
		return hasInOrder(sentTexts(s, chat), "No support agent has received your messages yet")
	})
	assert.Empty(t, h.fake.Topics(deskGroup), "told while the topic is not made")
	h.waitFor("the card, then both messages, in order", func(s *telegramtest.Snapshot) bool {
		return hasInOrder(inGroup(s), "Support request", "first question\nsecond question") ||
			hasInOrder(inGroup(s), "Support request", "first question", "second question")
	})
	h.waitText(chat, "The support desk has your messages now")
	require.Len(t, h.fake.Topics(deskGroup), 1, "one topic")
	assert.Equal(t, 7, h.fake.CallCount("createForumTopic"), "429, five 502s, then made")
}

// TestDeskTopicRefusedThenMade: Telegram refuses to make the topic (a 400:
// the bot lost the right to manage topics). The merchant is told no agent
// has their message and that it is kept; the creation is asked again, and
// the kept message arrives.
func TestDeskTopicRefusedThenMade(t *testing.T) {
	h := newHarness(t, withDesk(deskGroup), deskLate(300*time.Millisecond))
	const chat = 702
	h.fake.SetUserLanguage(chat, "en")
	h.fake.FailNext("createForumTopic", http.StatusBadRequest, "Bad Request: not enough rights to create a topic", 0, 1)
	h.command(chat, "/support")
	h.waitText(chat, "connected to support")
	h.text(chat, "is anyone there?")
	h.waitFor("the merchant told the truth", func(s *telegramtest.Snapshot) bool {
		return hasInOrder(sentTexts(s, chat), "No support agent has received your messages yet")
	})
	h.waitFor("the kept message in the new topic", func(s *telegramtest.Snapshot) bool {
		return hasInOrder(inGroup(s), "Support request", "is anyone there?")
	})
	h.waitText(chat, "The support desk has your messages now")
	assert.Contains(t, h.logs.String(), "support topic refused by Telegram")
}

// TestAgentAnswerSurvivesFailedMembershipCheck: Telegram fails getChatMember
// seven times when an agent answers: more than the sender's own five
// attempts, so the group update's turn fails and is tried again; the
// answer reaches the merchant.
func TestAgentAnswerSurvivesFailedMembershipCheck(t *testing.T) {
	h := newHarness(t, withDesk(deskGroup))
	const chat = 703
	agent := models.User{ID: 4243, FirstName: "Alice"}
	h.fake.SetChatMember(deskGroup, agent, models.ChatMemberTypeAdministrator, false)
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/support")
	h.waitFor("the topic", func(s *telegramtest.Snapshot) bool { return len(s.Topics(deskGroup)) == 1 })
	h.settle() // (the group's outbox at rest: its sender moves the group's next look, see chatq's markOut)
	thread := h.fake.Topics(deskGroup)[0].ThreadID
	h.fake.FailNext("getChatMember", http.StatusBadGateway, "", 0, 7)
	h.fake.Send(deskGroup, agent.ID, telegramtest.UserMessage{Thread: thread, Text: "Hello, how can I help?"})
	h.waitText(chat, "Hello, how can I help?")
	assert.GreaterOrEqual(t, h.fake.CallCount("getChatMember"), 8)
	assert.Contains(t, h.logs.String(), "update not dealt with; tried again")
}

// deskMetrics records what the bot says about the support group.
type deskMetrics struct {
	noMetrics
	mu      sync.Mutex
	blocked []bool
}

func (m *deskMetrics) SupportGroupBlocked(b bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blocked = append(m.blocked, b)
}

func (m *deskMetrics) last() (bool, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.blocked) == 0 {
		return false, false
	}
	return m.blocked[len(m.blocked)-1], true
}

// TestSupportGroup403KeepsTheQueueAndResumes: the bot is removed from the
// support group; the next relay is refused with 403: an alert (metric and
// error log), and the relay is kept, not dropped. When the bot is added
// back (my_chat_member of the group), it is delivered.
func TestSupportGroup403KeepsTheQueueAndResumes(t *testing.T) {
	m := &deskMetrics{}
	h := newHarness(t, withDesk(deskGroup), botOptions(WithMetrics(m)))
	const chat = 704
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/support")
	h.waitFor("the card", func(s *telegramtest.Snapshot) bool { return hasInOrder(inGroup(s), "Support request") })
	h.fake.SetBlocked(deskGroup, true)
	h.text(chat, "hello while the bot is out")
	h.waitFor("the 403 seen", func(*telegramtest.Snapshot) bool { b, ok := m.last(); return ok && b })
	assert.Contains(t, h.logs.String(), "support group refuses the bot (403)")
	n, err := h.q.OutboxLen(t.Context(), deskGroup)
	require.NoError(t, err)
	assert.Positive(t, n, "the relay is kept")

	h.fake.SetBlocked(deskGroup, false)
	bot := h.fake.BotUser()
	h.fake.PushUpdate(models.Update{MyChatMember: &models.ChatMemberUpdated{
		Chat: models.Chat{ID: deskGroup, Type: models.ChatTypeSupergroup}, From: models.User{ID: 1, FirstName: "Owner"},
		OldChatMember: models.ChatMember{Type: models.ChatMemberTypeLeft, Left: &models.ChatMemberLeft{User: &bot}},
		NewChatMember: models.ChatMember{Type: models.ChatMemberTypeAdministrator,
			Administrator: &models.ChatMemberAdministrator{User: bot, CanManageTopics: true}},
	}})
	h.waitFor("the kept relay delivered", func(s *telegramtest.Snapshot) bool {
		return hasInOrder(inGroup(s), "Support request", "hello while the bot is out")
	})
	b, _ := m.last()
	assert.False(t, b, "the alert clears")
}

// failOnce fails the first Redis command named cmd… (alone or in a
// pipeline) that names a key containing key: before it runs, or, with
// after, once it ran (the answer lost: a failover between the write and
// its reply). With later, only once armed.
type failOnce struct {
	cmd, key     string
	after, later bool
	armed, done  atomic.Bool
}

func (f *failOnce) matches(cmds ...redis.Cmder) bool {
	for _, c := range cmds {
		if !strings.HasPrefix(c.Name(), f.cmd) {
			continue
		}
		for _, a := range c.Args() {
			if s, ok := a.(string); ok && strings.Contains(s, f.key) {
				return true
			}
		}
	}
	return false
}

var errRedisDown = errors.New("test: Redis shard failing over")

func (f *failOnce) fail(ctx context.Context, cmds []redis.Cmder, next func() error) error {
	if f.later && !f.armed.Load() || !f.matches(cmds...) || !f.done.CompareAndSwap(false, true) {
		return next()
	}
	if f.after {
		if err := next(); err != nil {
			// It did not run (a script not loaded yet: go-redis loads it
			// and asks again): the next one fails.
			f.done.Store(false)
			return err
		}
	}
	for _, c := range cmds {
		c.SetErr(errRedisDown)
	}
	return errRedisDown
}

func (f *failOnce) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f *failOnce) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		return f.fail(ctx, []redis.Cmder{cmd}, func() error { return next(ctx, cmd) })
	}
}

func (f *failOnce) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		return f.fail(ctx, cmds, func() error { return next(ctx, cmds) })
	}
}

// texts returns the texts the bot sent to chat and to the support group so far.
func (h *harness) texts(chat int64) (merchant, group []string) {
	h.t.Helper()
	h.waitFor("a look", func(s *telegramtest.Snapshot) bool {
		merchant, group = sentTexts(s, chat), inGroup(s)
		return true
	})
	return merchant, group
}

// count is how many of texts contain want.
func count(texts []string, want string) int {
	n := 0
	for _, t := range texts {
		if strings.Contains(t, want) {
			n++
		}
	}
	return n
}

// TestDeskOpenFailureRetriesTheTurn: the desk's Redis saves the hand-off
// but its answer is lost (a failover). The turn is not committed: it is
// tried again, the hand-off it opened is kept and its topic requested, and
// the merchant is told once that they are connected, with the card in the
// group once. (Before, the error was logged, the merchant told they were
// connected, and no topic ever requested.)
func TestDeskOpenFailureRetriesTheTurn(t *testing.T) {
	const chat = 705
	fail := &failOnce{cmd: "hset", key: "{ho}:c:705", after: true}
	h := newHarness(t, withDesk(deskGroup), deskRedis(fail))
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/support")
	h.waitFor("the card in the merchant's topic", func(s *telegramtest.Snapshot) bool {
		return hasInOrder(inGroup(s), "Support request")
	})
	h.waitText(chat, "connected to support")
	h.settle()
	require.True(t, fail.done.Load(), "the desk's Redis failed")
	assert.Contains(t, h.logs.String(), "update not dealt with; tried again")
	merchant, group := h.texts(chat)
	assert.Equal(t, 1, count(merchant, "connected to support"), "told once")
	assert.Equal(t, 1, count(group, "Support request"), "one card")
	assert.Len(t, h.fake.Topics(deskGroup), 1, "one topic")
}

// TestDeskRelayFailureRetriesTheTurn: the desk's Redis fails the queueing
// of a merchant's message to their topic. The turn is tried again and the
// message reaches the topic, once. (Before, it was logged and lost.)
func TestDeskRelayFailureRetriesTheTurn(t *testing.T) {
	const chat = 706
	fail := &failOnce{cmd: "eval", key: "{ho}:seen:706"}
	h := newHarness(t, withDesk(deskGroup), deskRedis(fail))
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/support")
	h.waitFor("the card", func(s *telegramtest.Snapshot) bool { return hasInOrder(inGroup(s), "Support request") })
	h.text(chat, "my terminal shows error 51")
	h.waitFor("the message in the topic", func(s *telegramtest.Snapshot) bool {
		return hasInOrder(inGroup(s), "Support request", "my terminal shows error 51")
	})
	h.settle()
	require.True(t, fail.done.Load(), "the desk's Redis failed")
	assert.Contains(t, h.logs.String(), "update not dealt with; tried again")
	_, group := h.texts(chat)
	assert.Equal(t, 1, count(group, "my terminal shows error 51"), "relayed once")
}

// TestDeskLeftFailureRetriesTheTurn: the merchant leaves support on their
// own; the desk's Redis marks the hand-off closed but the answer is lost.
// The turn is tried again, and the agent is told in the topic all the
// same, once. (The close was written after the mark: a second attempt
// found the hand-off closed and told nobody.)
func TestDeskLeftFailureRetriesTheTurn(t *testing.T) {
	const chat = 707
	fail := &failOnce{cmd: "eval", key: "{ho}:c:707", after: true, later: true}
	h := newHarness(t, withDesk(deskGroup), deskRedis(fail))
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/support")
	h.waitFor("the card", func(s *telegramtest.Snapshot) bool { return hasInOrder(inGroup(s), "Support request") })
	h.settle()
	fail.armed.Store(true)
	h.press(chat, "Back to where I was")
	h.waitFor("the agent told", func(s *telegramtest.Snapshot) bool {
		return hasInOrder(inGroup(s), "Support request", "went back to the bot on their own")
	})
	h.settle()
	require.True(t, fail.done.Load(), "the desk's Redis failed")
	assert.Contains(t, h.logs.String(), "update not dealt with; tried again")
	_, group := h.texts(chat)
	assert.Equal(t, 1, count(group, "went back to the bot on their own"), "told once")
}
