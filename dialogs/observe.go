package dialogs

// Observer learns how turns move dialogs, for the funnel an operator graphs
// (bot/metrics implements it). Its arguments are step names and fixed
// reasons, never anything the merchant typed. It must be safe for
// concurrent use and quick: it runs inside the turn.
type Observer interface {
	// StepReached: a dialog arrived at step. Coming back to the step a
	// dialog left for the menu, support or the cancel question is not an
	// arrival.
	StepReached(step string)
	// DialogCompleted: a dialog submitted its application.
	DialogCompleted()
	// DialogAbandoned: a draft was dropped at step before submission;
	// reason is AbandonCancelled, AbandonExpired or AbandonRefused.
	DialogAbandoned(step, reason string)
}

// Reasons a draft ends without an application.
const (
	AbandonCancelled = "cancelled" // the merchant discarded it
	AbandonExpired   = "expired"   // left idle past DraftTTL
	AbandonRefused   = "refused"   // the acquirer refused the submission for good
)

// WithObserver reports every turn's moves to o.
func WithObserver(o Observer) Option { return func(e *Engine) { e.observer = o } }

// observe reports what the turn from before to after did; arrivals are
// the steps it moved to (turn.arrivals). Every step a turn passes through
// is reported, so the funnel counts a summary confirmed by a fresh proof as
// having reached the verify step on its way to completion; a parking step
// the turn left again (the menu on the way to resuming a draft) was never
// shown and is not.
func (e *Engine) observe(in Input, before, after *State, arrivals []string) {
	if e.observer == nil {
		return
	}
	for _, step := range arrivals {
		if e.is(step, parking) && step != after.Step {
			continue
		}
		e.observer.StepReached(step)
	}
	completed := after.LastApp != "" && after.LastApp != before.LastApp
	if completed {
		e.observer.DialogCompleted()
		return
	}
	was := e.draftStep(before)
	if was == "" || e.draftStep(after) != "" {
		return
	}
	reason := AbandonCancelled
	switch {
	case in.Kind == InEvent && in.Text == EventWake, // only the expiry wipes a draft on a wake
		!before.Touched.IsZero() && after.Touched.Sub(before.Touched) > DraftTTL:
		reason = AbandonExpired
	case before.Step == StepVerify:
		reason = AbandonRefused
	}
	e.observer.DialogAbandoned(was, reason)
}

// draftStep is the step of st's draft ("" when it holds none), looking
// through the menu, the cancel question and support to the step they left.
func (e *Engine) draftStep(st *State) string {
	s := st.Step
	if e.is(s, parking) {
		s = st.Ret
	}
	if e.is(s, draft) {
		return s
	}
	return ""
}
