package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// TestNoNumberReadableInTheGroupOrRedis runs a hand-off through the whole
// pipeline (fake Bot API, intake, dialog, desk, outbox, real Redis) while
// the merchant writes card, ID, phone and code numbers in every form —
// dotted, full-width and mixed, spaced, split, starred, bracketed — as
// texts, a caption and an edit, and a second hand-off builds its context
// card from what was kept. Then the independent oracle (leaktest) reads no
// digit string of those numbers in anything the group received, nor in any
// raw value under the test's Redis prefix (queues and state are sealed;
// the outbox and the desk's lines hold masked text only). The card
// messages are gone from the merchant's chat.
func TestNoNumberReadableInTheGroupOrRedis(t *testing.T) {
	const group = -1001234567890
	h := newHarness(t, withDesk(group))
	const chat = 541
	agent := models.User{ID: 4243, FirstName: "Alice"}
	h.fake.SetChatMember(group, agent, models.ChatMemberTypeAdministrator, false)
	h.walkToCard(chat)
	inputs := []string{"6228.4800.0012.3456.782"}
	h.text(chat, inputs[0])
	h.waitText(chat, "holder")
	h.settle()
	h.command(chat, "/support")
	h.settle()
	topics := h.fake.Topics(group)
	require.Len(t, topics, 1)
	thread := topics[0].ThreadID

	var cards []int
	for _, s := range []string{
		"my card 6228.4800.0012.3456.782",
		"卡号 ６２２８ ４８００-0012．3456／782",
		"phone *13900000002, code 480913*",
		"code 480 913 (480913) and +86 139-0000-0002",
		"again 48-09-13, 139.0000.0002, ID 11010519491231002X",
	} {
		_, id := h.fake.Send(chat, chat, telegramtest.UserMessage{Text: s})
		if strings.Contains(s, "6228") || strings.Contains(s, "X") {
			cards = append(cards, id)
		}
		inputs = append(inputs, s)
	}
	caption := "138.0000.0001 / 48.09.13"
	h.fake.Send(chat, chat, telegramtest.UserMessage{Kind: "photo", Text: caption})
	_, plain := h.fake.Send(chat, chat, telegramtest.UserMessage{Text: "ok"})
	inputs = append(inputs, caption)
	h.waitFor("the plain message in the topic", func(s *telegramtest.Snapshot) bool {
		for _, m := range s.Sent(group) {
			if m.Text == "ok" {
				return true
			}
		}
		return false
	})
	h.settle()
	edit := "ok 139 0000 0002 code 480 913"
	_, err := h.fake.Edit(chat, plain, edit)
	require.NoError(t, err)
	inputs = append(inputs, edit)
	h.waitFor("the edit followed", func(s *telegramtest.Snapshot) bool {
		for _, m := range s.Sent(group) {
			if strings.Contains(m.Text, "139****0002 code") {
				return true
			}
		}
		return false
	})
	h.fake.Send(group, agent.ID, telegramtest.UserMessage{Thread: thread, Text: "/close"})
	h.settle()
	h.command(chat, "/support")
	h.settle()

	var seen []string
	for _, m := range h.fake.Sent(group) {
		seen = append(seen, m.Text, m.Caption)
	}
	all := strings.Join(seen, "\n")
	assert.Contains(t, all, "622848*********6782", "the card is shown masked")
	assert.Contains(t, all, "Last messages", "the second context card lists the kept lines")
	stored, err := redistest.Dump(context.Background(), h.rdb, h.prefix)
	require.NoError(t, err)
	require.NotEmpty(t, stored)
	for _, in := range inputs {
		assert.Empty(t, leaktest.Leaks(in, seen...), "the group reads a number of %q:\n%s", in, all)
		assert.Empty(t, leaktest.Leaks(in, stored...), "Redis holds a number of %q", in)
	}
	deleted := h.fake.Deleted(chat)
	for _, id := range cards {
		assert.Contains(t, deleted, id, "a card message stays in the merchant's chat")
	}
}
