package dialogs

import (
	"strings"
)

// summaryStep is the step StepSummary.
func summaryStep() stepDef {
	return stepDef{
		name:    StepSummary,
		guide:   &guide{asks: []MsgID{msgSummary}, forward: []MsgID{msgBtnConfirm}},
		kind:    draft,
		prompt:  (*turn).summary,
		button:  (*turn).summaryButton,
		buttons: []string{"sum"},
		back:    StepPhone,
		moves:   map[move]string{evConfirm: StepVerify}, // and an edit_ move per editable field (transitions)
	}
}

// summary shows every field's summary line, and Edit buttons two to a
// row for the editable ones.
func (t *turn) summary() {
	r := t.say(msgSummary, Arg{"MerchantNo": t.st.MerchantNo})
	var edits []Button
	for _, d := range t.fields {
		f := d.field
		if f.summary != nil {
			r.Lines = append(r.Lines, Text{Key: MsgID("sum_" + d.name), Args: f.summary(t)})
		}
		if f.editable {
			edits = append(edits, btn(MsgID("btn_edit_"+d.name), "sum:edit."+d.name))
		}
	}
	r.Lines = append(r.Lines, Text{Key: msgSummaryEnd})
	for len(edits) > 0 {
		n := min(2, len(edits))
		r.Buttons = append(r.Buttons, edits[:n])
		edits = edits[n:]
	}
	r.Buttons = append(r.Buttons, row(btn(msgBtnConfirm, "sum:confirm"), btn(msgBtnCancel, "sum:cancel")))
}

// firstUnfilled is the step of the first field the summary needs and
// lacks, in dialog order (nil when every one is answered).
func (t *turn) firstUnfilled() *stepDef {
	for _, d := range t.fields {
		if d.field.filled != nil && !d.field.filled(t.st) {
			return d
		}
	}
	return nil
}

// askUnfilled, at the summary, names the field d the summary lacks and
// asks it as an edit, so its answer leads back to the summary; a field
// without an Edit button is only named, the summary shown again.
func (t *turn) askUnfilled(d *stepDef) {
	t.say(msgSummaryIncomplete, Arg{"Step": t.stepName(d.name)})
	if !d.field.editable {
		t.prompt()
		return
	}
	t.st.Editing = true
	if t.fire(editMove(d.name)) {
		t.prompt()
	}
}

func (t *turn) summaryButton(kind, arg string) bool {
	if kind != "sum" {
		return false
	}
	st := t.st
	switch {
	case strings.HasPrefix(arg, "edit."):
		step := strings.TrimPrefix(arg, "edit.")
		if d, ok := t.steps[step]; !ok || d.field == nil || !d.field.editable {
			return false
		}
		st.Editing = true
		if t.fire(editMove(step)) {
			t.prompt()
		}
	case arg == "confirm":
		if d := t.firstUnfilled(); d != nil {
			t.askUnfilled(d)
			return true
		}
		if st.DraftID == "" {
			st.DraftID = t.newKey() // a draft begun before drafts had ids
		}
		if !st.ProvedAt.IsZero() && t.now().Sub(st.ProvedAt) < FreshProof {
			// The merchant typed a code from the phone on file minutes
			// ago: that proof confirms this summary, no second code (and
			// no wait for the acquirer's resend limit).
			if t.fire(evConfirm) {
				st.Verified = true
				t.say(msgProofFresh, nil)
				t.submit()
			}
			return true
		}
		t.sendCode(st.MerchantNo, evConfirm)
	case arg == "cancel":
		t.cancel()
	default:
		return false
	}
	return true
}
