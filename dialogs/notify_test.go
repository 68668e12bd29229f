package dialogs_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs"
)

const zhangSanNo = "822100050110001"

// submitted walks a merchant to a submitted application and returns it.
// The identification code typed moments before also confirms the summary
// (FreshProof), so the confirmation itself submits.
func submitted(t *testing.T, c *chat) backend.Receipt {
	t.Helper()
	throughSummary(c)
	out := c.press("sum:confirm")
	var app string
	for _, e := range out.Effects {
		if e.Kind == dialogs.Submitted {
			app = e.App
		}
	}
	require.NotEmpty(t, app, "a submission tells the adapter which application to follow")
	return latestApp(t, c.f, zhangSanNo)
}

func latestApp(t *testing.T, f *fixture, no string) backend.Receipt {
	t.Helper()
	apps, err := f.backend.Applications(context.Background(), no)
	require.NoError(t, err)
	require.NotEmpty(t, apps)
	return apps[0]
}

// event applies a status event to chat c and returns what it said.
func event(t *testing.T, c *chat, ev backend.Event) []string {
	t.Helper()
	arg, err := json.Marshal(ev)
	require.NoError(t, err)
	return apply(t, c, dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventStatus, Arg: string(arg)})
}

func apply(t *testing.T, c *chat, in dialogs.Input) []string {
	t.Helper()
	out, err := c.f.handle(c.id, in)
	require.NoError(t, err)
	var said []string
	for _, r := range out.Replies {
		said = append(said, c.f.render.Reply(out.Lang, r))
	}
	if len(out.Replies) > 0 {
		c.seq, c.last = out.Seq, out
	}
	return said
}

func TestStatusEventsOneMessageEachInTheMerchantsLanguage(t *testing.T) {
	for _, tt := range []struct {
		lang                     string
		review, approved, effect string
	}{
		{"zh-Hans", "已进入审核", "已审核通过", "小额测试交易"},
		{"en", "now under review", "is approved", "small test transaction"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			f := newFixture(t, nil)
			c := &chat{t: t, f: f, id: 21}
			c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start", LanguageCode: tt.lang})
			a := submitted(t, c)

			f.advance(sandboxDelay / 2)
			a = latestApp(t, f, zhangSanNo)
			require.Equal(t, backend.StatusReview, a.Status)
			said := event(t, c, backend.EventOf(a))
			require.Len(t, said, 1)
			assert.Contains(t, said[0], tt.review)
			assert.Contains(t, said[0], "622202*********0128", "the card, masked")
			assert.Contains(t, said[0], a.ID)

			f.advance(sandboxDelay / 2)
			said = event(t, c, backend.EventOf(latestApp(t, f, zhangSanNo)))
			require.Len(t, said, 1)
			assert.Contains(t, said[0], tt.approved)

			f.advance(sandboxDelay)
			a = latestApp(t, f, zhangSanNo)
			require.Equal(t, backend.StatusEffective, a.Status)
			said = event(t, c, backend.EventOf(a))
			require.Len(t, said, 1)
			assert.Contains(t, said[0], tt.effect, "effective: run a small test transaction")
			assert.NotContains(t, strings.Join(said, ""), card[6:15])

			// "submitted" is not announced twice: the dialog said it at submission.
			first := backend.EventOf(a)
			first.Status, first.ID = backend.StatusSubmitted, a.ID+":submitted"
			assert.Empty(t, event(t, c, first))
		})
	}
}

func TestStatusEventOfAnotherMerchantSaysNothing(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 22}
	a := submitted(t, c)
	ev := backend.EventOf(a)
	ev.Status, ev.MerchantNo = backend.StatusApproved, "822100050110004"
	assert.Empty(t, event(t, c, ev), "a chat hears only of its own merchant's applications")
	assert.Empty(t, apply(t, c, dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventStatus, Arg: "{not json"}))

	unbound := &chat{t: t, f: f, id: 23}
	ev.MerchantNo = zhangSanNo
	assert.Empty(t, event(t, unbound, ev))
}

