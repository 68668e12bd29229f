package dialogs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/dialogs/parse"
	"github.com/merchantbot/merchantbot/locales"
)

// checkItems is the number of prerequisites on the checklist.
const checkItems = 6

// Identification limits: a chat gets MaxLookups failed identifications
// (merchant number and phone that do not match) per LookupWindow.
const (
	MaxLookups   = 5
	LookupWindow = 24 * time.Hour
)

// FreshProof is how long an SMS code the merchant typed also confirms the
// summary: the acquirer sends at most one code a minute, so asking for a
// second one right after the first would make a fast merchant wait.
const FreshProof = 10 * time.Minute

// withCurrent shows the answer already given, with a button to keep it.
func (t *turn) withCurrent(r *Reply, current string) {
	if current == "" || t.st.Secrets.CardNumber == "" && t.st.Step == StepCard {
		return
	}
	r.Lines = append(r.Lines, Text{Key: msgCurrentAnswer, Args: Arg{"Value": current}})
	r.Buttons = append(r.Buttons, row(btn(msgBtnKeep, "keep")))
}

// whichOne answers a message holding several numbers of the shape asked.
func (t *turn) whichOne(what MsgID) {
	t.say(msgWhichOne, Arg{"What": Text{Key: what}})
}

// single takes the one value of its kind that find sees in text. With more
// than one it asks which (what names the kind); with none it lets none say
// why. ok is false then, and the step stays.
func (t *turn) single(find func(string) (string, int), text string, what MsgID, none func()) (value string, ok bool) {
	v, n := find(text)
	switch {
	case n > 1:
		t.whichOne(what)
		return "", false
	case n == 0:
		none()
		return "", false
	}
	return v, true
}

// ---- identify ----

func (t *turn) merchantNo(text string) {
	if t.lookupsSpent() {
		return
	}
	no, ok := t.single(parse.FindMerchantNo, text, msgWhatMerchantNo, func() { t.say(msgMerchantNoInvalid, nil) })
	if !ok {
		return
	}
	t.st.PendingNo = no
	if t.fire(evMerchantOK) {
		t.prompt()
	}
}

// lookupsSpent answers a chat that used up its identification attempts.
func (t *turn) lookupsSpent() bool {
	st := t.st
	if st.LookupFails > 0 && t.now().Sub(st.LookupSince) >= LookupWindow {
		st.LookupFails, st.LookupSince = 0, time.Time{}
	}
	if st.LookupFails < MaxLookups {
		return false
	}
	t.say(msgLookupsSpent, nil, row(btn(msgBtnSupport, "m:support")))
	return true
}

