package dialogs

import (
	"strings"

	"github.com/merchantbot/merchantbot/backend"
)

// StepCity asks the city of the card's branch, where the branch is picked
// from the acquirer's lists (WithBranches): the branch step sends the
// merchant here when it has no city, and the city's branches are offered
// there.
const StepCity = "city"

// Moves of the city step.
const (
	evAskCity move = "ask_city" // the branch step has no city (or another is wanted)
	evCityOK  move = "city_ok"  // on to the branch, in that city
)

// Message ids of the city step.
const (
	msgAskCity      MsgID = "ask_city"
	msgCityPick     MsgID = "city_pick"     // several cities match: pick one
	msgCityNone     MsgID = "city_none"     // none matches the word
	msgCityTooMany  MsgID = "city_too_many" // too many match: type more
	msgCityTaken    MsgID = "city_taken"    // the one city that matched, taken
	msgWhatCity     MsgID = "what_city"
	msgCityChars    MsgID = "city_chars" // symbols a city's name cannot hold
	msgBtnOtherCity MsgID = "btn_other_city"
)

func init() { add(cityStep) }

// cityStep is the step StepCity. It sits after the bank question in the
// order of the dialog but no move of the bank leads here (before is
// unset): only the branch step's evAskCity does.
func cityStep() stepDef {
	return stepDef{
		name:  StepCity,
		after: StepBank,
		guide: &guide{asks: []MsgID{msgAskCity, msgCityPick, msgCityNone, msgCityTooMany},
			answer: AnswerCity, notes: []MsgID{msgCityTaken}},
		kind:    draft,
		prompt:  (*turn).cityPrompt,
		text:    (*turn).city,
		button:  (*turn).cityButton,
		buttons: []string{"city"},
		// Where the branch question went back to: the holder, or the bank
		// question asked before it.
		back:   StepHolder,
		onBack: backToBank,
		moves:  edited(map[move]string{evCityOK: StepBranch, evBackBank: StepBank}),
		typed:  true,
		field: &fieldSpec{
			// Shown on the summary with the branch (step_branch.go).
			handoff: func(st *State, _ string) string { return st.CityName },
			clear:   func(st *State) { st.AreaCode, st.CityName, st.PickWord = "", "", "" },
		},
	}
}

// AnswerCity is the kind of answer the city step takes: a word of a
// city's name.
const AnswerCity AnswerKind = "city"

func (t *turn) cityPrompt() {
	r := t.say(msgAskCity, Arg{"Bank": t.bankLabel()})
	if t.st.CityName != "" {
		r.Lines = append(r.Lines, Text{Key: msgCurrentAnswer, Args: Arg{"Value": t.st.CityName}})
		r.Buttons = append(r.Buttons, row(btn(msgBtnKeep, "city:keep")))
	}
}

func (t *turn) city(text string) {
	if t.branches == nil {
		// A chat left here by an engine that picked branches: the branch
		// is typed now.
		if t.fire(evCityOK) {
			t.prompt()
		}
		return
	}
	word, reason, args := t.pickWord(text, msgWhatCity, msgCityChars)
	if reason != "" {
		t.say(reason, args)
		return
	}
	t.findCity(word)
}

// cityWords are the words tried for what the merchant typed: as typed,
// then without the province and what follows the city (广东省深圳市南山区
// → 深圳市), then without 市.
func cityWords(word string) []string {
	core := word
	for _, p := range []string{"自治区", "省"} {
		if i := strings.LastIndex(core, p); i >= 0 && i+len(p) < len(core) {
			core = core[i+len(p):]
			break
		}
	}
	if i := strings.Index(core, "市"); i >= 0 {
		core = core[:i+len("市")]
	}
	return distinct(word, core, strings.TrimSuffix(core, "市"))
}

func (t *turn) findCity(word string) {
	words := cityWords(word)
	if len(words) == 0 {
		t.say(msgPickWordTooLong, Arg{"What": Text{Key: msgWhatCity}})
		return
	}
	used, list, err := search(words, func(w string) ([]backend.Area, error) {
		return t.branches.Cities(t.ctx, w, pickLimit+1)
	})
	if err != nil {
		t.st.PickWord = used
		t.pickFailed("cities", err, "city:retry")
		return
	}
	list = usableAreas(list)
	switch {
	case len(list) == 0:
		t.say(msgCityNone, Arg{"Word": word})
	case len(list) > pickLimit:
		t.say(msgCityTooMany, Arg{"Word": word})
	case len(list) == 1:
		// The one city that matched: on to its branches at once; the
		// branch question has a button for another city.
		t.say(msgCityTaken, Arg{"City": list[0].Name})
		t.cityChosen(list[0])
	default:
		t.st.PickWord = used
		r := t.say(msgCityPick, nil)
		for _, a := range list {
			r.Buttons = append(r.Buttons, row(Button{Key: msgBtnPick, Args: Arg{"Name": areaLabel(a)}, Data: "city:p." + a.Code}))
		}
	}
}

// usableAreas keeps the cities a button can carry and a merchant can read.
func usableAreas(list []backend.Area) []backend.Area {
	out := list[:0:0]
	for _, a := range list {
		a.Name, a.Province = itemName(a.Name), itemName(a.Province)
		if itemID.MatchString(a.Code) && a.Name != "" {
			out = append(out, a)
		}
	}
	return out
}

// areaLabel is a city as its button shows it: with its province, which
// tells apart cities of the same name.
func areaLabel(a backend.Area) string {
	if a.Province == "" || strings.HasPrefix(a.Name, a.Province) {
		return a.Name
	}
	return a.Name + " · " + a.Province
}

func (t *turn) cityButton(kind, arg string) bool {
	if kind != "city" || t.branches == nil {
		return false
	}
	st := t.st
	switch {
	case arg == "keep" && st.AreaCode != "":
		st.PickWord = ""
		if t.fire(evCityOK) {
			t.prompt()
		}
	case arg == "retry":
		if st.PickWord == "" {
			t.prompt()
			return true
		}
		t.findCity(st.PickWord)
	case strings.HasPrefix(arg, "p.") && st.PickWord != "":
		// The list is searched again by the word that made it; the city
		// is taken by its code, so a list that changed meanwhile picks
		// nothing else.
		code := arg[len("p."):]
		list, err := t.branches.Cities(t.ctx, st.PickWord, pickLimit+1)
		if err != nil {
			t.pickFailed("cities", err, "city:retry")
			return true
		}
		for _, a := range usableAreas(list) {
			if a.Code == code {
				t.cityChosen(a)
				return true
			}
		}
		t.say(msgPickGone, nil)
		t.findCity(st.PickWord)
	default:
		return false
	}
	return true
}

// cityChosen keeps the city and goes on to its branches. Another city
// than before drops the branch picked there.
func (t *turn) cityChosen(a backend.Area) {
	st := t.st
	if a.Code != st.AreaCode {
		st.Branch, st.BranchID = "", ""
	}
	st.AreaCode, st.CityName, st.PickWord = a.Code, a.Name, ""
	// Not advance: from an edit, the branch is still to be picked.
	if t.fire(evCityOK) {
		t.prompt()
	}
}