// sandboxDelay is the sandbox's default review delay (the fixture's).
const sandboxDelay = 2 * time.Minute

func TestTooSoonRejectionGivesTheDateAndNoResubmit(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 24}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	zhangSan().
		with(dialogs.AnswerMerchantNo, dialogs.Input{Kind: dialogs.InText, Text: "822100050110004"}).
		with(dialogs.AnswerContact, dialogs.Input{Kind: dialogs.InText, Text: "13800000004"}).
		walkTo(c, dialogs.StepSummary)
	c.press("sum:confirm") // the identification code confirms it
	require.Equal(t, dialogs.StepMenu, mustLoad(t, f, 24).Step, "submitted")
	f.advance(sandboxDelay)
	a := latestApp(t, f, "822100050110004")
	require.Equal(t, backend.StatusRejected, a.Status)
	said := event(t, c, backend.EventOf(a))
	require.Len(t, said, 1)
	assert.Contains(t, said[0], "无法通过修改信息解决")
	assert.Contains(t, said[0], a.ChangeAllowedFrom.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02"), "the date a change is possible")
	for _, r := range c.last.Replies {
		for _, row := range r.Buttons {
			for _, b := range row {
				assert.NotContains(t, b.Data, "rs:", "no edit can fix the 30-day rule")
			}
		}
	}
}

// rejecting plays an acquirer that rejected the merchant's latest
// application for reason.
type rejecting struct {
	dialogs.Backend
	reason string
}

func (r rejecting) Applications(ctx context.Context, no string) ([]backend.Receipt, error) {
	apps, err := r.Backend.Applications(ctx, no)
	if err == nil && len(apps) > 0 {
		apps[0].Status, apps[0].Reason = backend.StatusRejected, r.reason
	}
	return apps, err
}

// fixAndResubmit submits an application, has it rejected for a credit
// card and presses "fix and resubmit".
func fixAndResubmit(t *testing.T, id int64, opts ...dialogs.Option) (*fixture, *chat) {
	t.Helper()
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: id}
	a := submitted(t, c)
	f.engine = dialogs.NewEngine(rejecting{f.backend, backend.ReasonCreditCard}, mustBins(t),
		append([]dialogs.Option{dialogs.WithClock(f.clock)}, opts...)...)
	ev := backend.EventOf(a)
	ev.Status, ev.Reason = backend.StatusRejected, backend.ReasonCreditCard
	said := event(t, c, ev)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], "一类借记卡")

	require.Equal(t, "rs:"+a.ID, c.last.Replies[0].Buttons[0][0].Data)
	seq := c.seq
	// A forged button naming another application reaches nothing.
	out := c.send(dialogs.Input{Kind: dialogs.InButton, Data: "rs:CC209901010001", Seq: seq})
	assert.True(t, out.Stale)

	c.send(dialogs.Input{Kind: dialogs.InButton, Data: "rs:" + a.ID, Seq: seq})
	st := mustLoad(t, f, id)
	assert.Equal(t, dialogs.StepConsent, st.Step, "the checklist holds; consent is asked again")
	assert.Equal(t, "张三", st.Holder)
	assert.Equal(t, "中国工商银行", st.BankName)
	assert.Equal(t, "上海张江支行", st.Branch)
	assert.NotEmpty(t, st.DraftID, "a new draft, with a submission key of its own")
	assert.True(t, st.Secrets.Empty(), "card data is asked again")
	return f, c
}

