package dialogs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs"
)

func effectsOf(out dialogs.Outcome, kind dialogs.EffectKind) []dialogs.Effect {
	var list []dialogs.Effect
	for _, e := range out.Effects {
		if e.Kind == kind {
			list = append(list, e)
		}
	}
	return list
}

// quiet sends an input that may get no reply (a relayed message).
func (c *chat) quiet(in dialogs.Input) dialogs.Outcome {
	c.t.Helper()
	c.msg++
	in.MessageID = c.msg
	out, err := c.f.handle(c.id, in)
	require.NoError(c.t, err)
	if len(out.Replies) > 0 {
		c.seq, c.last = out.Seq, out
	}
	return out
}

func (c *chat) rendered(out dialogs.Outcome) string {
	var b strings.Builder
	for _, r := range out.Replies {
		b.WriteString(c.f.render.Reply(out.Lang, r))
		b.WriteByte('\n')
	}
	return b.String()
}

func TestHandOffRelaysAndHandBackResumesMidSummary(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 21}
	throughSummary(c)
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 21).Step)
	before := *mustLoad(t, f, 21)

	out := c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "support"})
	handOffs := effectsOf(out, dialogs.HandOff)
	require.Len(t, handOffs, 1)
	info := handOffs[0].Info
	require.NotNil(t, info)
	assert.Equal(t, dialogs.StepSummary, info.Step)
	assert.Equal(t, "822100050110001", info.MerchantNo)
	assert.False(t, info.Stuck)
	var values []string
	for _, a := range info.Answers {
		values = append(values, a.Step+"="+a.Value)
	}
	joined := strings.Join(values, " ")
	assert.Contains(t, joined, "card=622202*********0128")
	assert.Contains(t, joined, "phone=139****5678")
	assert.NotContains(t, joined, card)
	assert.NotContains(t, joined, reservedPhone)

	// While handed off, nothing the merchant writes is read as an answer.
	out = c.quiet(dialogs.Input{Kind: dialogs.InText, Text: "上海浦东支行"})
	assert.Empty(t, out.Replies)
	relays := effectsOf(out, dialogs.Relay)
	require.Len(t, relays, 1)
	assert.Equal(t, c.msg, relays[0].MessageID)
	out = c.quiet(dialogs.Input{Kind: dialogs.InMedia})
	assert.Len(t, effectsOf(out, dialogs.Relay), 1)
	out = c.quiet(dialogs.Input{Kind: dialogs.InEdit, Text: "edited"})
	assert.Len(t, effectsOf(out, dialogs.Relay), 1)
	// A card number is relayed (masked by the desk) and removed from the chat.
	out = c.quiet(dialogs.Input{Kind: dialogs.InText, Text: "6222 0212 3456 7890 128"})
	assert.Len(t, effectsOf(out, dialogs.Relay), 1)
	require.Len(t, effectsOf(out, dialogs.DeleteMessage), 1)
	assert.Equal(t, c.msg, effectsOf(out, dialogs.DeleteMessage)[0].MessageID)
	// Global commands still work, and the chat stays with support.
	out = c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "help"})
	assert.Empty(t, effectsOf(out, dialogs.Relay))
	assert.Equal(t, dialogs.StepSupport, mustLoad(t, f, 21).Step)

	out = c.send(dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventHandBack, Arg: "Alice"})
	st := mustLoad(t, f, 21)
	assert.Equal(t, dialogs.StepSummary, st.Step, "back at the exact step")
	assert.Equal(t, before.Secrets, st.Secrets, "answers intact")
	assert.Equal(t, before.Holder, st.Holder)
	assert.Equal(t, before.Branch, st.Branch, "a message relayed during the hand-off is not taken as an answer")
	assert.Empty(t, effectsOf(out, dialogs.HandOffEnd), "the agent ended it; nobody to tell")
	text := c.rendered(out)
	assert.Contains(t, text, "622202*********0128", "the summary is shown again")
	var rate, confirm bool
	for _, r := range out.Replies {
		for _, row := range r.Buttons {
			for _, b := range row {
				rate = rate || b.Data == "rate:4"
				confirm = confirm || b.Data == "sum:confirm"
			}
		}
	}
	assert.True(t, rate, "the merchant may rate the help")
	assert.True(t, confirm, "the summary's buttons are live")

	out = c.press("rate:4")
	rated := effectsOf(out, dialogs.Rated)
	require.Len(t, rated, 1)
	assert.Equal(t, 4, rated[0].Rating)
	out = c.send(dialogs.Input{Kind: dialogs.InButton, Data: "rate:5", Seq: c.seq})
	assert.True(t, out.Stale, "a rating counts once")
	assert.Empty(t, effectsOf(out, dialogs.Rated))

	// The resumed summary goes on as if nothing happened. The help took
	// a while: the code typed to identify no longer confirms the summary,
	// so the confirmation asks for one.
	f.advance(dialogs.FreshProof)
	c.send(dialogs.Input{Kind: dialogs.InButton, Data: "sum:confirm", Seq: c.seq})
	assert.Equal(t, dialogs.StepVerify, mustLoad(t, f, 21).Step)
}

