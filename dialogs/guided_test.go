package dialogs_test

import (
	"context"

	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs"
)

// merchant answers the dialog the way dialogs.Guide() says a merchant who
// means to finish does (as the load tool's simulated merchant does): at
// each step it presses the step's forward button when the bot shows one,
// else it types (or shares) its sample of the step's kind of answer. It
// keeps one sample per kind of answer, not per step, so a step added to
// the dialog needs no edit here or in the tests that walk through it.
type merchant struct {
	samples map[dialogs.AnswerKind]dialogs.Input
	// actions counts what the merchant did (messages, taps, contacts).
	actions int
	// met are the steps the merchant answered, in order.
	met []string
	// own answers steps dialogs.Guide() does not list (a step added by
	// an engine option, as WithTestStep's).
	own map[string]dialogs.Input
}

// zhangSan is the sandbox's merchant 822100050110001 (张三), identified by
// a typed phone and an SMS code (the console's way).
func zhangSan() *merchant {
	text := func(s string) dialogs.Input { return dialogs.Input{Kind: dialogs.InText, Text: s} }
	return &merchant{samples: map[dialogs.AnswerKind]dialogs.Input{
		dialogs.AnswerMerchantNo:    text("822100050110001"),
		dialogs.AnswerContact:       text("13800000001"),
		dialogs.AnswerCode:          text(code),
		dialogs.AnswerCard:          text(card),
		dialogs.AnswerHolder:        text("张三"),
		dialogs.AnswerBank:          text("中国工商银行"),
		dialogs.AnswerBranch:        text("上海张江支行"),
		dialogs.AnswerReservedPhone: text(reservedPhone),
	}}
}

// with answers kind with in instead.
func (m *merchant) with(kind dialogs.AnswerKind, in dialogs.Input) *merchant {
	m.samples[kind] = in
	return m
}

// at answers step, which has no guide, with in.
func (m *merchant) at(step string, in dialogs.Input) *merchant {
	if m.own == nil {
		m.own = map[string]dialogs.Input{}
	}
	m.own[step] = in
	return m
}

// typed is a typed answer.
func typed(s string) dialogs.Input { return dialogs.Input{Kind: dialogs.InText, Text: s} }

// sharing shares the phone on file as a contact (Telegram's way).
func (m *merchant) sharing() *merchant {
	return m.with(dialogs.AnswerContact, dialogs.Input{Kind: dialogs.InContact,
		Contact: &dialogs.Contact{Phone: "+86 138 0000 0001", OwnedBySender: true}})
}

// guides are the guided steps by name.
var guides = func() map[string]dialogs.StepGuide {
	m := map[string]dialogs.StepGuide{}
	for _, g := range dialogs.Guide() {
		m[g.Step] = g
	}
	return m
}()

// walk answers step after step until done says the state is where the
// test wants it; done is asked before each action.
func (m *merchant) walk(c *chat, done func(*dialogs.State) bool) {
	c.t.Helper()
	for range 40 {
		st, err := c.f.store.Load(context.Background(), c.id)
		require.NoError(c.t, err)
		require.NotNil(c.t, st, "walk: no chat to walk (send /start first)")
		if done(st) {
			return
		}
		m.answer(c, st)
	}
	c.t.Fatalf("walk: not done after 40 actions")
}

// walkTo walks to step.
func (m *merchant) walkTo(c *chat, step string) {
	c.t.Helper()
	m.walk(c, func(st *dialogs.State) bool { return st.Step == step })
}

// answer does what the guide of the step st is at says.
func (m *merchant) answer(c *chat, st *dialogs.State) {
	c.t.Helper()
	m.actions++
	m.met = append(m.met, st.Step)
	if in, ok := m.own[st.Step]; ok {
		c.send(in)
		return
	}
	g, ok := guides[st.Step]
	require.True(c.t, ok, "walk: step %q has no guide", st.Step)
	shown := c.last
	if !hasAny(shown, g.Forward) {
		// The step's question is not the last thing said (a note came
		// after it): the question as the bot would ask it again.
		shown = c.f.engine.Resume(context.Background(), st, false)
	}
	for _, id := range g.Forward {
		if data, ok := buttonLabelled(shown, dialogs.MsgID(id)); ok {
			c.send(dialogs.Input{Kind: dialogs.InButton, Data: data, Seq: st.Seq})
			return
		}
	}
	in, ok := m.samples[g.Answer]
	require.True(c.t, ok && g.Answer != "", "walk: step %q shows no forward button and takes no typed answer", st.Step)
	c.send(in)
}

// buttonLabelled is the data of the first button of out labelled id.
func buttonLabelled(out dialogs.Outcome, id dialogs.MsgID) (string, bool) {
	for _, r := range out.Replies {
		for _, row := range r.Buttons {
			for _, b := range row {
				if b.Key == id && b.Data != "" {
					return b.Data, true
				}
			}
		}
	}
	return "", false
}

func hasAny(out dialogs.Outcome, ids []string) bool {
	for _, id := range ids {
		if _, ok := buttonLabelled(out, dialogs.MsgID(id)); ok {
			return true
		}
	}
	return false
}
