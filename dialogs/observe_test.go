package dialogs_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
)

// funnel records what an Engine reports.
type funnel struct {
	mu        sync.Mutex
	reached   []string
	completed int
	abandoned [][2]string
}

func (f *funnel) StepReached(step string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reached = append(f.reached, step)
}

func (f *funnel) DialogCompleted() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.completed++
}

func (f *funnel) DialogAbandoned(step, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.abandoned = append(f.abandoned, [2]string{step, reason})
}

func observed(t *testing.T) (*fixture, *funnel) {
	t.Helper()
	f := newFixture(t, nil)
	rec := &funnel{}
	f.engine = dialogs.NewEngine(f.backend, mustBins(t), dialogs.WithClock(f.clock), dialogs.WithObserver(rec))
	return f, rec
}

func TestObserverFunnelOfACompletedDialog(t *testing.T) {
	f, rec := observed(t)
	c := &chat{t: t, f: f, id: 31}
	throughSummary(c)
	c.press("sum:confirm")
	c.text(code)

	for _, step := range []string{dialogs.StepMerchant, dialogs.StepIDPhone, dialogs.StepChecklist,
		dialogs.StepConsent, dialogs.StepCard, dialogs.StepHolder, dialogs.StepBranch,
		dialogs.StepPhone, dialogs.StepSummary, dialogs.StepVerify, dialogs.StepMenu} {
		assert.Contains(t, rec.reached, step)
	}
	assert.Equal(t, 1, rec.completed)
	assert.Empty(t, rec.abandoned, "a submitted dialog is not abandoned")
}

func TestObserverAbandonedWhere(t *testing.T) {
	f, rec := observed(t)

	// Cancelled at the holder step, through support and back first: coming
	// back from support is not a second arrival at the holder step.
	c := &chat{t: t, f: f, id: 32}
	throughSummary(c)
	c.press("sum:edit.holder")
	holderArrivals := count(rec.reached, dialogs.StepHolder)
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "support"})
	c.press("sup:back")
	assert.Equal(t, holderArrivals, count(rec.reached, dialogs.StepHolder), "resuming is not an arrival")
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "cancel"})
	c.press("cx:yes")
	assert.Equal(t, [][2]string{{dialogs.StepHolder, dialogs.AbandonCancelled}}, rec.abandoned)

	// Left at the card step for longer than a draft lives. Another chat of
	// the same merchant: the acquirer sends it a code a minute later.
	f.advance(dialogs.CodeResendAfter)
	d := &chat{t: t, f: f, id: 33}
	d.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	d.press("m:change")
	d.text("822100050110001")
	d.text("13800000001")
	d.text(code)
	d.press("ck:all")
	d.press("cs:yes")
	f.advance(dialogs.DraftTTL + time.Minute)
	d.text("hello")
	assert.Equal(t, [2]string{dialogs.StepCard, dialogs.AbandonExpired}, rec.abandoned[len(rec.abandoned)-1])
	assert.Zero(t, rec.completed)
}

// Each step is reported once per arrival: a summary confirmed by a code
// typed at the verify step reaches it once, a draft resumed from the menu
// is no second arrival, and the menu a turn passes on its way back to the
// draft (/start change_card) is no arrival at all.
func TestObserverCountsArrivalsOnce(t *testing.T) {
	f, rec := observed(t)
	c := &chat{t: t, f: f, id: 34}
	throughSummary(c)
	require.Equal(t, 1, count(rec.reached, dialogs.StepSummary))

	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	menus := count(rec.reached, dialogs.StepMenu)
	c.press("m:change")
	assert.Equal(t, dialogs.StepSummary, mustLoad(t, f, 34).Step)
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start", Arg: "change_card"})
	assert.Equal(t, dialogs.StepSummary, mustLoad(t, f, 34).Step)
	assert.Equal(t, 1, count(rec.reached, dialogs.StepSummary), "resuming is not an arrival")
	assert.Equal(t, menus, count(rec.reached, dialogs.StepMenu), "a menu never shown is not an arrival")

	f.advance(dialogs.FreshProof) // the identity code no longer confirms: a code is asked for
	c.press("sum:confirm")
	require.Equal(t, dialogs.StepVerify, mustLoad(t, f, 34).Step)
	c.text(code)
	assert.Equal(t, 1, count(rec.reached, dialogs.StepVerify))
	assert.Equal(t, menus+1, count(rec.reached, dialogs.StepMenu))
	assert.Equal(t, 1, rec.completed)
	assert.Empty(t, rec.abandoned)
}

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

type countingObserver struct{ reached, completed, abandoned atomic.Int64 }

func (o *countingObserver) StepReached(string)             { o.reached.Add(1) }
func (o *countingObserver) DialogCompleted()               { o.completed.Add(1) }
func (o *countingObserver) DialogAbandoned(string, string) { o.abandoned.Add(1) }

// BenchmarkEngineObserved is BenchmarkEngine with an observer: the cost of
// the funnel hook on a turn.
func BenchmarkEngineObserved(b *testing.B) {
	f := newFixture(b, nil)
	c := &chat{t: b, f: f, id: 1}
	throughSummary(c)
	st, err := f.store.Load(context.Background(), 1)
	require.NoError(b, err)
	e := dialogs.NewEngine(f.backend, loadBinsB(b), dialogs.WithClock(f.clock), dialogs.WithObserver(&countingObserver{}))
	in := dialogs.Input{Kind: dialogs.InText, Text: "hello"}
	b.ReportAllocs()
	for b.Loop() {
		s := *st
		e.Handle(context.Background(), &s, in)
	}
}

func loadBinsB(b *testing.B) *cardbin.Table {
	b.Helper()
	bins, err := loadBins()
	require.NoError(b, err)
	return bins
}
