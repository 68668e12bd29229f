package dialogs_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// formed is a draft's answers without what differs between two chats that
// gave them at other moments (the clock, the draft id, the sequence).
func formed(st *dialogs.State) dialogs.State {
	c := comparable(st)
	c.DraftID = ""
	return c
}

// TestCardQuestionOffersTheForm: the card question of a personal card says
// it may be answered with the form; a company's account question does not.
func TestCardQuestionOffersTheForm(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 41}
	atCard(c)
	require.Equal(t, dialogs.StepCard, mustLoad(t, f, c.id).Step)
	last := c.last.Replies[len(c.last.Replies)-1]
	assert.True(t, last.Form, "the card question offers the form")
	assert.True(t, dialogs.FormOpen(mustLoad(t, f, c.id)))

	c.text(card)
	assert.False(t, dialogs.FormOpen(mustLoad(t, f, c.id)), "past the card question the form is closed")
	for _, r := range c.last.Replies {
		assert.False(t, r.Form, "only the card question offers the form")
	}
}

// TestFormAnswersAsTyped: the form's fields leave the chat exactly where
// typing them would, with the card shown masked and one question at the
// end (the summary, or the first question the form has no field for); on
// from there, no question the form answered is asked again. A form with
// the card alone leaves the chat where typing the card would.
func TestFormAnswersAsTyped(t *testing.T) {
	fields := map[string]string{dialogs.StepHolder: "张三", dialogs.StepBranch: "上海张江支行", dialogs.StepPhone: reservedPhone}
	f := newFixture(t, nil)
	typed := &chat{t: t, f: f, id: 42}
	atCard(typed)
	typed.text(card)
	afterCard := formed(mustLoad(t, f, typed.id))
	// Typed, each answer the form has for the step asked, while there is one.
	answered := map[string]bool{}
	for {
		st := mustLoad(t, f, typed.id)
		v, ok := fields[st.Step]
		if !ok || answered[st.Step] {
			break
		}
		answered[st.Step] = true
		typed.text(v)
	}
	require.NotEmpty(t, answered, "the form has a field for the question after the card")

	ff := newFixture(t, nil) // a merchant gets one code a minute: another sandbox
	form := &chat{t: t, f: ff, id: 43}
	atCard(form)
	out := form.send(dialogs.Input{Kind: dialogs.InForm, Returning: true, Form: &dialogs.Form{
		Card: card, Holder: "张三", Branch: "上海张江支行", ReservedPhone: reservedPhone}})
	assert.Equal(t, formed(mustLoad(t, f, typed.id)), formed(mustLoad(t, ff, form.id)))
	text := strings.Join(form.said[len(form.said)-countSaid(out):], "\n")
	assert.Contains(t, text, parse.MaskPAN(card), "the chat shows the card masked")
	assert.NotContains(t, text, card)
	assert.NotContains(t, text, reservedPhone)
	assert.Len(t, out.Replies, 2, "the card noted, then one question: none the form answered is asked")
	if len(answered) == len(fields) {
		assert.Equal(t, dialogs.StepSummary, mustLoad(t, ff, form.id).Step, "the form answered the rest")
	}

	// On to the summary as the guide says, both the same way.
	for _, c := range []*chat{typed, form} {
		m := zhangSan()
		m.walkTo(c, dialogs.StepSummary)
		for _, step := range m.met {
			assert.False(t, answered[step], "%s: the form answered it", step)
		}
	}
	assert.Equal(t, formed(mustLoad(t, f, typed.id)), formed(mustLoad(t, ff, form.id)))

	f = newFixture(t, nil)
	only := &chat{t: t, f: f, id: 44}
	atCard(only)
	out = only.send(dialogs.Input{Kind: dialogs.InForm, Returning: true, Form: &dialogs.Form{Card: card}})
	st := mustLoad(t, f, only.id)
	assert.Equal(t, afterCard, formed(st), "where typing the card leaves it")
	assert.Equal(t, card, st.Secrets.CardNumber)
	require.Len(t, out.Replies, 2, "the card noted, then the next question once")
	assert.Contains(t, f.render.Reply(out.Lang, out.Replies[0]), parse.MaskPAN(card))
}

