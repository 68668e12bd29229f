package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/bot/sender"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
	"github.com/merchantbot/merchantbot/locales"
)

// The English texts the tests wait for.
const (
	enWelcome   = "Hello! I help you change the settlement card"
	enAskNo     = "Please type your 15-digit merchant number"
	enAskPhone  = "share your phone number with the button below"
	enChecklist = "Before you change the card, please confirm each item"
	enAskCard   = "Please type the number of the new settlement card"
	enStale     = "That button belongs to an earlier step"
	enSafe      = "Your progress is safe"
)

func (h *harness) text(chat int64, text string) int64 { return h.fake.SendText(chat, chat, text) }

func (h *harness) command(chat int64, c string) int64 { return h.fake.SendCommand(chat, chat, c) }

func (h *harness) press(chat int64, label string) int64 {
	h.t.Helper()
	id, err := h.fake.PressButtonLabeled(chat, chat, label)
	require.NoError(h.t, err)
	return id
}

// settle waits until every update sent so far was confirmed, applied and
// answered: Telegram holds none, and no chat has work left in Redis.
func (h *harness) settle() { h.t.Helper(); h.waitIdle(); h.waitDone() }

// walkToCard takes chat (an English speaker, merchant 822100050110001) to
// the card number question.
func (h *harness) walkToCard(chat int64) {
	h.t.Helper()
	h.walkToChecklist(chat)
	h.press(chat, "✅ All of the above are true") // the checklist is one tap
	h.waitText(chat, "Do you agree?")
	h.press(chat, "I agree")
	h.waitText(chat, enAskCard)
	h.settle()
}

