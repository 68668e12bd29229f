package dialogs_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs"
)

// What a step's definition says of the inputs the engine hands it
// (stepDef.contact, next, onBack), tested where the engine once named the
// steps itself.

// A contact shared where no step asks for one is refused, the question
// asked again, the step unchanged; at the phone question it identifies.
func TestContactOnlyWhereAStepTakesIt(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 61}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	c.press("m:change")
	share := dialogs.Input{Kind: dialogs.InContact, Contact: &dialogs.Contact{Phone: "+86 138 0000 0001", OwnedBySender: true}}
	out := c.send(share)
	assert.Equal(t, dialogs.MsgID("contact_not_now"), keys(out)[0])
	assert.Equal(t, dialogs.StepMerchant, mustLoad(t, f, 61).Step)
	c.text("822100050110001")
	c.send(share)
	assert.Equal(t, dialogs.StepChecklist, mustLoad(t, f, 61).Step, "the phone question takes the contact")
}

// /help at the phone question on a client that cannot share a contact
// says to type the phone (the step's next), elsewhere next_<step>.
func TestHelpAtThePhoneQuestionWithoutAContactButton(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 62}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start", NoContact: true})
	c.send(dialogs.Input{Kind: dialogs.InButton, Data: "m:change", Seq: c.seq, NoContact: true})
	c.send(dialogs.Input{Kind: dialogs.InText, Text: "822100050110001", NoContact: true})
	out := c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "help", NoContact: true})
	require.NotEmpty(t, out.Replies)
	var lines []dialogs.MsgID
	for _, l := range out.Replies[0].Lines {
		lines = append(lines, l.Key)
	}
	assert.Contains(t, lines, dialogs.MsgID("next_id_phone_typed"))
	out = c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "help"})
	lines = nil
	for _, l := range out.Replies[0].Lines {
		lines = append(lines, l.Key)
	}
	assert.Contains(t, lines, dialogs.MsgID("next_id_phone"))
}

// /back from the code question to the summary takes back an accepted code:
// the change is proven again before it is submitted.
func TestBackFromVerifyTakesBackTheCode(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 63}
	throughSummary(c)
	f.advance(dialogs.FreshProof)
	c.press("sum:confirm")
	f.engine = dialogs.NewEngine(&flakySubmit{Backend: f.backend, lose: answerLost}, mustBins(t), dialogs.WithClock(f.clock))
	c.text(code)
	st := mustLoad(t, f, 63)
	require.Equal(t, dialogs.StepVerify, st.Step)
	require.True(t, st.Verified, "the code was accepted, the answer lost")
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	st = mustLoad(t, f, 63)
	assert.Equal(t, dialogs.StepSummary, st.Step)
	assert.False(t, st.Verified)
}
