package dialogs

import (
	"errors"
	"strconv"
	"strings"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// checkItems is the number of prerequisites on the checklist.
const checkItems = 6

// prompt asks the question of the current step.
func (t *turn) prompt() {
	st := t.st
	switch st.Step {
	case StepMenu:
		t.menu(false)
	case StepMerchant:
		t.say(msgAskMerchantNo, nil)
	case StepIDPhone:
		t.say(msgAskPhone, nil, row(Button{Key: msgBtnShareContact, RequestContact: true}))
	case StepIDCode, StepVerify:
		t.codePrompt()
	case StepChecklist:
		t.checklist(false)
	case StepConsent:
		t.say(msgConsent, nil, row(btn(msgBtnAgree, "cs:yes"), btn(msgBtnDisagree, "cs:no")))
	case StepCard:
		key := msgAskCard
		if st.Company {
			key = msgAskAccount
		}
		t.withCurrent(t.say(key, nil), maskedCard(st))
	case StepCardLuhn:
		t.say(msgCardLuhnWarn, Arg{"Card": parse.MaskPAN(st.Secrets.PendingCard)},
			row(btn(msgBtnLuhnYes, "luhn:yes"), btn(msgBtnLuhnNo, "luhn:no")))
	case StepHolder:
		key := msgAskHolder
		if st.Company {
			key = msgAskHolderCompany
		}
		t.withCurrent(t.say(key, nil), st.Holder)
	case StepBank:
		if st.BankName != "" {
			t.say(msgBankConfirm, Arg{"Bank": st.BankName},
				row(btn(msgBtnBankYes, "bank:yes"), btn(msgBtnBankOther, "bank:other")))
			return
		}
		t.say(msgAskBank, nil)
	case StepBranch:
		t.withCurrent(t.say(msgAskBranch, Arg{"Bank": st.BankName}), st.Branch)
	case StepPhone:
		t.withCurrent(t.say(msgAskReservedPhone, nil), parse.MaskPhone(st.Secrets.ReservedPhone))
	case StepSummary:
		t.summary()
	case StepCancel:
		t.say(msgCancelConfirm, nil, row(btn(msgBtnDiscard, "cx:yes"), btn(msgBtnKeepGoing, "cx:no")))
	case StepSupport:
		t.say(msgSupportRequested, nil, row(btn(msgBtnSupportBack, "sup:back")))
	}
}

// withCurrent shows the answer already given, with a button to keep it.
func (t *turn) withCurrent(r *Reply, current string) {
	if current == "" || t.st.Secrets.CardNumber == "" && t.st.Step == StepCard {
		return
	}
	r.Lines = append(r.Lines, Text{Key: msgCurrentAnswer, Args: Arg{"Value": current}})
	r.Buttons = append(r.Buttons, row(btn(msgBtnKeep, "keep")))
}

// ---- identify ----

func (t *turn) merchantNo(text string) {
	no, err := parse.MerchantNo(text)
	if err != nil {
		t.say(msgMerchantNoInvalid, nil)
		return
	}
	t.st.PendingNo = no
	if t.fire(evMerchantOK) {
		t.prompt()
	}
}

func (t *turn) idPhone(text string) {
	phone, err := parse.MobilePhone(text)
	if err != nil {
		t.say(msgPhoneInvalid, nil)
		return
	}
	if _, err := t.backend.VerifyMerchant(t.ctx, t.st.PendingNo, phone); err != nil {
		t.identifyFailed(err)
		return
	}
	t.st.PhoneOnFile = parse.MaskPhone(phone)
	t.sendCode(t.st.PendingNo, evPhoneTyped)
}

// sendCode sends a code to merchant no's phone on file and moves on with
// event to the step that asks for it. A code sent less than a minute ago
// is still valid: the merchant is told when they can ask for another.
func (t *turn) sendCode(no, event string) {
	st := t.st
	err := t.backend.SendCode(t.ctx, no)
	if err != nil && !errors.Is(err, backend.ErrCodeTooSoon) {
		t.backendError("send code", err)
		return
	}
	st.Verified = false
	if !t.fire(event) {
		return
	}
	if err != nil {
		t.tooSoon(err) // the code out, if any, keeps its tries used
		return
	}
	st.CodeSentAt, st.CodeOut, st.CodeAttempts = t.now(), true, 0
	t.prompt()
}

// tooSoon answers an acquirer that refused a new code for now: the
// merchant learns how long to wait, counted by the acquirer's clock.
func (t *turn) tooSoon(err error) {
	st := t.st
	if wait, ok := backend.RetryAfter(err); ok {
		st.CodeSentAt = t.now().Add(wait - CodeResendAfter)
	}
	key := msgCodeWait
	if !st.CodeOut {
		key = msgCodeWaitFirst
	}
	t.say(key, Arg{"Seconds": t.resendIn()}, row(btn(msgBtnResend, "code:resend")))
}

func (t *turn) contact(c *Contact) {
	if c == nil || !c.OwnedBySender {
		t.say(msgContactNotYours, nil)
		t.prompt()
		return
	}
	phone, err := parse.MobilePhone(c.Phone)
	if err != nil {
		t.say(msgPhoneInvalid, nil)
		return
	}
	m, err := t.backend.VerifyMerchant(t.ctx, t.st.PendingNo, phone)
	if err != nil {
		t.identifyFailed(err)
		return
	}
	t.bind(m)
}

func (t *turn) identifyFailed(err error) {
	t.backendError("verify merchant", err)
	if errors.Is(err, backend.ErrUnknownMerchant) {
		t.st.PendingNo = ""
		if t.fire(evBack) {
			t.prompt()
		}
	}
}

func (t *turn) bind(m backend.Merchant) {
	st := t.st
	st.MerchantNo, st.MerchantName, st.PhoneOnFile = m.No, m.Name, m.PhoneMasked
	st.Company, st.Bound, st.PendingNo = m.Kind == backend.KindCompany, true, ""
	st.CodeAttempts = 0 // CodeSentAt stays: the acquirer's resend clock runs on
	t.say(msgBound, Arg{"Name": m.Business, "No": m.No})
	if t.changePending() {
		if t.fire(evMenu) {
			t.menu(false)
		}
		return
	}
	if t.fire(evBound) {
		t.prompt()
	}
}

// changePending tells the merchant, before any card data is asked, that an
// application is still in review: the acquirer takes one at a time.
func (t *turn) changePending() bool {
	apps, err := t.backend.Applications(t.ctx, t.st.MerchantNo)
	if err != nil {
		// The submission checks again; a status call failing now must not
		// stop a merchant who has nothing pending.
		t.log.Warn("applications before a change", "err", err)
		return false
	}
	if len(apps) == 0 || !apps[0].Status.Pending() {
		return false
	}
	t.say(msgChangePendingStart, Arg{"ID": apps[0].ID, "Status": Text{Key: MsgID("status_" + string(apps[0].Status))}})
	return true
}

// ---- codes (identify and verify) ----

func (t *turn) codeMerchant() string {
	if t.st.Step == StepIDCode {
		return t.st.PendingNo
	}
	return t.st.MerchantNo
}

func (t *turn) codePrompt() {
	if t.st.Step == StepVerify && t.st.Verified {
		t.say(msgSubmitRetry, nil, row(btn(msgBtnRetry, "sub:retry")))
		return
	}
	if !t.st.CodeOut {
		t.say(msgCodeNeeded, Arg{"Phone": t.st.PhoneOnFile}, row(btn(msgBtnResend, "code:resend")))
		return
	}
	// Two messages: the warning stands on its own, and the first, without
	// buttons, lets Telegram take the share-contact keyboard away.
	t.say(msgCodeSent, Arg{"Phone": t.st.PhoneOnFile})
	t.say(msgCodeWarning, nil, row(btn(msgBtnResend, "code:resend")))
}

func (t *turn) code(text string) {
	st := t.st
	if st.Step == StepVerify && st.Verified {
		t.codePrompt()
		return
	}
	code, err := parse.Code(text)
	if err != nil {
		t.say(msgCodeFormat, nil)
		return
	}
	if st.CodeAttempts >= MaxCodeAttempts {
		t.say(msgCodeLocked, nil, row(btn(msgBtnResend, "code:resend")))
		return
	}
	if !st.CodeOut {
		// No code is out to check: say how to get one.
		if t.now().Sub(st.CodeSentAt) < CodeResendAfter {
			t.say(msgCodeWaitFirst, Arg{"Seconds": t.resendIn()}, row(btn(msgBtnResend, "code:resend")))
		} else {
			t.codePrompt()
		}
		return
	}
	err = t.backend.CheckCode(t.ctx, t.codeMerchant(), code)
	switch {
	case errors.Is(err, backend.ErrWrongCode):
		st.CodeAttempts++
		if left := MaxCodeAttempts - st.CodeAttempts; left > 0 {
			t.say(msgCodeWrong, Arg{"Left": left})
		} else {
			st.CodeOut = false
			t.say(msgCodeLocked, nil, row(btn(msgBtnResend, "code:resend")))
		}
		return
	case errors.Is(err, backend.ErrCodeExpired):
		st.CodeOut = false
		t.say(msgCodeExpired, nil, row(btn(msgBtnResend, "code:resend")))
		return
	case err != nil:
		t.backendError("check code", err)
		return
	}
	st.CodeAttempts, st.CodeOut = 0, false
	if st.Step == StepIDCode {
		m, err := t.backend.Merchant(t.ctx, st.PendingNo)
		if err != nil {
			t.backendError("merchant", err)
			return
		}
		t.bind(m)
		return
	}
	st.Verified = true
	t.submit()
}

func (t *turn) codeButton(kind, arg string) bool {
	switch {
	case kind == "code" && arg == "resend" && !(t.st.Step == StepVerify && t.st.Verified):
		t.resend()
	case kind == "sub" && arg == "retry" && t.st.Step == StepVerify && t.st.Verified:
		t.submit()
	default:
		return false
	}
	return true
}

func (t *turn) resend() {
	st := t.st
	if t.now().Sub(st.CodeSentAt) < CodeResendAfter {
		t.say(msgCodeWait, Arg{"Seconds": t.resendIn()}, row(btn(msgBtnResend, "code:resend")))
		return
	}
	err := t.backend.SendCode(t.ctx, t.codeMerchant())
	switch {
	case errors.Is(err, backend.ErrCodeTooSoon):
		t.tooSoon(err)
		return
	case err != nil:
		t.backendError("send code", err)
		return
	}
	st.CodeSentAt, st.CodeAttempts, st.CodeOut = t.now(), 0, true
	t.say(msgCodeResent, nil)
}

func (t *turn) submit() {
	st := t.st
	app := backend.Application{
		MerchantNo:    st.MerchantNo,
		CardNumber:    st.Secrets.CardNumber,
		CardMasked:    maskedCard(st),
		HolderName:    st.Holder,
		BankCode:      st.BankCode,
		BankName:      st.BankName,
		Branch:        st.Branch,
		ReservedPhone: st.Secrets.ReservedPhone,
		CardType:      st.CardType,
	}
	rc, err := t.backend.Submit(t.ctx, st.IdemKey, app)
	switch {
	case errors.Is(err, backend.ErrChangePending), errors.Is(err, backend.ErrTooManyRequests):
		// No retry can succeed: the card data goes now, not in a day.
		t.backendError("submit", err)
		t.wipeDraft()
		if t.fire(evSubmitted) {
			t.menu(false)
		}
		return
	case err != nil:
		t.backendError("submit", err)
		t.say(msgSubmitRetry, nil, row(btn(msgBtnRetry, "sub:retry")))
		return
	}
	st.LastApp = rc.ID
	t.effect(Effect{Kind: Submitted, App: rc.ID})
	t.wipeDraft()
	if t.fire(evSubmitted) {
		t.say(msgSubmitted, Arg{"ID": rc.ID, "Card": parse.MaskPAN(rc.CardMasked), "When": when(rc.ReviewBy)})
		t.menu(false)
	}
}

// ---- checklist and consent ----

// checklist shows the prerequisites with the next one to confirm; note
// (an answer to "why?" or "not yet") is shown under them, so the
// checklist's buttons stay with the latest message.
func (t *turn) checklist(edit bool, note ...Text) *Reply {
	st := t.st
	current := -1
	r := Reply{Key: msgChecklist, Edit: edit}
	for i := range checkItems {
		mark := "⬜"
		switch {
		case st.Checks&(1<<i) != 0:
			mark = "✅"
		case current < 0:
			current, mark = i, "👉"
		}
		r.Lines = append(r.Lines, Text{Key: t.checkKey(i), Args: Arg{"Mark": mark}})
	}
	r.Lines = append(r.Lines, note...)
	if current < 0 {
		r.Buttons = [][]Button{row(btn(msgBtnContinue, "ck:next"))}
	} else {
		n := strconv.Itoa(current)
		r.Buttons = [][]Button{
			row(btn(msgBtnCheckDone, "ck:ok."+n), btn(msgBtnWhy, "ck:why."+n)),
			row(btn(msgBtnNotYet, "ck:no."+n)),
		}
	}
	t.out.Replies = append(t.out.Replies, r)
	return &t.out.Replies[len(t.out.Replies)-1]
}

func (t *turn) checkKey(i int) MsgID {
	if i == 0 && t.st.Company {
		return msgCheck0Company
	}
	return MsgID("check_" + strconv.Itoa(i))
}

func (t *turn) checklistButton(kind, arg string) bool {
	if kind != "ck" {
		return false
	}
	st := t.st
	all := uint8(1<<checkItems - 1)
	if arg == "next" && st.Checks == all {
		if t.fire(evChecksDone) {
			t.prompt()
		}
		return true
	}
	action, item, _ := strings.Cut(arg, ".")
	i, err := strconv.Atoi(item)
	if err != nil || i < 0 || i >= checkItems {
		return false
	}
	switch action {
	case "ok":
		if st.Checks&(1<<i) != 0 {
			return false // a double tap: already confirmed
		}
		st.Checks |= 1 << i
		t.checklist(true)
		if st.Checks == all && t.fire(evChecksDone) {
			t.out.Replies[len(t.out.Replies)-1].Buttons = nil
			t.prompt()
		}
	case "why":
		t.checklist(true, Text{Key: MsgID("why_" + strconv.Itoa(i))})
	case "no":
		if i == 0 {
			r := t.checklist(true, Text{Key: msgNotYet0})
			r.Buttons = append(r.Buttons, row(btn(msgBtnSupport, "m:support")))
			return true
		}
		t.checklist(true, Text{Key: MsgID("notyet_" + strconv.Itoa(i))})
	default:
		return false
	}
	return true
}

func (t *turn) consentButton(kind, arg string) bool {
	switch {
	case kind == "cs" && arg == "yes":
		t.st.Consent = true
		if t.fire(evConsented) {
			t.prompt()
		}
	case kind == "cs" && arg == "no":
		t.say(msgConsentDeclined, nil)
		t.toMenu()
		t.menu(false)
	default:
		return false
	}
	return true
}

// ---- card ----

func (t *turn) card(text string) {
	// Anything typed here with a run of digits may be (part of) a card
	// number: it leaves the chat.
	if digitCount(text) >= 6 {
		t.effect(Effect{Kind: DeleteMessage, MessageID: t.in.MessageID})
	}
	st := t.st
	if st.Company {
		t.account(text)
		return
	}
	digits, err := parse.CardNumber(text)
	switch {
	case errors.Is(err, parse.ErrLuhn) && strings.HasPrefix(digits, "62"):
		st.Secrets.PendingCard = digits
		if st.Step == StepCardLuhn || t.fire(evCardDoubt) {
			t.prompt()
		}
		return
	case errors.Is(err, parse.ErrLuhn):
		t.say(msgCardLuhn, nil)
		return
	case errors.Is(err, parse.ErrLength):
		t.say(msgCardLength, Arg{"N": len(digits)})
		return
	case err != nil:
		t.say(msgCardDigits, nil)
		return
	}
	t.acceptCard(digits)
}

func (t *turn) acceptCard(digits string) {
	st := t.st
	c, known := t.bins.Lookup(digits)
	if known && !cardbin.IsDebit(c.Type) {
		st.Secrets.PendingCard = ""
		t.say(msgCardNotDebit, Arg{"Type": Text{Key: MsgID("cardtype_" + c.Type)}, "Bank": c.BankName})
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
	r := t.say(msgCardAccepted, Arg{"Card": parse.MaskPAN(digits)})
	if known {
		r.Lines = append(r.Lines, Text{Key: msgCardBank, Args: Arg{"Bank": c.BankName}})
	} else {
		r.Lines = append(r.Lines, Text{Key: msgCardBankUnknown})
	}
	if st.Editing && oldBank != st.BankCode {
		// A card of another bank: the bank and the branch are asked again
		// before the summary.
		st.Editing, st.Refill, st.Branch = false, true, ""
		if t.fire(evNewBank) {
			t.prompt()
		}
		return
	}
	t.advance(evCardOK)
}

// account takes a company's settlement account number: no BIN, no Luhn.
func (t *turn) account(text string) {
	digits := parse.Digits(text)
	for _, r := range digits {
		if r < '0' || r > '9' {
			t.say(msgAccountDigits, nil)
			return
		}
	}
	if len(digits) < 9 || len(digits) > 30 {
		t.say(msgAccountLength, nil)
		return
	}
	st := t.st
	st.Secrets.CardNumber, st.CardType = digits, ""
	t.say(msgAccountAccepted, Arg{"Card": parse.MaskPAN(digits)})
	t.advance(evCardOK)
}

func (t *turn) luhnButton(kind, arg string) bool {
	st := t.st
	switch {
	case kind == "luhn" && arg == "yes" && st.Secrets.PendingCard != "":
		t.acceptCard(st.Secrets.PendingCard)
	case kind == "luhn" && arg == "no":
		st.Secrets.PendingCard = ""
		if t.fire(evCardRetry) {
			t.prompt()
		}
	default:
		return false
	}
	return true
}

// keepButton keeps the answer given before (after /back or from an edit).
func (t *turn) keepButton(kind, _ string) bool {
	if kind != "keep" {
		return false
	}
	st := t.st
	next := map[string]string{StepCard: evCardOK, StepHolder: evHolderOK, StepBranch: evBranchOK, StepPhone: evPhoneOK}
	have := map[string]bool{
		StepCard: st.Secrets.CardNumber != "", StepHolder: st.Holder != "",
		StepBranch: st.Branch != "", StepPhone: st.Secrets.ReservedPhone != "",
	}
	if !have[st.Step] {
		return false
	}
	t.advance(next[st.Step])
	return true
}

// ---- holder, bank, branch, phone ----

func (t *turn) holder(text string) {
	validate := parse.HolderName
	if t.st.Company {
		validate = parse.Branch // company names may hold digits: 58同城
	}
	name, err := validate(text)
	switch {
	case errors.Is(err, parse.ErrBadChars):
		t.say(msgHolderChars, nil)
		return
	case err != nil:
		t.say(msgHolderLength, nil)
		return
	}
	if !parse.SameName(name, t.st.MerchantName) {
		key := msgHolderMismatch
		if t.st.Company {
			key = msgHolderMismatchCompany
		}
		t.say(key, nil, row(btn(msgBtnSupport, "m:support")))
		return
	}
	// The registered spelling goes to review, however the dot or spaces
	// were typed.
	t.st.Holder = t.st.MerchantName
	t.advance(evHolderOK)
}

func (t *turn) bankButton(kind, arg string) bool {
	switch {
	case kind == "bank" && arg == "yes" && t.st.BankName != "":
		t.advance(evBankOK)
	case kind == "bank" && arg == "other":
		t.say(msgAskBank, nil)
	default:
		return false
	}
	return true
}

func (t *turn) bankName(text string) {
	name, err := parse.Branch(text)
	if err != nil {
		t.say(msgBankInvalid, nil)
		return
	}
	st := t.st
	st.BankCode, st.BankName = "", name
	norm := parse.Name(name)
	for _, b := range t.bins.Banks() {
		if parse.Name(b.Name) == norm || parse.Name(b.Code) == norm {
			st.BankCode, st.BankName = b.Code, b.Name
			break
		}
	}
	t.advance(evBankOK)
}

func (t *turn) branch(text string) {
	b, err := parse.Branch(text)
	if err != nil {
		t.say(msgBranchInvalid, nil)
		return
	}
	t.st.Branch = b
	t.advance(evBranchOK)
}

func (t *turn) reservedPhone(text string) {
	p, err := parse.MobilePhone(text)
	if err != nil {
		t.say(msgPhoneInvalid, nil)
		return
	}
	t.st.Secrets.ReservedPhone = p
	t.advance(evPhoneOK)
}

// ---- summary ----

func (t *turn) summary() {
	st := t.st
	typ := Text{Key: msgCardTypeUnknown}
	if st.Company {
		typ = Text{Key: msgCardTypeCompany}
	} else if st.CardType != "" {
		typ = Text{Key: MsgID("cardtype_" + st.CardType)}
	}
	t.say(msgSummary, Arg{
		"MerchantNo": st.MerchantNo,
		"Card":       maskedCard(st),
		"Type":       typ,
		"Holder":     st.Holder,
		"Bank":       st.BankName,
		"Branch":     st.Branch,
		"Phone":      parse.MaskPhone(st.Secrets.ReservedPhone),
	},
		row(btn(msgBtnEditCard, "sum:edit.card"), btn(msgBtnEditHolder, "sum:edit.holder")),
		row(btn(msgBtnEditBank, "sum:edit.bank"), btn(msgBtnEditBranch, "sum:edit.branch")),
		row(btn(msgBtnEditPhone, "sum:edit.phone")),
		row(btn(msgBtnConfirm, "sum:confirm"), btn(msgBtnCancel, "sum:cancel")))
}

func (t *turn) summaryButton(kind, arg string) bool {
	if kind != "sum" {
		return false
	}
	st := t.st
	switch {
	case strings.HasPrefix(arg, "edit."):
		field := strings.TrimPrefix(arg, "edit.")
		if _, ok := editable[field]; !ok {
			return false
		}
		st.Editing = true
		if t.fire(evEditPrefix + field) {
			t.prompt()
		}
	case arg == "confirm":
		if st.Secrets.CardNumber == "" || st.Holder == "" || st.BankName == "" || st.Branch == "" || st.Secrets.ReservedPhone == "" {
			t.say(msgSummaryIncomplete, nil)
			t.prompt()
			return true
		}
		if st.IdemKey == "" {
			st.IdemKey = t.newKey()
		}
		t.sendCode(st.MerchantNo, evConfirm)
	case arg == "cancel":
		t.cancel()
	default:
		return false
	}
	return true
}

// ---- cancel, support ----

func (t *turn) cancelButton(kind, arg string) bool {
	switch {
	case kind == "cx" && arg == "yes":
		t.wipeDraft()
		if t.fire(evDiscard) {
			t.say(msgDiscarded, nil)
			t.menu(false)
		}
	case kind == "cx" && arg == "no":
		t.resume()
	default:
		return false
	}
	return true
}

func (t *turn) supportButton(kind, arg string) bool {
	if kind != "sup" || arg != "back" {
		return false
	}
	t.resume()
	return true
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
