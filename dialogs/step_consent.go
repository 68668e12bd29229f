package dialogs

import ()

// consentStep is the step StepConsent.
func consentStep() stepDef {
	return stepDef{
		name:  StepConsent,
		guide: &guide{asks: []MsgID{msgConsent}, forward: []MsgID{msgBtnAgree}},
		kind:  draft,
		prompt: func(t *turn) {
			t.say(msgConsent, nil, row(btn(msgBtnAgree, "cs:yes"), btn(msgBtnDisagree, "cs:no")))
		},
		button:  (*turn).consentButton,
		buttons: []string{"cs"},
		back:    StepChecklist,
		moves:   map[move]string{evConsented: StepCard},
		field: &fieldSpec{
			handoff: func(st *State, _ string) string { return tick(st.Consent) },
			clear:   func(st *State) { st.Consent = false },
		},
	}
}

func (t *turn) consentButton(kind, arg string) bool {
	switch {
	case kind == "cs" && arg == "yes":
		t.st.Consent = true
		if t.fire(evConsented) {
			t.prompt()
		}
	case kind == "cs" && arg == "no":
		t.say(msgConsentDeclined, nil)
		t.toMenu()
		t.menu(false)
	default:
		return false
	}
	return true
}
