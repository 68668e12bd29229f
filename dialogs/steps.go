package dialogs

import (
	"slices"
	"sync"

	"github.com/looplab/fsm"
)

// Steps of the dialog: the FSM's states.
const (
	StepMenu      = "menu"
	StepMerchant  = "id_merchant" // merchant number
	StepIDPhone   = "id_phone"    // phone on file: shared contact or typed
	StepIDCode    = "id_code"     // SMS code for a typed phone
	StepChecklist = "checklist"   // prerequisites, confirmed with one tap
	StepConsent   = "consent"
	StepCard      = "card"
	StepCardLuhn  = "card_luhn" // a 62 card failed Luhn: confirm or re-enter
	StepHolder    = "holder"
	StepBank      = "bank" // asked only when the BIN does not tell, or edited
	StepBranch    = "branch"
	StepPhone     = "phone" // reserved phone
	StepSummary   = "summary"
	StepVerify    = "verify"
	StepCancel    = "cancel_confirm"
	StepSupport   = "support"
)

// stepKind groups steps by what the global commands do with them.
type stepKind int

const (
	// parking steps (menu, cancel question, support) interrupt another
	// step, kept in State.Ret, and resume it.
	parking  stepKind = iota + 1
	identify          // bind the chat to a merchant
	draft             // hold a card change in progress
)

// stepDef is everything one step is: the question it asks, the text and
// buttons it takes, where /back goes, where its answers lead and the field
// it fills (fieldSpec). Each step is one file, step_<name>.go, holding its
// definition and the handlers only it uses. The FSM table is derived from
// the definitions (transitions) and decides every move.
//
// Adding a step between two others takes one new file and its messages in
// both locale files (docs/ARCHITECTURE.md, "Adding a step"). In
// step_<name>.go: the step's name, its move constants and message ids, and
// a definition with
//   - prompt, and the handlers of what it takes: text for a typed answer,
//     button for its buttons with buttons, the kinds of their data;
//   - after and before: the neighbours' moves that led to before, and
//     before's /back, are rerouted through it (splice); moves, its own,
//     leading on to before (edited(...) when the summary can open it);
//   - guide: its question's message ids and the buttons that move on, or
//     the kind of answer it takes (the dialogs tests' merchant and the load
//     tool's follow it);
//   - field, for an answer it collects: kept with st.setAnswer and read with
//     st.answer (sealed in Secrets when field.secret), filled, summary for a
//     line on the summary, editable, handoff, apply;
//
// and init() { add(<name>Step) }. In locales/*.toml: its question and
// buttons, step_<name> and next_<name> (help), and for a field on the
// summary sum_<name> and, editable, btn_edit_<name>. The summary, the FSM
// table, the draft wipe, the hand-off context, the TTL, the list of button
// kinds and the record's sealing pick it up from the definition.
//
// cmd/merchantbot's end-to-end tests and the load tool walk the dialog by
// the guide (internal/guidedtest); its transcripts, which compare the texts
// a merchant sees, are rewritten with go test ./cmd/merchantbot -run
// TestTranscripts -update, which answers the new step as the guide says. A
// reopened application (rejection.go) goes from the card straight to the
// reserved phone (evCardKept) only when every field between them is filled
// (by reopen); a field without reopen makes it ask the whole way again.
type stepDef struct {
	name   string
	kind   stepKind
	prompt func(t *turn)
	// text handles a typed answer; nil: the step is answered with buttons.
	text func(t *turn, text string)
	// button handles a button of this step (kind:arg of its data); false
	// means the button does not belong here (stale or forged).
	button func(t *turn, kind, arg string) bool
	// buttons are the kinds of button data (the part before the colon)
	// button takes; a button of another kind is not the step's (stale or
	// forged) and never reaches it. They make the list of every kind
	// (buttonKinds) with the engine's own.
	buttons []string
	// back is the step /back returns to ("": there is none, backResume:
	// the step this one interrupted). onBack, when set, is asked first and
	// may handle /back inside the step.
	back   string
	onBack func(t *turn) bool
	// contact handles a shared contact; nil: a contact is not asked for
	// here (the merchant is told so and asked the step's question again).
	contact func(t *turn, c *Contact)
	// next is the help's line on what to do at this step; nil: the
	// message next_<name>.
	next func(t *turn) MsgID
	// moves are the step's own transitions: event → next step.
	moves map[move]string
	// field is what the step collects into the draft (nil: nothing).
	field *fieldSpec
	// typed: a typed answer refused here counts towards the offer of a
	// person (afterSupport).
	typed bool
	// takesCard: the step asks for a card number, so one typed here is an
	// answer, not a stray card to refuse at the door.
	takesCard bool
	// endsRefill: the step is the last one asked again when a card edited
	// from the summary is of another bank (State.Refill: its bank, then
	// its branch); its answer returns to the summary (advance).
	endsRefill bool
	// guide is how a merchant who means to finish answers the step (the
	// load tool's simulated merchant reads it through Guide); nil: the step
	// is off the way from the menu to the submission.
	guide *guide
	// after, before: a step added between two others (see added). The
	// moves of after that led to before lead to this step, and before's
	// /back returns to it; the step's own moves lead on (to before).
	after, before string
}

