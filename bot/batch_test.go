package bot

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

const enAgree = "Do you agree?"

// walkToChecklist takes chat (an English speaker) to the checklist, whose
// one-tap button answers with three calls: the button's answer, the
// checklist edited, and the next question.
func (h *harness) walkToChecklist(chat int64) {
	h.t.Helper()
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/start")
	h.waitText(chat, enWelcome)
	h.press(chat, "Change settlement card")
	h.waitText(chat, enAskNo)
	h.text(chat, "822100050110001")
	h.waitText(chat, enAskPhone)
	h.fake.ShareContact(chat, chat, "+8613800000001", chat)
	h.waitText(chat, enChecklist)
	h.settle()
}

// okCalls counts the calls of method to chat Telegram accepted.
func okCalls(fake *telegramtest.Server, method string, chat int64) int {
	n := 0
	for _, c := range fake.CallsTo(method) {
		if c.Code == http.StatusOK && (c.Params.String("chat_id") == fmt.Sprint(chat) || method == "answerCallbackQuery") {
			n++
		}
	}
	return n
}

// TestOneMarkPerTurn: a turn whose outbox holds three calls (answer the
// button, edit the checklist, ask the next question) is handed out whole by
// its commit and marked sent in one round trip: store and claim, commit,
// one mark. Sent one by one, each call cost a mark of its own (five round
// trips in all).
func TestOneMarkPerTurn(t *testing.T) {
	h := newHarness(t, botOptions(WithSweep(time.Hour, time.Hour))) // no sweeps counted
	const chat = 521
	h.walkToChecklist(chat)
	stateBefore, sendBefore := h.state.N(), h.sendRT.N()
	answers, edits, sends := okCalls(h.fake, "answerCallbackQuery", chat), okCalls(h.fake, "editMessageText", chat),
		okCalls(h.fake, "sendMessage", chat)
	h.press(chat, "✅ All of the above are true")
	h.waitText(chat, enAgree)
	h.settle()
	require.Equal(t, 1, okCalls(h.fake, "answerCallbackQuery", chat)-answers)
	require.Equal(t, 1, okCalls(h.fake, "editMessageText", chat)-edits)
	require.Equal(t, 1, okCalls(h.fake, "sendMessage", chat)-sends, "three calls, one turn")
	assert.Equal(t, int64(3), h.state.N()-stateBefore, "store and claim, commit, one mark for the three calls")
	// The commit took the budget of the batch's first message (the edit);
	// the question after it takes its own.
	assert.LessOrEqual(t, h.sendRT.N()-sendBefore, int64(1), "budgets")
}

// TestCrashMidBatch: the process dies after Telegram accepted two of the
// three calls of a batch, before the mark that follows them. The next
// process sends the batch again: nothing is lost, and the two calls sent
// before the crash go twice (README's at-least-once window: the calls of
// one batch, at most chatq.OutboxBatch).
func TestCrashMidBatch(t *testing.T) {
	var (
		mu           sync.Mutex
		armed, fired bool
	)
	crash := func(chat int64, done int) bool {
		mu.Lock()
		defer mu.Unlock()
		if !armed || chat != 611 {
			return false
		}
		if done == 2 {
			fired = true
		}
		return fired // once dead, this process sends nothing more
	}
	a := newHarness(t, append(short, botOptions(withBatchCrashHook(crash)))...)
	const chat = 611
	a.walkToChecklist(chat)
	answers, edits := okCalls(a.fake, "answerCallbackQuery", chat), allCalls(a.fake, "editMessageText", chat)
	mu.Lock()
	armed = true
	mu.Unlock()
	a.press(chat, "✅ All of the above are true")
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return fired
	}, 10*time.Second, 5*time.Millisecond, "two calls of the batch sent, then the crash")
	a.stop()
	assert.Equal(t, 1, okCalls(a.fake, "answerCallbackQuery", chat)-answers, "sent before the crash")
	assert.Equal(t, 1, allCalls(a.fake, "editMessageText", chat)-edits, "sent before the crash")
	for _, m := range a.fake.Sent(chat) {
		require.NotContains(t, m.Text, enAgree, "the third call was not sent before the crash")
	}

	b := newHarness(t, append(short, replicaOf(a))...)
	b.waitText(chat, enAgree)
	b.settle()
	agree := 0
	for _, m := range b.fake.Sent(chat) {
		if strings.Contains(m.Text, enAgree) {
			agree++
		}
	}
	assert.Equal(t, 1, agree, "the call not sent before the crash arrives, once")
	assert.Equal(t, 2, okCalls(b.fake, "answerCallbackQuery", chat)-answers, "sent again: unmarked when the process died")
	assert.Equal(t, 2, allCalls(b.fake, "editMessageText", chat)-edits,
		"the edit is made again (Telegram finds it unchanged: done with)")
}

