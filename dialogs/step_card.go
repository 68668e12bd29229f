package dialogs

import (
	"errors"
	"strings"
	"unicode"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// cardStep is the step StepCard.
func cardStep() stepDef {
	return stepDef{
		name:  StepCard,
		guide: &guide{asks: []MsgID{msgAskCard, msgAskAccount}, answer: AnswerCard, notes: []MsgID{msgCardAccepted, msgCardBank}},
		kind:  draft,
		prompt: func(t *turn) {
			key := msgAskCard
			if t.st.Company {
				key = msgAskAccount
			}
			r := t.say(key, nil)
			r.Form = FormOpen(t.st)
			t.withCurrent(r, maskedCard(t.st))
		},
		text:    (*turn).card,
		button:  (*turn).keepButton,
		buttons: []string{"keep"},
		back:    StepConsent,
		moves: edited(map[move]string{evCardDoubt: StepCardLuhn, evCardOK: StepHolder,
			evNeedBank: StepBank, evNewBranch: StepBranch, evCardKept: StepPhone}),
		typed:     true,
		takesCard: true,
		field: &fieldSpec{
			secret:   true,
			editable: true,
			filled:   func(st *State) bool { return st.Secrets.CardNumber != "" },
			summary: func(t *turn) Arg {
				typ := Text{Key: msgCardTypeUnknown}
				if t.st.Company {
					typ = Text{Key: msgCardTypeCompany}
				} else if t.st.CardType != "" {
					typ = Text{Key: MsgID("cardtype_" + t.st.CardType)}
				}
				return Arg{"Value": maskedCard(t.st), "Type": typ}
			},
			handoff: func(st *State, _ string) string { return maskedCard(st) },
			clear: func(st *State) {
				st.Secrets.CardNumber, st.Secrets.PendingCard, st.CardType = "", "", ""
			},
			apply: func(st *State, app *backend.Application) {
				app.CardNumber, app.CardMasked, app.CardType = st.Secrets.CardNumber, maskedCard(st), st.CardType
			},
			keep: func(t *turn) { t.advance(evCardOK) },
		},
	}
}

func (t *turn) card(text string) {
	// Anything typed here with a run of digits may be (part of) a card
	// number: it leaves the chat.
	if digitCount(text) >= 6 && t.in.MessageID != 0 {
		t.effect(Effect{Kind: DeleteMessage, MessageID: t.in.MessageID})
	}
	st := t.st
	if st.Company {
		t.account(text)
		return
	}
	found, ok := t.single(parse.FindCard, text, msgWhatCard, func() { t.cardReason(text) })
	if !ok {
		return
	}
	digits, err := parse.CardNumber(found)
	switch {
	case errors.Is(err, parse.ErrLuhn) && strings.HasPrefix(digits, "62"):
		st.Secrets.PendingCard = digits
		if t.fire(evCardDoubt) { // at the Luhn question itself: a self-move, asked again
			t.prompt()
		}
		return
	case errors.Is(err, parse.ErrLuhn):
		t.say(msgCardLuhn, nil)
		return
	case err != nil:
		t.cardReason(text)
		return
	}
	t.acceptCard(digits)
}

// cardReason says why text holds no card number: the length of the number
// typed, alone or inside a sentence, else that a card number is digits.
func (t *turn) cardReason(text string) {
	digits, err := parse.CardNumber(text)
	switch {
	case errors.Is(err, parse.ErrLength):
		t.say(msgCardLength, Arg{"N": len(digits)})
	case inSentence(text) && parse.LongestNumber(text) >= 8:
		t.say(msgCardLength, Arg{"N": parse.LongestNumber(text)})
	default:
		t.say(msgCardDigits, nil)
	}
}

// inSentence reports text with words around its numbers (a Han character,
// or a space between a letter and the rest), not a number with a typo.
func inSentence(text string) bool {
	for _, r := range text {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return strings.ContainsFunc(text, unicode.IsLetter) && strings.ContainsRune(strings.TrimSpace(text), ' ')
}

func (t *turn) acceptCard(digits string) {
	st := t.st
	c, known := t.bins.Lookup(digits)
	if known && !cardbin.IsDebit(c.Type) {
		st.Secrets.PendingCard = ""
		t.say(msgCardNotDebit, Arg{"Type": Text{Key: MsgID("cardtype_" + c.Type)}, "Bank": t.bankLabelOf(c.BankCode, c.BankName)})
		if st.Step == StepCardLuhn {
			t.fire(evCardRetry)
		}
		return
	}
	oldBank := st.BankCode
	st.Secrets.CardNumber, st.Secrets.PendingCard = digits, ""
	st.CardType, st.BankCode, st.BankName = "", "", ""
	if known {
		st.CardType, st.BankCode, st.BankName = c.Type, c.BankCode, c.BankName
	}
	// The bank the BIN tells is shown with the card and confirmed on the
	// summary: no separate question.
	r := t.say(msgCardAccepted, Arg{"Card": parse.MaskPAN(digits)})
	if known {
		r.Lines = append(r.Lines, Text{Key: msgCardBank, Args: Arg{"Bank": t.bankLabel()}})
	} else {
		r.Lines = append(r.Lines, Text{Key: msgCardBankUnknown})
	}
	if oldBank != "" && (oldBank != st.BankCode || !known) {
		// The branch, from whichever way it was given (a summary edit, a
		// resubmission, /back to the card), was of the old bank's.
		st.Branch, st.BranchID = "", ""
	}
	if (st.Editing || st.Reopened) && (oldBank != st.BankCode || !known) {
		// A card of another (or an unknown) bank: its bank and branch are
		// asked again, then the summary (or, reopened, the reserved phone).
		st.Editing, st.Refill, st.Reopened, st.Branch, st.BranchID = false, st.Editing, false, "", ""
		event := evNewBranch
		if !known {
			event = evNeedBank
		}
		if t.fire(event) {
			t.prompt()
		}
		return
	}
	t.afterCard()
}

// afterCard moves on from an accepted card: to the holder, back to the
// summary after an edit, or, in a reopened application whose holder, bank
// and branch are kept, to the reserved phone.
func (t *turn) afterCard() {
	if t.st.Reopened {
		t.st.Reopened = false
		if t.fire(evCardKept) {
			t.prompt()
		}
		return
	}
	t.advance(evCardOK)
}

// account takes a company's settlement account number: no BIN, no Luhn.
func (t *turn) account(text string) {
	digits := parse.Digits(text)
	// Nothing left (a message of dashes or zero-width spaces) is too short,
	// not wrong characters.
	if digits != "" && !parse.AllDigits(digits) {
		t.say(msgAccountDigits, nil)
		return
	}
	if len(digits) < 9 || len(digits) > 30 {
		t.say(msgAccountLength, nil)
		return
	}
	st := t.st
	st.Secrets.CardNumber, st.CardType = digits, ""
	t.say(msgAccountAccepted, Arg{"Card": parse.MaskPAN(digits)})
	t.afterCard()
}

func digitCount(text string) int {
	n := 0
	for _, r := range parse.Digits(text) {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}
