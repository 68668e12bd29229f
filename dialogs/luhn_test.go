package dialogs_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// A 62 card failing the check digit is asked about; another such number
// typed at that question is asked about in turn (the step's self-move), and
// Yes keeps the last one.
func TestLuhnQuestionAsksAgainAboutAnotherNumber(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 11}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	c.press("m:change")
	c.text("822100050110001")
	c.text("13800000001")
	c.text(code)
	c.press("ck:all")
	c.press("cs:yes")
	first, second := card[:len(card)-1]+"9", card[:len(card)-1]+"7"
	for _, n := range []string{first, second} {
		_, err := parse.CardNumber(n)
		require.ErrorIs(t, err, parse.ErrLuhn, n)
	}
	c.text(first)
	require.Equal(t, dialogs.StepCardLuhn, mustLoad(t, f, 11).Step)
	c.text(second)
	st := mustLoad(t, f, 11)
	assert.Equal(t, dialogs.StepCardLuhn, st.Step)
	assert.Equal(t, second, st.Secrets.PendingCard)
	require.NotEmpty(t, c.last.Replies)
	assert.Equal(t, dialogs.MsgID("card_luhn_warn"), c.last.Replies[len(c.last.Replies)-1].Key)
	c.press("luhn:yes")
	st = mustLoad(t, f, 11)
	assert.Equal(t, dialogs.StepHolder, st.Step)
	assert.Equal(t, second, st.Secrets.CardNumber)
}