// TestResubmitButtonOutlivesOtherTurns: the rejection notice's "fix and
// resubmit" still works after turns that make other buttons stale (the
// language switched, a change begun and cancelled); it reaches nothing once
// the application it names is no longer the newest rejected one.
func TestResubmitButtonOutlivesOtherTurns(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 41}
	a := submitted(t, c)
	f.engine = dialogs.NewEngine(rejecting{f.backend, backend.ReasonCreditCard}, mustBins(t), dialogs.WithClock(f.clock))
	ev := backend.EventOf(a)
	ev.Status, ev.Reason = backend.StatusRejected, backend.ReasonCreditCard
	event(t, c, ev)
	require.Equal(t, "rs:"+a.ID, c.last.Replies[0].Buttons[0][0].Data)
	seq := c.seq

	c.text("English")
	c.press("m:change")
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "cancel"})
	c.press("cx:yes")
	require.Equal(t, dialogs.StepMenu, mustLoad(t, f, 41).Step)
	require.NotEqual(t, seq, c.seq, "the other buttons sent with the notice are stale by now")
	out := c.send(dialogs.Input{Kind: dialogs.InButton, Data: "m:change", Seq: seq})
	assert.True(t, out.Stale, "a menu button of the notice's time is stale")

	out = c.send(dialogs.Input{Kind: dialogs.InButton, Data: "rs:" + a.ID, Seq: seq})
	assert.False(t, out.Stale)
	st := mustLoad(t, f, 41)
	assert.Equal(t, dialogs.StepConsent, st.Step, "the change is reopened")
	assert.Equal(t, "张三", st.Holder)

	// Tapped twice: the second tap finds the draft the first opened.
	// (And at support an old copy would end the conversation: stale.)
	out = c.send(dialogs.Input{Kind: dialogs.InButton, Data: "rs:" + a.ID, Seq: seq})
	assert.True(t, out.Stale, "a repeated tap changes nothing")
	assert.Equal(t, st, mustLoad(t, f, 41))

	g := newFixture(t, nil)
	s := &chat{t: t, f: g, id: 42}
	b := submitted(t, s)
	g.engine = dialogs.NewEngine(rejecting{g.backend, backend.ReasonCreditCard}, mustBins(t), dialogs.WithClock(g.clock))
	ev = backend.EventOf(b)
	ev.Status, ev.Reason = backend.StatusRejected, backend.ReasonCreditCard
	event(t, s, ev)
	seq = s.seq
	s.send(dialogs.Input{Kind: dialogs.InCommand, Text: "support"})
	require.Equal(t, dialogs.StepSupport, mustLoad(t, g, 42).Step)
	out = s.send(dialogs.Input{Kind: dialogs.InButton, Data: "rs:" + b.ID, Seq: seq})
	assert.True(t, out.Stale, "at support the old button does not end the conversation")
	assert.Equal(t, dialogs.StepSupport, mustLoad(t, g, 42).Step)
}

// The holder, bank and branch of the rejected application are kept, the
// card and the reserved phone asked again. With every field between the
// card and the reserved phone given back by the application, none of
// their steps is asked again; a step added there that the application
// cannot give back makes the change go the whole way (the next test), the
// kept answers still kept.
func TestFixAndResubmitKeepsTheNonSensitiveAnswers(t *testing.T) {
	f, c := fixAndResubmit(t, 25)
	c.press("cs:yes")
	c.text(card)
	m := zhangSan()
	m.walkTo(c, dialogs.StepSummary)
	assert.Contains(t, m.met, dialogs.StepPhone, "the reserved phone is asked again")
	assert.NotContains(t, m.met, dialogs.StepBank, "the card's bank is known: not asked")
	if dialogs.ResubmitKeepsTheWay() {
		for _, kept := range []string{dialogs.StepHolder, dialogs.StepBranch} {
			assert.NotContains(t, m.met, kept, "holder, bank and branch are not asked again")
		}
	}
	out := c.last
	st := mustLoad(t, f, 25)
	require.Equal(t, dialogs.StepSummary, st.Step)
	summary := f.render.Reply(out.Lang, out.Replies[len(out.Replies)-1])
	for _, kept := range []string{"张三", "中国工商银行", "上海张江支行", "622202*********0128"} {
		assert.Contains(t, summary, kept)
	}
	assert.Equal(t, card, st.Secrets.CardNumber)
	assert.Equal(t, reservedPhone, st.Secrets.ReservedPhone)
}

