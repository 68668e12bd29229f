package dialogs

import ()

// supportStep is the step StepSupport.
func supportStep() stepDef {
	return stepDef{
		name:   StepSupport,
		kind:   parking,
		prompt: func(t *turn) { t.say(msgSupportRequested, nil, row(btn(msgBtnSupportBack, "sup:back"))) },
		text: func(t *turn, _ string) {
			t.say(msgSupportWaiting, nil, row(btn(msgBtnSupportBack, "sup:back")))
		},
		button:  (*turn).supportButton,
		buttons: []string{"sup"},
		back:    backResume,
	}
}

func (t *turn) supportButton(kind, arg string) bool {
	if kind != "sup" || arg != "back" {
		return false
	}
	t.resume()
	return true
}
