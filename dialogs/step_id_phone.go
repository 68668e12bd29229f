package dialogs

import (
	"errors"
	"time"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// idPhoneStep is the step StepIDPhone.
func idPhoneStep() stepDef {
	return stepDef{
		name:  StepIDPhone,
		guide: &guide{asks: []MsgID{msgAskPhone, msgAskPhoneTyped}, answer: AnswerContact, notes: []MsgID{msgBound}},
		kind:  identify,
		prompt: func(t *turn) {
			if t.in.NoContact {
				t.say(msgAskPhoneTyped, nil)
				return
			}
			t.say(msgAskPhone, nil, row(Button{Key: msgBtnShareContact, RequestContact: true}))
		},
		text:    (*turn).idPhone,
		contact: (*turn).contact,
		// A client that cannot share a contact is told to type the phone.
		next: func(t *turn) MsgID {
			if t.in.NoContact {
				return msgNextPhoneTyped
			}
			return "next_" + StepIDPhone
		},
		back:  StepMerchant,
		moves: map[move]string{evPhoneTyped: StepIDCode, evBound: StepChecklist, evRestart: StepMerchant},
		typed: true,
	}
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
	t.bind(m, time.Time{})
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
	st.PendingNo, st.ProvedAt = "", time.Time{}
	if !t.fire(evRestart) {
		return
	}
	if t.lookupsSpent() {
		return
	}
	t.backendError("verify merchant", err)
	t.prompt()
}

// bind binds the chat to merchant m, whose phone on file an SMS code
// proved at provedAt (zero: a shared contact, no code, proved it).
func (t *turn) bind(m backend.Merchant, provedAt time.Time) {
	st := t.st
	st.MerchantNo, st.MerchantName, st.PhoneOnFile = m.No, m.Name, m.PhoneMasked
	st.Company, st.Bound, st.PendingNo = m.Kind == backend.KindCompany, true, ""
	st.ProvedAt = provedAt // a code typed before, for whichever merchant, confirms nothing
	// CodeSentAt and CodeAttempts stay: the acquirer's resend clock and
	// its count of wrong codes run on past a shared contact.
	st.LookupFails, st.LookupSince = 0, time.Time{}
	t.say(msgBound, Arg{"Name": m.Business, "No": m.No, "Card": parse.MaskPAN(m.CardMasked)})
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
