package dialogs

import "time"

// Reminders and expiry of dialogs left half-way.
const (
	// RemindAfter is the idle time after which a dialog left half-way gets
	// its one reminder.
	RemindAfter = 30 * time.Minute
	// Quiet hours, China time: a reminder due in them waits for their end.
	quietFrom = 22
	quietTo   = 8
)

// WakeAt is when st next needs the dialog without the merchant: its
// reminder (RemindAfter idle mid-way, once, outside quiet hours) or the
// expiry of its draft (DraftTTL idle). Zero means nothing is due. The
// adapter stores it after every turn and posts EventWake when it comes;
// the dialog then decides on its own clock what is due.
func (e *Engine) WakeAt(st *State) time.Time {
	if st == nil || st.Touched.IsZero() {
		return time.Time{}
	}
	var at time.Time
	if e.hasDraft(st) {
		at = st.Touched.Add(DraftTTL)
	}
	if e.midway(st) && !st.Reminded {
		r := remindAt(st)
		if now := e.now(); r.Before(now) {
			// Overdue (the process or the waker was down at the due
			// time): it goes now, or when the quiet hours end.
			r = outsideQuietHours(now)
		}
		if at.IsZero() || r.Before(at) {
			at = r
		}
	}
	return at
}

// midway reports a merchant who stopped in the middle of identifying or of
// a card change, perhaps behind the menu or the cancel question. A chat
// with support waits for the agent, not for a reminder.
func (e *Engine) midway(st *State) bool {
	s := st.Step
	if s == StepMenu || s == StepCancel {
		s = st.Ret
	}
	return e.hasDraft(st) && st.Step != StepSupport || e.is(s, identify)
}

// remindAt is when st's reminder is due: RemindAfter after the last input,
// moved out of the quiet hours to their end.
func remindAt(st *State) time.Time {
	return outsideQuietHours(st.Touched.Add(RemindAfter))
}

// quiet reports a time in the quiet hours.
func quiet(at time.Time) bool { return !outsideQuietHours(at).Equal(at) }

func outsideQuietHours(at time.Time) time.Time {
	local := at.In(shanghai)
	h := local.Hour()
	if h >= quietTo && h < quietFrom {
		return at
	}
	end := time.Date(local.Year(), local.Month(), local.Day(), quietTo, 0, 0, 0, shanghai)
	if h >= quietFrom {
		end = end.AddDate(0, 0, 1)
	}
	return end
}

// wake handles EventWake: whatever of the reminder and the expiry is due
// now, once. A wake that comes early, twice, or after the merchant came
// back finds nothing due and says nothing.
func (t *turn) wake() {
	st, now := t.st, t.now()
	if st.Touched.IsZero() {
		return
	}
	if t.hasDraft() && !now.Before(st.Touched.Add(DraftTTL)) {
		t.expire()
		return
	}
	if !t.midway(st) || st.Reminded || now.Before(remindAt(st)) {
		return
	}
	if quiet(now) {
		// Due before the quiet hours but woken in them (a replica, the
		// waker or Redis was down at the due time): the reminder waits
		// for the morning (WakeAt says when), it is not sent at night.
		return
	}
	st.Reminded = true
	where := st.Step
	if where == StepMenu || where == StepCancel {
		where = st.Ret
	}
	r := t.say(msgRemind, Arg{"Step": t.stepName(where)},
		row(Button{Key: msgBtnResume, Args: Arg{"Step": t.stepName(where)}, Data: "m:change"}))
	r.Quiet = true
}

// remindLater is EventRemindLater: the reminder could not be sent before
// the quiet hours and was dropped. Still idle mid-way, the merchant is
// owed it: WakeAt brings it at the end of the quiet hours. Says nothing.
func (t *turn) remindLater() {
	if t.midway(t.st) {
		t.st.Reminded = false
	}
}

// QuietHours reports whether at is in the quiet hours (22:00–08:00 China
// time), when no reminder is sent.
func QuietHours(at time.Time) bool { return quiet(at) }

// expire wipes an abandoned draft's card data and answers; the binding and
// the language stay.
func (t *turn) expire() {
	t.wipeDraft()
	t.st.Editing, t.st.Refill = false, false
	if t.st.Step != StepMenu && t.st.Step != StepSupport { // an agent's chat stays with the agent
		t.fire(evMenu)
	}
	t.say(msgExpired, nil)
}
