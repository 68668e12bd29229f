package dialogs

import (
	"net/url"
	"sync"
	"time"
)

// State is everything kept for one chat: the FSM's current state name and
// the collected fields. Field names are short because every active dialog is
// kept in Redis (budget: 1 KiB).
//
// Secret fields live in Secrets, which stores never write in clear text.
type State struct {
	Step string `json:"st"`           // current FSM state
	Seq  int    `json:"sq,omitempty"` // bumps on every prompt; stale buttons carry an older one
	Lang string `json:"l,omitempty"`  // zh-Hans or en

	// Identity, bound once.
	MerchantNo   string `json:"mn,omitempty"`
	MerchantName string `json:"nm,omitempty"` // registered name, for the holder check
	Bound        bool   `json:"b,omitempty"`
	PendingNo    string `json:"pn,omitempty"` // merchant no typed, phone not yet proven
	Company      bool   `json:"co,omitempty"` // settles to a company account, not a personal card
	PhoneOnFile  string `json:"ph,omitempty"` // masked, where codes go
	// ProvedAt is when the merchant last proved the phone on file of the
	// merchant bound (MerchantNo) with an SMS code; a proof this fresh also
	// confirms the summary (FreshProof). Zero when the binding was proved
	// otherwise (a shared contact).
	ProvedAt time.Time `json:"pa,omitzero"`
	// LookupFails counts identifications that failed since LookupSince:
	// a chat gets MaxLookups a day, so merchant numbers cannot be probed.
	LookupFails int       `json:"lf,omitempty"`
	LookupSince time.Time `json:"ls,omitzero"`

	// The draft application.
	// DraftID names this draft: submissions of the same content under it
	// are one application (see submissionKey).
	DraftID       string        `json:"di,omitempty"`
	ChecklistView checklistView `json:"ck,omitempty"` // what the checklist shows: checkList, checkWhy, ...
	ChecklistItem uint8         `json:"ci,omitempty"` // at checkItem: the item whose "not yet" is shown
	Consent       bool          `json:"cs,omitempty"`
	CardType      string        `json:"ct,omitempty"`
	BankCode      string        `json:"bc,omitempty"` // from the BIN table
	BankName      string        `json:"bk,omitempty"`
	Holder        string        `json:"h,omitempty"`
	Branch        string        `json:"br,omitempty"`
	Editing       bool          `json:"ed,omitempty"` // entered the current step from the summary
	Refill        bool          `json:"rf,omitempty"` // an edited card changed bank: bank and branch, then the summary
	// Reopened: the draft fixes a rejected application whose holder, bank
	// and branch it kept, so the new card leads to the reserved phone
	// (through the bank's branch when the card is of another bank).
	Reopened bool `json:"rp,omitempty"`
	// A branch picked from the acquirer's lists (WithBranches): its id
	// (联行号), its city, and the word the list on screen was searched by
	// (the list's buttons carry the ids; a tap searches again). BranchID
	// "-" marks a bank that needs no branch (noBranch), "=" one whose
	// branches are not listed, Branch then typed in full (typedBranch).
	BranchID string `json:"bi,omitempty"`
	AreaCode string `json:"ac,omitempty"` // the city's code (bank_address_code)
	CityName string `json:"cy,omitempty"`
	PickWord string `json:"pw,omitempty"`
	// Ret is the step to go back to from the menu, the cancel question or
	// support.
	Ret string `json:"r,omitempty"`
	// Answers holds the answers of steps that have no field above: a step
	// added in its own file keeps its answer with setAnswer and reads it
	// with answer, which keep a secret field's answer in Secrets.Answers
	// instead.
	Answers Answers `json:"x,omitempty"`

	// Code step (identify or verify).
	CodeSentAt   time.Time `json:"cat,omitzero"`
	CodeAttempts int       `json:"ca,omitempty"`
	CodePending  bool      `json:"cw,omitempty"` // a code was sent and not yet used up
	Verified     bool      `json:"v,omitempty"`  // the verify code was accepted; only Submit is left
	// SubmitRefused: the acquirer refused the last submission for good
	// (invalid, unauthorized): at the verify step support, not a retry, is
	// offered (read only while Verified; set and cleared by submit).
	SubmitRefused bool `json:"sr,omitempty"`

	LastApp string `json:"la,omitempty"` // last application id

	// LangOpen: the language chooser was the last message, so a typed
	// language name answers it.
	LangOpen bool `json:"lo,omitempty"`

	Touched time.Time `json:"t,omitzero"` // last merchant input
	// Reminded: the reminder for the idle spell since Touched went out.
	Reminded bool `json:"rm,omitempty"`

	// Fails counts typed answers refused in a row at this step; at three
	// the merchant is offered a person.
	Fails uint8 `json:"fl,omitempty"`
	// RateOpen: the agent handed back and the merchant may rate the help.
	RateOpen bool `json:"ro,omitempty"`
	// ContactOffered: a question offered the contact-sharing button
	// (Button.RequestContact) and it was not withdrawn yet
	// (Outcome.HideKeyboard): an adapter may keep it on screen until then.
	ContactOffered bool `json:"cx,omitempty"`

	Secrets Secrets `json:"-"`
}

