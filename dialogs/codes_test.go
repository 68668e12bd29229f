package dialogs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs"
)

// identifyByCode starts c and types merchant 822100050110001's number and
// phone: a code is out at the identify step.
func identifyByCode(c *chat) {
	c.t.Helper()
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start", LanguageCode: "en"})
	c.press("m:change")
	c.text("822100050110001")
	out := c.text("13800000001")
	require.Equal(c.t, dialogs.MsgID("code_sent"), keys(out)[0])
}

// resend presses the Resend button, which stays valid beside a wrong
// code's answer (which shows no button of its own).
func (c *chat) resend() dialogs.Outcome {
	c.t.Helper()
	return c.send(dialogs.Input{Kind: dialogs.InButton, Data: "code:resend", Seq: c.seq})
}

// The acquirer counts wrong codes across resent codes (backend.MaxCodeAttempts
// within an hour): a new code does not bring the tries back, so the bot
// does not say it does.
func TestTriesLeftCountAcrossResentCodes(t *testing.T) {
	t.Run("a resent code keeps the tries used", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 91}
		identifyByCode(c)
		for range dialogs.MaxCodeAttempts - 1 {
			c.text("000000")
		}
		require.Equal(t, dialogs.MsgID("code_wrong_last"), keys(c.last)[0])
		f.advance(dialogs.CodeResendAfter)
		require.Equal(t, dialogs.MsgID("code_resent"), keys(c.resend())[0])
		out := c.text("000000")
		assert.Equal(t, dialogs.MsgID("code_locked"), keys(out)[0], "the fifth wrong code locks, whatever code it was meant for")
		assert.True(t, hasButton(out, "code:resend"))
	})
	t.Run("a lockout starts the count again", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 92}
		identifyByCode(c)
		for range dialogs.MaxCodeAttempts {
			c.text("000000")
		}
		require.Equal(t, dialogs.MsgID("code_locked"), keys(c.last)[0])
		f.advance(backend.CodeLockout)
		require.Equal(t, dialogs.MsgID("code_sent"), keys(c.resend())[0])
		out := c.text("000000")
		require.Equal(t, dialogs.MsgID("code_wrong"), keys(out)[0])
		assert.Equal(t, dialogs.MaxCodeAttempts-1, out.Replies[0].Args["Left"])
	})
	t.Run("wrong codes an hour old are forgotten", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 93}
		identifyByCode(c)
		for range dialogs.MaxCodeAttempts - 1 {
			c.text("000000")
		}
		f.advance(time.Hour + backend.CodeTTL + time.Second)
		require.Equal(t, dialogs.MsgID("code_resent"), keys(c.resend())[0])
		out := c.text("000000")
		require.Equal(t, dialogs.MsgID("code_wrong"), keys(out)[0])
		assert.Equal(t, dialogs.MaxCodeAttempts-1, out.Replies[0].Args["Left"])
	})
	t.Run("a right code starts the count again", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 94}
		identifyByCode(c)
		c.text("000000")
		c.text(code)
		require.True(t, mustLoad(t, f, 94).Bound)
		zhangSan().walkTo(c, dialogs.StepSummary)
		f.advance(dialogs.FreshProof)
		c.press("sum:confirm")
		out := c.text("000000")
		require.Equal(t, dialogs.MsgID("code_wrong"), keys(out)[0])
		assert.Equal(t, dialogs.MaxCodeAttempts-1, out.Replies[0].Args["Left"])
	})
	t.Run("a cancelled change keeps the tries used", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 96}
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
		zhangSan().sharing().walkTo(c, dialogs.StepSummary)
		c.press("sum:confirm")
		for range dialogs.MaxCodeAttempts - 1 {
			c.text("000000")
		}
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "cancel"})
		c.press("cx:yes")
		c.press("m:change")
		zhangSan().sharing().walkTo(c, dialogs.StepSummary)
		f.advance(dialogs.CodeResendAfter)
		c.press("sum:confirm")
		out := c.text("000000")
		assert.Equal(t, dialogs.MsgID("code_locked"), keys(out)[0], "the acquirer saw five wrong codes for this merchant")
	})
	t.Run("wrong codes before a contact was shared still count", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 95}
		identifyByCode(c)
		for range 3 {
			c.text("000000")
		}
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
		require.Equal(t, dialogs.StepIDPhone, mustLoad(t, f, 95).Step)
		zhangSan().sharing().walkTo(c, dialogs.StepSummary)
		f.advance(dialogs.CodeResendAfter)
		c.press("sum:confirm")
		out := c.text("000000")
		assert.Equal(t, dialogs.MsgID("code_wrong_last"), keys(out)[0], "the acquirer saw four wrong codes for this merchant")
	})
	t.Run("another merchant's phone starts with every try", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 97}
		identifyByCode(c)
		for range dialogs.MaxCodeAttempts - 1 {
			c.text("000000")
		}
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
		require.Equal(t, dialogs.StepMerchant, mustLoad(t, f, 97).Step)
		c.text("822100050110004") // another merchant, another phone on file
		require.Equal(t, dialogs.MsgID("code_sent"), keys(c.text("13800000004"))[0])
		out := c.text("000000")
		require.Equal(t, dialogs.MsgID("code_wrong"), keys(out)[0])
		assert.Equal(t, dialogs.MaxCodeAttempts-1, out.Replies[0].Args["Left"], "the acquirer counts wrong codes by phone")
	})
}

