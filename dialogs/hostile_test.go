package dialogs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs"
)

// comparable drops what every turn may change (the clock, the button
// sequence) so that "nothing changed" can be asserted.
func comparable(st *dialogs.State) dialogs.State {
	c := *st
	c.Touched, c.Seq = time.Time{}, 0
	return c
}

// atCard walks a merchant to the card question.
func atCard(c *chat) {
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	c.press("m:change")
	c.text("822100050110001")
	c.text("13800000001")
	c.text(code)
	c.press("ck:all")
	c.press("cs:yes")
}

// TestTamperedButtonDataChangesNothing presses buttons no message offered,
// with the current sequence (so they are not merely stale): each is
// answered and leaves the dialog as it was.
func TestTamperedButtonDataChangesNothing(t *testing.T) {
	tampered := []string{
		"", ":", "sum:confirm", "sum:edit.", "sum:edit.../../card", "sum:edit.secrets",
		"ck:ok.9", "ck:ok.-1", "ck:ok.99999999999999999999", "cs:yes\x00", "m:change\n",
		"ck:no.6", "ck:no.-1", "ck:no.99999999999999999999", "ck:no.", "ck:all\x00", "ck:all ",
		"cx:yes ", "bank:yes;sum:confirm", "sub:retry", "code:resend",
		"\xff\xfe", strings.Repeat("a", 4096), strings.Repeat("sum:", 1000),
		"m:" + strings.Repeat("\u202e", 64),
	}
	for _, step := range []struct {
		name string
		walk func(*chat)
	}{
		{"card", atCard},
		{"summary", throughSummary},
	} {
		t.Run(step.name, func(t *testing.T) {
			f := newFixture(t, nil)
			c := &chat{t: t, f: f, id: 41}
			step.walk(c)
			before := comparable(mustLoad(t, f, 41))
			for _, data := range tampered {
				if step.name == "summary" && data == "sum:confirm" {
					continue // offered on the summary: not tampered there
				}
				out := c.send(dialogs.Input{Kind: dialogs.InButton, Data: data, Seq: c.seq})
				require.NotEmpty(t, out.Replies, "button %q got no answer", data)
				assert.Equal(t, before, comparable(mustLoad(t, f, 41)), "button %q changed the dialog", data)
			}
		})
	}
}

// TestHostileTextChangesNothing sends 4,000-character messages and
// messages full of control characters at every question that takes text:
// each is answered, nothing of it is stored, and the dialog stays put.
func TestHostileTextChangesNothing(t *testing.T) {
	long := strings.Repeat("长", 4000)
	longDigits := strings.Repeat("6", 4000)
	controls := "\x00\x01\x07\x08\x1b[31m\x7f\u200b\u202e\ufeff\r\n\t"
	texts := []string{
		long, longDigits, long + card, controls, "张\x00三", "\x1b]0;title\x07",
		"822100050110001\x00", strings.Repeat("\u0301", 4000), "\xff\xfe\xfd",
	}
	walks := []struct {
		step string
		walk func(*chat)
	}{
		{dialogs.StepMerchant, func(c *chat) {
			c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
			c.press("m:change")
		}},
		{dialogs.StepCard, atCard},
		{dialogs.StepSummary, throughSummary},
	}
	for _, w := range walks {
		t.Run(w.step, func(t *testing.T) {
			f := newFixture(t, nil)
			c := &chat{t: t, f: f, id: 42}
			w.walk(c)
			require.Equal(t, w.step, mustLoad(t, f, 42).Step)
			before := comparable(mustLoad(t, f, 42))
			for _, text := range texts {
				c.text(text) // answered: send requires replies
				st := mustLoad(t, f, 42)
				assert.Equal(t, before, comparable(st), "text %q changed the dialog", short(text))
				for _, field := range []string{st.Holder, st.Branch, st.PendingNo, st.MerchantNo, st.Secrets.CardNumber} {
					assert.False(t, strings.ContainsAny(field, "\x00\x1b\x7f\u202e"), "a control character was stored")
				}
			}
			// A 4,000-character edit or caption gets the same treatment.
			c.send(dialogs.Input{Kind: dialogs.InMedia, Text: long})
			assert.Equal(t, before, comparable(mustLoad(t, f, 42)))
		})
	}
}

// An answer carrying control characters is not stored with them inside.
func TestControlCharactersInAnAnswerAreNotStored(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 43}
	atCard(c)
	c.text(card)
	require.Equal(t, dialogs.StepHolder, mustLoad(t, f, 43).Step)
	c.text("张\x1b[2J三")
	c.text("\u202e三张")
	st := mustLoad(t, f, 43)
	assert.NotContains(t, st.Holder, "\x1b")
	assert.NotContains(t, st.Holder, "\u202e")
	st2, err := f.store.Load(context.Background(), 43)
	require.NoError(t, err)
	assert.Equal(t, card, st2.Secrets.CardNumber, "the card survives hostile answers to the next question")
}

func short(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}
