package dialogs

import ()

// menuStep is the step StepMenu.
func menuStep() stepDef {
	return stepDef{
		name:   StepMenu,
		guide:  &guide{asks: []MsgID{msgMenu, msgWelcome}, forward: []MsgID{msgBtnChange}},
		kind:   parking,
		prompt: func(t *turn) { t.menu(false) },
		text: func(t *turn, _ string) {
			t.say(msgUseMenu, nil)
			t.menu(false)
		},
		moves: map[move]string{evIdentify: StepMerchant, evChange: StepChecklist},
	}
}