func TestSupportOfferedAfterThreeRefusedAnswers(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 22}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	c.press("m:change")
	offered := func(out dialogs.Outcome) bool {
		for _, r := range out.Replies {
			for _, row := range r.Buttons {
				for _, b := range row {
					if b.Data == "m:stuck" {
						return true
					}
				}
			}
		}
		return false
	}
	assert.False(t, offered(c.text("abc")))
	assert.False(t, offered(c.text("12")))
	out := c.text("not a number")
	require.True(t, offered(out), "three refused answers in a row earn an offer")
	assert.Equal(t, dialogs.StepMerchant, mustLoad(t, f, 22).Step, "an offer, not a force")
	assert.Empty(t, effectsOf(out, dialogs.HandOff))

	// Declining it by answering right goes on as usual.
	c.text("822100050110001")
	assert.Equal(t, dialogs.StepIDPhone, mustLoad(t, f, 22).Step)

	// Accepting it hands off and tells the agent why.
	c.text("x")
	c.text("y")
	out = c.text("z")
	require.True(t, offered(out))
	out = c.press("m:stuck")
	h := effectsOf(out, dialogs.HandOff)
	require.Len(t, h, 1)
	assert.True(t, h[0].Info.Stuck)
	assert.Equal(t, dialogs.StepIDPhone, h[0].Info.Step)

	// Leaving support on their own ends the hand-off for the agent.
	out = c.press("sup:back")
	assert.Len(t, effectsOf(out, dialogs.HandOffEnd), 1)
	assert.Equal(t, dialogs.StepIDPhone, mustLoad(t, f, 22).Step)
}

func TestAgentOpensAConversation(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 23}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	out := c.send(dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventAgentOpen, Arg: "Bob"})
	assert.Len(t, effectsOf(out, dialogs.HandOff), 1)
	assert.Equal(t, dialogs.StepSupport, mustLoad(t, f, 23).Step)
	out = c.quiet(dialogs.Input{Kind: dialogs.InText, Text: "hello?"})
	assert.Len(t, effectsOf(out, dialogs.Relay), 1)
}

func TestSupportHours(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	at := func(s string) time.Time {
		ts, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
		require.NoError(t, err)
		return ts
	}
	// 2026-11-27 is a Friday.
	tests := []struct {
		spec string
		when string
		open bool
	}{
		{"Mon-Fri 09:00-18:00", "2026-11-27 09:00", true},
		{"Mon-Fri 09:00-18:00", "2026-11-27 18:00", false},
		{"Mon-Fri 09:00-18:00", "2026-11-28 10:00", false},
		{"09:00-18:00", "2026-11-28 10:00", true},
		{"Sat,Sun 10:00-16:00", "2026-11-29 15:59", true},
		{"Fri 22:00-06:00", "2026-11-28 05:00", true},
		{"Fri 22:00-06:00", "2026-11-29 05:00", false},
		{"24/7", "2026-11-29 03:00", true},
	}
	for _, tt := range tests {
		h, err := dialogs.ParseSupportHours(tt.spec, sh)
		require.NoError(t, err, tt.spec)
		assert.Equal(t, tt.open, h.Open(at(tt.when)), "%s at %s", tt.spec, tt.when)
	}
	for _, bad := range []string{"", "9-18", "Mon-Xyz 09:00-18:00", "09:00-09:00", "25:00-26:00", "a b c"} {
		_, err := dialogs.ParseSupportHours(bad, sh)
		assert.Error(t, err, bad)
	}

	// The merchant is told whether agents work now, never promised an answer.
	h, err := dialogs.ParseSupportHours("Mon-Fri 09:00-18:00", sh)
	require.NoError(t, err)
	f := newFixture(t, nil)
	f.now = at("2026-11-28 10:00") // Saturday
	f.engine = dialogs.NewEngine(f.backend, mustBins(t), dialogs.WithClock(f.clock), dialogs.WithSupportHours(h))
	c := &chat{t: t, f: f, id: 24}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "language"})
	c.press("lang:en")
	text := c.rendered(c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "support"}))
	assert.Contains(t, text, "outside those hours")
	assert.Contains(t, text, "Mon–Fri 09:00–18:00 (China time)")
	c.press("sup:back")
	f.advance(48 * time.Hour) // Monday
	text = c.rendered(c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "support"}))
	assert.Contains(t, text, "working now")
}