// lostMerchant fails to look up merchant no, as an acquirer down for a
// moment does.
type lostMerchant struct {
	dialogs.Backend
	no string
}

func (b lostMerchant) Merchant(ctx context.Context, no string) (backend.Merchant, error) {
	if no == b.no {
		return backend.Merchant{}, backend.ErrUnavailable
	}
	return b.Backend.Merchant(ctx, no)
}

// A code proves the phone of the merchant it went to, and only once the
// chat is bound to that merchant: it never confirms another merchant's
// change.
func TestProofIsForTheMerchantBound(t *testing.T) {
	f := newFixture(t, nil)
	f.use(t, lostMerchant{Backend: f.backend, no: "822100050110002"})
	c := &chat{t: t, f: f, id: 97}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	c.press("m:change")
	c.text("822100050110002")
	c.text("13800000002")
	c.text(code) // right for 822100050110002, whose lookup then fails
	require.False(t, mustLoad(t, f, 97).Bound)
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	require.Equal(t, dialogs.StepMerchant, mustLoad(t, f, 97).Step)
	zhangSan().sharing().walkTo(c, dialogs.StepSummary)
	require.Equal(t, "822100050110001", mustLoad(t, f, 97).MerchantNo)
	out := c.press("sum:confirm")
	assert.Equal(t, []dialogs.MsgID{"code_sent", "code_warning"}, keys(out), "a code goes to 822100050110001's phone")
	apps, err := f.backend.Applications(context.Background(), "822100050110001")
	require.NoError(t, err)
	assert.Empty(t, apps, "nothing is submitted unproven")
}

// first is what out's first reply says.
func (c *chat) first(out dialogs.Outcome) string {
	c.t.Helper()
	require.NotEmpty(c.t, out.Replies)
	return c.f.render.Reply(out.Lang, out.Replies[0])
}

// The acquirer pausing codes for longer than the minute between two is
// told in minutes, wherever the merchant meets it, and names no cause the
// bot does not know: here the hourly cap on codes, no wrong code typed.
func TestCodesPausedByTheHourlyCap(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 98}
	identifyByCode(c)
	for range backend.MaxCodesPerHour - 1 {
		f.advance(dialogs.CodeResendAfter)
		require.Equal(t, dialogs.MsgID("code_resent"), keys(c.resend())[0])
	}
	f.advance(dialogs.CodeResendAfter)
	paused := func(out dialogs.Outcome, minutes int, when string) {
		t.Helper()
		require.Equal(t, dialogs.MsgID("code_paused"), keys(out)[0], when)
		text := c.first(out)
		assert.Contains(t, text, fmt.Sprintf("about %d min.", minutes), when)
		assert.NotContains(t, text, "wrong", "%s: no wrong code was typed", when)
		assert.NotContains(t, text, "answers", "%s: nothing is answered yet at identification", when)
		assert.True(t, hasButton(out, "code:resend"), when)
	}
	// The first code goes out of the hour 55 minutes from now.
	paused(c.resend(), 55, "the sixth code in an hour")
	paused(c.resend(), 55, "asked again")
	f.advance(backend.CodeTTL)
	require.Equal(t, dialogs.MsgID("code_expired"), keys(c.text(code))[0])
	paused(c.text(code), 50, "a code typed with none out")
}

// After another chat of the same merchant locked its codes, the change
// waiting for its code is told the pause in minutes and that its answers
// are kept, however it asks.
func TestCodesPausedAtVerify(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 99}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start", LanguageCode: "en"})
	zhangSan().sharing().walkTo(c, dialogs.StepSummary)
	other := &chat{t: t, f: f, id: 100}
	identifyByCode(other)
	for range dialogs.MaxCodeAttempts {
		other.text("000000")
	}
	require.Equal(t, dialogs.MsgID("code_locked"), keys(other.last)[0])
	f.advance(time.Minute)
	paused := func(out dialogs.Outcome, when string) {
		t.Helper()
		require.Equal(t, dialogs.MsgID("code_paused_kept"), keys(out)[0], when)
		text := c.first(out)
		assert.Contains(t, text, "14 min", when)
		assert.Contains(t, text, "answers are kept", when)
		assert.True(t, hasButton(out, "code:resend"), when)
	}
	paused(c.press("sum:confirm"), "confirmed")
	paused(c.text(code), "a code typed with none out")
	paused(c.resend(), "asked again")
}
