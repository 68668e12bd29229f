package dialogs

import "github.com/looplab/fsm"

// Steps of the dialog: the FSM's states.
const (
	StepMenu      = "menu"
	StepMerchant  = "id_merchant" // merchant number
	StepIDPhone   = "id_phone"    // phone on file: shared contact or typed
	StepIDCode    = "id_code"     // SMS code for a typed phone
	StepChecklist = "checklist"   // prerequisites, item by item
	StepConsent   = "consent"
	StepCard      = "card"
	StepCardLuhn  = "card_luhn" // a 62 card failed Luhn: confirm or re-enter
	StepHolder    = "holder"
	StepBank      = "bank"
	StepBranch    = "branch"
	StepPhone     = "phone" // reserved phone
	StepSummary   = "summary"
	StepVerify    = "verify"
	StepCancel    = "cancel_confirm"
	StepSupport   = "support"
)

// draftSteps hold a card change in progress.
var draftSteps = []string{StepChecklist, StepConsent, StepCard, StepCardLuhn, StepHolder,
	StepBank, StepBranch, StepPhone, StepSummary, StepVerify}

// identifySteps bind the chat to a merchant.
var identifySteps = []string{StepMerchant, StepIDPhone, StepIDCode}

// editable maps a summary Edit button to the step it opens.
var editable = map[string]string{
	"card": StepCard, "holder": StepHolder, "bank": StepBank, "branch": StepBranch, "phone": StepPhone,
}

// backTo is the question before each step.
var backTo = map[string]string{
	StepMerchant: StepMenu, StepIDPhone: StepMerchant, StepIDCode: StepIDPhone,
	StepChecklist: StepMenu, StepConsent: StepChecklist, StepCard: StepConsent,
	StepCardLuhn: StepCard, StepHolder: StepCard, StepBank: StepHolder, StepBranch: StepBank,
	StepPhone: StepBranch, StepSummary: StepPhone, StepVerify: StepSummary,
}

// Events of the FSM.
const (
	evIdentify   = "identify"
	evMerchantOK = "merchant_ok"
	evPhoneTyped = "phone_typed"
	evBound      = "bound"
	evChange     = "change"
	evChecksDone = "checks_done"
	evConsented  = "consented"
	evCardDoubt  = "card_doubt"
	evCardOK     = "card_ok"
	evCardRetry  = "card_retry"
	evNewBank    = "new_bank" // an edited card is of another bank
	evHolderOK   = "holder_ok"
	evBankOK     = "bank_ok"
	evBranchOK   = "branch_ok"
	evPhoneOK    = "phone_ok"
	evEdited     = "edited" // back to the summary after an edit
	evConfirm    = "confirm"
	evSubmitted  = "submitted"
	evDiscard    = "discard"
	evMenu       = "menu"
	evCancel     = "cancel"
	evSupport    = "support"
	evBack       = "back"
	evEditPrefix = "edit_"
	evResumePfx  = "resume_"
)

// transitions is the one table of legal moves. Everything the dialog does
// to Step goes through it.
func transitions() fsm.Events {
	all := append(append([]string{StepMenu, StepCancel, StepSupport}, identifySteps...), draftSteps...)
	ev := fsm.Events{
		{Name: evIdentify, Src: []string{StepMenu}, Dst: StepMerchant},
		{Name: evMerchantOK, Src: []string{StepMerchant}, Dst: StepIDPhone},
		{Name: evPhoneTyped, Src: []string{StepIDPhone}, Dst: StepIDCode},
		{Name: evBound, Src: []string{StepIDPhone, StepIDCode}, Dst: StepChecklist},
		{Name: evChange, Src: []string{StepMenu}, Dst: StepChecklist},
		{Name: evChecksDone, Src: []string{StepChecklist}, Dst: StepConsent},
		{Name: evConsented, Src: []string{StepConsent}, Dst: StepCard},
		{Name: evCardDoubt, Src: []string{StepCard}, Dst: StepCardLuhn},
		{Name: evCardOK, Src: []string{StepCard, StepCardLuhn}, Dst: StepHolder},
		{Name: evCardRetry, Src: []string{StepCardLuhn}, Dst: StepCard},
		{Name: evNewBank, Src: []string{StepCard, StepCardLuhn}, Dst: StepBank},
		{Name: evHolderOK, Src: []string{StepHolder}, Dst: StepBank},
		{Name: evBankOK, Src: []string{StepBank}, Dst: StepBranch},
		{Name: evBranchOK, Src: []string{StepBranch}, Dst: StepPhone},
		{Name: evPhoneOK, Src: []string{StepPhone}, Dst: StepSummary},
		{Name: evEdited, Src: []string{StepCard, StepCardLuhn, StepHolder, StepBank, StepBranch, StepPhone}, Dst: StepSummary},
		{Name: evConfirm, Src: []string{StepSummary}, Dst: StepVerify},
		{Name: evSubmitted, Src: []string{StepVerify}, Dst: StepMenu},
		{Name: evDiscard, Src: []string{StepCancel}, Dst: StepMenu},
		{Name: evCancel, Src: append([]string{StepMenu, StepSupport}, draftSteps...), Dst: StepCancel},
		{Name: evMenu, Src: without(all, StepMenu), Dst: StepMenu},
		{Name: evSupport, Src: without(all, StepSupport), Dst: StepSupport},
	}
	for field, step := range editable {
		ev = append(ev, fsm.EventDesc{Name: evEditPrefix + field, Src: []string{StepSummary}, Dst: step})
	}
	for src, dst := range backTo {
		ev = append(ev, fsm.EventDesc{Name: evBack, Src: []string{src}, Dst: dst})
	}
	// Menu, the cancel question and support return to the step they
	// interrupted.
	for _, s := range append(append([]string{}, identifySteps...), draftSteps...) {
		ev = append(ev, fsm.EventDesc{Name: evResumePfx + s, Src: without([]string{StepMenu, StepCancel, StepSupport}, s), Dst: s})
	}
	ev = append(ev, fsm.EventDesc{Name: evResumePfx + StepMenu, Src: []string{StepCancel, StepSupport}, Dst: StepMenu})
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
