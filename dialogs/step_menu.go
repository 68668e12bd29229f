package dialogs

import ()

// menuStep is the step StepMenu.
func menuStep() stepDef {
	return stepDef{
		name:   StepMenu,
		kind:   parking,
		prompt: func(t *turn) { t.menu(false) },
		text: func(t *turn, _ string) {
			t.say(msgUseMenu, nil)
			t.menu(false)
		},
		moves: map[move]string{evIdentify: StepMerchant, evChange: StepChecklist},
	}
}