// A step added between the card and the reserved phone whose field the
// application does not give back (no reopen; here the test step right
// after the holder, added after the first application) is not passed
// over: the fixed change goes the whole way from the card, the kept
// answers offered again, and asks it.
func TestFixAndResubmitAsksAFieldItCannotKeep(t *testing.T) {
	f, c := fixAndResubmit(t, 33, dialogs.WithTestStep())
	c.press("cs:yes")
	c.text(card)
	m := zhangSan().at(dialogs.StepTest, typed("an answer"))
	m.walkTo(c, dialogs.StepSummary)
	assert.Contains(t, m.met, dialogs.StepHolder, "not straight on to the reserved phone")
	assert.Contains(t, m.met, dialogs.StepTest, "the added step is asked")
	assert.Contains(t, m.met, dialogs.StepBranch)
	assert.Contains(t, m.met, dialogs.StepPhone)
	st := mustLoad(t, f, 33)
	assert.Equal(t, "张三", st.Holder)
	assert.Equal(t, "上海张江支行", st.Branch)
	assert.Equal(t, reservedPhone, st.Secrets.ReservedPhone)
}

// A card of another bank cannot keep the first card's branch: the branch
// is asked again (none offered), then the reserved phone; the holder
// stays kept.
func TestFixAndResubmitWithAnotherBanksCardAsksItsBranch(t *testing.T) {
	f, c := fixAndResubmit(t, 32)
	c.press("cs:yes")
	c.text(bocCard)
	m := zhangSan().with(dialogs.AnswerBranch, typed("北京西单支行"))
	m.walk(c, func(st *dialogs.State) bool {
		if st.Step == dialogs.StepBranch {
			assert.Equal(t, "中国银行", st.BankName)
			assert.Empty(t, st.Branch, "the old bank's branch is not offered")
		}
		return st.Step == dialogs.StepSummary
	})
	assert.Contains(t, m.met, dialogs.StepBranch)
	assert.Contains(t, m.met, dialogs.StepPhone)
	assert.NotContains(t, m.met, dialogs.StepBank, "the BIN tells the bank")
	if dialogs.ResubmitKeepsTheWay() {
		assert.NotContains(t, m.met, dialogs.StepHolder, "the holder is kept, not asked")
	}
	st := mustLoad(t, f, 32)
	assert.Equal(t, "张三", st.Holder)
	assert.Equal(t, "中国银行", st.BankName)
	assert.Equal(t, "北京西单支行", st.Branch)
}

// A card whose BIN tells no bank: the bank and its branch are asked, then
// the reserved phone; the holder stays kept.
func TestFixAndResubmitWithAnUnknownBINAsksTheBank(t *testing.T) {
	f, c := fixAndResubmit(t, 33)
	c.press("cs:yes")
	c.text("8888881234567890123")
	m := zhangSan().with(dialogs.AnswerBank, typed("中国银行")).with(dialogs.AnswerBranch, typed("北京西单支行"))
	m.walk(c, func(st *dialogs.State) bool {
		if st.Step == dialogs.StepBank {
			assert.Empty(t, st.Branch, "the old bank's branch is not kept")
		}
		return st.Step == dialogs.StepSummary
	})
	assert.Contains(t, m.met, dialogs.StepBank)
	assert.Contains(t, m.met, dialogs.StepBranch)
	assert.Contains(t, m.met, dialogs.StepPhone)
	if dialogs.ResubmitKeepsTheWay() {
		assert.NotContains(t, m.met, dialogs.StepHolder, "the holder is kept, not asked")
	}
	st := mustLoad(t, f, 33)
	assert.Equal(t, "张三", st.Holder)
	assert.Equal(t, "中国银行", st.BankName)
	assert.Equal(t, "北京西单支行", st.Branch)
}

