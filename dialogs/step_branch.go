package dialogs

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// branchStep is the step StepBranch. With WithBranches it offers the
// branches of the card's bank in the city asked first (step_city.go)
// instead of taking a typed name.
func branchStep() stepDef {
	return stepDef{
		name: StepBranch,
		guide: &guide{asks: []MsgID{msgAskBranch, msgAskBranchPick, msgAskBranchWord, msgBranchPick,
			msgBranchNone, msgBranchNoneAll, msgBranchNoneInCity, msgBranchTooMany, msgBranchNoList}, answer: AnswerBranch},
		kind: draft,
		prompt: func(t *turn) {
			if t.branches != nil {
				t.branchPickPrompt()
				return
			}
			t.withCurrent(t.say(msgAskBranch, Arg{"Bank": t.bankLabel()}), t.st.Branch)
		},
		text: func(t *turn, text string) {
			if t.branches != nil {
				t.branchWord(text)
				return
			}
			t.branch(text)
		},
		button: func(t *turn, kind, arg string) bool {
			if kind == "br" {
				return t.branchPickButton(arg)
			}
			return t.keepButton(kind, arg)
		},
		buttons: []string{"keep", "br"},
		back:    StepHolder,
		onBack: func(t *turn) bool {
			if t.branches != nil && !t.st.Editing {
				t.st.PickWord = ""
				if t.fire(evAskCity) {
					t.prompt()
				}
				return true
			}
			return backToBank(t)
		},
		moves:      edited(map[move]string{evBranchOK: StepPhone, evBackBank: StepBank, evAskCity: StepCity}),
		typed:      true,
		endsRefill: true,
		field: &fieldSpec{
			editable: true,
			filled:   func(st *State) bool { return st.Branch != "" },
			summary: func(t *turn) Arg {
				if t.st.BranchID == noBranch {
					return Arg{"Value": Text{Key: msgBranchNotNeededSum, Args: Arg{"City": t.st.CityName}}}
				}
				if t.st.BranchID != "" && t.st.CityName != "" {
					return Arg{"Value": Text{Key: msgBranchInCity, Args: Arg{"Branch": t.st.Branch, "City": t.st.CityName}}}
				}
				return Arg{"Value": t.st.Branch}
			},
			handoff: func(st *State, _ string) string { return st.Branch },
			clear:   func(st *State) { st.Branch, st.BranchID = "", "" },
			apply: func(st *State, app *backend.Application) {
				app.Branch = st.Branch
				switch st.BranchID {
				case "":
				case noBranch, typedBranch:
					app.AreaCode = st.AreaCode
				default:
					app.BranchID, app.AreaCode = st.BranchID, st.AreaCode
				}
			},
			// A receipt carries the branch's name only: where the branch is
			// picked (WithBranches), one without its id is picked again.
			reopen: func(st *State, app backend.Receipt) { st.Branch = app.Branch },
			keep:   func(t *turn) { t.advance(evBranchOK) },
		},
	}
}

// backToBank is /back from the branch (or its city): a company account,
// or a card the BIN does not tell, had the bank asked after the holder, so
// /back goes to that question, not past it.
func backToBank(t *turn) bool {
	if t.st.Editing || t.st.CardType != "" {
		return false
	}
	if t.fire(evBackBank) {
		t.prompt()
	}
	return true
}

func (t *turn) branch(text string) {
	if b, ok := t.readBranch(text); ok {
		t.st.Branch = b
		t.advance(evBranchOK)
	}
}