// TestHandOffKeepsAnEditUnderWay: summary → Edit branch → /support → the
// agent hands back → the branch typed goes back to the summary, not on to
// the reserved phone.
func TestHandOffKeepsAnEditUnderWay(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 25}
	throughSummary(c)
	c.press("sum:edit.branch")
	require.Equal(t, dialogs.StepBranch, mustLoad(t, f, 25).Step)
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "support"})
	require.Equal(t, dialogs.StepSupport, mustLoad(t, f, 25).Step)
	c.send(dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventHandBack, Arg: "Alice"})
	require.Equal(t, dialogs.StepBranch, mustLoad(t, f, 25).Step, "back at the exact step")
	c.text("上海浦东支行")
	st := mustLoad(t, f, 25)
	assert.Equal(t, dialogs.StepSummary, st.Step, "the edit goes back to the summary")
	assert.Equal(t, "上海浦东支行", st.Branch)
}

// TestOldRatingButtonDoesNotRateANewHandOff: a merchant who did not rate
// a hand-off hands off again; the old hand-off's stars are stale, and the
// new one is rated when it ends.
func TestOldRatingButtonDoesNotRateANewHandOff(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 26}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "support"})
	c.send(dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventHandBack, Arg: "Alice"})
	require.True(t, mustLoad(t, f, 26).RateOpen)
	oldSeq := c.seq

	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "support"})
	require.Equal(t, dialogs.StepSupport, mustLoad(t, f, 26).Step)
	out := c.send(dialogs.Input{Kind: dialogs.InButton, Data: "rate:1", Seq: oldSeq})
	assert.True(t, out.Stale, "the first hand-off's stars")
	assert.Empty(t, effectsOf(out, dialogs.Rated), "the new hand-off is not rated by them")

	c.send(dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventHandBack, Arg: "Bob"})
	out = c.press("rate:5")
	rated := effectsOf(out, dialogs.Rated)
	require.Len(t, rated, 1)
	assert.Equal(t, 5, rated[0].Rating)
}

// TestSupportHoursInTheMerchantsLanguage: the hours are said in the
// merchant's language, never as configured ("Mon-Fri 09:00-18:00
// Asia/Shanghai" in a Chinese text).
func TestSupportHoursInTheMerchantsLanguage(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	f := newFixture(t, nil)
	tests := []struct {
		spec   string
		loc    *time.Location
		zh, en string
	}{
		{"Mon-Fri 09:00-18:00", sh, "周一至周五 09:00–18:00（北京时间）", "Mon–Fri 09:00–18:00 (China time)"},
		{"09:00-18:00", sh, "每天 09:00–18:00（北京时间）", "every day 09:00–18:00 (China time)"},
		{"Sat,Sun 10:00-16:00", sh, "周六、周日 10:00–16:00（北京时间）", "Sat, Sun 10:00–16:00 (China time)"},
		{"Mon,Wed,Fri-Sun 08:30-12:00", sh, "周一、周三、周五至周日 08:30–12:00（北京时间）", "Mon, Wed, Fri–Sun 08:30–12:00 (China time)"},
		{"Fri 22:00-06:00", berlin, "周五 22:00–06:00（Europe/Berlin）", "Fri 22:00–06:00 (Europe/Berlin)"},
		{"24/7", sh, "全天 24 小时", "around the clock"},
	}
	for _, tt := range tests {
		h, err := dialogs.ParseSupportHours(tt.spec, tt.loc)
		require.NoError(t, err, tt.spec)
		w := h.When()
		assert.Equal(t, tt.zh, f.render.Text("zh-Hans", w.Key, w.Args), tt.spec)
		assert.Equal(t, tt.en, f.render.Text("en", w.Key, w.Args), tt.spec)
	}

	h, err := dialogs.ParseSupportHours("Mon-Fri 09:00-18:00", sh)
	require.NoError(t, err)
	f.now = time.Date(2026, 11, 28, 10, 0, 0, 0, sh) // Saturday
	f.engine = dialogs.NewEngine(f.backend, mustBins(t), dialogs.WithClock(f.clock), dialogs.WithSupportHours(h))
	c := &chat{t: t, f: f, id: 27}
	text := c.rendered(c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "support"}))
	assert.Contains(t, text, "客服工作时间为周一至周五 09:00–18:00（北京时间）")
	assert.NotContains(t, text, "Asia/Shanghai")
	assert.NotContains(t, text, "Mon")
}
