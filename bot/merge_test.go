package bot

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
	"github.com/merchantbot/merchantbot/locales"
)

// sentSince lists the bot's messages in chat after the first n.
func (h *harness) sentSince(chat int64, n int) []telegramtest.Message {
	h.t.Helper()
	h.settle()
	return h.fake.Sent(chat)[n:]
}

func removesKeyboard(m telegramtest.Message) bool {
	var mk struct {
		Remove bool `json:"remove_keyboard"`
	}
	return json.Unmarshal(m.ReplyMarkup, &mk) == nil && mk.Remove
}

// TestRepliesJoinedIntoOneMessage walks a whole change with a shared
// contact: a note and the question after it go as one message, the
// question's buttons under both (the card's note and the holder question;
// the code sent and the warning with its Resend button; the submission and
// the menu); the share-contact keyboard is removed once, by the first
// message after the contact, and never again.
func TestRepliesJoinedIntoOneMessage(t *testing.T) {
	h := newHarness(t)
	const chat = 560
	turn := func(do func()) []telegramtest.Message {
		t.Helper()
		n := len(h.fake.Sent(chat))
		do()
		return h.sentSince(chat, n)
	}
	h.walkToCard(chat)
	all := len(h.fake.Sent(chat))
	msgs := turn(func() { h.text(chat, "6222021234567890128") })
	require.Len(t, msgs, 2, "the deletion's notice, then the card's note with the holder question")
	assert.Contains(t, msgs[0].Text, "I deleted your message")
	card := msgs[1]
	assert.Contains(t, card.Text, "Card 622202*********0128 noted.")
	assert.Contains(t, card.Text, "Bank: ")
	assert.Contains(t, card.Text, "\n\nPlease type the card holder's name")
	require.NotNil(t, card.InlineKeyboard)
	require.Len(t, card.InlineKeyboard.InlineKeyboard, 1)
	assert.Contains(t, card.InlineKeyboard.InlineKeyboard[0][0].Text, "Yes, the holder is")

	msgs = turn(func() { h.press(chat, card.InlineKeyboard.InlineKeyboard[0][0].Text) })
	require.Len(t, msgs, 1)
	msgs = turn(func() { h.text(chat, "上海张江支行") })
	require.Len(t, msgs, 1)
	msgs = turn(func() { h.text(chat, "13912345678") })
	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0].Text, "Please check your application")

	msgs = turn(func() { h.press(chat, "✅ Confirm") })
	require.Len(t, msgs, 1, "the code sent and the warning: one message")
	assert.Contains(t, msgs[0].Text, "I sent a 6-digit code by SMS")
	assert.Contains(t, msgs[0].Text, "\n\n⚠️ Our staff will never ask you for this code")
	require.NotNil(t, msgs[0].InlineKeyboard)
	assert.Equal(t, "Resend code", msgs[0].InlineKeyboard.InlineKeyboard[0][0].Text)

	msgs = turn(func() { h.text(chat, "123456") })
	require.Len(t, msgs, 1, "the submission and the menu: one message")
	assert.Contains(t, msgs[0].Text, "🎉 Submitted!")
	assert.Contains(t, msgs[0].Text, "\n\nWhat would you like to do?")
	require.NotNil(t, msgs[0].InlineKeyboard)
	buttons := 0
	for _, row := range msgs[0].InlineKeyboard.InlineKeyboard {
		buttons += len(row)
	}
	assert.Equal(t, 4, buttons, "the menu's buttons")
	assert.Equal(t, dialogs.StepMenu, h.stateOf(chat).Step)

	sent := h.fake.Sent(chat)
	t.Logf("messages from /start to submitted: %d (from the card number on: %d)", len(sent), len(sent)-all)
	var removed []string
	for _, m := range sent {
		if removesKeyboard(m) {
			removed = append(removed, m.Text)
		}
	}
	require.Len(t, removed, 1, "the share-contact keyboard is removed once: %q", removed)
	assert.Contains(t, removed[0], "Confirmed", "by the first message after the contact")
	// 17 when each reply was a message of its own.
	assert.Equal(t, 14, okCalls(h.fake, "sendMessage", chat), "sendMessage calls of the whole change")
}

