package dialogs

import ()

// cancelStep is the step StepCancel.
func cancelStep() stepDef {
	return stepDef{
		name: StepCancel,
		kind: parking,
		prompt: func(t *turn) {
			t.say(msgCancelConfirm, nil, row(btn(msgBtnDiscard, "cx:yes"), btn(msgBtnKeepGoing, "cx:no")))
		},
		button:  (*turn).cancelButton,
		buttons: []string{"cx"},
		back:    backResume,
		moves:   map[move]string{evDiscard: StepMenu},
	}
}

func (t *turn) cancelButton(kind, arg string) bool {
	switch {
	case kind == "cx" && arg == "yes":
		t.wipeDraft()
		if t.fire(evDiscard) {
			t.say(msgDiscarded, nil)
			t.menu(false)
		}
	case kind == "cx" && arg == "no":
		t.resume()
	default:
		return false
	}
	return true
}