// Answers are answers by step, kept as one comparable string (State is
// compared whole to tell a change).
type Answers string

// Get is the answer to step ("" when none).
func (a Answers) Get(step string) string {
	v, _ := url.ParseQuery(string(a))
	return v.Get(step)
}

// Set sets the answer to step; "" removes it.
func (a *Answers) Set(step, value string) {
	v, _ := url.ParseQuery(string(*a))
	if value == "" {
		v.Del(step)
	} else {
		v.Set(step, value)
	}
	*a = Answers(v.Encode())
}

// Secrets are the fields a store keeps only encrypted (the record codec
// seals them whole, dialogs/store).
type Secrets struct {
	CardNumber    string `json:"c,omitempty"`
	ReservedPhone string `json:"p,omitempty"`
	// PendingCard is a number that failed the Luhn check on a 62 card and
	// waits for the merchant to confirm it.
	PendingCard string `json:"pc,omitempty"`
	// Answers are the answers of the steps whose field is secret
	// (fieldSpec.secret) and that have no field above: setAnswer puts them
	// here.
	Answers Answers `json:"x,omitempty"`
}

// answers is where st keeps step's answer: Secrets.Answers when the
// step's field is secret, else Answers.
func (st *State) answers(step string) *Answers {
	if secretSteps()[step] {
		return &st.Secrets.Answers
	}
	return &st.Answers
}

// answer is the answer kept for step ("" when none).
func (st *State) answer(step string) string { return st.answers(step).Get(step) }

// setAnswer keeps value as step's answer ("" removes it), sealed when the
// step's field is secret. The draft's wipe clears it.
func (st *State) setAnswer(step, value string) { st.answers(step).Set(step, value) }

// secretSteps are the steps whose field is secret.
var secretSteps = sync.OnceValue(func() map[string]bool {
	s := map[string]bool{}
	for _, d := range fields(dialog()) {
		if d.field.secret {
			s[d.name] = true
		}
	}
	return s
})

// Empty reports whether s holds nothing.
func (s Secrets) Empty() bool { return s == Secrets{} }

// Durations a store applies to a chat's state.
const (
	DraftTTL = 24 * time.Hour      // a dialog holding card data is wiped after a day idle
	IdleTTL  = 90 * 24 * time.Hour // binding and language alone
	// DraftKeep is how long a store keeps a record holding a draft: an hour
	// past DraftTTL, so that the expiry (a wake at DraftTTL, which wipes the
	// draft and tells the merchant) finds the chat's binding and language
	// still there to keep. A chat at the support step gets no reminder, so
	// nothing else writes its record between the last input and the expiry.
	// Past DraftKeep (the waker down for longer) the store drops it all.
	DraftKeep = DraftTTL + time.Hour
)

// TTL is how long a store keeps st after its last write.
func (st *State) TTL() time.Duration {
	if !st.Secrets.Empty() {
		return DraftKeep
	}
	for _, d := range fields(dialog()) {
		if d.field.filled != nil && d.field.filled(st) {
			return DraftKeep
		}
	}
	return IdleTTL
}