// readBranch reads a typed branch name; a name it refuses is answered
// with the reason, the step kept.
func (t *turn) readBranch(text string) (string, bool) {
	if reason := notAName(text); reason != "" {
		t.say(reason, Arg{"What": Text{Key: msgWhatBranch}})
		return "", false
	}
	b, err := parse.Branch(text)
	switch {
	case errors.Is(err, parse.ErrBadChars):
		t.say(msgBranchChars, nil)
		return "", false
	case err != nil:
		t.say(msgBranchInvalid, nil)
		return "", false
	}
	return b, true
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

// Message ids of the branch picked from a list (WithBranches).
const (
	msgAskBranchPick    MsgID = "ask_branch_pick"     // the city's few branches, as buttons
	msgAskBranchWord    MsgID = "ask_branch_word"     // too many to show: a word of the name
	msgBranchPick       MsgID = "branch_pick"         // the branches whose name holds the word
	msgBranchNone       MsgID = "branch_none"         // none holds the word
	msgBranchNoneAll    MsgID = "branch_none_all"     // none holds it; the city's few branches instead
	msgBranchNoneInCity MsgID = "branch_none_in_city" // the bank has no branch listed in the city
	msgBranchTooMany    MsgID = "branch_too_many"     // too many hold it: type more
	msgBranchInCity     MsgID = "branch_in_city"      // the summary's value: branch (city)
	// The bank needs no branch (backend.ErrNoBranchNeeded): the city is
	// enough, confirmed with a tap.
	msgBranchNotNeeded    MsgID = "branch_not_needed"
	msgBtnBranchNotNeeded MsgID = "btn_branch_not_needed"
	msgBranchNotNeededSum MsgID = "branch_not_needed_sum" // the summary's value
	// The acquirer lists no branches of the bank (backend.ErrNoBranchList):
	// the branch's full name is typed.
	msgBranchNoList MsgID = "branch_no_list"
)

// noBranch is State.BranchID for a bank that needs no branch: the city
// picked is all the application carries (no acquirer's id starts with -).
const noBranch = "-"

// typedBranch is State.BranchID for a bank whose branches the acquirer
// does not list (backend.ErrNoBranchList): Branch is the full name typed,
// and the application carries it with the city's code, no id (no
// acquirer's id starts with =; itemID).
const typedBranch = "="

// branchPickPrompt asks the branch in the city picked: the bank's branches
// there as buttons when they are few, else a word of the name. Without a
// city it asks the city first.
func (t *turn) branchPickPrompt() {
	st := t.st
	if st.AreaCode == "" {
		if t.fsm == nil {
			// Resume shows the question without a move: the city's,
			// which the answer is read as (branchWord).
			t.cityPrompt()
			return
		}
		if t.fire(evAskCity) {
			t.prompt()
		}
		return
	}
	list, err := t.findBranches("")
	if err != nil {
		st.PickWord = "" // the retry asks this again
		t.branchesFailed(err)
		return
	}
	if st.BranchID == typedBranch {
		// The bank's branches are listed (now, or for another bank): one
		// is picked, not typed.
		st.Branch, st.BranchID = "", ""
	}
	args := Arg{"Bank": t.bankLabel(), "City": st.CityName}
	var r *Reply
	switch {
	case len(list) == 0:
		r = t.say(msgBranchNoneInCity, args)
	case len(list) > pickLimit:
		r = t.say(msgAskBranchWord, args)
	default:
		st.PickWord = ""
		r = t.say(msgAskBranchPick, args)
		t.branchButtons(r, list)
	}
	r.Buttons = append(r.Buttons, row(btn(msgBtnOtherCity, "br:city")))
	if st.BranchID != "" && st.BranchID != noBranch {
		t.withCurrent(r, st.Branch)
	}
}

// branchesFailed answers a failed branch search. A bank that needs no
// branch is no failure: the city is enough, and the merchant goes on with
// a tap (or picks another city). Nor is a bank whose branches the
// acquirer does not list: the branch's full name is typed.
func (t *turn) branchesFailed(err error) {
	st := t.st
	switch {
	case errors.Is(err, backend.ErrNoBranchList):
		t.askFullBranch()
	case errors.Is(err, backend.ErrNoBranchNeeded):
		st.PickWord = ""
		if st.BranchID == typedBranch {
			st.Branch, st.BranchID = "", ""
		}
		t.say(msgBranchNotNeeded, Arg{"Bank": t.bankLabel(), "City": st.CityName},
			row(btn(msgBtnBranchNotNeeded, "br:none")), row(btn(msgBtnOtherCity, "br:city")))
	default:
		t.pickFailed("branches", err, "br:retry")
	}
}

// askFullBranch asks the branch's full name typed, for a bank whose
// branches the acquirer does not list: BranchID marks it (typedBranch) so
// the answer is read as the name, not as a word to search by. A branch
// picked before (from another bank's list) goes; a name typed before is
// kept with a tap.
func (t *turn) askFullBranch() {
	st := t.st
	st.PickWord = ""
	if st.BranchID != typedBranch {
		if st.BranchID != "" {
			st.Branch = ""
		}
		st.BranchID = typedBranch
	}
	r := t.say(msgBranchNoList, Arg{"Bank": t.bankLabel(), "City": st.CityName}, row(btn(msgBtnOtherCity, "br:city")))
	t.withCurrent(r, st.Branch)
}

// branchWord searches the branches by a word of the name.
func (t *turn) branchWord(text string) {
	if t.st.AreaCode == "" { // asked the city (Resume): the answer is one
		if t.fire(evAskCity) {
			t.city(text)
		}
		return
	}
	if t.st.BranchID == typedBranch {
		// No list to search: the answer is the branch's full name.
		if b, ok := t.readBranch(text); ok {
			t.st.Branch, t.st.PickWord = b, ""
			t.advance(evBranchOK)
		}
		return
	}
	word, reason, args := t.pickWord(text, msgWhatBranch, msgBranchChars)
	if reason != "" {
		t.say(reason, args)
		return
	}
	t.searchBranch(word)
}

func (t *turn) searchBranch(word string) {
	st := t.st
	words := t.branchWords(word)
	if len(words) == 0 {
		t.say(msgPickWordTooLong, Arg{"What": Text{Key: msgWhatBranch}})
		return
	}
	used, list, err := search(words, t.findBranches)
	if err != nil {
		st.PickWord = used
		t.branchesFailed(err)
		return
	}
	args := Arg{"Word": word, "Bank": t.bankLabel(), "City": st.CityName}
	var r *Reply
	switch {
	case len(list) > pickLimit:
		r = t.say(msgBranchTooMany, args)
	case len(list) > 0:
		st.PickWord = used
		r = t.say(msgBranchPick, args)
		t.branchButtons(r, list)
	default:
		// No name holds the word: the city's branches, when they are few.
		all, err := t.findBranches("")
		if err != nil || len(all) == 0 || len(all) > pickLimit {
			r = t.say(msgBranchNone, args)
			break
		}
		st.PickWord = ""
		r = t.say(msgBranchNoneAll, args)
		t.branchButtons(r, all)
	}
	r.Buttons = append(r.Buttons, row(btn(msgBtnOtherCity, "br:city")))
}

// branchWords are the words tried for what the merchant typed: as typed,
// then without the bank's and the city's names and the company form (招商
// 银行深圳南山支行 → 南山支行), then without the kind of office.
func (t *turn) branchWords(word string) []string {
	st := t.st
	core := word
	for _, cut := range []string{st.BankName, t.bankLabel(), "股份有限公司", "有限责任公司", "有限公司",
		st.CityName, strings.TrimSuffix(st.CityName, "市")} {
		if cut != "" {
			core = strings.ReplaceAll(core, cut, "")
		}
	}
	bare := core
	for _, office := range []string{"支行", "分行", "营业部", "分理处"} {
		if strings.HasSuffix(bare, office) {
			bare = strings.TrimSuffix(bare, office)
			break
		}
	}
	return distinct(word, core, bare)
}

// findBranches lists the card's bank's branches in the city whose name
// holds word (all for ""), those a button can carry.
func (t *turn) findBranches(word string) ([]backend.Branch, error) {
	st := t.st
	list, err := t.branches.Branches(t.ctx, st.BankCode, st.BankName, st.AreaCode, word, pickLimit+1)
	if err != nil {
		return nil, err
	}
	out := list[:0:0]
	for _, b := range list {
		b.Name = itemName(b.Name)
		if itemID.MatchString(b.ID) && b.Name != "" {
			out = append(out, b)
		}
	}
	return out, nil
}

// branchButtons puts one button per branch on r, labelled without the
// bank's name that every one of them starts with.
func (t *turn) branchButtons(r *Reply, list []backend.Branch) {
	for _, b := range list {
		label := b.Name
		for _, cut := range []string{t.st.BankName, "股份有限公司", "有限公司"} {
			if rest := strings.TrimPrefix(label, cut); cut != "" && utf8.RuneCountInString(rest) >= 2 {
				label = rest
			}
		}
		r.Buttons = append(r.Buttons, row(Button{Key: msgBtnPick, Args: Arg{"Name": label}, Data: "br:p." + b.ID}))
	}
}

// branchPickButton reads the picker's buttons: a branch of the list,
// another city, a retry after a failed search.
func (t *turn) branchPickButton(arg string) bool {
	st := t.st
	if t.branches == nil || st.AreaCode == "" {
		return false
	}
	switch {
	case arg == "city":
		st.PickWord = ""
		if t.fire(evAskCity) {
			t.prompt()
		}
	case arg == "retry":
		if st.PickWord == "" {
			t.prompt()
			return true
		}
		t.searchBranch(st.PickWord)
	case arg == "none":
		// Asked again, not taken from the button: the bank needs no branch.
		_, err := t.findBranches("")
		if !errors.Is(err, backend.ErrNoBranchNeeded) {
			if err != nil {
				t.branchesFailed(err)
				return true
			}
			return false
		}
		st.Branch, st.BranchID, st.PickWord = "", noBranch, ""
		t.advance(evBranchOK)
	case strings.HasPrefix(arg, "p."):
		// The list is searched again by the word that made it, and the
		// branch taken by its id: a list that changed meanwhile picks
		// nothing else.
		id := arg[len("p."):]
		list, err := t.findBranches(st.PickWord)
		if err != nil {
			t.branchesFailed(err)
			return true
		}
		for _, b := range list {
			if b.ID == id {
				st.Branch, st.BranchID, st.PickWord = b.Name, b.ID, ""
				t.advance(evBranchOK)
				return true
			}
		}
		t.say(msgPickGone, nil)
		if st.PickWord == "" {
			t.prompt()
		} else {
			t.searchBranch(st.PickWord)
		}
	default:
		return false
	}
	return true
}
