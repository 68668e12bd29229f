package dialogs

import (
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// cardLuhnStep is the step StepCardLuhn.
func cardLuhnStep() stepDef {
	return stepDef{
		name:  StepCardLuhn,
		guide: &guide{asks: []MsgID{msgCardLuhnWarn}, forward: []MsgID{msgBtnLuhnYes}},
		kind:  draft,
		prompt: func(t *turn) {
			t.say(msgCardLuhnWarn, Arg{"Card": parse.MaskPAN(t.st.Secrets.PendingCard)},
				row(btn(msgBtnLuhnYes, "luhn:yes"), btn(msgBtnLuhnNo, "luhn:no")))
		},
		text:      (*turn).card,
		button:    (*turn).luhnButton,
		buttons:   []string{"luhn"},
		takesCard: true,
		back:      StepCard,
		// evCardDoubt again: another number that fails the check is asked
		// about in turn (a self-move).
		moves: edited(map[move]string{evCardDoubt: StepCardLuhn, evCardOK: StepHolder, evCardRetry: StepCard,
			evNeedBank: StepBank, evNewBranch: StepBranch, evCardKept: StepPhone}),
	}
}

func (t *turn) luhnButton(kind, arg string) bool {
	st := t.st
	switch {
	case kind == "luhn" && arg == "yes" && st.Secrets.PendingCard != "":
		t.acceptCard(st.Secrets.PendingCard)
	case kind == "luhn" && arg == "no":
		st.Secrets.PendingCard = ""
		if t.fire(evCardRetry) {
			t.prompt()
		}
	default:
		return false
	}
	return true
}
