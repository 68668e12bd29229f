package dialogs

// The branch picked from the acquirer's lists (WithBranches): the city
// step (step_city.go) and the branch step's picker (step_branch.go) share
// what is here: the option, the reading of a search word, the search with
// its fallbacks, and what a list item may show and carry.

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// WithBranches makes the dialog pick the card's branch from b's lists: it
// asks the city (typed, picked from the matching cities), then offers the
// card's bank's branches in that city as buttons, searched by a word of
// the branch's name. The picked branch's id and city code go into the
// application (BranchID, AreaCode), and the summary needs them. For a
// bank whose branches b does not list (backend.ErrNoBranchList) the
// branch's full name is typed, and goes with the city's code alone.
// Without it the branch is typed.
func WithBranches(b backend.Branches) Option {
	return func(e *Engine) {
		if b == nil {
			return
		}
		e.branches = b
		// Options run on the engine's own step definitions: only its
		// branch field needs the id (a typed or reopened name has none).
		if d := e.steps[StepBranch]; d != nil && d.field != nil {
			f := *d.field
			f.filled = func(st *State) bool {
				return st.BranchID != "" && (st.Branch != "" || st.BranchID == noBranch)
			}
			d.field = &f
		}
	}
}

// pickLimit is how many cities or branches a list shows as buttons; more
// matches ask for more of the name.
const pickLimit = 8

// Message ids the picker's two steps share.
const (
	msgBtnPick          MsgID = "btn_pick" // a city or a branch of a list: {{.Name}}
	msgBtnPickRetry     MsgID = "btn_pick_retry"
	msgPickUnavailable  MsgID = "pick_unavailable"
	msgPickGone         MsgID = "pick_gone"
	msgPickWordTooShort MsgID = "pick_word_short"
	msgPickWordTooLong  MsgID = "pick_word_long" // no form of it is short enough to search by
)

// maxWordRunes bounds a search word kept in State.PickWord (the 1 KiB
// record): a longer answer is searched by its shorter forms only (the
// bank's and the city's names cut out).
const maxWordRunes = 12

// pickWord reads a search word out of text: spaces collapsed, full-width
// letters and digits made ASCII (NFKC), end punctuation dropped. It gives
// the reason it is none ("" when it is one); what names the kind of name,
// chars is the reason for symbols the name cannot hold (with the step's
// own example).
func (t *turn) pickWord(text string, what, chars MsgID) (string, MsgID, Arg) {
	if reason := notAName(text); reason != "" {
		return "", reason, Arg{"What": Text{Key: what}}
	}
	w, err := parse.Branch(norm.NFKC.String(text))
	w = strings.TrimFunc(w, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
	switch n := utf8.RuneCountInString(w); {
	case errors.Is(err, parse.ErrBadChars):
		return "", chars, nil
	case errors.Is(err, parse.ErrTooLong):
		return "", msgTooLong, nil
	case err != nil, n < 2:
		return "", msgPickWordTooShort, Arg{"What": Text{Key: what}}
	}
	return w, "", nil
}

// search tries each word in turn until one finds something; word is the
// one that did (the last tried when none did).
func search[T any](words []string, find func(word string) ([]T, error)) (word string, list []T, err error) {
	for _, w := range words {
		word = w
		if list, err = find(w); err != nil || len(list) > 0 {
			return word, list, err
		}
	}
	return word, nil, nil
}

// distinct are the words to try, in order: each once, none shorter than
// two runes or longer than maxWordRunes.
func distinct(words ...string) []string {
	var out []string
	for _, w := range words {
		w = strings.TrimSpace(w)
		if n := utf8.RuneCountInString(w); n >= 2 && n <= maxWordRunes && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// MaxListID is the longest code or id of a city or branch a list's button
// carries ("br:p.<id>"; Telegram's callback data, signed, is 64 bytes): a
// longer one is not offered.
const MaxListID = 24

// itemID is what a list's button may carry of an item: an acquirer's code
// or id, short and plain.
var itemID = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z_-]{0,` + strconv.Itoa(MaxListID-1) + `}$`)

// itemName is a name from the acquirer as a merchant may read it: valid
// text, no control characters, at most 60 runes.
func itemName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	return clip(strings.TrimSpace(s), 60)
}

// pickFailed answers a failed list search: a request the acquirer refuses
// goes the usual way (support); anything else is an apology with a retry,
// the answers kept.
func (t *turn) pickFailed(op string, err error, retry string) {
	if refused(err) {
		t.backendError(op, err)
		return
	}
	t.log.Error("branch lists failed", "op", op, "step", t.st.Step, "err", err)
	t.say(msgPickUnavailable, nil, row(btn(msgBtnPickRetry, retry)))
}