// TestChecklistStandsAlone: a note before the checklist stays a message of
// its own, because the checklist's buttons edit the checklist's message
// (Reply.Alone): its confirmation leaves the note as it was.
func TestChecklistStandsAlone(t *testing.T) {
	h := newHarness(t)
	const chat = 561
	h.walkToChecklist(chat)
	n := len(h.fake.Sent(chat))
	h.command(chat, "/back") // there is no earlier question: a note, then the checklist again
	msgs := h.sentSince(chat, n)
	require.Len(t, msgs, 2)
	note, checklist := msgs[0], msgs[1]
	assert.Contains(t, note.Text, "This is the first step of the card change")
	assert.True(t, strings.HasPrefix(checklist.Text, "Before you change the card"), checklist.Text)
	h.fake.PressButton(chat, chat, checklist.ID, checklist.InlineKeyboard.InlineKeyboard[0][0].CallbackData)
	h.waitText(chat, "Do you agree?")
	h.settle()
	var shown []string
	for _, m := range h.fake.Sent(chat) {
		if m.ID == note.ID || m.ID == checklist.ID {
			shown = append(shown, m.Text)
		}
	}
	require.Len(t, shown, 2)
	assert.Equal(t, note.Text, shown[0], "the note is left as it was")
	assert.Contains(t, shown[1], "Prerequisites confirmed")
}

// TestRepliesNotJoined: replies stay apart when one is a reminder and the
// other is not (a reminder is dropped in the quiet hours), when the joined
// text would not fit one message, or when the earlier has buttons; a
// note and a question join.
func TestRepliesNotJoined(t *testing.T) {
	b := offlineBot(t)
	note := func(v string) dialogs.Reply {
		return dialogs.Reply{Key: "current_answer", Args: dialogs.Arg{"Value": v}}
	}
	question := dialogs.Reply{Key: dialogs.MsgID("ask_branch"), Buttons: [][]dialogs.Button{{{Key: "btn_keep", Data: "keep"}}}}
	quietQuestion := question
	quietQuestion.Quiet = true
	withButton := note("a")
	withButton.Buttons = question.Buttons
	long := strings.Repeat("x", maxMessageText-100) // fits a message alone
	for _, tc := range []struct {
		name    string
		replies []dialogs.Reply
		hide    bool
		want    int
	}{
		{"a note and a question join", []dialogs.Reply{note("a"), question}, false, 1},
		{"three join", []dialogs.Reply{note("a"), note("b"), question}, false, 1},
		{"quiet and not", []dialogs.Reply{note("a"), quietQuestion}, false, 2},
		{"too long together", []dialogs.Reply{note(long), question}, false, 2},
		{"buttons on the earlier", []dialogs.Reply{withButton, question}, false, 2},
		{"the keyboard's removal stays on the note", []dialogs.Reply{note("a"), question}, true, 2},
		{"removed by a note joined to a note", []dialogs.Reply{note("a"), note("b")}, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := dialogs.Outcome{Lang: locales.English, Seq: 1, Replies: tc.replies, HideKeyboard: tc.hide}
			calls := b.replyCalls(&update{Update: &models.Update{}, chat: 42, private: true}, out, 0)
			require.Len(t, calls, tc.want)
			removed := 0
			for _, c := range calls {
				var p struct {
					Text   string          `json:"text"`
					Markup json.RawMessage `json:"reply_markup"`
				}
				require.NoError(t, json.Unmarshal(c.Params, &p))
				assert.LessOrEqual(t, utf16Len(p.Text), maxMessageText)
				if string(p.Markup) == `{"remove_keyboard":true}` {
					removed++
				}
			}
			if tc.hide {
				assert.Equal(t, 1, removed, "removed once")
			} else {
				assert.Zero(t, removed)
			}
		})
	}
}
