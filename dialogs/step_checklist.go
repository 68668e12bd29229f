package dialogs

import (
	"strconv"
	"strings"
)

// checklistStep is the step StepChecklist.
func checklistStep() stepDef {
	return stepDef{
		name:    StepChecklist,
		guide:   &guide{asks: []MsgID{msgChecklist}, forward: []MsgID{msgBtnChecksAll}, notes: checklistNotes()},
		kind:    draft,
		prompt:  func(t *turn) { t.checklist(false) },
		button:  (*turn).checklistButton,
		buttons: []string{"ck"},
		onBack:  (*turn).checklistBack,
		moves:   map[move]string{evChecksDone: StepConsent},
		field: &fieldSpec{
			// The checklist is confirmed in one tap: past it once consent
			// is asked.
			handoff: func(st *State, at string) string { return tick(st.Consent || at == StepConsent) },
			clear:   func(st *State) { st.ChecklistView, st.ChecklistItem = checkList, 0 },
		},
	}
}

// checkItems is the number of prerequisites on the checklist.
const checkItems = 6

// checklistView is what the checklist shows (State.ChecklistView); at
// checkItem, what to do about State.ChecklistItem.
type checklistView uint8

const (
	checkList   checklistView = 0
	checkWhy    checklistView = 1
	checkNotYet checklistView = 2
	checkItem   checklistView = 3
)

var checkMarks = [checkItems]string{"①", "②", "③", "④", "⑤", "⑥"}

// checklist shows every prerequisite in one message, confirmed with one
// tap; "why?" and "not yet" open in the same message.
func (t *turn) checklist(edit bool) {
	st := t.st
	// Its buttons edit this message (the views, the record once confirmed):
	// nothing else may share it.
	r := Reply{Key: msgChecklist, Edit: edit, Alone: true}
	for i := range checkItems {
		r.Lines = append(r.Lines, Text{Key: t.checkKey(i), Args: Arg{"Mark": checkMarks[i]}})
		if st.ChecklistView == checkWhy {
			r.Lines = append(r.Lines, Text{Key: t.checkNote("why_", i)})
		}
	}
	all := row(btn(msgBtnChecksAll, "ck:all"))
	back := btn(msgBtnChecksBack, "ck:list")
	switch v := st.ChecklistView; {
	case v == checkWhy:
		r.Buttons = [][]Button{all, row(btn(msgBtnNotYet, "ck:no"), back)}
	case v == checkNotYet:
		r.Lines = append(r.Lines, Text{Key: msgChecksWhich})
		items := make([]Button, checkItems)
		for i := range items {
			items[i] = Button{Key: msgBtnCheckItem, Args: Arg{"Mark": checkMarks[i]}, Data: "ck:no." + strconv.Itoa(i)}
		}
		r.Buttons = [][]Button{items, row(back)}
	case v == checkItem && st.ChecklistItem < checkItems:
		i := int(st.ChecklistItem)
		r.Lines = append(r.Lines, Text{Key: t.checkNote("notyet_", i)})
		r.Buttons = [][]Button{row(back)}
		if i == 0 {
			// Someone else's card needs an authorisation letter: support.
			r.Buttons = [][]Button{row(btn(msgBtnSupport, "m:support"), back)}
		}
	default:
		r.Buttons = [][]Button{all, row(btn(msgBtnWhy, "ck:why"), btn(msgBtnNotYet, "ck:no"))}
	}
	t.out.Replies = append(t.out.Replies, r)
}

func (t *turn) checkKey(i int) MsgID {
	if i == 0 && t.st.Company {
		return msgCheck0Company
	}
	return MsgID("check_" + strconv.Itoa(i))
}

// checkNote is item i's "why?" (prefix "why_") or "not yet" ("notyet_")
// text; the first item has its own for a company account.
func (t *turn) checkNote(prefix string, i int) MsgID {
	switch {
	case i == 0 && t.st.Company && prefix == "why_":
		return msgWhy0Company
	case i == 0 && t.st.Company:
		return msgNotYet0Company
	case i == 0 && prefix == "notyet_":
		return msgNotYet0
	}
	return MsgID(prefix + strconv.Itoa(i))
}

func (t *turn) checklistButton(kind, arg string) bool {
	if kind != "ck" {
		return false
	}
	st := t.st
	switch {
	case arg == "all":
		st.ChecklistView = checkList
		if t.fire(evChecksDone) {
			// The checklist's message keeps a short record instead of
			// buttons that no longer apply.
			t.out.Replies = append(t.out.Replies, Reply{Key: msgChecksConfirmed, Edit: true})
			t.prompt()
		}
	case arg == "list":
		st.ChecklistView = checkList
		t.checklist(true)
	case arg == "why":
		st.ChecklistView = checkWhy
		t.checklist(true)
	case arg == "no":
		st.ChecklistView = checkNotYet
		t.checklist(true)
	case strings.HasPrefix(arg, "no."):
		i, err := strconv.Atoi(strings.TrimPrefix(arg, "no."))
		if err != nil || i < 0 || i >= checkItems {
			return false
		}
		st.ChecklistView, st.ChecklistItem = checkItem, uint8(i)
		t.checklist(true)
	default:
		return false
	}
	return true
}

// checklistBack closes a "why?" or "not yet" view; at the list itself there
// is no earlier question of the change to go to.
func (t *turn) checklistBack() bool {
	if t.st.ChecklistView != checkList {
		t.st.ChecklistView = checkList
		t.checklist(false)
		return true
	}
	t.say(msgChecklistFirst, nil)
	t.checklist(false)
	return true
}

// checklistNotes are the checklist's lines and its record once confirmed.
func checklistNotes() []MsgID {
	notes := []MsgID{msgCheck0Company, msgChecksConfirmed}
	for i := range checkItems {
		notes = append(notes, MsgID("check_"+strconv.Itoa(i)))
	}
	return notes
}
