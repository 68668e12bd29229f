package dialogs

import (
	"strings"
	"unicode/utf8"
)

// The card form (Input.Kind InForm): the card number, and the answers of
// the steps after it, filled in a form outside the chat (the Telegram
// adapter's Mini App) instead of typed. Each field answers its step
// exactly as typed text would, in the order the dialog asks them; the
// merchant then sees what a typed answer would have shown (the card
// masked, its bank) and the first question the form left open, once.

// FormOpen reports a chat whose dialog takes the card form now: at the card
// question of a personal card (a company's account number has neither BIN
// nor check digit for the form to read).
func FormOpen(st *State) bool { return st.Step == StepCard && !st.Company }

// form applies the card form's fields.
func (t *turn) form(f *Form) {
	if f == nil || !FormOpen(t.st) {
		// Sent from a form opened at the card question, arriving after the
		// chat moved on: nothing of it is taken.
		t.say(msgFormNotNow, nil)
		t.prompt()
		return
	}
	values := map[string]string{
		StepCard: f.Card, StepHolder: f.Holder, StepBranch: f.Branch, StepPhone: f.ReservedPhone,
	}
	t.filling = true
	for range len(values) {
		step := t.st.Step
		v := strings.TrimSpace(values[step])
		delete(values, step)
		d, ok := t.steps[step]
		if !ok || !formTakes(d, v) {
			break
		}
		d.text(t, v)
		if t.st.Step == step {
			break // refused, and said why: the question is asked again
		}
	}
	t.editFromForm(values)
	t.filling = false
	if n := len(t.out.Replies); n > 0 && t.st.Step == StepBranch && t.out.Replies[n-1].Key == msgBranchPick {
		return // the form's branch found the list to pick from: that is the question
	}
	t.prompt()
}

// editFromForm applies the fields the form filled that the dialog went past:
// from an edit of the card, or in a reopened application, the accepted card
// leads back to the summary (or on to the reserved phone) without visiting
// the steps of the other fields. Each one given that differs from the answer
// kept is applied as its summary edit would be: the branch last, since from
// a branch list a typed name is a search that waits for a tap; one refused
// is asked again, and the rest wait for the merchant.
func (t *turn) editFromForm(values map[string]string) {
	for _, step := range []string{StepHolder, StepPhone, StepBranch} {
		v := strings.TrimSpace(values[step])
		if v == "" || v == formAnswer(t.st, step) || t.st.Step != StepSummary {
			continue
		}
		d, ok := t.steps[step]
		if !ok || d.field == nil || !d.field.editable || !formTakes(d, v) {
			continue
		}
		t.st.Editing = true
		if !t.fire(editMove(step)) {
			return
		}
		d.text(t, v)
		if t.st.Step == step {
			return // refused, and said why: the question is asked again
		}
	}
}

// formTakes reports a form value that step d reads as it would typed
// text: some, readable, no longer than a message is read.
func formTakes(d *stepDef, v string) bool {
	return d.text != nil && v != "" && !unreadable(v) && utf8.RuneCountInString(v) <= maxTextRunes
}

// formAnswer is the answer kept for a step the form fills ("" none).
func formAnswer(st *State, step string) string {
	switch step {
	case StepHolder:
		return st.Holder
	case StepBranch:
		return st.Branch
	case StepPhone:
		return st.Secrets.ReservedPhone
	}
	return ""
}
