package dialogs

import (
	"errors"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// holderStep is the step StepHolder.
func holderStep() stepDef {
	return stepDef{
		name:    StepHolder,
		guide:   &guide{asks: []MsgID{msgAskHolder, msgAskHolderCompany}, forward: []MsgID{msgBtnHolderName, msgBtnHolderCompany}, answer: AnswerHolder},
		kind:    draft,
		prompt:  (*turn).holderPrompt,
		text:    (*turn).holder,
		button:  (*turn).holderButton,
		buttons: []string{"holder", "keep"},
		back:    StepCard,
		moves:   edited(map[move]string{evHolderOK: StepBranch, evNeedBank: StepBank}),
		typed:   true,
		field: &fieldSpec{
			editable: true,
			filled:   func(st *State) bool { return st.Holder != "" },
			summary:  func(t *turn) Arg { return Arg{"Value": t.st.Holder} },
			handoff:  func(st *State, _ string) string { return st.Holder },
			clear:    func(st *State) { st.Holder = "" },
			apply:    func(st *State, app *backend.Application) { app.HolderName = st.Holder },
			reopen:   func(st *State, app backend.Receipt) { st.Holder = app.HolderName },
			keep:     (*turn).afterHolder,
		},
	}
}

// holderPrompt offers the registered name as a button: one tap instead of
// typing it, and typing still works.
func (t *turn) holderPrompt() {
	st := t.st
	key := msgAskHolder
	if st.Company {
		key = msgAskHolderCompany
	}
	r := t.say(key, nil)
	if st.MerchantName != "" {
		label := msgBtnHolderName
		if st.Company {
			label = msgBtnHolderCompany
		}
		r.Buttons = append(r.Buttons, row(Button{Key: label, Args: Arg{"Name": st.MerchantName}, Data: "holder:registered"}))
	}
	if st.Holder != "" && st.Holder != st.MerchantName {
		t.withCurrent(r, st.Holder)
	}
}

func (t *turn) holderButton(kind, arg string) bool {
	switch {
	case kind == "holder" && arg == "registered" && t.st.MerchantName != "":
		t.st.Holder = t.st.MerchantName
		t.afterHolder()
		return true
	default:
		return t.keepButton(kind, arg)
	}
}

func (t *turn) holder(text string) {
	if isYes(text) && t.st.MerchantName != "" {
		// "是的" answers the button's "是的，持卡人是 张三".
		t.st.Holder = t.st.MerchantName
		t.afterHolder()
		return
	}
	validate := parse.HolderName
	if t.st.Company {
		validate = parse.Branch // company names may hold digits: 58同城
	}
	name, err := validate(text)
	switch {
	case errors.Is(err, parse.ErrBadChars):
		t.say(msgHolderChars, nil)
		return
	case err != nil:
		t.say(msgHolderLength, nil)
		return
	}
	if !parse.SameName(name, t.st.MerchantName) {
		key := msgHolderMismatch
		if t.st.Company {
			key = msgHolderMismatchCompany
		}
		t.say(key, nil, row(btn(msgBtnSupport, "m:support")))
		return
	}
	// The registered spelling goes to review, however the dot or spaces
	// were typed.
	t.st.Holder = t.st.MerchantName
	t.afterHolder()
}

// afterHolder goes to the branch, or to the bank when the BIN did not tell.
func (t *turn) afterHolder() {
	if t.st.BankName == "" {
		t.advance(evNeedBank)
		return
	}
	t.advance(evHolderOK)
}
