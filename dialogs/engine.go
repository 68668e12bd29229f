package dialogs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/looplab/fsm"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/dialogs/parse"
	"github.com/merchantbot/merchantbot/locales"
)

// Limits of the dialog.
const (
	MaxCodeAttempts = backend.MaxCodeAttempts // the acquirer's limits, as backend states them
	CodeResendAfter = backend.CodeResendAfter
	maxTextRunes    = 300 // longer text is no answer to any of our questions
)

// Engine runs the conversation. It keeps nothing between calls: everything
// lives in the State it is handed, so any replica can serve any chat.
type Engine struct {
	backend Backend
	bins    *cardbin.Table
	now     Clock
	newKey  func() string
	log     *slog.Logger
	hours   SupportHours
	noDesk  bool   // WithoutDesk: nobody reads a hand-off
	hotline string // the acquirer's customer service number, WithoutDesk
	table   fsm.Events
	steps   map[string]*stepDef
	// fields are the steps that hold a draft field, in dialog order.
	fields []*stepDef
	// fsms reuses machines built from table: building one costs more than
	// the rest of a turn. A machine holds nothing of a chat but the state
	// name, which is set before every use.
	fsms sync.Pool

	observer Observer // nil: turns are not reported (observe.go)
	// branches picks the branch from the acquirer's lists (WithBranches,
	// step_city.go); nil: the branch is typed.
	branches backend.Branches
}

// Option configures an Engine.
type Option func(*Engine)

