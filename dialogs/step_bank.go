package dialogs

import (
	"strings"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/locales"
)

// bankStep is the step StepBank.
func bankStep() stepDef {
	return stepDef{
		name:    StepBank,
		guide:   &guide{asks: []MsgID{msgBankConfirm, msgAskBank}, forward: []MsgID{msgBtnBankYes}, answer: AnswerBank},
		kind:    draft,
		prompt:  (*turn).bankPrompt,
		text:    (*turn).bankName,
		button:  (*turn).bankButton,
		buttons: []string{"bank"},
		back:    StepHolder,
		moves:   edited(map[move]string{evBankOK: StepBranch}),
		typed:   true,
		field: &fieldSpec{
			editable: true,
			filled:   func(st *State) bool { return st.BankName != "" },
			summary:  func(t *turn) Arg { return Arg{"Value": t.bankLabel()} },
			handoff:  func(st *State, _ string) string { return st.BankName },
			clear:    func(st *State) { st.BankCode, st.BankName = "", "" },
			apply: func(st *State, app *backend.Application) {
				app.BankCode, app.BankName = st.BankCode, st.BankName
			},
			reopen: func(st *State, app backend.Receipt) {
				st.BankCode, st.BankName = app.BankCode, app.BankName
			},
		},
	}
}

func (t *turn) bankPrompt() {
	if t.st.BankName != "" {
		t.say(msgBankConfirm, Arg{"Bank": t.bankLabel()},
			row(btn(msgBtnBankYes, "bank:yes"), btn(msgBtnBankOther, "bank:other")))
		return
	}
	t.say(msgAskBank, nil)
}

func (t *turn) bankButton(kind, arg string) bool {
	if kind != "bank" {
		return false
	}
	st := t.st
	switch {
	case arg == "yes" && st.BankName != "":
		t.bankChosen(st.BankCode, st.BankName)
	case arg == "other":
		t.say(msgAskBank, nil)
	case strings.HasPrefix(arg, "pick."), strings.HasPrefix(arg, "sure."):
		b, ok := t.bins.BankByCode(arg[len("pick."):])
		if !ok {
			return false
		}
		if strings.HasPrefix(arg, "pick.") && t.contradictsCard(b) {
			return true
		}
		t.bankChosen(b.Code, b.Name)
	default:
		return false
	}
	return true
}

func (t *turn) bankName(text string) {
	st := t.st
	switch {
	case isYes(text):
		if st.BankName != "" {
			t.bankChosen(st.BankCode, st.BankName)
			return
		}
		t.say(msgBankNeedName, nil)
		return
	case isNo(text):
		t.say(msgAskBank, nil)
		return
	}
	if reason := notAName(text); reason != "" {
		t.say(reason, Arg{"What": Text{Key: msgWhatBank}})
		return
	}
	b, ok, closest := t.bins.MatchBank(text)
	if !ok {
		if len(closest) == 0 {
			t.say(msgBankUnknown, nil)
			return
		}
		r := t.say(msgBankClosest, nil)
		for i, c := range closest {
			if i == 4 {
				break // a few likely banks, not a directory
			}
			r.Buttons = append(r.Buttons, row(Button{Key: msgBtnBank, Args: Arg{"Bank": t.bankLabelOf(c.Code, c.Name)}, Data: "bank:pick." + c.Code}))
		}
		return
	}
	if t.contradictsCard(b) {
		return
	}
	t.bankChosen(b.Code, b.Name)
}

// contradictsCard asks the merchant to double-check a bank that is not the
// one the card's BIN tells.
func (t *turn) contradictsCard(b cardbin.Bank) bool {
	if t.st.Company || t.st.Secrets.CardNumber == "" {
		return false // a company account number has no BIN
	}
	c, known := t.bins.Lookup(t.st.Secrets.CardNumber)
	if !known || c.BankCode == b.Code {
		return false
	}
	t.say(msgBankContradicts, Arg{"Card": t.bankLabelOf(c.BankCode, c.BankName), "Typed": t.bankLabelOf(b.Code, b.Name)},
		row(Button{Key: msgBtnBank, Args: Arg{"Bank": t.bankLabelOf(c.BankCode, c.BankName)}, Data: "bank:sure." + c.BankCode}),
		row(Button{Key: msgBtnBankTyped, Args: Arg{"Bank": t.bankLabelOf(b.Code, b.Name)}, Data: "bank:sure." + b.Code}))
	return true
}

// bankChosen stores the bank by its standard name. A changed bank asks for
// its branch again.
func (t *turn) bankChosen(code, name string) {
	st := t.st
	if st.Editing && code != st.BankCode {
		st.Editing, st.Refill, st.Branch, st.BranchID = false, true, "", ""
	}
	if code != st.BankCode && st.BranchID != "" {
		// A branch picked from the old bank's list (back to the bank
		// question, another bank) cannot stand for the new one.
		st.Branch, st.BranchID = "", ""
	}
	st.BankCode, st.BankName = code, name
	t.advance(evBankOK)
}

// bankLabel is the draft's bank as the merchant reads it: English where the
// table has it, else the standard Chinese name.
func (t *turn) bankLabel() string { return t.bankLabelOf(t.st.BankCode, t.st.BankName) }

func (t *turn) bankLabelOf(code, name string) string {
	if t.st.Lang != locales.English || code == "" {
		return name
	}
	if b, ok := t.bins.BankByCode(code); ok && b.NameEN != "" {
		return b.NameEN
	}
	return name
}

// isYes reads a typed "yes" (and the yes buttons' labels).
func isYes(text string) bool {
	switch strings.ToLower(strings.Trim(text, " .。!！~～")) {
	case "是", "是的", "对", "对的", "对啊", "对了", "没错", "正确", "确认", "嗯", "好", "好的", "是的，正确",
		"yes", "y", "yep", "yeah", "ok", "okay", "correct", "right", "that's right", "confirm":
		return true
	}
	return false
}

// isNo reads a typed "no" (and the "another bank" button's label).
func isNo(text string) bool {
	switch strings.ToLower(strings.Trim(text, " .。!！~～")) {
	case "不是", "不对", "错了", "否", "不", "不对，是其他银行", "no", "n", "nope", "wrong", "no, another bank":
		return true
	}
	return false
}
