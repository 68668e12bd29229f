package dialogs

import (
	"slices"
	"strings"

	"github.com/merchantbot/merchantbot/backend"
)

// fixableReasons are the rejections an edit of the application can fix:
// another card. The 30-day rule is not one of them: no edit helps before
// its date.
var fixableReasons = []string{backend.ReasonNameMismatch, backend.ReasonCreditCard}

// rejection is what the merchant reads about a rejection: the reason and
// what to do, and whether "fix and resubmit" applies.
func rejection(ev backend.Event) (lines []Text, fixable bool) {
	known := slices.Contains(backend.Reasons(), ev.Reason)
	// The acquirer's own words are always shown when it gave them; a reason
	// this version knows is also said in the merchant's language.
	if known {
		lines = append(lines, Text{Key: MsgID("reason_" + ev.Reason)})
	}
	switch {
	case ev.ReasonText != "":
		lines = append(lines, Text{Key: msgReasonText, Args: Arg{"Text": clip(ev.ReasonText, maxReasonRunes)}})
	case !known:
		lines = append(lines, Text{Key: msgReasonOther})
	}
	switch {
	case ev.Reason == backend.ReasonTooSoon && !ev.ChangeAllowedFrom.IsZero():
		lines = append(lines, Text{Key: MsgID("advice_" + ev.Reason), Args: Arg{"Date": when(ev.ChangeAllowedFrom)}})
	case ev.Reason == backend.ReasonTooSoon:
		lines = append(lines, Text{Key: msgAdviceTooSoonAny})
	case known:
		lines = append(lines, Text{Key: MsgID("advice_" + ev.Reason)})
	default:
		lines = append(lines, Text{Key: msgAdviceOther})
	}
	return lines, slices.Contains(fixableReasons, ev.Reason)
}

// maxReasonRunes bounds the acquirer's words in a message: a reason is a
// sentence, and a message has at most 4,096 characters.
const maxReasonRunes = 200

func clip(s string, n int) string {
	r := []rune(strings.ToValidUTF8(s, ""))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n]) + "…"
}

// rejectionButtons offer "fix and resubmit" where an edit can help, and
// support where nothing the merchant does can.
func (t *turn) rejectionButtons(app string, fixable bool) [][]Button {
	if fixable {
		return [][]Button{row(btn(msgBtnResubmit, "rs:"+app))}
	}
	return [][]Button{row(btn(msgBtnSupport, "m:support"))}
}

// resubmit answers "fix and resubmit" on application app: it reopens the
// change with the non-sensitive answers of that application kept (holder,
// bank, branch: fieldSpec.reopen) and asks the card number and the
// reserved phone again, which were wiped at submission (State.Reopened).
// A field between them that is not filled so (no reopen) makes the change
// go the whole way from the card again, the kept answers offered. The checklist was
// confirmed for the first application and still holds; consent, which
// follows it, is asked again: it covered the card data of the first
// application until its review ended. The application is looked up among
// the bound merchant's own, so a forged id reaches nothing; one that is
// not the newest, not rejected or not fixable is a stale button. It is a
// new draft: its submission has a key of its own.
func (t *turn) resubmit(app string) {
	st := t.st
	if !st.Bound {
		t.stale()
		return
	}
	apps, err := t.backend.Applications(t.ctx, st.MerchantNo)
	if err != nil {
		t.backendError("applications", err)
		return
	}
	if len(apps) == 0 || apps[0].ID != app || apps[0].MerchantNo != st.MerchantNo ||
		apps[0].Status != backend.StatusRejected || !slices.Contains(fixableReasons, apps[0].Reason) {
		t.stale()
		return
	}
	if t.hasDraft() {
		t.say(msgResubmitBusy, nil)
		t.toMenu()
		t.changeCard()
		return
	}
	a := apps[0]
	t.toMenu()
	t.startDraft()
	for _, d := range t.fields {
		if f := d.field; f.reopen != nil {
			f.reopen(st, a)
		}
	}
	// From the card straight on to the reserved phone only when every
	// field between them is filled: one the application did not give back
	// (an acquirer that did not send it, a field without reopen — a step
	// added since) is asked again, the whole way from the card.
	st.Reopened = true
	between := false
	for _, d := range t.fields {
		switch {
		case d.name == StepCard:
			between = true
		case d.name == StepPhone:
			between = false
		case between && d.field.filled != nil && !d.field.filled(st):
			st.Reopened = false
		}
	}
	if !t.fire(resumeMove(StepConsent)) {
		return
	}
	t.say(msgResubmitStart, Arg{"ID": a.ID})
	t.prompt()
}
