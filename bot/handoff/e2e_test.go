package handoff_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/bot/handoff"
	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
	"github.com/merchantbot/merchantbot/locales"
)

// loop joins the real dialog to the desk the way the adapter will: a
// merchant's message goes through the dialog, whose replies go to the
// merchant and whose effects go to the desk; the desk's posted events go
// back through the dialog.
type loop struct {
	f      *fixture
	desk   *handoff.Desk
	engine *dialogs.Engine
	states map[int64]*dialogs.State // each chat's state, as the pipeline keeps it between turns
	render *dialogs.Renderer
	seq    map[int64]int
	done   int // posts applied
}

func newLoop(t *testing.T, f *fixture, d *handoff.Desk) *loop {
	bins, err := cardbin.Load()
	require.NoError(t, err)
	catalog, err := locales.Load()
	require.NoError(t, err)
	sb := sandbox.New(sandbox.WithClock(f.clock.Now), sandbox.WithCodes(func() string { return "123456" }))
	engine := dialogs.NewEngine(sb, bins, dialogs.WithClock(f.clock.Now))
	return &loop{f: f, desk: d, engine: engine, states: map[int64]*dialogs.State{},
		render: dialogs.NewRenderer(catalog, nil), seq: map[int64]int{}}
}

func (l *loop) apply(chat int64, in dialogs.Input, msgID int) {
	t := l.f.t
	t.Helper()
	ctx := context.Background()
	st := l.states[chat]
	if st == nil {
		st = &dialogs.State{}
		l.states[chat] = st
	}
	out := l.engine.Handle(ctx, st, in)
	l.seq[chat] = out.Seq
	for _, e := range out.Effects {
		if e.Kind == dialogs.DeleteMessage {
			_, err := l.f.wire.Enqueue(ctx, chat, "", call(t, "deleteMessage", map[string]any{"chat_id": chat, "message_id": e.MessageID}))
			require.NoError(t, err)
		}
	}
	var msg *telegramtest.Message
	if msgID != 0 {
		for _, m := range l.f.srv.Transcript(chat) {
			if m.ID == msgID {
				msg = &m
			}
		}
	}
	if msg != nil {
		api := msg.APIMessage
		require.NoError(t, l.desk.Apply(ctx, chat, out.Effects, &api, false))
	} else {
		require.NoError(t, l.desk.Apply(ctx, chat, out.Effects, nil, false))
	}
	for _, r := range out.Replies {
		_, err := l.f.wire.Enqueue(ctx, chat, "", call(t, "sendMessage", map[string]any{"chat_id": chat, "text": l.render.Reply(out.Lang, r)}))
		require.NoError(t, err)
	}
}

func call(t *testing.T, method string, params any) outbox.Call {
	c, err := outbox.NewCall(method, params, outbox.Reply)
	require.NoError(t, err)
	return c
}

// says sends text from the merchant through the dialog.
func (l *loop) says(chat int64, text string) int {
	_, id := l.f.srv.Send(chat, chat, telegramtest.UserMessage{Text: text})
	in := dialogs.Input{Kind: dialogs.InText, Text: text, MessageID: id}
	if name, ok := strings.CutPrefix(text, "/"); ok {
		in = dialogs.Input{Kind: dialogs.InCommand, Text: name, MessageID: id}
	}
	l.apply(chat, in, id)
	return id
}

func (l *loop) press(chat int64, data string) {
	l.apply(chat, dialogs.Input{Kind: dialogs.InButton, Data: data, Seq: l.seq[chat]}, 0)
}

// events applies what the desk posted since last time.
func (l *loop) events() {
	posts := l.f.wire.Posts()
	for _, p := range posts[l.done:] {
		l.apply(p.Chat, dialogs.Input{Kind: dialogs.InEvent, Text: p.Event, Arg: p.Arg}, 0)
	}
	l.done = len(posts)
}

func (l *loop) state(chat int64) *dialogs.State {
	st := l.states[chat]
	require.NotNil(l.f.t, st)
	cp := *st
	return &cp
}

func TestTwoMerchantsTwoAgentsEndToEnd(t *testing.T) {
	f := newFixture(t)
	d := f.desk()
	l := newLoop(t, f, d)
	ctx := context.Background()

	// Merchant 1 stops at the merchant number, merchant 2 at the phone.
	l.says(m1, "/start")
	l.press(m1, "m:change")
	l.says(m2, "/start")
	l.press(m2, "m:change")
	l.says(m2, "822100050110004")
	require.Equal(t, dialogs.StepMerchant, l.state(m1).Step)
	require.Equal(t, dialogs.StepIDPhone, l.state(m2).Step)

	l.says(m1, "/support")
	l.says(m2, "/support")
	f.wire.settle(t)
	topics := f.srv.Topics(group)
	require.Len(t, topics, 2)
	t1, t2 := topics[0].ThreadID, topics[1].ThreadID

	// Both write at once; merchant 1 types a card number.
	l.says(m1, "I can't find my merchant number")
	l.says(m2, "which phone?")
	cardMsg := l.says(m1, "my card is 6222 0212 3456 7890 128")
	require.NoError(t, d.Flush(ctx, m1))
	require.NoError(t, d.Flush(ctx, m2))
	f.wire.settle(t)
	assert.Contains(t, f.srv.Deleted(m1), cardMsg, "the card message is removed")
	g1 := describe(f.inThread(t1))
	assert.Contains(t, g1, "I can't find my merchant number")
	assert.Contains(t, g1, "622202*********0128")
	assert.Contains(t, describe(f.inThread(t2)), "which phone?")

	// Each agent takes one; their answers reach the right merchant.
	f.agentSays(d, alice, t1, telegramtest.UserMessage{Text: "It is on your POS receipt."})
	f.agentSays(d, bob, t2, telegramtest.UserMessage{Text: "The phone registered with the acquirer."})
	f.agentSays(d, bob, t1, telegramtest.UserMessage{Text: "me too"})
	f.wire.settle(t)
	last := func(chat int64) string {
		m, _ := f.srv.LastSent(chat)
		return m.Text
	}
	assert.Equal(t, "It is on your POS receipt.", last(m1))
	assert.Equal(t, "The phone registered with the acquirer.", last(m2))

	// Hand back: each merchant is at the step they left.
	f.agentSays(d, alice, t1, telegramtest.UserMessage{Text: "/close"})
	f.agentSays(d, bob, t2, telegramtest.UserMessage{Text: "/close"})
	f.wire.settle(t)
	l.events()
	f.wire.settle(t)
	assert.Equal(t, dialogs.StepMerchant, l.state(m1).Step)
	assert.Equal(t, dialogs.StepIDPhone, l.state(m2).Step)
	assert.Equal(t, "822100050110004", l.state(m2).PendingNo, "answers intact")

	// And they go on: merchant 2 answers the phone question.
	l.says(m2, "13800000004")
	assert.Equal(t, dialogs.StepIDCode, l.state(m2).Step)

	for _, m := range f.srv.Sent(group) {
		assert.False(t, leaktest.HasCard(m.Text) || leaktest.HasCard(m.Caption), "card data in the group: %q", m.Text)
	}
	assert.Empty(t, f.wire.Lost())
}