// allCalls counts the calls of method to chat, accepted or not.
func allCalls(fake *telegramtest.Server, method string, chat int64) int {
	n := 0
	for _, c := range fake.CallsTo(method) {
		if c.Params.String("chat_id") == fmt.Sprint(chat) {
			n++
		}
	}
	return n
}

func withBatchCrashHook(f func(chat int64, done int) bool) Option {
	return func(b *Bot) { b.crashMidBatch = f }
}

// TestMarkedBeforeAWait: when a call of a batch must wait (here a 429 with
// retry_after of 1 s on the question, the batch's third call: the harness's
// sender waits that long rather than give the outbox back), the calls
// before it are marked sent before the wait, not after it: a process that
// died during the wait would not send them again.
func TestMarkedBeforeAWait(t *testing.T) {
	h := newHarness(t)
	const chat = 523
	h.walkToChecklist(chat)
	h.fake.FailNext("sendMessage", http.StatusTooManyRequests, "", 1, 1)
	h.press(chat, "✅ All of the above are true")
	require.Eventually(t, func() bool {
		n, err := h.q.OutboxLen(context.Background(), chat)
		return err == nil && n == 1
	}, 10*time.Second, 5*time.Millisecond, "the answer and the edit marked, the question waiting")
	for _, m := range h.fake.Sent(chat) {
		require.NotContains(t, m.Text, enAgree, "still waiting out the retry_after")
	}
	h.waitText(chat, enAgree)
	h.settle()
}

// A sender that stops before the call whose budget was taken ahead (here a
// deleteMessage ahead of it met a retry_after longer than the sender waits)
// gives that budget up: whoever takes the outbox up later asks for the
// message's budget anew rather than spending one taken before the stop.
func TestPrepaidBudgetForfeitedWhenTheBatchStops(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const chat = 527
	del := outbox.MustCall("deleteMessage", deleteMessageParams{ChatID: chat, MessageID: 1}, outbox.Reply)
	say := outbox.MustCall("sendMessage", sendMessageParams{ChatID: chat, Text: "after the delete"}, outbox.Reply)
	_, err := h.q.Enqueue(ctx, chat, "", del, say)
	require.NoError(t, err)
	p := h.send.Prefetch(chat)
	require.NotNil(t, p)
	budgetTaken := func() bool {
		n, err := h.rdb.Exists(ctx, p.Keys[1]).Result()
		require.NoError(t, err)
		return n == 1 // the chat's budget key is written only by a take
	}
	h.send.Prepaid(chat) // as a commit's fold does for the batch's first message
	h.fake.FailNext("deleteMessage", http.StatusTooManyRequests, "", 3, 1)
	h.bot.sendOutbox(ctx, chat) // the retry_after is longer than the sender waits: given back
	require.Empty(t, h.fake.Sent(chat))
	require.False(t, budgetTaken())

	h.bot.sendOutbox(ctx, chat)
	h.waitText(chat, "after the delete")
	assert.True(t, budgetTaken(), "the message took a budget of its own")
}
