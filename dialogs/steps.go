package dialogs

import (
	"github.com/looplab/fsm"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
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
// buttons it takes, where /back goes and where its answers lead. The FSM
// table is derived from these definitions (transitions), so a step is
// added or changed here, plus its messages in the locale files.
type stepDef struct {
	name   string
	kind   stepKind
	prompt func(t *turn)
	// text handles a typed answer; nil: the step is answered with buttons.
	text func(t *turn, text string)
	// button handles a button of this step (kind:arg of its data); false
	// means the button does not belong here (stale or forged).
	button func(t *turn, kind, arg string) bool
	// back is the step /back returns to ("": there is none, backResume:
	// the step this one interrupted). onBack, when set, is asked first and
	// may handle /back inside the step.
	back   string
	onBack func(t *turn) bool
	// moves are the step's own transitions: event → next step.
	moves map[move]string
	// field is what the step collects into the draft (nil: nothing).
	field *fieldSpec
	// typed: a typed answer refused here counts towards the offer of a
	// person (afterSupport).
	typed bool
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

// stepDefs is the dialog, one definition per step, in the order a
// merchant meets them.
func stepDefs() []stepDef {
	return []stepDef{{
		name:   StepMenu,
		kind:   parking,
		prompt: func(t *turn) { t.menu(false) },
		text: func(t *turn, _ string) {
			t.say(msgUseMenu, nil)
			t.menu(false)
		},
		moves: map[move]string{evIdentify: StepMerchant, evChange: StepChecklist},
	}, {
		name:   StepMerchant,
		kind:   identify,
		prompt: func(t *turn) { t.say(msgAskMerchantNo, nil) },
		text:   (*turn).merchantNo,
		back:   StepMenu,
		moves:  map[move]string{evMerchantOK: StepIDPhone},
		typed:  true,
	}, {
		name: StepIDPhone,
		kind: identify,
		prompt: func(t *turn) {
			if t.in.NoContact {
				t.say(msgAskPhoneTyped, nil)
				return
			}
			t.say(msgAskPhone, nil, row(Button{Key: msgBtnShareContact, RequestContact: true}))
		},
		text:  (*turn).idPhone,
		back:  StepMerchant,
		moves: map[move]string{evPhoneTyped: StepIDCode, evBound: StepChecklist, evRestart: StepMerchant},
		typed: true,
	}, {
		name:   StepIDCode,
		kind:   identify,
		prompt: (*turn).codePrompt,
		text:   (*turn).code,
		button: (*turn).codeButton,
		back:   StepIDPhone,
		moves:  map[move]string{evBound: StepChecklist},
		typed:  true,
	}, {
		name:   StepChecklist,
		kind:   draft,
		prompt: func(t *turn) { t.checklist(false) },
		button: (*turn).checklistButton,
		onBack: (*turn).checklistBack,
		moves:  map[move]string{evChecksDone: StepConsent},
		field: &fieldSpec{
			// The checklist is confirmed in one tap: past it once consent
			// is asked.
			handoff: func(st *State, at string) string { return tick(st.Consent || at == StepConsent) },
			clear:   func(st *State) { st.ChecklistView, st.ChecklistItem = checkList, 0 },
		},
	}, {
		name: StepConsent,
		kind: draft,
		prompt: func(t *turn) {
			t.say(msgConsent, nil, row(btn(msgBtnAgree, "cs:yes"), btn(msgBtnDisagree, "cs:no")))
		},
		button: (*turn).consentButton,
		back:   StepChecklist,
		moves:  map[move]string{evConsented: StepCard},
		field: &fieldSpec{
			handoff: func(st *State, _ string) string { return tick(st.Consent) },
			clear:   func(st *State) { st.Consent = false },
		},
	}, {
		name: StepCard,
		kind: draft,
		prompt: func(t *turn) {
			key := msgAskCard
			if t.st.Company {
				key = msgAskAccount
			}
			t.withCurrent(t.say(key, nil), maskedCard(t.st))
		},
		text:   (*turn).card,
		button: (*turn).keepButton,
		back:   StepConsent,
		moves: edited(map[move]string{evCardDoubt: StepCardLuhn, evCardOK: StepHolder,
			evNeedBank: StepBank, evNewBranch: StepBranch, evCardKept: StepPhone}),
		typed: true,
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
	}, {
		name: StepCardLuhn,
		kind: draft,
		prompt: func(t *turn) {
			t.say(msgCardLuhnWarn, Arg{"Card": parse.MaskPAN(t.st.Secrets.PendingCard)},
				row(btn(msgBtnLuhnYes, "luhn:yes"), btn(msgBtnLuhnNo, "luhn:no")))
		},
		text:   (*turn).card,
		button: (*turn).luhnButton,
		back:   StepCard,
		// evCardDoubt again: another number that fails the check is asked
		// about in turn (a self-move).
		moves: edited(map[move]string{evCardDoubt: StepCardLuhn, evCardOK: StepHolder, evCardRetry: StepCard,
			evNeedBank: StepBank, evNewBranch: StepBranch, evCardKept: StepPhone}),
	}, {
		name:   StepHolder,
		kind:   draft,
		prompt: (*turn).holderPrompt,
		text:   (*turn).holder,
		button: (*turn).holderButton,
		back:   StepCard,
		moves:  edited(map[move]string{evHolderOK: StepBranch, evNeedBank: StepBank}),
		typed:  true,
		field: &fieldSpec{
			editable: true,
			filled:   func(st *State) bool { return st.Holder != "" },
			summary:  func(t *turn) Arg { return Arg{"Value": t.st.Holder} },
			handoff:  func(st *State, _ string) string { return st.Holder },
			clear:    func(st *State) { st.Holder = "" },
			apply:    func(st *State, app *backend.Application) { app.HolderName = st.Holder },
			reopen:   func(st *State, app backend.Receipt) { st.Holder = app.HolderName },
			keep:     (*turn).afterHolder,
		},
	}, {
		name:   StepBank,
		kind:   draft,
		prompt: (*turn).bankPrompt,
		text:   (*turn).bankName,
		button: (*turn).bankButton,
		back:   StepHolder,
		moves:  edited(map[move]string{evBankOK: StepBranch}),
		typed:  true,
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
	}, {
		name: StepBranch,
		kind: draft,
		prompt: func(t *turn) {
			t.withCurrent(t.say(msgAskBranch, Arg{"Bank": t.bankLabel()}), t.st.Branch)
		},
		text:   (*turn).branch,
		button: (*turn).keepButton,
		back:   StepHolder,
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
		moves: edited(map[move]string{evBranchOK: StepPhone, evBackBank: StepBank}),
		typed: true,
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
	}, {
		name: StepPhone,
		kind: draft,
		prompt: func(t *turn) {
			t.withCurrent(t.say(msgAskReservedPhone, nil), parse.MaskPhone(t.st.Secrets.ReservedPhone))
		},
		text:   (*turn).reservedPhone,
		button: (*turn).keepButton,
		back:   StepBranch,
		moves:  edited(map[move]string{evPhoneOK: StepSummary}),
		typed:  true,
		field: &fieldSpec{
			secret:   true,
			editable: true,
			filled:   func(st *State) bool { return st.Secrets.ReservedPhone != "" },
			summary:  func(t *turn) Arg { return Arg{"Value": parse.MaskPhone(t.st.Secrets.ReservedPhone)} },
			handoff:  func(st *State, _ string) string { return parse.MaskPhone(st.Secrets.ReservedPhone) },
			clear:    func(st *State) { st.Secrets.ReservedPhone = "" },
			apply:    func(st *State, app *backend.Application) { app.ReservedPhone = st.Secrets.ReservedPhone },
			keep:     func(t *turn) { t.advance(evPhoneOK) },
		},
	}, {
		name:   StepSummary,
		kind:   draft,
		prompt: (*turn).summary,
		button: (*turn).summaryButton,
		back:   StepPhone,
		moves:  map[move]string{evConfirm: StepVerify}, // and an edit_ move per editable field (transitions)
	}, {
		name:   StepVerify,
		kind:   draft,
		prompt: (*turn).codePrompt,
		text:   (*turn).code,
		button: (*turn).codeButton,
		back:   StepSummary,
		moves:  map[move]string{evSubmitted: StepMenu},
		typed:  true,
	}, {
		name: StepCancel,
		kind: parking,
		prompt: func(t *turn) {
			t.say(msgCancelConfirm, nil, row(btn(msgBtnDiscard, "cx:yes"), btn(msgBtnKeepGoing, "cx:no")))
		},
		button: (*turn).cancelButton,
		back:   backResume,
		moves:  map[move]string{evDiscard: StepMenu},
	}, {
		name:   StepSupport,
		kind:   parking,
		prompt: func(t *turn) { t.say(msgSupportRequested, nil, row(btn(msgBtnSupportBack, "sup:back"))) },
		text: func(t *turn, _ string) {
			t.say(msgSupportWaiting, nil, row(btn(msgBtnSupportBack, "sup:back")))
		},
		button: (*turn).supportButton,
		back:   backResume,
	}}
}

// Steps lists every step, in the order a merchant meets them.
func Steps() []string { return stepNames(dialog) }

// dialog is the one set of step definitions for what needs it outside an
// Engine (message ids, a state's TTL); never changed after init.
var dialog = stepDefs()

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
