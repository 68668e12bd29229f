package bot

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
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