func countSaid(out dialogs.Outcome) int {
	n := 0
	for _, r := range out.Replies {
		n++
		for _, row := range r.Buttons {
			n += len(row)
		}
	}
	return n
}

// TestFormStopsAtARefusedField: a field the step refuses is answered as a
// typed one would be, the question asked again, and the fields after it
// are not taken.
func TestFormStopsAtARefusedField(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 45}
	atCard(c)
	c.send(dialogs.Input{Kind: dialogs.InForm, Returning: true, Form: &dialogs.Form{
		Card: card, Holder: "李四", Branch: "上海张江支行", ReservedPhone: reservedPhone}})
	st := mustLoad(t, f, c.id)
	assert.Equal(t, dialogs.StepHolder, st.Step)
	assert.Equal(t, card, st.Secrets.CardNumber)
	assert.Empty(t, st.Holder)
	assert.Empty(t, st.Branch)
	assert.Empty(t, st.Secrets.ReservedPhone)

	f = newFixture(t, nil)
	bad := &chat{t: t, f: f, id: 46}
	atCard(bad)
	bad.send(dialogs.Input{Kind: dialogs.InForm, Returning: true, Form: &dialogs.Form{Card: "6222021234567890123", Holder: "张三"}})
	st = mustLoad(t, f, bad.id)
	assert.Equal(t, dialogs.StepCardLuhn, st.Step, "a 62 card failing Luhn is asked about, as typed")
	assert.Empty(t, st.Holder)
}

// TestFormAfterTheCardStepChangesNothing: a form that arrives once the chat
// moved on (it was opened at the card question) is refused, nothing taken.
func TestFormAfterTheCardStepChangesNothing(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 47}
	atCard(c)
	c.text(card)
	before := formed(mustLoad(t, f, c.id))
	out := c.send(dialogs.Input{Kind: dialogs.InForm, Returning: true, Form: &dialogs.Form{
		Card: "6222021234567890128", Holder: "张三"}})
	after := formed(mustLoad(t, f, c.id))
	before.Touched = after.Touched
	assert.Equal(t, before, after)
	assert.Equal(t, dialogs.MsgID("form_not_now"), out.Replies[0].Key)
}

// TestFormFromTheCardEdit: the form sent from the summary's "edit card"
// takes every field it filled, not only the card: the accepted card leads
// back to the summary past the branch and the reserved phone, whose new
// values are applied as their summary edits would be. A field equal to the
// answer kept changes nothing; one refused is asked again.
func TestFormFromTheCardEdit(t *testing.T) {
	const newCard, newPhone = "6222021000000000017", "13700000000" // ICBC, as the first
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 47}
	throughSummary(c)
	c.press("sum:edit.card")
	require.True(t, dialogs.FormOpen(mustLoad(t, f, c.id)), "the card edit offers the form")
	c.send(dialogs.Input{Kind: dialogs.InForm, Returning: true, Form: &dialogs.Form{
		Card: newCard, Holder: "张三", Branch: "北京西单支行", ReservedPhone: newPhone}})
	st := mustLoad(t, f, c.id)
	assert.Equal(t, dialogs.StepSummary, st.Step)
	assert.Equal(t, newCard, st.Secrets.CardNumber)
	assert.Equal(t, "北京西单支行", st.Branch, "the branch the form gave")
	assert.Equal(t, newPhone, st.Secrets.ReservedPhone, "the reserved phone the form gave")
	assert.Equal(t, "张三", st.Holder)
	assert.False(t, st.Editing)
	said := strings.Join(c.said, "\n")
	assert.NotContains(t, said, newPhone)
	assert.NotContains(t, said, newCard)

	// A reserved phone the step refuses is asked again, the rest kept.
	c.press("sum:edit.card")
	c.send(dialogs.Input{Kind: dialogs.InForm, Returning: true, Form: &dialogs.Form{
		Card: card, Branch: "北京西单支行", ReservedPhone: "12345"}})
	st = mustLoad(t, f, c.id)
	assert.Equal(t, dialogs.StepPhone, st.Step, "the refused phone is asked again")
	assert.Equal(t, card, st.Secrets.CardNumber)
	assert.Equal(t, newPhone, st.Secrets.ReservedPhone, "nothing of the refused value is kept")
}