// backResume as stepDef.back returns to the interrupted step.
const backResume = "<resume>"

// move names a move of the FSM. Every move a step makes is one of the ev
// constants below (or editMove, resumeMove), declared in the step's moves
// (or, for the global commands, in transitions); TestEveryDeclaredMoveMoves
// walks each through the FSM and TestFiredMovesAreDeclared checks that the
// code fires no other.
type move string

// Moves of the FSM.
const (
	evIdentify   move = "identify"
	evMerchantOK move = "merchant_ok"
	evPhoneTyped move = "phone_typed"
	evBound      move = "bound"
	evChange     move = "change"
	evChecksDone move = "checks_done"
	evConsented  move = "consented"
	evCardDoubt  move = "card_doubt"
	evCardOK     move = "card_ok"
	evCardKept   move = "card_kept" // a reopened application's card: on to the reserved phone
	evCardRetry  move = "card_retry"
	evNeedBank   move = "need_bank"   // the BIN did not tell the bank: ask it
	evNewBranch  move = "new_branch"  // an edited card is of another, known bank
	evHolderOK   move = "holder_ok"   // on to the branch
	evBankOK     move = "bank_ok"     // on to the branch
	evBranchOK   move = "branch_ok"   // on to the reserved phone
	evBackBank   move = "back_bank"   // /back from the branch to the bank question asked before it
	evPhoneOK    move = "phone_ok"    // on to the summary
	evEdited     move = "edited"      // back to the summary after an edit
	evConfirm    move = "confirm"     // summary confirmed: verify
	evSubmitted  move = "submitted"   // the application is in (or cannot be)
	evDiscard    move = "discard"     // the cancel question said yes
	evMenu       move = "menu"        // any step parks behind the menu
	evCancel     move = "cancel"      // a draft step asks whether to discard
	evSupport    move = "support"     // any step hands over to support
	evBack       move = "back"        // stepDef.back
	evRestart    move = "restart_ids" // identification failed: the merchant number again
)

// Prefixes of the moves named after a step.
const (
	evEditPrefix = "edit_"   // + an editable step: the summary's Edit button
	evResumePfx  = "resume_" // + the step to resume
)

// editMove opens step from the summary's Edit button.
func editMove(step string) move { return move(evEditPrefix + step) }

// resumeMove returns from a parking step to step.
func resumeMove(step string) move { return move(evResumePfx + step) }

// edited is the move back to the summary that every editable step has.
func edited(moves map[move]string) map[move]string {
	moves[evEdited] = StepSummary
	return moves
}

// added are the steps added in their own files, each placed by its after
// and before: a file step_<name>.go registers its step from init
// (add(fooStep)), and nothing else names it. Written only by init.
var added []func() stepDef

// add registers a step added in its own file; call it from init.
func add(step func() stepDef) { added = append(added, step) }