func TestStatusShowsOnlyTheMerchantsOwnApplicationsWithTimeline(t *testing.T) {
	f := newFixture(t, nil)
	other, err := f.backend.Submit(context.Background(), "other-key", backend.Application{
		MerchantNo: "822100050110003", CardNumber: "6228480000000000", HolderName: "阿依古丽·买买提",
		BankName: "中国农业银行", Branch: "x", ReservedPhone: "13800000003", CardType: "DC"})
	require.NoError(t, err)
	c := &chat{t: t, f: f, id: 26}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start", LanguageCode: "en"})
	a := submitted(t, c)
	f.advance(sandboxDelay * 2)

	said := apply(t, c, dialogs.Input{Kind: dialogs.InCommand, Text: "status", Arg: "822100050110003"})
	all := strings.Join(said, "\n")
	assert.Contains(t, all, a.ID)
	assert.NotContains(t, all, other.ID, "never another merchant's application")
	for _, want := range []string{"✅ Submitted", "✅ Under review", "✅ Approved", "✅ In effect", "622202*********0128", "small test transaction",
		"Industrial and Commercial Bank of China"} { // bank names in English in English mode
		assert.Contains(t, all, want)
	}
}

func TestWakeAt(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	at := func(h, m int) time.Time { return time.Date(2026, 11, 25, h, m, 0, 0, cst) }
	engine := dialogs.NewEngine(nil, nil, dialogs.WithClock(func() time.Time { return at(0, 0) }))
	tests := []struct {
		name string
		st   dialogs.State
		want time.Time
	}{
		{"nothing going on", dialogs.State{Step: dialogs.StepMenu, Touched: at(10, 0), Bound: true}, time.Time{}},
		{"mid-way: reminder after 30 min", dialogs.State{Step: dialogs.StepCard, Touched: at(10, 0)}, at(10, 30)},
		{"reminded: expiry after 24 h", dialogs.State{Step: dialogs.StepCard, Touched: at(10, 0), Reminded: true}, at(10, 0).Add(24 * time.Hour)},
		{"reminder due at 21:59 stays", dialogs.State{Step: dialogs.StepCard, Touched: at(21, 29)}, at(21, 59)},
		{"reminder due at 22:00 waits for 08:00", dialogs.State{Step: dialogs.StepCard, Touched: at(21, 30)}, at(8, 0).Add(24 * time.Hour)},
		{"reminder due at 03:00 waits for 08:00", dialogs.State{Step: dialogs.StepCard, Touched: at(2, 30)}, at(8, 0)},
		{"identifying: reminder, no expiry", dialogs.State{Step: dialogs.StepIDPhone, Touched: at(10, 0)}, at(10, 30)},
		{"identifying, reminded: nothing", dialogs.State{Step: dialogs.StepIDPhone, Touched: at(10, 0), Reminded: true}, time.Time{}},
		{"draft behind the menu", dialogs.State{Step: dialogs.StepMenu, Ret: dialogs.StepHolder, Touched: at(10, 0)}, at(10, 30)},
		{"with support: expiry only", dialogs.State{Step: dialogs.StepSupport, Ret: dialogs.StepHolder, Touched: at(10, 0)}, at(10, 0).Add(24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := engine.WakeAt(&tt.st)
			assert.True(t, got.Equal(tt.want), "WakeAt = %v, want %v", got, tt.want)
		})
	}
	assert.True(t, engine.WakeAt(nil).IsZero())
}

// wakeWhenDue advances the clock to the chat's WakeAt and applies the wake.
func wakeWhenDue(t *testing.T, c *chat) []string {
	t.Helper()
	at := c.f.engine.WakeAt(mustLoad(t, c.f, c.id))
	require.False(t, at.IsZero(), "nothing scheduled")
	c.f.advance(at.Sub(c.f.clock()))
	return apply(t, c, dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventWake})
}