// WithClock sets the clock (tests, reminders).
func WithClock(now Clock) Option { return func(e *Engine) { e.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithKeys sets the generator of draft ids, which every idempotency key
// of the draft's submissions is derived from.
func WithKeys(f func() string) Option { return func(e *Engine) { e.newKey = f } }

// NewEngine returns an Engine that talks to b and looks cards up in bins.
func NewEngine(b Backend, bins *cardbin.Table, opts ...Option) *Engine {
	e := &Engine{
		backend: b,
		bins:    bins,
		now:     time.Now,
		newKey:  randomKey,
		log:     slog.New(slog.DiscardHandler),
		steps:   map[string]*stepDef{},
	}
	e.use(stepDefs())
	for _, o := range opts {
		o(e)
	}
	e.fsms.New = func() any { return fsm.NewFSM(StepMenu, e.table, nil) }
	return e
}

// use makes defs the engine's dialog: its steps, FSM table and fields.
func (e *Engine) use(defs []stepDef) {
	e.steps = make(map[string]*stepDef, len(defs))
	for i := range defs {
		e.steps[defs[i].name] = &defs[i]
	}
	e.table = transitions(defs)
	e.fields = fields(defs)
}

func randomKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// turn is the handling of one Input.
type turn struct {
	*Engine
	ctx context.Context
	st  *State
	in  Input
	out Outcome
	fsm *fsm.FSM
	// atDoor: the input was refused before any step read it.
	atDoor bool
	// filling: the card form's fields are being applied (form.go).
	filling bool
	// arrivals are the steps the turn moved to, in order, except returns
	// to the step the menu, support or the cancel question interrupted:
	// one turn may pass through several (observe.go).
	arrivals   []string
	arrivalBuf [4]string
}

// Handle applies in to st (a zero State is a new chat) and says what to
// answer. It never fails: problems become replies, and st is left as the
// merchant can continue from.
func (e *Engine) Handle(ctx context.Context, st *State, in Input) Outcome {
	t := &turn{Engine: e, ctx: ctx, st: st, in: in}
	t.arrivals = t.arrivalBuf[:0]
	before := *st
	t.begin()
	defer e.fsms.Put(t.fsm)
	if !t.lost(before) {
		t.dispatch()
	}
	t.afterSupport(before)
	t.withdrawContact()
	if stalenessKey(*st) != stalenessKey(before) {
		st.Seq++ // a change of step or answers makes the buttons sent before it stale
	}
	t.out.Lang = st.Lang
	t.out.Seq = st.Seq
	e.observe(in, &before, st, t.arrivals)
	return t.out
}

// Resume says where st stands, without changing it: an adapter that
// restarted shows the merchant the question they were at, with live buttons.
// noContact says the adapter has no share-contact button (Input.NoContact).
func (e *Engine) Resume(ctx context.Context, st *State, noContact bool) Outcome {
	t := &turn{Engine: e, ctx: ctx, st: st, in: Input{NoContact: noContact}}
	if st.Step != "" && st.Step != StepMenu {
		t.say(msgResumed, nil)
		t.prompt()
	}
	return Outcome{Lang: st.Lang, Seq: st.Seq, Replies: t.out.Replies}
}

// stalenessKey is st without what changes under buttons that stay valid:
// the clock, the code counters and the lookup budget. A wrong code must
// not disable the Resend button beside it.
func stalenessKey(st State) State {
	st.Touched, st.Seq, st.Reminded = time.Time{}, 0, false
	st.LookupFails, st.LookupSince, st.LangOpen = 0, time.Time{}, false
	st.CodeSentAt, st.CodeAttempts, st.CodePending = time.Time{}, 0, false
	st.Fails, st.RateOpen = 0, false // counters beside the question, not answers
	st.ContactOffered = false        // what the screen shows, not an answer
	return st
}

// withdrawContact follows the contact-sharing button a question offered:
// it stays on the merchant's screen (typing the phone instead does not
// take it away) until an outcome withdraws it. That is the first outcome
// after the chat left the question (a step that reads a contact), unless
// it offers the button again, and only one with a reply that can carry the
// withdrawal: until then it is owed. A stale input changes nothing: its
// reply may be shown on the button, not in the chat.
func (t *turn) withdrawContact() {
	st := t.st
	if offersContact(t.out.Replies) {
		st.ContactOffered = true
		return
	}
	if !st.ContactOffered || t.out.Stale || t.def().contact != nil {
		return
	}
	for _, r := range t.out.Replies {
		if len(r.Buttons) == 0 && !r.Form && !r.Edit {
			t.out.HideKeyboard, st.ContactOffered = true, false
			return
		}
	}
}

// offersContact reports a reply with the contact-sharing button.
func offersContact(replies []Reply) bool {
	for _, r := range replies {
		for _, row := range r.Buttons {
			for _, b := range row {
				if b.RequestContact {
					return true
				}
			}
		}
	}
	return false
}

func (t *turn) begin() {
	now := t.now()
	st := t.st
	if st.Lang == "" {
		st.Lang = locales.Normalize(t.in.LanguageCode)
	}
	if st.Step == "" { // a new chat: the FSM's initial state
		st.Step = StepMenu
		t.arrivals = append(t.arrivals, StepMenu)
	}
	t.fsm = t.fsms.Get().(*fsm.FSM)
	t.fsm.SetState(st.Step)
	if t.hasDraft() && !st.Touched.IsZero() && now.Sub(st.Touched) > DraftTTL {
		t.wipeDraft()
		if st.Step != StepMenu && st.Step != StepSupport { // an agent's chat stays with the agent, as in expire
			t.fire(evMenu)
		}
		t.say(msgExpired, nil)
	}
	if t.in.Kind != InEvent { // what happens outside the chat leaves the merchant idle
		st.Touched, st.Reminded = now, false
	}
}

func (t *turn) dispatch() {
	in := t.in
	if t.relayed() {
		return
	}
	langOpen := t.st.LangOpen
	t.st.LangOpen = false // the chooser takes only the next message
	switch in.Kind {
	case InEvent:
		t.event(in.Text, in.Arg)
	case InForm:
		t.form(in.Form)
	case InCommand:
		if looksLikeCard(in.Text + " " + in.Arg) {
			t.effect(Effect{Kind: DeleteMessage, MessageID: in.MessageID})
			t.say(msgStrayCard, nil)
		}
		t.command(strings.ToLower(in.Text), in.Arg)
	case InButton:
		if t.rated(in.Data) {
			return
		}
		if in.Seq != t.st.Seq && !(checksItself(in.Data) && !t.hasDraft() && t.st.Step != StepSupport) {
			t.stale()
			return
		}
		t.button(in.Data)
	case InText:
		text := strings.TrimSpace(in.Text)
		atCard := t.def().takesCard
		if !atCard && looksLikeCard(text) {
			// A card number typed where it does not belong is removed all the same.
			t.effect(Effect{Kind: DeleteMessage, MessageID: in.MessageID})
			t.refuseAtDoor(msgStrayCard)
			return
		}
		if utf8.RuneCountInString(text) > maxTextRunes {
			if atCard && digitCount(text) >= 6 { // as the card question would; words alone hold no card
				t.effect(Effect{Kind: DeleteMessage, MessageID: in.MessageID})
			}
			t.refuseAtDoor(msgTooLong)
			return
		}
		if unreadable(text) {
			if atCard && digitCount(text) >= 6 { // as the card question would
				t.effect(Effect{Kind: DeleteMessage, MessageID: in.MessageID})
			}
			t.refuseAtDoor(msgUnreadable)
			return
		}
		if text == "" {
			t.prompt()
			return
		}
		if lang, ok := languageNamed(text); ok && (langOpen || t.st.Step == StepMenu || t.def().text == nil) {
			// The chooser's labels typed instead of pressed; at a step that
			// takes no text a language name can mean nothing else.
			t.setLanguage(lang)
			return
		}
		if asksWhatNext(text) {
			t.help()
			return
		}
		if d := t.def(); d.text != nil {
			d.text(t, text)
			return
		}
		t.say(msgUseButtons, nil)
		t.prompt()
	case InContact:
		if d := t.def(); d.contact != nil {
			d.contact(t, in.Contact)
			return
		}
		t.say(msgContactNotNow, nil)
		t.prompt()
	case InEdit:
		if looksLikeCard(in.Text) {
			t.effect(Effect{Kind: DeleteMessage, MessageID: in.MessageID})
			t.say(msgStrayCard, nil)
		}
	default:
		if looksLikeCard(in.Text) { // a card number in a photo's caption
			t.effect(Effect{Kind: DeleteMessage, MessageID: in.MessageID})
			t.say(msgStrayCard, nil)
		}
		t.say(msgTextPlease, nil)
		t.prompt()
	}
}

// refuseAtDoor answers text no step reads (too long, unreadable, a card
// number where none is asked) and asks the question again. It is no
// attempt at an answer, so it changes nothing, not even the count of
// refused answers that earns an offer of a person (afterSupport).
func (t *turn) refuseAtDoor(key MsgID) {
	t.atDoor = true
	t.say(key, nil)
	t.prompt()
}

// unreadable reports text no keyboard types: broken UTF-8, control
// characters other than line breaks and tabs, and the bidi embeddings and
// overrides that make text read otherwise than it is stored. Zero-width
// characters pasted with a number are not among them: the parsers drop
// them.
func unreadable(text string) bool {
	if !utf8.ValidString(text) {
		return true
	}
	return strings.ContainsFunc(text, func(r rune) bool {
		switch {
		case r == '\n', r == '\r', r == '\t':
			return false
		case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			return true
		}
		return unicode.IsControl(r)
	})
}

// def is the definition of the current step.
func (t *turn) def() *stepDef {
	if d, ok := t.steps[t.st.Step]; ok {
		return d
	}
	return t.steps[StepMenu]
}

// prompt asks the question of the current step (not while the card form's
// fields are applied: the question the form leaves open is asked once, at
// the end).
func (t *turn) prompt() {
	if t.filling {
		return
	}
	t.def().prompt(t)
}

// asksWhatNext reports a merchant asking for guidance in words.
func asksWhatNext(text string) bool {
	switch strings.ToLower(strings.Trim(text, " ?？!！。.")) {
	case "", "help", "what next", "what now", "next", "帮助", "下一步", "怎么办", "然后呢", "接下来呢", "接下来做什么":
		return true
	}
	return false
}

// languageNamed reads the language chooser's labels (and their obvious
// variants) typed as text.
func languageNamed(text string) (string, bool) {
	switch strings.ToLower(strings.Trim(text, " .。!！")) {
	case "english", "英文", "英语", "en":
		return locales.English, true
	case "中文", "简体中文", "汉语", "chinese", "zh", "普通话":
		return locales.Chinese, true
	}
	return "", false
}

// LooksLikeCard reports a card or ID number in text (parse.LooksLikeCard,
// the one detector): what the dialog removes from the chat wherever it is
// typed. Adapters use it for messages they must remove without the dialog
// (a redelivered update).
func LooksLikeCard(text string) bool { return parse.LooksLikeCard(text) }

func looksLikeCard(text string) bool { return parse.LooksLikeCard(text) }

func (t *turn) say(key MsgID, args Arg, buttons ...[]Button) *Reply {
	t.out.Replies = append(t.out.Replies, Reply{Key: key, Args: args, Buttons: buttons})
	return &t.out.Replies[len(t.out.Replies)-1]
}

func (t *turn) effect(e Effect) { t.out.Effects = append(t.out.Effects, e) }

func btn(key MsgID, data string) Button { return Button{Key: key, Data: data} }

func row(b ...Button) []Button { return b }

// fire makes a move through the FSM, the only way Step changes. A move a
// step declares to itself (a question asked again) is legal and arrives
// nowhere new. A move the step does not declare cannot be written without
// failing TestFiredMovesAreDeclared; should one happen all the same it is
// reported and answered with a generic apology, the state as it was.
//
// The FSM has no callbacks: what a turn says around a move differs by
// move (a note before the new step's question, another message than the
// question, or none: the menu, support, a submission), so the code that
// fires asks the question; an enter_state callback asking it would have
// to be told, move by move, not to.
func (t *turn) fire(event move) bool {
	err := t.fsm.Event(t.ctx, string(event))
	if errors.As(err, new(fsm.NoTransitionError)) {
		return true // a declared self-move
	}
	if err != nil {
		t.log.Error("illegal transition", "event", event, "step", t.st.Step, "err", err)
		t.say(msgInternal, nil)
		return false
	}
	t.st.Step = t.fsm.Current()
	if !strings.HasPrefix(string(event), evResumePfx) {
		t.arrivals = append(t.arrivals, t.st.Step)
	}
	return true
}

// advance goes to the next question, or back to the summary when the
// merchant came from there to edit (or to answer again what an edited
// card's bank changed, up to the step that ends it: stepDef.endsRefill).
func (t *turn) advance(event move) {
	st := t.st
	if st.Editing || st.Refill && t.def().endsRefill {
		st.Editing, st.Refill = false, false
		event = evEdited
	}
	if t.fire(event) {
		t.prompt()
	}
}

func (t *turn) hasDraft() bool { return t.Engine.hasDraft(t.st) }

// hasDraft reports a card change in progress in st, perhaps parked behind
// the menu, the cancel question or support.
func (e *Engine) hasDraft(st *State) bool {
	s := st.Step
	if e.is(s, parking) {
		s = st.Ret
	}
	return e.is(s, draft)
}

// is reports whether step is of kind.
func (e *Engine) is(step string, kind stepKind) bool {
	d, ok := e.steps[step]
	return ok && d.kind == kind
}

// wipeDraft clears every step's field and what the flow keeps about the
// draft.
func (t *turn) wipeDraft() {
	st := t.st
	for _, d := range t.fields {
		if d.field.clear != nil {
			d.field.clear(st)
		}
	}
	st.DraftID, st.Answers = "", ""
	st.Editing, st.Refill, st.Reopened, st.Ret = false, false, false, ""
	// CodeSentAt and CodeAttempts stay: they follow the acquirer's resend
	// clock and its count of wrong codes, which a new draft does not reset
	// (codeOut forgets them when the acquirer does).
	st.Verified, st.CodePending = false, false
	st.SubmitRefused = false
	st.Secrets = Secrets{}
}

// ---- global commands ----

func (t *turn) command(name, arg string) {
	switch name {
	case "start":
		if arg == "change_card" {
			t.toMenu()
			t.changeCard()
			return
		}
		t.toMenu()
		t.menu(true)
	case "help":
		t.help()
	case "status":
		t.status()
		if t.st.Step != StepMenu {
			t.prompt()
		}
	case "support":
		t.support()
	case "cancel":
		t.cancel()
	case "back":
		t.back()
	case "language", "lang":
		t.chooseLanguage()
	default:
		t.say(msgUnknownCommand, nil)
		t.prompt()
	}
}

func (t *turn) chooseLanguage() {
	t.st.LangOpen = true
	t.say(msgChooseLanguage, nil, row(btn(msgLangZh, "lang:"+locales.Chinese), btn(msgLangEn, "lang:"+locales.English)))
}

func (t *turn) setLanguage(lang string) {
	t.st.Lang = lang
	t.say(msgLanguageSet, nil)
	t.prompt()
}

// toMenu parks the current step (if any) so the menu can resume it.
func (t *turn) toMenu() {
	st := t.st
	switch {
	case st.Step == StepMenu:
	case t.def().kind == parking:
		// From support (which keeps an edit under way, see handOff) the
		// menu resumes the step as it would from the step itself.
		st.Editing = false
		t.fire(evMenu)
	default:
		st.Ret = st.Step
		st.Editing = false
		t.fire(evMenu)
	}
}

func (t *turn) menu(welcome bool) {
	key := msgMenu
	if welcome {
		key = msgWelcome
	}
	t.say(key, nil, t.menuButtons()...)
}

func (t *turn) menuButtons() [][]Button {
	change := btn(msgBtnChange, "m:change")
	if t.hasDraft() || t.is(t.st.Ret, identify) {
		change = Button{Key: msgBtnResume, Args: Arg{"Step": t.stepName(t.st.Ret)}, Data: "m:change"}
	}
	return [][]Button{
		row(change),
		row(btn(msgBtnStatus, "m:status"), btn(msgBtnSupport, "m:support")),
		row(btn(msgBtnLanguage, "m:lang")),
	}
}

func (t *turn) stepName(step string) Text { return Text{Key: MsgID("step_" + step)} }

func (t *turn) changeCard() {
	st := t.st
	if st.Ret != "" && (t.hasDraft() || t.is(st.Ret, identify)) {
		ret := st.Ret
		st.Ret = ""
		if t.fire(resumeMove(ret)) {
			t.prompt()
		}
		return
	}
	if !st.Bound {
		if t.fire(evIdentify) {
			t.prompt()
		}
		return
	}
	if t.changePending() {
		t.menu(false)
		return
	}
	t.startDraft()
	if t.fire(evChange) {
		t.prompt()
	}
}

// startDraft begins a new card change: a fresh draft id makes every
// submission of it a new application.
func (t *turn) startDraft() {
	t.wipeDraft()
	t.st.DraftID = t.newKey()
}

func (t *turn) help() {
	r := t.say(msgHelp, nil)
	next := MsgID("next_" + t.st.Step)
	if d := t.def(); d.next != nil {
		next = d.next(t)
	}
	r.Lines = append(r.Lines, Text{Key: msgHelpWhere, Args: Arg{"Step": t.stepName(t.st.Step)}},
		Text{Key: next})
	if t.st.Step == StepMenu {
		// The help stands in for the menu: its buttons stay with it.
		r.Buttons = t.menuButtons()
		return
	}
	t.prompt()
}

func (t *turn) support() {
	if t.st.Step == StepSupport {
		t.prompt()
		return
	}
	if t.noSupportHere() {
		return
	}
	t.handOff(false)
}

func (t *turn) cancel() {
	st := t.st
	switch {
	case t.is(st.Step, draft):
		st.Ret = st.Step
		st.Editing = false
		if t.fire(evCancel) {
			t.prompt()
		}
	case (st.Step == StepMenu || st.Step == StepSupport) && t.hasDraft():
		// A change parked behind the menu or support: Ret already says
		// where it stands.
		if t.fire(evCancel) {
			t.prompt()
		}
	case t.is(st.Step, identify):
		st.PendingNo, st.CodePending = "", false // the code counters stay, as in wipeDraft
		if t.fire(evMenu) {
			t.say(msgCancelled, nil)
			t.menu(false)
		}
	case st.Step == StepCancel:
		t.prompt()
	default:
		t.say(msgNothingToCancel, nil)
		t.prompt()
	}
}

func (t *turn) back() {
	st := t.st
	d := t.def()
	switch {
	case d.onBack != nil && d.onBack(t):
	case d.back == backResume:
		t.resume()
	case st.Editing:
		// The summary as it was, unless the edit emptied a field it needs
		// (another city drops the branch picked in the old one): that field
		// is named and asked, still as an edit. The city and branch before
		// are not kept to be put back: the record has no room for them.
		if d := t.firstUnfilled(); d != nil && d.name == st.Step {
			t.say(msgSummaryIncomplete, Arg{"Step": t.stepName(d.name)})
			t.prompt()
			return
		}
		st.Editing = false
		if t.fire(evEdited) {
			if d := t.firstUnfilled(); d != nil {
				t.askUnfilled(d)
				return
			}
			t.prompt()
		}
	case d.back != "":
		if t.fire(evBack) {
			t.prompt()
		}
	default:
		t.say(msgCannotGoBack, nil)
		t.prompt()
	}
}

// resume returns from the cancel question or support to the step they
// interrupted.
func (t *turn) resume() {
	ret := t.st.Ret
	if ret == "" {
		ret = StepMenu
	}
	if t.fire(resumeMove(ret)) {
		t.st.Ret = ""
		if ret == StepMenu {
			t.menu(false)
			return
		}
		t.say(msgResumed, nil)
		t.prompt()
	}
}

// checksItself reports a button that is checked against what it acts on
// rather than against the turns since it was sent, while no draft is under
// way: a rejection notice's "fix and resubmit" acts only on the merchant's
// newest application while it is rejected for a reason an edit can fix
// (resubmit), so a language switched or a change begun and cancelled after
// the notice came does not make it stale. With a draft under way (its own
// first tap's, when tapped twice), or at support (the tap would end the
// conversation with the agent), an old one is stale as any other.
func checksItself(data string) bool { return strings.HasPrefix(data, "rs:") }

// stale answers a button that is no longer live and asks the question
// again, changing nothing: a question may settle something as it is asked
// (the branch picker forgets the word of a search, drops a typed branch
// once the bank's are listed, moves to the city), and any change would
// bump Seq and kill the live buttons on screen, while the adapter shows
// only "nothing was changed". So the state, the machine and the steps
// arrived at are put back as they were before the question.
func (t *turn) stale() {
	t.out.Stale = true
	t.say(MsgStaleButton, nil)
	kept, arrived, said := *t.st, len(t.arrivals), len(t.out.Replies)
	t.prompt()
	if *t.st == kept {
		return
	}
	// Asked again, the question would not be the one on the screen (the
	// branch list's search word reset, a city asked): the screen's stands,
	// and nothing changes.
	t.out.Replies = t.out.Replies[:said]
	*t.st = kept
	t.arrivals = t.arrivals[:arrived]
	if t.fsm != nil {
		t.fsm.SetState(kept.Step)
	}
}

// ---- buttons ----

func (t *turn) button(data string) {
	kind, arg, _ := strings.Cut(data, ":")
	switch kind {
	case "m":
		t.menuButton(arg)
		return
	case "rs":
		t.resubmit(arg)
		return
	case "lang":
		if arg == locales.Chinese || arg == locales.English {
			t.setLanguage(arg)
			return
		}
	}
	if d := t.def(); d.button != nil && slices.Contains(d.buttons, kind) && d.button(t, kind, arg) {
		return
	}
	t.stale()
}

func (t *turn) menuButton(arg string) {
	switch arg {
	case "change":
		t.toMenu()
		t.changeCard()
	case "status":
		t.status()
		if t.st.Step != StepMenu {
			t.prompt()
		}
	case "support":
		t.support()
	case "stuck": // the offer after failed answers
		if t.st.Step == StepSupport {
			t.prompt()
			return
		}
		if t.noSupportHere() {
			return
		}
		t.handOff(true)
	case "lang":
		t.chooseLanguage()
	default:
		t.stale()
	}
}

// ---- errors ----

// backendError is the one place a backend error becomes a reply. Errors
// the merchant can act on get their own message; a request the acquirer
// refuses (invalid, unauthorized) cannot succeed by trying again and goes
// to support; anything else is logged once and answered with "try again,
// your answers are kept".
func (t *turn) backendError(op string, err error) {
	switch {
	case errors.Is(err, backend.ErrUnknownMerchant), errors.Is(err, backend.ErrPhoneMismatch):
		// One answer for both: which merchant numbers exist is not told.
		t.say(msgIdentityMismatch, nil)
	case errors.Is(err, backend.ErrCodeTooSoon):
		t.tooSoon(err)
	case errors.Is(err, backend.ErrTooManyRequests):
		t.say(msgTooManyRequests, nil)
	case errors.Is(err, backend.ErrChangePending):
		t.say(msgChangePending, nil)
	case errors.Is(err, backend.ErrInvalidRequest), errors.Is(err, backend.ErrUnauthorized):
		t.log.Error("acquirer refused the request", "op", op, "step", t.st.Step, "err", err)
		t.sayRefused()
	default:
		t.log.Error("backend call failed", "op", op, "step", t.st.Step, "err", err)
		t.say(msgUnavailable, nil)
	}
}

// sayRefused points a merchant whose request the acquirer refused for good
// to support (or, without a desk, the hotline).
func (t *turn) sayRefused() {
	if t.noDesk {
		t.say(msgRefusedNoDesk, t.hotlineArg())
		return
	}
	t.say(msgAcquirerRefused, nil, row(btn(msgBtnSupport, "m:support")))
}

// refused reports an error no retry can fix.
func refused(err error) bool {
	return errors.Is(err, backend.ErrInvalidRequest) || errors.Is(err, backend.ErrUnauthorized)
}

func (t *turn) resendIn() int {
	left := CodeResendAfter - t.now().Sub(t.st.CodeSentAt)
	if left < time.Second {
		return 1
	}
	return int((left + time.Second - 1) / time.Second)
}

// shanghai is China Standard Time; China keeps no daylight saving.
var shanghai = time.FixedZone("CST", 8*3600)

func when(ts time.Time) string { return ts.In(shanghai).Format("2006-01-02 15:04") }

func maskedCard(st *State) string { return parse.MaskPAN(st.Secrets.CardNumber) }
