package dialogs

import (
	"errors"
	"unicode"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// branchStep is the step StepBranch.
func branchStep() stepDef {
	return stepDef{
		name:  StepBranch,
		guide: &guide{asks: []MsgID{msgAskBranch}, answer: AnswerBranch},
		kind:  draft,
		prompt: func(t *turn) {
			t.withCurrent(t.say(msgAskBranch, Arg{"Bank": t.bankLabel()}), t.st.Branch)
		},
		text:    (*turn).branch,
		button:  (*turn).keepButton,
		buttons: []string{"keep"},
		back:    StepHolder,
		// A company account, or a card the BIN does not tell, had the bank
		// asked after the holder: /back goes to that question, not past it.
		onBack: func(t *turn) bool {
			if t.st.Editing || t.st.CardType != "" {
				return false
			}
			if t.fire(evBackBank) {
				t.prompt()
			}
			return true
		},
		moves:      edited(map[move]string{evBranchOK: StepPhone, evBackBank: StepBank}),
		typed:      true,
		endsRefill: true,
		field: &fieldSpec{
			editable: true,
			filled:   func(st *State) bool { return st.Branch != "" },
			summary:  func(t *turn) Arg { return Arg{"Value": t.st.Branch} },
			handoff:  func(st *State, _ string) string { return st.Branch },
			clear:    func(st *State) { st.Branch = "" },
			apply:    func(st *State, app *backend.Application) { app.Branch = st.Branch },
			reopen:   func(st *State, app backend.Receipt) { st.Branch = app.Branch },
			keep:     func(t *turn) { t.advance(evBranchOK) },
		},
	}
}

func (t *turn) branch(text string) {
	if reason := notAName(text); reason != "" {
		t.say(reason, Arg{"What": Text{Key: msgWhatBranch}})
		return
	}
	b, err := parse.Branch(text)
	switch {
	case errors.Is(err, parse.ErrBadChars):
		t.say(msgBranchChars, nil)
		return
	case err != nil:
		t.say(msgBranchInvalid, nil)
		return
	}
	t.st.Branch = b
	t.advance(evBranchOK)
}

// notAName gives the specific reason a bank or branch answer is a number
// or a phone rather than a name ("" when it may be a name).
func notAName(text string) MsgID {
	if _, n := parse.FindPhone(text); n > 0 {
		if _, err := parse.MobilePhone(text); err == nil || onlyDigitsAndMarks(text) {
			return msgNameIsPhone
		}
	}
	if onlyDigitsAndMarks(text) {
		return msgNameIsNumber
	}
	return ""
}

// onlyDigitsAndMarks reports text without a letter or a Han character.
func onlyDigitsAndMarks(text string) bool {
	for _, r := range text {
		if unicode.IsLetter(r) {
			return false
		}
	}
	return true
}