func TestReminderOnceThenExpiryKeepsBindingAndLanguage(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 27}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start", LanguageCode: "en"})
	throughSummary(c)
	touched := mustLoad(t, f, 27).Touched

	// An early wake (another replica's, a restart's) finds nothing due.
	assert.Empty(t, apply(t, c, dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventWake}))

	said := wakeWhenDue(t, c)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], "half-way")
	assert.True(t, f.clock().Equal(touched.Add(dialogs.RemindAfter)))
	assert.Empty(t, apply(t, c, dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventWake}), "one reminder, not two")
	assert.True(t, mustLoad(t, f, 27).Touched.Equal(touched), "a wake is not the merchant coming back")

	said = wakeWhenDue(t, c)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], "data was deleted")
	st := mustLoad(t, f, 27)
	assert.True(t, st.Secrets.Empty())
	assert.Empty(t, st.Branch)
	assert.True(t, st.Bound)
	assert.Equal(t, "en", st.Lang)
	assert.True(t, c.f.engine.WakeAt(st).IsZero(), "nothing more is due")
	assert.Empty(t, apply(t, c, dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventWake}), "told once")
}

// TestExpiryAtSupportKeepsBindingAndLanguage: a chat left 24 h at the
// support step (no reminder there, so nothing wrote its record since the
// last input) is still found by its expiry: the draft is wiped, the
// merchant told, the binding and language kept.
func TestExpiryAtSupportKeepsBindingAndLanguage(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 33}
	supportWithDraft(c)

	said := wakeWhenDue(t, c)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], "data was deleted")
	st := mustLoad(t, f, c.id)
	require.NotNil(t, st)
	assert.True(t, st.Secrets.Empty())
	assert.True(t, st.Bound, "the binding outlives the draft")
	assert.Equal(t, "en", st.Lang)
	f.advance(2 * time.Hour)
	st = mustLoad(t, f, c.id)
	require.NotNil(t, st, "kept with the binding's own TTL")
	assert.True(t, st.Bound)
}

func TestReminderButtonContinuesWhereTheMerchantWas(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 28}
	throughSummary(c)
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"}) // parks the summary behind the menu
	said := wakeWhenDue(t, c)
	require.Len(t, said, 1)
	c.press("m:change")
	assert.Equal(t, dialogs.StepSummary, mustLoad(t, f, 28).Step)
}

func TestReminderInQuietHoursWaitsForMorning(t *testing.T) {
	f := newFixture(t, nil)
	// 21:50 in Shanghai: the reminder would fall at 22:20.
	f.now = time.Date(2026, 11, 25, 13, 50, 0, 0, time.UTC)
	c := &chat{t: t, f: f, id: 29}
	throughSummary(c) // advances 2 minutes on the way
	f.advance(time.Hour)
	assert.Empty(t, apply(t, c, dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventWake}), "no reminder at night")
	said := wakeWhenDue(t, c)
	require.Len(t, said, 1)
	assert.Equal(t, 8, f.clock().In(time.FixedZone("CST", 8*3600)).Hour())
}

// TestOverdueReminderWaitsForMorning: a reminder due at 21:50 whose wake
// comes only at 23:30 (the waker or the whole bot was down) is not sent at
// night: the wake says nothing, and the next one is at 08:00.
func TestOverdueReminderWaitsForMorning(t *testing.T) {
	f := newFixture(t, nil)
	cst := time.FixedZone("CST", 8*3600)
	// 21:18 in Shanghai: the reminder is due at 21:50 or so, before the quiet hours.
	f.now = time.Date(2026, 11, 25, 13, 18, 0, 0, time.UTC)
	c := &chat{t: t, f: f, id: 32}
	throughSummary(c)
	due := f.engine.WakeAt(mustLoad(t, f, c.id))
	require.Less(t, due.In(cst).Hour(), 22, "due before the quiet hours")
	f.advance(due.Sub(f.clock()) + 100*time.Minute) // down until about 23:30
	assert.Empty(t, apply(t, c, dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventWake}), "no reminder at 23:30")
	next := f.engine.WakeAt(mustLoad(t, f, c.id))
	assert.Equal(t, 8, next.In(cst).Hour(), "the reminder waits for 08:00")
	said := wakeWhenDue(t, c)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], "还没完成")
	assert.Equal(t, 8, f.clock().In(cst).Hour())
}