// stepDefs is the dialog, one definition per step, in the order a
// merchant meets them.
func stepDefs() []stepDef {
	defs := []stepDef{
		menuStep(),
		merchantStep(),
		idPhoneStep(),
		idCodeStep(),
		checklistStep(),
		consentStep(),
		cardStep(),
		cardLuhnStep(),
		holderStep(),
		bankStep(),
		branchStep(),
		phoneStep(),
		summaryStep(),
		verifyStep(),
		cancelStep(),
		supportStep(),
	}
	for _, f := range added {
		defs = splice(defs, f())
	}
	return defs
}

// splice puts d into defs between d.after and d.before: right after
// d.after in order, the moves of d.after that led to d.before now lead to
// d, and d.before's /back returns to d, as does the /back of a step asked
// only from d.before, in its place (the picker's city, asked first in the
// branch's place).
func splice(defs []stepDef, d stepDef) []stepDef {
	from := map[string]map[string]bool{} // the steps whose moves lead to each
	for _, e := range defs {
		for _, dst := range e.moves {
			if dst != e.name {
				if from[dst] == nil {
					from[dst] = map[string]bool{}
				}
				from[dst][e.name] = true
			}
		}
	}
	inPlaceOfBefore := func(name string) bool {
		return name != d.before && len(from[name]) == 1 && from[name][d.before]
	}
	at := len(defs)
	for i := range defs {
		e := &defs[i]
		if e.name == d.after {
			at = i + 1
			moves := make(map[move]string, len(e.moves))
			for m, dst := range e.moves {
				if dst == d.before {
					dst = d.name
				}
				moves[m] = dst
			}
			e.moves = moves
		}
		if (e.name == d.before || inPlaceOfBefore(e.name)) && e.back == d.after {
			e.back = d.name
		}
	}
	return slices.Insert(defs, at, d)
}

// Steps lists every step, in the order a merchant meets them.
func Steps() []string { return stepNames(dialog()) }

// dialog is the one set of step definitions for what needs it outside an
// Engine (message ids, a state's TTL); never changed after init.
var dialog = sync.OnceValue(stepDefs)

func stepNames(defs []stepDef) []string {
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.name
	}
	return names
}

// stepsOf lists the steps of one kind.
func stepsOf(defs []stepDef, kind stepKind) []string {
	var names []string
	for _, d := range defs {
		if d.kind == kind {
			names = append(names, d.name)
		}
	}
	return names
}

// transitions derives the one table of legal moves from the step
// definitions: each step's own moves and /back, plus what the global
// commands may do from each kind of step. Everything the dialog does to
// Step goes through it.
func transitions(defs []stepDef) fsm.Events {
	all := stepNames(defs)
	parked := stepsOf(defs, parking)
	resumable := append(stepsOf(defs, identify), stepsOf(defs, draft)...)
	var ev fsm.Events
	for _, d := range defs {
		for name, dst := range d.moves {
			ev = append(ev, fsm.EventDesc{Name: string(name), Src: []string{d.name}, Dst: dst})
		}
		if d.back != "" && d.back != backResume {
			ev = append(ev, fsm.EventDesc{Name: string(evBack), Src: []string{d.name}, Dst: d.back})
		}
	}
	// The summary's Edit buttons open the editable steps.
	for _, s := range editableSteps(defs) {
		ev = append(ev, fsm.EventDesc{Name: string(editMove(s)), Src: []string{StepSummary}, Dst: s})
	}
	ev = append(ev,
		fsm.EventDesc{Name: string(evMenu), Src: without(all, StepMenu), Dst: StepMenu},
		fsm.EventDesc{Name: string(evSupport), Src: without(all, StepSupport), Dst: StepSupport},
		fsm.EventDesc{Name: string(evCancel), Src: append([]string{StepMenu, StepSupport}, stepsOf(defs, draft)...), Dst: StepCancel},
	)
	// The parking steps return to the step they interrupted.
	for _, s := range resumable {
		ev = append(ev, fsm.EventDesc{Name: string(resumeMove(s)), Src: without(parked, s), Dst: s})
	}
	ev = append(ev, fsm.EventDesc{Name: string(resumeMove(StepMenu)), Src: without(parked, StepMenu), Dst: StepMenu})
	return ev
}

func without(list []string, drop string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// tick is the hand-off's mark of a step passed ("" when it is not).
func tick(done bool) string {
	if done {
		return "✓"
	}
	return ""
}