func (t *turn) idPhone(text string) {
	phone, ok := t.single(parse.FindPhone, text, msgWhatPhone, func() { t.phoneReason(text) })
	if !ok {
		return
	}
	if t.lookupsSpent() {
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
func (t *turn) sendCode(no string, event move) {
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
		if st.CodePending {
			// The code sent moments ago (before a /back) still works:
			// no reason to wait for another.
			t.codePrompt()
			return
		}
		t.tooSoon(err) // the code out, if any, keeps its tries used
		return
	}
	st.CodeSentAt, st.CodePending, st.CodeAttempts = t.now(), true, 0
	t.prompt()
}

// tooSoon answers an acquirer that refused a new code for now: the
// merchant learns how long to wait, counted by the acquirer's clock.
func (t *turn) tooSoon(err error) {
	st := t.st
	wait, ok := backend.RetryAfter(err)
	if ok {
		st.CodeSentAt = t.now().Add(wait - CodeResendAfter)
	}
	if wait > CodeResendAfter {
		// Not the minute between two codes: the acquirer paused codes for
		// this phone (too many wrong ones). Say so, in minutes.
		t.say(msgCodePaused, Arg{"Minutes": int((wait + time.Minute - 1) / time.Minute)},
			row(btn(msgBtnResend, "code:resend")))
		return
	}
	key := msgCodeWait
	if !st.CodePending {
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
	if t.lookupsSpent() {
		return
	}
	m, err := t.backend.VerifyMerchant(t.ctx, t.st.PendingNo, phone)
	if err != nil {
		t.identifyFailed(err)
		return
	}
	t.bind(m)
}

// identifyFailed answers an identification the acquirer refused. An
// unknown merchant number and a phone that is not the one on file get the
// same answer and the same next step, and both use up an attempt: a chat
// cannot learn which merchant numbers exist.
func (t *turn) identifyFailed(err error) {
	st := t.st
	if !errors.Is(err, backend.ErrUnknownMerchant) && !errors.Is(err, backend.ErrPhoneMismatch) {
		t.backendError("verify merchant", err)
		return
	}
	if st.LookupFails == 0 {
		st.LookupSince = t.now()
	}
	st.LookupFails++
	st.PendingNo = ""
	if !t.fire(evRestart) {
		return
	}
	if t.lookupsSpent() {
		return
	}
	t.backendError("verify merchant", err)
	t.prompt()
}

func (t *turn) bind(m backend.Merchant) {
	st := t.st
	st.MerchantNo, st.MerchantName, st.PhoneOnFile = m.No, m.Name, m.PhoneMasked
	st.Company, st.Bound, st.PendingNo = m.Kind == backend.KindCompany, true, ""
	st.CodeAttempts = 0 // CodeSentAt stays: the acquirer's resend clock runs on
	st.LookupFails, st.LookupSince = 0, time.Time{}
	t.say(msgBound, Arg{"Name": m.Business, "No": m.No})
	if t.changePending() {
		if t.fire(evMenu) {
			t.menu(false)
		}
		return
	}
	t.startDraft()
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
	if !t.st.CodePending {
		t.say(msgCodeNeeded, Arg{"Phone": t.st.PhoneOnFile}, row(btn(msgBtnResend, "code:resend")))
		return
	}
	t.codeSent(msgCodeSent)
}

// codeSent says a code is on its way. Two messages: the warning stands on
// its own, and the first, without buttons, lets Telegram take the
// share-contact keyboard away.
func (t *turn) codeSent(key MsgID) {
	t.say(key, Arg{"Phone": t.st.PhoneOnFile})
	t.say(msgCodeWarning, nil, row(btn(msgBtnResend, "code:resend")))
}

func (t *turn) code(text string) {
	st := t.st
	if st.Step == StepVerify && st.Verified {
		t.codePrompt()
		return
	}
	code, ok := t.single(parse.FindCode, text, msgWhatCode, func() { t.say(msgCodeFormat, nil) })
	if !ok {
		return
	}
	if st.CodeAttempts >= MaxCodeAttempts {
		t.say(msgCodeLocked, nil, row(btn(msgBtnResend, "code:resend")))
		return
	}
	if !st.CodePending {
		// No code is out to check: say how to get one.
		if t.now().Sub(st.CodeSentAt) < CodeResendAfter {
			t.say(msgCodeWaitFirst, Arg{"Seconds": t.resendIn()}, row(btn(msgBtnResend, "code:resend")))
		} else {
			t.codePrompt()
		}
		return
	}
	err := t.backend.CheckCode(t.ctx, t.codeMerchant(), code)
	switch {
	case errors.Is(err, backend.ErrWrongCode):
		st.CodeAttempts++
		switch left := MaxCodeAttempts - st.CodeAttempts; {
		case left == 1:
			t.say(msgCodeWrongLast, nil)
		case left > 1:
			t.say(msgCodeWrong, Arg{"Left": left})
		default:
			st.CodePending = false
			t.say(msgCodeLocked, nil, row(btn(msgBtnResend, "code:resend")))
		}
		return
	case errors.Is(err, backend.ErrCodeExpired):
		st.CodePending = false
		t.say(msgCodeExpired, nil, row(btn(msgBtnResend, "code:resend")))
		return
	case err != nil:
		t.backendError("check code", err)
		return
	}
	st.CodeAttempts, st.CodePending, st.ProvedAt = 0, false, t.now()
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
	// The first code of this step (after a wait) is "sent", a later one
	// "a new code"; both carry the warning.
	key := msgCodeSent
	if st.CodePending {
		key = msgCodeResent
	}
	st.CodeSentAt, st.CodeAttempts, st.CodePending = t.now(), 0, true
	t.codeSent(key)
}

// application is the draft as the acquirer receives it.
func (t *turn) application() backend.Application {
	app := backend.Application{MerchantNo: t.st.MerchantNo}
	for _, d := range t.fields {
		if d.field.apply != nil {
			d.field.apply(t.st, &app)
		}
	}
	return app
}

// submissionKey is the idempotency key of app in the draft draftID: the
// same content is the same application, however often it is sent (a lost
// answer, a turn applied twice), and any changed field is a new one. The
// key is a hash, so it carries no card data to the acquirer's logs.
func submissionKey(draftID string, app backend.Application) string {
	h := sha256.New()
	for _, f := range []string{draftID, app.MerchantNo, app.CardNumber, app.HolderName, app.BankCode,
		app.BankName, app.Branch, app.ReservedPhone, app.CardType} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func (t *turn) submit() {
	st := t.st
	app := t.application()
	rc, err := t.backend.Submit(t.ctx, submissionKey(st.DraftID, app), app)
	switch {
	case errors.Is(err, backend.ErrChangePending), errors.Is(err, backend.ErrTooManyRequests):
		// No retry can succeed: the card data goes now, not in a day.
		if !errors.Is(err, backend.ErrChangePending) || !t.pendingCarries(app) {
			t.backendError("submit", err)
		}
		t.wipeDraft()
		if t.fire(evSubmitted) {
			t.menu(false)
		}
		return
	case refused(err):
		// Support, not a retry button: the same request would be refused
		// again. The answers stay for the agent to look at.
		t.backendError("submit", err)
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

// pendingCarries explains a submission refused because another
// application is under review, when that one carries another card than
// app: typically the first submission of this very draft, taken by the
// acquirer while its answer was lost, before the merchant edited the card.
// The merchant is told which card (masked) the pending application
// carries and what they can do; the bot follows that application from now
// on. It reports false when there is nothing more to say than
// "a change is already under review".
func (t *turn) pendingCarries(app backend.Application) bool {
	apps, err := t.backend.Applications(t.ctx, t.st.MerchantNo)
	if err != nil {
		t.log.Warn("applications after a refused submission", "err", err)
		return false
	}
	for _, a := range apps {
		if a.MerchantNo != t.st.MerchantNo || !a.Status.Pending() {
			continue
		}
		pending, typed := parse.MaskPAN(a.CardMasked), parse.MaskPAN(app.CardNumber)
		if pending == typed {
			return false
		}
		t.st.LastApp = a.ID
		t.effect(Effect{Kind: Submitted, App: a.ID}) // its status changes reach the merchant
		args := Arg{"ID": a.ID, "Card": pending, "New": typed, "Status": Text{Key: MsgID("status_" + string(a.Status))}}
		if t.noDesk {
			args["Hotline"] = t.hotlineArg()["Hotline"]
			t.say(msgPendingOldCardNoDesk, args)
			return true
		}
		t.say(msgPendingOldCard, args, row(btn(msgBtnSupport, "m:support")))
		return true
	}
	return false
}

// ---- checklist and consent ----

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
	r := Reply{Key: msgChecklist, Edit: edit}
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
	found, ok := t.single(parse.FindCard, text, msgWhatCard, func() { t.cardReason(text) })
	if !ok {
		return
	}
	digits, err := parse.CardNumber(found)
	switch {
	case errors.Is(err, parse.ErrLuhn) && strings.HasPrefix(digits, "62"):
		st.Secrets.PendingCard = digits
		if t.fire(evCardDoubt) { // at the Luhn question itself: a self-move, asked again
			t.prompt()
		}
		return
	case errors.Is(err, parse.ErrLuhn):
		t.say(msgCardLuhn, nil)
		return
	case err != nil:
		t.cardReason(text)
		return
	}
	t.acceptCard(digits)
}

// cardReason says why text holds no card number: the length of the number
// typed, alone or inside a sentence, else that a card number is digits.
func (t *turn) cardReason(text string) {
	digits, err := parse.CardNumber(text)
	switch {
	case errors.Is(err, parse.ErrLength):
		t.say(msgCardLength, Arg{"N": len(digits)})
	case inSentence(text) && parse.LongestNumber(text) >= 8:
		t.say(msgCardLength, Arg{"N": parse.LongestNumber(text)})
	default:
		t.say(msgCardDigits, nil)
	}
}

// inSentence reports text with words around its numbers (a Han character,
// or a space between a letter and the rest), not a number with a typo.
func inSentence(text string) bool {
	for _, r := range text {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return strings.ContainsFunc(text, unicode.IsLetter) && strings.ContainsRune(strings.TrimSpace(text), ' ')
}

func (t *turn) acceptCard(digits string) {
	st := t.st
	c, known := t.bins.Lookup(digits)
	if known && !cardbin.IsDebit(c.Type) {
		st.Secrets.PendingCard = ""
		t.say(msgCardNotDebit, Arg{"Type": Text{Key: MsgID("cardtype_" + c.Type)}, "Bank": t.bankLabelOf(c.BankCode, c.BankName)})
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
	// The bank the BIN tells is shown with the card and confirmed on the
	// summary: no separate question.
	r := t.say(msgCardAccepted, Arg{"Card": parse.MaskPAN(digits)})
	if known {
		r.Lines = append(r.Lines, Text{Key: msgCardBank, Args: Arg{"Bank": t.bankLabel()}})
	} else {
		r.Lines = append(r.Lines, Text{Key: msgCardBankUnknown})
	}
	if (st.Editing || st.Reopened) && (oldBank != st.BankCode || !known) {
		// A card of another (or an unknown) bank: its bank and branch are
		// asked again, then the summary (or, reopened, the reserved phone).
		st.Editing, st.Refill, st.Reopened, st.Branch = false, st.Editing, false, ""
		event := evNewBranch
		if !known {
			event = evNeedBank
		}
		if t.fire(event) {
			t.prompt()
		}
		return
	}
	t.afterCard()
}

// afterCard moves on from an accepted card: to the holder, back to the
// summary after an edit, or, in a reopened application whose holder, bank
// and branch are kept, to the reserved phone.
func (t *turn) afterCard() {
	if t.st.Reopened {
		t.st.Reopened = false
		if t.fire(evCardKept) {
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
	t.afterCard()
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
	f := t.def().field
	if f == nil || f.keep == nil || !f.filled(t.st) {
		return false
	}
	f.keep(t)
	return true
}

// ---- holder, bank, branch, phone ----

// holderPrompt offers the registered name as a button: one tap instead of
// typing it, and typing still works.
func (t *turn) holderPrompt() {
	st := t.st
	key := msgAskHolder
	if st.Company {
		key = msgAskHolderCompany
	}
	r := t.say(key, nil)
	if st.MerchantName != "" {
		label := msgBtnHolderName
		if st.Company {
			label = msgBtnHolderCompany
		}
		r.Buttons = append(r.Buttons, row(Button{Key: label, Args: Arg{"Name": st.MerchantName}, Data: "holder:registered"}))
	}
	if st.Holder != "" && st.Holder != st.MerchantName {
		t.withCurrent(r, st.Holder)
	}
}

func (t *turn) holderButton(kind, arg string) bool {
	switch {
	case kind == "holder" && arg == "registered" && t.st.MerchantName != "":
		t.st.Holder = t.st.MerchantName
		t.afterHolder()
		return true
	default:
		return t.keepButton(kind, arg)
	}
}

func (t *turn) holder(text string) {
	if isYes(text) && t.st.MerchantName != "" {
		// "是的" answers the button's "是的，持卡人是 张三".
		t.st.Holder = t.st.MerchantName
		t.afterHolder()
		return
	}
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
	t.afterHolder()
}

// afterHolder goes to the branch, or to the bank when the BIN did not tell.
func (t *turn) afterHolder() {
	if t.st.BankName == "" {
		t.advance(evNeedBank)
		return
	}
	t.advance(evHolderOK)
}

func (t *turn) bankPrompt() {
	if t.st.BankName != "" {
		t.say(msgBankConfirm, Arg{"Bank": t.bankLabel()},
			row(btn(msgBtnBankYes, "bank:yes"), btn(msgBtnBankOther, "bank:other")))
		return
	}
	t.say(msgAskBank, nil)
}

func (t *turn) bankButton(kind, arg string) bool {
	if kind != "bank" {
		return false
	}
	st := t.st
	switch {
	case arg == "yes" && st.BankName != "":
		t.bankChosen(st.BankCode, st.BankName)
	case arg == "other":
		t.say(msgAskBank, nil)
	case strings.HasPrefix(arg, "pick."), strings.HasPrefix(arg, "sure."):
		b, ok := t.bins.BankByCode(arg[len("pick."):])
		if !ok {
			return false
		}
		if strings.HasPrefix(arg, "pick.") && t.contradictsCard(b) {
			return true
		}
		t.bankChosen(b.Code, b.Name)
	default:
		return false
	}
	return true
}

func (t *turn) bankName(text string) {
	st := t.st
	switch {
	case isYes(text):
		if st.BankName != "" {
			t.bankChosen(st.BankCode, st.BankName)
			return
		}
		t.say(msgBankNeedName, nil)
		return
	case isNo(text):
		t.say(msgAskBank, nil)
		return
	}
	if reason := notAName(text); reason != "" {
		t.say(reason, Arg{"What": Text{Key: msgWhatBank}})
		return
	}
	b, ok, closest := t.bins.MatchBank(text)
	if !ok {
		if len(closest) == 0 {
			t.say(msgBankUnknown, nil)
			return
		}
		r := t.say(msgBankClosest, nil)
		for i, c := range closest {
			if i == 4 {
				break // a few likely banks, not a directory
			}
			r.Buttons = append(r.Buttons, row(Button{Key: msgBtnBank, Args: Arg{"Bank": t.bankLabelOf(c.Code, c.Name)}, Data: "bank:pick." + c.Code}))
		}
		return
	}
	if t.contradictsCard(b) {
		return
	}
	t.bankChosen(b.Code, b.Name)
}

// contradictsCard asks the merchant to double-check a bank that is not the
// one the card's BIN tells.
func (t *turn) contradictsCard(b cardbin.Bank) bool {
	if t.st.Company || t.st.Secrets.CardNumber == "" {
		return false // a company account number has no BIN
	}
	c, known := t.bins.Lookup(t.st.Secrets.CardNumber)
	if !known || c.BankCode == b.Code {
		return false
	}
	t.say(msgBankContradicts, Arg{"Card": t.bankLabelOf(c.BankCode, c.BankName), "Typed": t.bankLabelOf(b.Code, b.Name)},
		row(Button{Key: msgBtnBank, Args: Arg{"Bank": t.bankLabelOf(c.BankCode, c.BankName)}, Data: "bank:sure." + c.BankCode}),
		row(Button{Key: msgBtnBankTyped, Args: Arg{"Bank": t.bankLabelOf(b.Code, b.Name)}, Data: "bank:sure." + b.Code}))
	return true
}

// bankChosen stores the bank by its standard name. A changed bank asks for
// its branch again.
func (t *turn) bankChosen(code, name string) {
	st := t.st
	if st.Editing && code != st.BankCode {
		st.Editing, st.Refill, st.Branch = false, true, ""
	}
	st.BankCode, st.BankName = code, name
	t.advance(evBankOK)
}

// bankLabel is the draft's bank as the merchant reads it: English where the
// table has it, else the standard Chinese name.
func (t *turn) bankLabel() string { return t.bankLabelOf(t.st.BankCode, t.st.BankName) }

func (t *turn) bankLabelOf(code, name string) string {
	if t.st.Lang != locales.English || code == "" {
		return name
	}
	if b, ok := t.bins.BankByCode(code); ok && b.NameEN != "" {
		return b.NameEN
	}
	return name
}

// isYes reads a typed "yes" (and the yes buttons' labels).
func isYes(text string) bool {
	switch strings.ToLower(strings.Trim(text, " .。!！~～")) {
	case "是", "是的", "对", "对的", "对啊", "对了", "没错", "正确", "确认", "嗯", "好", "好的", "是的，正确",
		"yes", "y", "yep", "yeah", "ok", "okay", "correct", "right", "that's right", "confirm":
		return true
	}
	return false
}

// isNo reads a typed "no" (and the "another bank" button's label).
func isNo(text string) bool {
	switch strings.ToLower(strings.Trim(text, " .。!！~～")) {
	case "不是", "不对", "错了", "否", "不", "不对，是其他银行", "no", "n", "nope", "wrong", "no, another bank":
		return true
	}
	return false
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

func (t *turn) branch(text string) {
	if reason := notAName(text); reason != "" {
		t.say(reason, Arg{"What": Text{Key: msgWhatBranch}})
		return
	}
	b, err := parse.Branch(text)
	switch {
	case errors.Is(err, parse.ErrBadChars):
		t.say(msgBranchChars, nil)
		return
	case err != nil:
		t.say(msgBranchInvalid, nil)
		return
	}
	t.st.Branch = b
	t.advance(evBranchOK)
}

// phoneReason says why text holds no mainland mobile number: a number of
// another length, a landline or foreign number, or no number at all.
func (t *turn) phoneReason(text string) {
	d := parse.Digits(text)
	_, err := parse.MobilePhone(text)
	switch {
	case errors.Is(err, parse.ErrLength) && len(d) <= 20:
		t.say(msgPhoneLength, Arg{"N": len(d)})
	case errors.Is(err, parse.ErrNotMobile):
		t.say(msgPhoneNotMobile, nil)
	default:
		t.say(msgPhoneInvalid, nil)
	}
}

func (t *turn) reservedPhone(text string) {
	p, ok := t.single(parse.FindPhone, text, msgWhatPhone, func() { t.phoneReason(text) })
	if !ok {
		return
	}
	t.st.Secrets.ReservedPhone = p
	t.advance(evPhoneOK)
}

// ---- summary ----

// summary shows every field's summary line, and Edit buttons two to a
// row for the editable ones.
func (t *turn) summary() {
	r := t.say(msgSummary, Arg{"MerchantNo": t.st.MerchantNo})
	var edits []Button
	for _, d := range t.fields {
		f := d.field
		if f.summary != nil {
			r.Lines = append(r.Lines, Text{Key: MsgID("sum_" + d.name), Args: f.summary(t)})
		}
		if f.editable {
			edits = append(edits, btn(MsgID("btn_edit_"+d.name), "sum:edit."+d.name))
		}
	}
	r.Lines = append(r.Lines, Text{Key: msgSummaryEnd})
	for len(edits) > 0 {
		n := min(2, len(edits))
		r.Buttons = append(r.Buttons, edits[:n])
		edits = edits[n:]
	}
	r.Buttons = append(r.Buttons, row(btn(msgBtnConfirm, "sum:confirm"), btn(msgBtnCancel, "sum:cancel")))
}

// incomplete reports a field of the summary not answered yet.
func (t *turn) incomplete() bool {
	for _, d := range t.fields {
		if d.field.filled != nil && !d.field.filled(t.st) {
			return true
		}
	}
	return false
}

func (t *turn) summaryButton(kind, arg string) bool {
	if kind != "sum" {
		return false
	}
	st := t.st
	switch {
	case strings.HasPrefix(arg, "edit."):
		step := strings.TrimPrefix(arg, "edit.")
		if d, ok := t.steps[step]; !ok || d.field == nil || !d.field.editable {
			return false
		}
		st.Editing = true
		if t.fire(editMove(step)) {
			t.prompt()
		}
	case arg == "confirm":
		if t.incomplete() {
			t.say(msgSummaryIncomplete, nil)
			t.prompt()
			return true
		}
		if st.DraftID == "" {
			st.DraftID = t.newKey() // a draft begun before drafts had ids
		}
		if !st.ProvedAt.IsZero() && t.now().Sub(st.ProvedAt) < FreshProof {
			// The merchant typed a code from the phone on file minutes
			// ago: that proof confirms this summary, no second code (and
			// no wait for the acquirer's resend limit).
			if t.fire(evConfirm) {
				st.Verified = true
				t.say(msgProofFresh, nil)
				t.submit()
			}
			return true
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