// TestReminderDroppedAtNightIsOwedInTheMorning: the adapter dropped a
// reminder that could only have gone out in the quiet hours
// (EventRemindLater): the merchant gets it at 08:00, once.
func TestReminderDroppedAtNightIsOwedInTheMorning(t *testing.T) {
	f := newFixture(t, nil)
	cst := time.FixedZone("CST", 8*3600)
	f.now = time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC) // 21:00 in Shanghai
	c := &chat{t: t, f: f, id: 34}
	throughSummary(c)
	said := wakeWhenDue(t, c)
	require.Len(t, said, 1, "reminded at about 21:32")
	require.True(t, c.last.Replies[0].Quiet, "a reminder is marked not for the quiet hours")
	f.advance(2 * time.Hour) // its send held up until 23:32, then dropped
	assert.Empty(t, apply(t, c, dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventRemindLater}))
	next := f.engine.WakeAt(mustLoad(t, f, c.id))
	assert.Equal(t, 8, next.In(cst).Hour())
	said = wakeWhenDue(t, c)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], "还没完成")
	assert.Empty(t, apply(t, c, dialogs.Input{Kind: dialogs.InEvent, Text: dialogs.EventWake}), "once")
}

func TestUnderReviewWithoutAReceiptSaysNoTime(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 30}
	a := submitted(t, c)
	ev := backend.EventOf(a)
	ev.Status, ev.Application = backend.StatusReview, "CC209901010009" // not (yet) in the acquirer's list
	said := event(t, c, ev)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], "已进入审核")
	assert.NotContains(t, said[0], "预计")
}

func TestUnknownReasonShowsTheAcquirersWordsClipped(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 31}
	a := submitted(t, c)
	ev := backend.EventOf(a)
	ev.Status, ev.Reason, ev.ReasonText = backend.StatusRejected, "branch_closed", strings.Repeat("支行已撤销", 100)
	said := event(t, c, ev)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], "支行已撤销")
	assert.Less(t, len([]rune(said[0])), 600)
	assert.Contains(t, said[0], "人工客服", "an unknown reason leads to support")
	assert.NotContains(t, c.last.Replies[0].Buttons[0][0].Data, "rs:")
}

// A reason this version knows is said in the merchant's words, with the
// acquirer's own words beside it (WeChat Pay's verify_fail_reason) and our
// advice.
func TestKnownReasonShowsTheAcquirersWordsAndOurAdvice(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 32}
	a := submitted(t, c)
	ev := backend.EventOf(a)
	ev.Status, ev.Reason, ev.ReasonText = backend.StatusRejected, backend.ReasonNameMismatch, "结算账户户名与营业执照不一致"
	said := event(t, c, ev)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], "结算账户户名与营业执照不一致", "the acquirer's words")
	assert.Contains(t, said[0], "处理建议", "our advice")
}

// Back to the card with /back, a card of another bank: the old bank's
// branch is not kept nor offered; its branch is asked.
func TestBackToTheCardWithAnotherBanksCardDropsTheBranch(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 34}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	zhangSan().walkTo(c, dialogs.StepPhone)
	require.Equal(t, "上海张江支行", mustLoad(t, f, 34).Branch)
	for range 10 {
		if mustLoad(t, f, 34).Step == dialogs.StepCard {
			break
		}
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	}
	require.Equal(t, dialogs.StepCard, mustLoad(t, f, 34).Step)
	c.text(bocCard)
	m := zhangSan().with(dialogs.AnswerBranch, typed("北京西单支行"))
	m.walk(c, func(st *dialogs.State) bool {
		if st.Step == dialogs.StepBranch {
			assert.Empty(t, st.Branch, "the old bank's branch is not offered")
		}
		return st.Step == dialogs.StepSummary
	})
	assert.Contains(t, m.met, dialogs.StepBranch)
	st := mustLoad(t, f, 34)
	assert.Equal(t, "中国银行", st.BankName)
	assert.Equal(t, "北京西单支行", st.Branch)
}
