package dialogs

// Helpers the steps share (step_*.go): one answer out of a message, the
// answer already given and its Keep button.

import (
	"time"
)

// Identification limits: a chat gets MaxLookups failed identifications
// (merchant number and phone that do not match) per LookupWindow.
const (
	MaxLookups   = 5
	LookupWindow = 24 * time.Hour
)

// FreshProof is how long an SMS code the merchant typed also confirms the
// summary: the acquirer sends at most one code a minute, so asking for a
// second one right after the first would make a fast merchant wait.
const FreshProof = 10 * time.Minute

// withCurrent shows the answer already given, with a button to keep it,
// when the step's field has one (fieldSpec.keep) and holds an answer: the
// button is shown where keepButton takes it.
func (t *turn) withCurrent(r *Reply, current string) {
	f := t.def().field
	if current == "" || f == nil || f.keep == nil || !f.filled(t.st) {
		return
	}
	r.Lines = append(r.Lines, Text{Key: msgCurrentAnswer, Args: Arg{"Value": current}})
	r.Buttons = append(r.Buttons, row(btn(msgBtnKeep, "keep")))
}

// whichOne answers a message holding several numbers of the shape asked.
func (t *turn) whichOne(what MsgID) {
	t.say(msgWhichOne, Arg{"What": Text{Key: what}})
}

// single takes the one value of its kind that find sees in text. With more
// than one it asks which (what names the kind); with none it lets none say
// why. ok is false then, and the step stays.
func (t *turn) single(find func(string) (string, int), text string, what MsgID, none func()) (value string, ok bool) {
	v, n := find(text)
	switch {
	case n > 1:
		t.whichOne(what)
		return "", false
	case n == 0:
		none()
		return "", false
	}
	return v, true
}

// keepButton keeps the answer given before (after /back or from an edit).
func (t *turn) keepButton(kind, _ string) bool {
	if kind != "keep" {
		return false
	}
	f := t.def().field
	if f == nil || f.keep == nil || !f.filled(t.st) {
		return false
	}
	f.keep(t)
	return true
}
