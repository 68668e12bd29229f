package dialogs_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/merchantbot/merchantbot/dialogs"
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
	f.runner = dialogs.NewRunner(f.store, f.engine, time.Second)
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

	// Left at the card step for longer than a draft lives.
	d := &chat{t: t, f: f, id: 33}
	d.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	d.press("m:change")
	d.text("822100050110001")
	d.text("13800000001")
	d.text(code)
	for i := range 6 {
		d.press("ck:ok." + string(rune('0'+i)))
	}
	d.press("cs:yes")
	f.advance(dialogs.DraftTTL + time.Minute)
	d.text("hello")
	assert.Equal(t, [2]string{dialogs.StepCard, dialogs.AbandonExpired}, rec.abandoned[len(rec.abandoned)-1])
	assert.Zero(t, rec.completed)
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