// TestRoundTripsPerUpdate counts Redis round trips on the happy path: per
// update, one to store it and claim its chat with the state (long polling
// stores a whole batch in one), one to commit state and outbox, and one to
// mark the turn's calls sent (the commit hands them out as one batch, up to
// chatq.OutboxBatch calls); plus the sender's budgets.
func TestRoundTripsPerUpdate(t *testing.T) {
	h := newHarness(t, botOptions(WithSweep(time.Hour, time.Hour))) // no sweeps counted
	const chat = 501
	h.walkToCard(chat) // warm: scripts loaded, connections open

	stateBefore, sendBefore := h.state.N(), h.sendRT.N()
	openedBefore := h.bot.decoded.opened.Load()
	callsBefore := h.fake.CallCount("sendMessage") + h.fake.CallCount("editMessageText") +
		h.fake.CallCount("deleteMessage") + h.fake.CallCount("answerCallbackQuery")
	messagesBefore := int64(h.fake.CallCount("sendMessage") + h.fake.CallCount("editMessageText"))
	var helpID int64
	inputs := []func(){
		func() { h.text(chat, "6222 0212 3456 7890 128") }, // card: deleted, echoed masked
		func() { h.text(chat, "张三") },                      // the bank came from the card's BIN: the branch is next
		func() { h.text(chat, "上海张江支行") },
		func() { h.text(chat, "13912345678") },
		func() { helpID = h.command(chat, "/help") },
	}
	var afterCard, afterCardSend, afterCardCalls int64 // the inputs after the card's
	for i, in := range inputs {
		s0, b0, c0 := h.state.N(), h.sendRT.N(), h.fake.CallCount("sendMessage")+h.fake.CallCount("editMessageText")+
			h.fake.CallCount("deleteMessage")+h.fake.CallCount("answerCallbackQuery")
		in()
		h.settle()
		if i > 0 {
			afterCard += h.state.N() - s0
			afterCardSend += h.sendRT.N() - b0
			afterCardCalls += int64(h.fake.CallCount("sendMessage") + h.fake.CallCount("editMessageText") +
				h.fake.CallCount("deleteMessage") + h.fake.CallCount("answerCallbackQuery") - c0)
		}
	}
	updates := int64(len(inputs))
	calls := int64(h.fake.CallCount("sendMessage") + h.fake.CallCount("editMessageText") +
		h.fake.CallCount("deleteMessage") + h.fake.CallCount("answerCallbackQuery") - callsBefore)
	messages := int64(h.fake.CallCount("sendMessage")+h.fake.CallCount("editMessageText")) - messagesBefore
	state := h.state.N() - stateBefore
	send := h.sendRT.N() - sendBefore
	t.Logf("queue, state and outbox: %d round trips for %d updates and %d calls sent (%d for the %d after the card's, %d calls); sender budgets: %d round trips (%d)",
		state, updates, calls, afterCard, updates-1, afterCardCalls, send, afterCardSend)
	// Each input after the card's is one turn: store and claim, commit, and
	// one mark for its calls, whatever their number (4 updates: 12 round
	// trips; marked one call at a time, /help's two replies made it 13).
	assert.LessOrEqual(t, afterCard, 3*(updates-1), "store and claim, commit, one mark per update")
	// The card's input is several turns: its deletion, queued at intake, is
	// sent at once on an outbox lease of its own, which races the commit's
	// for the reply, and the bank looked up from the card's BIN comes back
	// as an event applied as a turn of its own: 4-7 round trips (marked one
	// call at a time: 5-8).
	assert.LessOrEqual(t, state, 3*updates+4, "the card's turns included")
	// With the limits on, the budget of a batch's first message is taken by
	// the commit (or the mark) that hands the batch out; each further
	// message of the batch takes its own (here the card's third message and
	// /help's second: two). A message handed out by an outbox claim asks for
	// its own too (the card's masked echo after the deletion queued at
	// intake: one). So a message costs about one round trip, budget and its
	// share of its batch's mark together: after the card's, 5 for 5 calls
	// (4 marks, /help's second budget), as when each call had its mark and
	// every budget was folded into the mark before.
	assert.LessOrEqual(t, send, messages-updates+1, "the budget of each batch's first message folded")
	assert.LessOrEqual(t, afterCard-2*(updates-1)+afterCardSend, afterCardCalls, "marks and budgets: about one round trip per call")
	assert.Zero(t, h.bot.decoded.opened.Load()-openedBefore,
		"each update decoded once, at intake: the turn takes it decoded, not unsealed and decoded again")

	// A redelivered update costs one round trip and says nothing.
	stateBefore = h.state.N()
	raw := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":1,"date":1,"from":{"id":%d,"is_bot":false,"first_name":"M"},
		"chat":{"id":%d,"type":"private"},"text":"/help"}}`, helpID, chat, chat)
	sent := len(h.fake.Sent(chat))
	require.NoError(t, h.bot.intake(context.Background(), "webhook", []json.RawMessage{json.RawMessage(raw)}))
	h.settle()
	assert.Equal(t, int64(1), h.state.N()-stateBefore)
	assert.Len(t, h.fake.Sent(chat), sent)
}

// TestPanicRecovered injects a panic into one update: it is tried again a
// few times, then dead-lettered; the card number in it is deleted at once
// all the same, the merchant is told their progress is safe, the log names
// the update but not what was typed, and the bot goes on.
func TestPanicRecovered(t *testing.T) {
	h := newHarness(t, wrapEngine(func(e Engine) Engine { return panicky{e} }), botOptions(WithMaxAttempts(3)))
	const chat = 502
	h.fake.SetUserLanguage(chat, "en")
	id := h.text(chat, "boom 6222021234567890128")
	h.waitText(chat, enSafe)
	h.command(chat, "/start")
	h.waitText(chat, enWelcome)
	h.settle()
	logs := h.logs.String()
	assert.Contains(t, logs, "panic while applying update")
	assert.Contains(t, logs, "update_id="+strconv.FormatInt(id, 10))
	assert.NotContains(t, logs, "6222021234567890128")
	assert.Len(t, h.fake.Deleted(chat), 1, "the card number went at once")
	dead, err := h.q.Dead(context.Background(), 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, int64(chat), dead[0].Chat)
	assert.NotContains(t, string(dead[0].Payload), "6222021234567890128", "sealed")

	// A button whose handling panics is still answered once.
	n := len(h.fake.CallbackAnswers())
	h.press(chat, "Change settlement card") // panicky panics on every button
	h.waitText(chat, enSafe)
	h.settle()
	assert.Len(t, h.fake.CallbackAnswers(), n+1)
}

type panicky struct{ Engine }

func (p panicky) Handle(ctx context.Context, st *dialogs.State, in dialogs.Input) dialogs.Outcome {
	if strings.HasPrefix(in.Text, "boom") || in.Kind == dialogs.InButton {
		panic("injected: " + in.Text)
	}
	return p.Engine.Handle(ctx, st, in)
}

// doubleTapChange greets chat (in English) and taps the welcome's "Change
// settlement card" twice in a row; it returns the welcome, both taps'
// query ids and the state after them.
func (h *harness) doubleTapChange(chat int64) (welcome telegramtest.Message, first, second int64, st *dialogs.State) {
	h.t.Helper()
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/start")
	welcome = h.waitText(chat, enWelcome)
	h.settle()
	change, ok := welcome.Button("Change settlement card")
	require.True(h.t, ok)
	first = h.fake.PressButton(chat, chat, welcome.ID, change.CallbackData)
	second = h.fake.PressButton(chat, chat, welcome.ID, change.CallbackData)
	h.settle()
	st = h.stateOf(chat)
	require.NotNil(h.t, st)
	return welcome, first, second, st
}

// TestDoubleTapAndStaleButton: the second tap of a button, and a tap on a
// button of an earlier message, are answered politely and change nothing.
func TestDoubleTapAndStaleButton(t *testing.T) {
	h := newHarness(t)
	const chat = 503
	welcome, first, second, st := h.doubleTapChange(chat)
	assert.Equal(t, dialogs.StepMerchant, st.Step)
	answers := map[string]string{}
	for _, a := range h.fake.CallbackAnswers() {
		_, twice := answers[a.QueryID]
		assert.False(t, twice, "query %s answered twice", a.QueryID)
		answers[a.QueryID] = a.Text
	}
	assert.Equal(t, "", answers[strconv.FormatInt(first, 10)], "the first tap is answered silently")
	assert.Contains(t, answers[strconv.FormatInt(second, 10)], enStale, "the second tap is told, on the button")
	sent := h.fake.Sent(chat)
	assert.Equal(t, 0, countText(sent, enStale), "no message about a stale tap")
	assert.Equal(t, 1, countText(sent, enAskNo), "asked once: the question is on screen")

	// A button of the first message, long after.
	seq := st.Seq
	status, ok := welcome.Button("Check review status")
	require.True(t, ok)
	third := h.fake.PressButton(chat, chat, welcome.ID, status.CallbackData)
	h.settle()
	var toast string
	for _, a := range h.fake.CallbackAnswers() {
		if a.QueryID == strconv.FormatInt(third, 10) {
			toast = a.Text
		}
	}
	assert.Contains(t, toast, enStale)
	assert.Equal(t, 1, countText(h.fake.Sent(chat), enAskNo))
	st = h.stateOf(chat)
	assert.Equal(t, dialogs.StepMerchant, st.Step)
	assert.Equal(t, seq, st.Seq)
}

func countText(msgs []telegramtest.Message, sub string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m.Text, sub) {
			n++
		}
	}
	return n
}

// TestForgedButton: data we did not sign, or signed for another chat, gets
// a polite callback answer and never reaches the dialog.
func TestForgedButton(t *testing.T) {
	h := newHarness(t)
	const chat = 504
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/start")
	welcome := h.waitText(chat, enWelcome)
	h.settle()
	st := h.stateOf(chat)
	foreign, err := h.bot.codec.encode(chat+1, st.Seq, "m:change")
	require.NoError(t, err)
	for _, data := range []string{"m:change", "0|m:change|AAAAAAAAAAA", foreign} {
		h.fake.PressButton(chat, chat, welcome.ID, data)
	}
	h.settle()
	answers := h.fake.CallbackAnswers()
	require.Len(t, answers, 3)
	for _, a := range answers {
		assert.Contains(t, a.Text, enStale)
	}
	assert.Len(t, h.fake.Sent(chat), 1, "nothing said in the chat")
	assert.Equal(t, st, h.stateOf(chat))
}

// TestGroupsIgnored: the dialog never runs outside private chats; a button
// there is still answered.
func TestGroupsIgnored(t *testing.T) {
	h := newHarness(t)
	const group = -100123
	h.fake.SendCommand(group, 505, "/start")
	h.fake.SendText(group, 505, "822100050110001")
	h.fake.PressButton(group, 505, 1, "m:change")
	h.settle()
	assert.Empty(t, h.fake.Sent(group))
	assert.Nil(t, h.stateOf(group))
	assert.Len(t, h.fake.CallbackAnswers(), 1)
}

// TestContactMustBeOwn: someone else's contact is refused and the
// share-contact keyboard offered again; the merchant's own binds them and
// the keyboard is removed.
func TestContactMustBeOwn(t *testing.T) {
	h := newHarness(t)
	const chat = 506
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/start")
	h.waitText(chat, enWelcome)
	h.press(chat, "Change settlement card")
	h.waitText(chat, enAskNo)
	h.text(chat, "822100050110001")
	ask := h.waitText(chat, enAskPhone)
	assert.JSONEq(t, `{"keyboard":[[{"text":"📱 Share my phone number","request_contact":true}]],"resize_keyboard":true,"one_time_keyboard":true}`,
		string(ask.ReplyMarkup))

	h.fake.ShareContact(chat, chat, "+8613800000001", 999) // a contact card of someone else
	h.settle()
	sent := h.fake.Sent(chat)
	assert.Contains(t, sent[len(sent)-1].Text, "share your own contact", "one message: the note, then the question")
	assert.Contains(t, string(sent[len(sent)-1].ReplyMarkup), "request_contact")
	assert.Equal(t, dialogs.StepIDPhone, h.stateOf(chat).Step)

	h.fake.ShareContact(chat, chat, "+8613800000001", chat)
	h.waitText(chat, enChecklist)
	h.settle()
	sent = h.fake.Sent(chat)
	bound := sent[len(sent)-2]
	assert.Contains(t, bound.Text, "Confirmed")
	assert.JSONEq(t, `{"remove_keyboard":true}`, string(bound.ReplyMarkup))
	assert.True(t, h.stateOf(chat).Bound)
}

// TestCardMessageDeleted: the merchant's message with the card number is
// deleted and the bot says so, or asks them to delete it when it cannot;
// the confirmed checklist was edited in place on the way.
func TestCardMessageDeleted(t *testing.T) {
	h := newHarness(t)
	const chat = 507
	h.walkToCard(chat)
	checklist := 0
	for _, m := range h.fake.Sent(chat) {
		if strings.Contains(m.Text, "Prerequisites confirmed") {
			checklist++
			assert.Equal(t, 1, m.Edits, "checklist edited in place")
		}
	}
	assert.Equal(t, 1, checklist)
	for _, c := range h.fake.CallsTo("editMessageText") {
		if mk := c.Params.String("reply_markup"); mk != "" {
			assert.Contains(t, mk, "inline_keyboard", "an edit takes an inline keyboard only")
		}
	}

	h.text(chat, "6222 0212 3456 7890 128")
	h.waitText(chat, "Please type the card holder's name")
	h.settle()
	tr := h.fake.Transcript(chat)
	for _, m := range tr {
		assert.NotContains(t, m.Text, "6222 0212", "the card number left the chat")
	}
	require.Len(t, h.fake.Deleted(chat), 1)
	sent := h.fake.Sent(chat)
	assert.Equal(t, 1, countText(sent, "I deleted your message with the card number"))
	assert.Equal(t, 1, countText(sent, "622202*********0128"))

	h.command(chat, "/back")
	h.waitText(chat, enAskCard)
	h.settle()
	h.fake.FailNext("deleteMessage", 400, "Bad Request: message can't be deleted", 0, 1)
	h.text(chat, "6222 0212 3456 7890 128")
	h.waitText(chat, "Please type the card holder's name")
	h.settle()
	assert.Equal(t, 1, countText(h.fake.Sent(chat), "I could not delete your message"))
}

// TestDeletionSaysOneThing: what the bot says about a card number message
// is said once its deletion's outcome is known, and once: refused, "please
// delete it yourself" alone; failed once and done on the retry, "I deleted"
// alone; typed where no card is asked, one notice; a long message with no
// digit at the card question is no card: no deletion, no notice.
func TestDeletionSaysOneThing(t *testing.T) {
	const (
		deleted    = "I deleted your message with the card number"
		notDeleted = "I could not delete your message"
	)
	h := newHarness(t)
	const chat = 517
	h.walkToCard(chat)
	since := func(n int) []telegramtest.Message { return h.fake.Sent(chat)[n:] }

	n := len(h.fake.Sent(chat))
	h.fake.FailNext("deleteMessage", 400, "Bad Request: message can't be deleted", 0, 1)
	h.text(chat, "6222 0212 3456 7890 128")
	h.waitText(chat, "Please type the card holder's name")
	h.settle()
	assert.Equal(t, 1, countText(since(n), notDeleted))
	assert.Zero(t, countText(since(n), deleted), "not deleted, and said so: nothing more")

	h.command(chat, "/back")
	h.waitText(chat, enAskCard)
	h.settle()
	n = len(h.fake.Sent(chat))
	h.fake.FailNext("deleteMessage", 502, "", 0, 1)
	h.text(chat, "6222 0212 3456 7890 128")
	h.waitText(chat, "Please type the card holder's name")
	h.settle()
	assert.Zero(t, countText(since(n), notDeleted), "the retry deleted it")
	assert.Equal(t, 1, countText(since(n), deleted))

	n = len(h.fake.Sent(chat))
	h.text(chat, "6222 0212 3456 7890 128") // at the holder question
	h.waitText(chat, "Please type the card holder's name")
	h.settle()
	assert.Equal(t, 1, countText(since(n), deleted))
	assert.Equal(t, 1, countText(since(n), "deleted"), "one deletion notice")

	h.command(chat, "/back")
	h.waitText(chat, enAskCard)
	h.settle()
	n = len(h.fake.Sent(chat))
	deletes := h.fake.CallCount("deleteMessage")
	h.text(chat, strings.Repeat("银行卡", 1700))
	h.waitText(chat, enAskCard)
	h.settle()
	assert.Equal(t, deletes, h.fake.CallCount("deleteMessage"))
	assert.Zero(t, countText(since(n), "deleted"))
	assert.Equal(t, 1, countText(since(n), "too long"))
}

// TestCommandWithoutEntity: a command whose message carries no bot_command
// entity (forwarded text that kept other entities, a command on its own
// line) is the command, as with the entity; an unknown one is answered as
// unknown, not as free text at the menu.
func TestCommandWithoutEntity(t *testing.T) {
	h := newHarness(t)
	const chat = 520
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/start")
	h.waitText(chat, enWelcome)
	push := func(id int, text string, entities ...models.MessageEntity) {
		h.fake.PushUpdate(models.Update{Message: &models.Message{
			ID: id, Date: 1, Text: text, Entities: entities,
			ForwardOrigin: &models.MessageOrigin{Type: models.MessageOriginTypeUser, MessageOriginUser: &models.MessageOriginUser{Type: models.MessageOriginTypeUser, Date: 1, SenderUser: models.User{ID: chat}}},
			Chat:          models.Chat{ID: chat, Type: models.ChatTypePrivate},
			From:          &models.User{ID: chat, FirstName: "M", LanguageCode: "en"},
		}})
	}
	push(100, "/status please", models.MessageEntity{Type: models.MessageEntityTypeBold, Offset: 8, Length: 6})
	h.waitText(chat, "I don't know your merchant account yet")
	push(101, "/status@test_bot\nthanks")
	h.settle()
	sent := h.fake.Sent(chat)
	assert.Contains(t, sent[len(sent)-1].Text, "I don't know your merchant account yet")
	assert.Zero(t, countText(sent, "Please choose from the menu"), "a command is not free text")
	push(102, "/foo", models.MessageEntity{Type: models.MessageEntityTypeItalic, Offset: 0, Length: 4})
	h.waitText(chat, "I don't know that command")
}

// TestPassingFailureRetried: an update that fails a few times (here a
// panic) is applied once it can be, before the chat's next update.
func TestPassingFailureRetried(t *testing.T) {
	f := &flaky{}
	f.fails.Store(3)
	h := newHarness(t, wrapEngine(func(e Engine) Engine { f.Engine = e; return f }))
	const chat = 509
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/start")
	h.command(chat, "/help")
	h.settle()
	sent := h.fake.Sent(chat)
	require.Len(t, sent, 2)
	assert.Contains(t, sent[0].Text, enWelcome)
	assert.Contains(t, sent[1].Text, "I guide you through")
	assert.Equal(t, int32(0), f.fails.Load())
}

// TestReminderHeldUpIntoQuietHours: a reminder whose send was held up
// (the Bot API down at its due time) until the quiet hours is not sent at
// night: it is dropped, and the dialog is told to remind in the morning.
func TestReminderHeldUpIntoQuietHours(t *testing.T) {
	var clock atomic.Int64
	cst := time.FixedZone("CST", 8*3600)
	clock.Store(time.Date(2026, 11, 25, 23, 30, 0, 0, cst).UnixNano())
	events := &eventLog{}
	h := newHarness(t, botOptions(WithClock(func() time.Time { return time.Unix(0, clock.Load()) })),
		wrapEngine(func(e Engine) Engine { events.Engine = e; return events }))
	const chat = 521
	reminder := func(text string) outbox.Call {
		c := outbox.MustCall("sendMessage", sendMessageParams{ChatID: chat, Text: text}, outbox.Reply)
		c.Quiet = true
		return c
	}
	_, err := h.bot.Enqueue(context.Background(), chat, "", reminder("night reminder"))
	require.NoError(t, err)
	for deadline := time.Now().Add(20 * time.Second); !events.saw(dialogs.EventRemindLater); time.Sleep(5 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "remind_later was not posted")
	}
	h.settle()
	assert.Zero(t, countText(h.fake.Sent(chat), "night reminder"), "not sent at 23:30")

	clock.Store(time.Date(2026, 11, 26, 8, 0, 0, 0, cst).UnixNano())
	_, err = h.bot.Enqueue(context.Background(), chat, "", reminder("morning reminder"))
	require.NoError(t, err)
	h.waitText(chat, "morning reminder")
}

// eventLog records the events the dialog was handed.
type eventLog struct {
	Engine
	mu     sync.Mutex
	events []string
}

func (l *eventLog) Handle(ctx context.Context, st *dialogs.State, in dialogs.Input) dialogs.Outcome {
	if in.Kind == dialogs.InEvent {
		l.mu.Lock()
		l.events = append(l.events, in.Text)
		l.mu.Unlock()
	}
	return l.Engine.Handle(ctx, st, in)
}

func (l *eventLog) saw(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.events, name)
}

type flaky struct {
	Engine
	fails atomic.Int32
}

func (f *flaky) Handle(ctx context.Context, st *dialogs.State, in dialogs.Input) dialogs.Outcome {
	if f.fails.Add(-1) >= 0 {
		panic("passing failure")
	}
	f.fails.Store(0)
	return f.Engine.Handle(ctx, st, in)
}

// TestWebhookHandler: a request without the right secret is refused before
// anything is applied; with it, the update is applied before the 200.
func TestWebhookHandler(t *testing.T) {
	h := newHarness(t)
	srv := httptest.NewServer(h.bot.Handler("/tg/hook", "s3cret_-X"))
	defer srv.Close()
	const chat = 510
	update := func(id int64) string {
		return fmt.Sprintf(`{"update_id":%d,"message":{"message_id":1,"date":1,"chat":{"id":%d,"type":"private"},
			"from":{"id":%d,"is_bot":false,"first_name":"M","language_code":"en"},
			"text":"/start","entities":[{"type":"bot_command","offset":0,"length":6}]}}`, id, chat, chat)
	}
	post := func(secret, body string) int {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/tg/hook", strings.NewReader(body))
		require.NoError(t, err)
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, post("", update(900001)))
	assert.Equal(t, http.StatusUnauthorized, post("s3cret_-Y", update(900002)))
	assert.Equal(t, http.StatusUnauthorized, post("s3cret_-", update(900003)))
	assert.Empty(t, h.fake.Sent(chat))
	assert.Nil(t, h.stateOf(chat))

	assert.Equal(t, http.StatusOK, post("s3cret_-X", update(900004)))
	h.settle()
	sent := h.fake.Sent(chat)
	require.Len(t, sent, 1)
	assert.Contains(t, sent[0].Text, enWelcome)
	assert.Equal(t, http.StatusOK, post("s3cret_-X", update(900004)), "a redelivery is accepted")
	h.settle()
	assert.Len(t, h.fake.Sent(chat), 1, "and not applied twice")

	// A body from Telegram that is not an update is acknowledged (asking
	// for it again would hold back every later update) and dropped.
	for _, body := range []string{"{not json", `"text"`, update(900005)[:40]} {
		assert.Equal(t, http.StatusOK, post("s3cret_-X", body), body)
	}
	assert.Equal(t, http.StatusOK, post("s3cret_-X", update(900006)))
	h.settle()
	assert.Len(t, h.fake.Sent(chat), 2, "the next update is applied")

	resp, err := http.Get(srv.URL + "/tg/hook")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
}

// TestUnblock: a 403 records the merchant as blocked; Telegram's
// my_chat_member update when they unblock the bot clears it.
func TestUnblock(t *testing.T) {
	h := newHarness(t)
	const chat = 511
	h.fake.SetBlocked(chat, true)
	h.command(chat, "/start")
	h.settle()
	ctx := context.Background()
	blocked, err := h.send.Blocked(ctx, chat)
	require.NoError(t, err)
	require.True(t, blocked)
	calls := h.fake.CallCount("sendMessage")
	// A message lifts the mark (TestUnblockByMessage): its reply is tried
	// once, the 403 marks the chat again, and it waits with the first.
	h.command(chat, "/help")
	h.settle()
	assert.Equal(t, calls+1, h.fake.CallCount("sendMessage"), "one try, then the chat is blocked again")
	blocked, err = h.send.Blocked(ctx, chat)
	require.NoError(t, err)
	require.True(t, blocked)

	h.fake.SetBlocked(chat, false)
	h.fake.PushUpdate(models.Update{MyChatMember: &models.ChatMemberUpdated{
		Chat: models.Chat{ID: chat, Type: models.ChatTypePrivate}, From: models.User{ID: chat},
		OldChatMember: models.ChatMember{Type: models.ChatMemberTypeBanned, Banned: &models.ChatMemberBanned{}},
		NewChatMember: models.ChatMember{Type: models.ChatMemberTypeMember, Member: &models.ChatMemberMember{}},
	}})
	h.settle()
	blocked, err = h.send.Blocked(ctx, chat)
	require.NoError(t, err)
	assert.False(t, blocked)
	sent := h.fake.Sent(chat)
	require.Len(t, sent, 2, "what waited is delivered once they are back, in order")
	assert.Contains(t, sent[0].Text, "Hello! I help you change")
	assert.Contains(t, sent[1].Text, "I guide you through")
}

// TestUnblockByMessage: a merchant marked blocked after one 403 who
// writes again (no my_chat_member seen) is answered: a private message
// proves the chat reachable, and what waited goes first, in order.
func TestUnblockByMessage(t *testing.T) {
	h := newHarness(t)
	const chat = 512
	h.fake.SetBlocked(chat, true)
	h.command(chat, "/start")
	h.settle()
	blocked, err := h.send.Blocked(context.Background(), chat)
	require.NoError(t, err)
	require.True(t, blocked)

	h.fake.SetBlocked(chat, false)
	h.command(chat, "/help")
	sent := h.waitSent(chat, 2)
	require.Len(t, sent, 2)
	assert.Contains(t, sent[0].Text, "Hello! I help you change", "what waited goes first")
	assert.Contains(t, sent[1].Text, "I guide you through")
	blocked, err = h.send.Blocked(context.Background(), chat)
	require.NoError(t, err)
	assert.False(t, blocked)
}

// TestRedisDown: with Redis out of reach a webhook update is not
// acknowledged (Telegram delivers it again), and a card number in it is
// deleted from the chat straight away all the same.
func TestRedisDown(t *testing.T) {
	fake := telegramtest.New()
	t.Cleanup(fake.Close)
	catalog, err := locales.Load()
	require.NoError(t, err)
	cipher, err := store.NewCipher(store.RandomKey())
	require.NoError(t, err)
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { dead.Close() })
	send := sender.New(dead, sender.WithMaxAttempts(1))
	b, err := New(fake.Token(), nil, catalog, chatq.New(dead), cipher, send, WithServerURL(fake.URL()))
	require.NoError(t, err)
	srv := httptest.NewServer(b.Handler("/hook", "s3cret"))
	defer srv.Close()
	const chat = 630
	fake.SendText(chat, chat, "6222 0212 3456 7890 128")
	got, err := http.Post(fake.URL()+"/bot"+fake.Token()+"/getUpdates", "application/json", strings.NewReader(`{"timeout":0}`))
	require.NoError(t, err)
	var env struct {
		Result []json.RawMessage `json:"result"`
	}
	require.NoError(t, json.NewDecoder(got.Body).Decode(&env))
	got.Body.Close()
	require.Len(t, env.Result, 1)
	var u models.Update
	require.NoError(t, json.Unmarshal(env.Result[0], &u))
	body := string(env.Result[0])
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/hook", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set(secretHeader, "s3cret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, "not acknowledged")
	assert.Equal(t, []int{u.Message.ID}, fake.Deleted(chat), "the card number is gone all the same")

	// A merchant's button that could not be stored is not answered in the
	// response: Telegram delivers it again.
	button := fmt.Sprintf(`{"update_id":%d,"callback_query":{"id":"q1","chat_instance":"1",
		"from":{"id":%d,"is_bot":false,"first_name":"M"},"message":{"message_id":1,"date":1,"chat":{"id":%d,"type":"private"}},
		"data":"x"}}`, u.ID+1, chat, chat)
	req, err = http.NewRequest(http.MethodPost, srv.URL+"/hook", strings.NewReader(button))
	require.NoError(t, err)
	req.Header.Set(secretHeader, "s3cret")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.NotContains(t, string(answer), "answerCallbackQuery")
	assert.NotEqual(t, "application/json", resp.Header.Get("Content-Type"))

	// Long polling fetches it, cannot store it, and does not confirm it.
	ctx, cancel := context.WithCancel(context.Background())
	polled := make(chan error, 1)
	go func() { polled <- b.Poll(ctx, time.Second) }()
	waitFor(t, fake, "getUpdates asked again", func(s *telegramtest.Snapshot) bool { return s.CallCount("getUpdates") >= 4 })
	cancel()
	require.NoError(t, <-polled)
	assert.Equal(t, 1, fake.Pending(), "Telegram still holds the update")
}

// TestOutageDeletionTold: a card number that arrives while Redis is out of
// reach is deleted straight away; once Redis is back and the update is
// stored, its deletion finds the message gone. The merchant hears that it
// was deleted, once, and never "please delete it yourself".
func TestOutageDeletionTold(t *testing.T) {
	h := newHarness(t)
	const chat = 519
	h.walkToCard(chat)
	h.stop() // Telegram now holds what the merchant sends next

	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { dead.Close() })
	catalog, err := locales.Load()
	require.NoError(t, err)
	down, err := New(h.fake.Token(), nil, catalog, chatq.New(dead), h.cipher, sender.New(dead, sender.WithMaxAttempts(1)),
		WithServerURL(h.fake.URL()))
	require.NoError(t, err)
	h.text(chat, "6222 0212 3456 7890 128")
	got, err := http.Post(h.fake.URL()+"/bot"+h.fake.Token()+"/getUpdates", "application/json", strings.NewReader(`{"timeout":0}`))
	require.NoError(t, err)
	var env struct {
		Result []json.RawMessage `json:"result"`
	}
	require.NoError(t, json.NewDecoder(got.Body).Decode(&env))
	got.Body.Close()
	require.Len(t, env.Result, 1)
	deliver := func(to http.Handler) int {
		req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(env.Result[0])))
		req.Header.Set(secretHeader, "s3cret")
		rec := httptest.NewRecorder()
		to.ServeHTTP(rec, req)
		return rec.Code
	}
	require.Equal(t, http.StatusInternalServerError, deliver(down.Handler("/hook", "s3cret")))
	require.Len(t, h.fake.Deleted(chat), 1, "deleted while Redis is away")

	back := newHarness(t, replicaOf(h), webhookOnly())
	require.Equal(t, http.StatusOK, deliver(back.bot.Handler("/hook", "s3cret")))
	back.waitText(chat, "Please type the card holder's name")
	back.waitDone()
	sent := h.fake.Sent(chat)
	assert.Zero(t, countText(sent, "I could not delete your message"), "it was deleted: never ask the merchant to")
	assert.Equal(t, 1, countText(sent, "I deleted your message with the card number"))
}

// TestCommandMenus: setMyCommands for Chinese, English and the default.
func TestCommandMenus(t *testing.T) {
	h := newHarness(t)
	for lang, want := range map[string]string{"": "查询审核进度", "zh": "查询审核进度", "en": "Check review status"} {
		cmds := h.fake.Commands("default", lang)
		require.Len(t, cmds, 7, "language %q", lang)
		assert.Equal(t, "status", cmds[1].Command)
		assert.Equal(t, want, cmds[1].Description)
	}
}

// TestHandOffThroughThePipeline: /support opens a topic in the support
// forum with a context card (the card masked); what the merchant writes
// reaches the topic, a card number masked; an agent's answer reaches the
// merchant; /close hands back to the exact step.
func TestHandOffThroughThePipeline(t *testing.T) {
	const group = -1001234567890
	h := newHarness(t, withDesk(group))
	const chat = 512
	agent := models.User{ID: 4242, FirstName: "Alice"}
	h.fake.SetChatMember(group, agent, models.ChatMemberTypeAdministrator, false)
	h.walkToCard(chat)
	h.text(chat, "6222 0212 3456 7890 128")
	h.waitText(chat, "holder")
	h.settle()
	step := h.stateOf(chat).Step
	h.command(chat, "/support")
	h.settle()
	topics := h.fake.Topics(group)
	require.Len(t, topics, 1)
	thread := topics[0].ThreadID
	h.text(chat, "my other card is 6228480000123456782, can I use it?")
	h.waitFor("the relay in the topic (batched)", func(s *telegramtest.Snapshot) bool {
		for _, m := range s.Sent(group) {
			if strings.Contains(m.Text, "6782") {
				return true
			}
		}
		return false
	})
	h.settle()
	var inTopic []string
	for _, m := range h.fake.Sent(group) {
		inTopic = append(inTopic, m.Text)
		assert.NotContains(t, m.Text, "6222021234567890128")
		assert.NotContains(t, m.Text, "6228480000123456782")
	}
	all := strings.Join(inTopic, "\n")
	assert.Contains(t, all, "0128", "the context card shows the card, masked")
	assert.Contains(t, all, "6782", "the relay shows the typed card, masked")

	h.fake.Send(group, agent.ID, telegramtest.UserMessage{Thread: thread, Text: "/claim"})
	h.settle()
	h.fake.Send(group, agent.ID, telegramtest.UserMessage{Thread: thread, Text: "Yes, any debit card in your name works."})
	h.waitText(chat, "any debit card in your name")
	h.fake.Send(group, agent.ID, telegramtest.UserMessage{Thread: thread, Text: "/close"})
	h.settle()
	assert.Equal(t, step, h.stateOf(chat).Step, "back at the step the merchant left")
}

// TestDeepLink: t.me/<bot>?start=change_card goes straight into the flow;
// the language comes from the client on first contact.
func TestDeepLink(t *testing.T) {
	h := newHarness(t)
	const chat = 513
	h.fake.SetUserLanguage(chat, "zh-hant")
	h.command(chat, "/start change_card")
	h.waitText(chat, "请输入 15 位商户号")
	h.settle()
	assert.Equal(t, dialogs.StepMerchant, h.stateOf(chat).Step)
}

// TestTypedPhoneRemovesKeyboard: a merchant who types the phone instead of
// sharing it does not keep the share-contact keyboard for the rest of the
// dialog.
func TestTypedPhoneRemovesKeyboard(t *testing.T) {
	h := newHarness(t)
	const chat = 514
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/start change_card")
	h.waitText(chat, enAskNo)
	h.text(chat, "822100050110001")
	h.waitText(chat, enAskPhone)
	h.text(chat, "13800000001")
	h.waitText(chat, "I sent a 6-digit code by SMS")
	h.text(chat, "123456")
	h.waitText(chat, enChecklist)
	h.settle()
	// The keyboard goes with the first message after the typed phone: the
	// code step's, which has no buttons of its own.
	var codeSent telegramtest.Message
	for _, m := range h.fake.Sent(chat) {
		if strings.Contains(m.Text, "I sent a 6-digit code by SMS") {
			codeSent = m
		}
	}
	assert.JSONEq(t, `{"remove_keyboard":true}`, string(codeSent.ReplyMarkup))
}

// TestCardNumberInEditOrCaptionDeleted: a card number that reaches the chat
// by editing a message or as a photo's caption is removed as well; an
// ordinary edit gets no reply.
func TestCardNumberInEditOrCaptionDeleted(t *testing.T) {
	h := newHarness(t)
	const chat = 509
	h.command(chat, "/start")
	h.waitSent(chat, 1)
	h.settle()
	user := models.User{ID: chat, FirstName: "M", LanguageCode: "en"}
	edited := func(id int, text string) {
		h.fake.PushUpdate(models.Update{EditedMessage: &models.Message{
			ID: id, From: &user, Chat: models.Chat{ID: chat, Type: models.ChatTypePrivate}, Text: text,
		}})
	}
	edited(1, "hello again")
	edited(1, "my card 6222 0212 3456 7890 128")
	h.waitText(chat, "That looks like a card number")
	h.fake.PushUpdate(models.Update{Message: &models.Message{
		ID: 2, From: &user, Chat: models.Chat{ID: chat, Type: models.ChatTypePrivate},
		Photo: []models.PhotoSize{{FileID: "f", FileUniqueID: "u", Width: 1, Height: 1}}, Caption: "6222021234567890128",
	}})
	h.waitFor("two deletions", func(s *telegramtest.Snapshot) bool { return len(s.Deleted(chat)) == 2 })
	h.settle()
	assert.ElementsMatch(t, []int{1, 2}, h.fake.Deleted(chat))
	sent := h.fake.Sent(chat) // message 1 was the bot's welcome: the fake shares ids, and deletes it
	assert.Equal(t, 2, countText(sent, "That looks like a card number"), "one note per card number, none for the plain edit")
	for _, m := range sent {
		assert.NotContains(t, m.Text, "6222021234567890128")
	}
}

// TestDottedCardDeletedInMessageEditAndCaption: a card number written with
// dots (or full-width digits and mixed separators) is deleted on receipt
// like a plain one — as a message, an edit and a photo's caption — and each
// message once; the merchant number typed at the identify step stays.
func TestDottedCardDeletedInMessageEditAndCaption(t *testing.T) {
	h := newHarness(t)
	const chat = 539
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/start")
	h.waitSent(chat, 1)
	h.settle()
	_, text := h.fake.Send(chat, chat, telegramtest.UserMessage{Text: "6228.4800.0012.3456.782"})
	h.waitFor("the text deleted", func(s *telegramtest.Snapshot) bool { return len(s.Deleted(chat)) == 1 })
	_, plain := h.fake.Send(chat, chat, telegramtest.UserMessage{Text: "hello"})
	h.settle()
	_, err := h.fake.Edit(chat, plain, "my card ６２２８ ４８００-0012．3456／782")
	require.NoError(t, err)
	h.waitFor("the edit deleted", func(s *telegramtest.Snapshot) bool { return len(s.Deleted(chat)) == 2 })
	_, photo := h.fake.Send(chat, chat, telegramtest.UserMessage{Kind: "photo", Text: "卡号 6228.4800.0012.3456.782"})
	h.waitFor("the photo deleted", func(s *telegramtest.Snapshot) bool { return len(s.Deleted(chat)) == 3 })
	h.settle()
	assert.Equal(t, []int{text, plain, photo}, h.fake.Deleted(chat))
	assert.Len(t, h.fake.CallsTo("deleteMessage"), 3, "each message deleted once")
	for _, m := range h.fake.Sent(chat) {
		assert.Empty(t, leaktest.Leaks("6228.4800.0012.3456.782", m.Text), m.Text)
	}

	// The merchant number is an answer, not a card: it stays.
	h.command(chat, "/start change_card")
	h.waitText(chat, enAskNo)
	_, merchant := h.fake.Send(chat, chat, telegramtest.UserMessage{Text: "822.100.050.110.001"})
	h.waitText(chat, enAskPhone)
	h.settle()
	assert.NotContains(t, h.fake.Deleted(chat), merchant)
}

// TestRedeliveredUpdateNotAppliedTwice: an update Telegram delivers again
// (to this or another replica) after it was applied is recognised at
// intake and neither applied nor answered twice.
func TestRedeliveredUpdateNotAppliedTwice(t *testing.T) {
	h := newHarness(t)
	const chat = 511
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/start")
	h.waitSent(chat, 1)
	h.settle()
	id := h.text(chat, "6222 0212 3456 7890 128")
	h.waitText(chat, "That looks like a card number")
	h.settle()
	require.Len(t, h.fake.CallsTo("deleteMessage"), 1)
	sent := len(h.fake.Sent(chat))

	raw := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":77,"date":1,"from":{"id":%d,"is_bot":false,"first_name":"M"},
		"chat":{"id":%d,"type":"private"},"text":"6222 0212 3456 7890 128"}}`, id, chat, chat)
	require.NoError(t, h.bot.intake(context.Background(), "webhook", []json.RawMessage{json.RawMessage(raw)}))
	h.settle()
	assert.Len(t, h.fake.Sent(chat), sent, "the redelivery is not answered twice")
}

// TestRelayWithoutDesk: with no support desk attached, a merchant who
// writes during a hand-off is told nobody reads it here, not left unanswered.
func TestRelayWithoutDesk(t *testing.T) {
	h := newHarness(t)
	const chat = 515
	h.fake.SetUserLanguage(chat, "en")
	h.command(chat, "/support")
	h.settle()
	h.text(chat, "hello, is anyone there?")
	h.waitText(chat, "No support desk is connected here")
}
