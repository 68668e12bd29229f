package dialogs

import (
	"errors"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// phoneStep is the step StepPhone.
func phoneStep() stepDef {
	return stepDef{
		name:  StepPhone,
		guide: &guide{asks: []MsgID{msgAskReservedPhone}, answer: AnswerReservedPhone},
		kind:  draft,
		prompt: func(t *turn) {
			t.withCurrent(t.say(msgAskReservedPhone, nil), parse.MaskPhone(t.st.Secrets.ReservedPhone))
		},
		text:    (*turn).reservedPhone,
		button:  (*turn).keepButton,
		buttons: []string{"keep"},
		back:    StepBranch,
		moves:   edited(map[move]string{evPhoneOK: StepSummary}),
		typed:   true,
		field: &fieldSpec{
			secret:   true,
			editable: true,
			filled:   func(st *State) bool { return st.Secrets.ReservedPhone != "" },
			summary:  func(t *turn) Arg { return Arg{"Value": parse.MaskPhone(t.st.Secrets.ReservedPhone)} },
			handoff:  func(st *State, _ string) string { return parse.MaskPhone(st.Secrets.ReservedPhone) },
			clear:    func(st *State) { st.Secrets.ReservedPhone = "" },
			apply:    func(st *State, app *backend.Application) { app.ReservedPhone = st.Secrets.ReservedPhone },
			keep:     func(t *turn) { t.advance(evPhoneOK) },
		},
	}
}

func (t *turn) reservedPhone(text string) {
	p, ok := t.single(parse.FindPhone, text, msgWhatPhone, func() { t.phoneReason(text) })
	if !ok {
		return
	}
	t.st.Secrets.ReservedPhone = p
	t.advance(evPhoneOK)
}

// phoneReason says why text holds no mainland mobile number: a number of
// another length, a landline or foreign number, or no number at all.
func (t *turn) phoneReason(text string) {
	d := parse.Digits(text)
	_, err := parse.MobilePhone(text)
	switch {
	case errors.Is(err, parse.ErrLength) && len(d) <= 20:
		t.say(msgPhoneLength, Arg{"N": len(d)})
	case errors.Is(err, parse.ErrNotMobile):
		t.say(msgPhoneNotMobile, nil)
	default:
		t.say(msgPhoneInvalid, nil)
	}
}
