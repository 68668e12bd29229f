package dialogs

import (
	"encoding/json"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// statusShown bounds /status to the newest applications: a merchant may
// have made a change a month for years.
const statusShown = 3

// status answers /status and the menu's status button: the bound
// merchant's own applications, newest first, each with its timeline, the
// masked card and what happens next. The merchant number comes from the
// state, never from the input, so no command or button reaches another
// merchant's applications.
func (t *turn) status() {
	st := t.st
	if !st.Bound {
		t.say(msgStatusNotBound, nil, row(btn(msgBtnChange, "m:change")))
		return
	}
	apps, err := t.backend.Applications(t.ctx, st.MerchantNo)
	if err != nil {
		t.backendError("applications", err)
		return
	}
	if len(apps) == 0 {
		t.say(msgStatusNone, nil)
		return
	}
	for i, a := range apps[:min(len(apps), statusShown)] {
		if a.MerchantNo != st.MerchantNo {
			continue // an acquirer's mistake is not shown to the wrong merchant
		}
		t.showApplication(a, i == 0)
	}
	if n := len(apps) - statusShown; n > 0 {
		t.say(msgStatusOlder, Arg{"N": n})
	}
}

// showApplication shows one application. Only the newest may offer "fix and
// resubmit": an older rejection has been superseded.
func (t *turn) showApplication(a backend.Receipt, newest bool) {
	r := t.say(msgAppHeader, Arg{
		// Masked again here: whatever mask the acquirer uses, the bot shows
		// no more than its own.
		"ID": a.ID, "Card": parse.MaskPAN(a.CardMasked), "Bank": t.bankLabelOf(a.BankCode, a.BankName),
		"Status": Text{Key: MsgID("status_" + string(a.Status))},
	})
	if a.Status.Rank() == 0 {
		r.Args["Status"] = string(a.Status) // a status this version does not know, as the acquirer says it
		return
	}
	r.Lines = append(r.Lines, timeline(a)...)
	if a.Status != backend.StatusRejected {
		r.Lines = append(r.Lines, Text{Key: MsgID("whatnext_" + string(a.Status)), Args: Arg{"When": when(a.ReviewBy)}})
		return
	}
	lines, fixable := rejection(backend.EventOf(a))
	r.Lines = append(r.Lines, lines...)
	if newest {
		r.Buttons = t.rejectionButtons(a.ID, fixable)
	}
}

// timeline is the four stages of an application: submitted, under review,
// decided, effective, each done (with its time) or still to come.
func timeline(a backend.Receipt) []Text {
	at := map[backend.Status]string{}
	for _, h := range a.History {
		at[h.Status] = when(h.At)
	}
	if _, ok := at[backend.StatusSubmitted]; !ok && !a.SubmittedAt.IsZero() {
		at[backend.StatusSubmitted] = when(a.SubmittedAt)
	}
	if _, ok := at[a.Status]; !ok && !a.UpdatedAt.IsZero() {
		at[a.Status] = when(a.UpdatedAt)
	}
	done := func(s backend.Status, mark string) Text {
		return Text{Key: msgTimelineDone, Args: Arg{"Mark": mark, "Stage": Text{Key: MsgID("stage_" + string(s))}, "When": at[s]}}
	}
	rank := a.Status.Rank()
	var out []Text
	out = append(out, done(backend.StatusSubmitted, "✅"))
	if rank >= backend.StatusReview.Rank() {
		if _, ok := at[backend.StatusReview]; ok {
			out = append(out, done(backend.StatusReview, "✅"))
		}
	} else {
		out = append(out, Text{Key: msgTimelineTodo, Args: Arg{"Stage": Text{Key: MsgID("stage_" + string(backend.StatusReview))}}})
	}
	switch {
	case a.Status == backend.StatusRejected:
		return append(out, done(backend.StatusRejected, "❌"))
	case rank >= backend.StatusApproved.Rank():
		out = append(out, done(backend.StatusApproved, "✅"))
	default:
		out = append(out, Text{Key: msgTimelineExpected, Args: Arg{"Stage": Text{Key: msgStageDecision}, "When": when(a.ReviewBy)}})
	}
	if a.Status == backend.StatusEffective {
		return append(out, done(backend.StatusEffective, "✅"))
	}
	return append(out, Text{Key: msgTimelineTodo, Args: Arg{"Stage": Text{Key: MsgID("stage_" + string(backend.StatusEffective))}}})
}

// statusEvent tells the merchant of a status change (EventStatus). The
// event must be about the merchant this chat is bound to now: a chat
// rebound to another merchant hears nothing of the first one's
// applications. "submitted" is not announced: the dialog said so when it
// submitted.
func (t *turn) statusEvent(arg string) {
	var ev backend.Event
	if err := json.Unmarshal([]byte(arg), &ev); err != nil || !ev.Valid() {
		t.log.Warn("malformed status event ignored")
		return
	}
	st := t.st
	if !st.Bound || ev.MerchantNo != st.MerchantNo {
		t.log.Warn("status event for another merchant ignored", "app", ev.Application)
		return
	}
	args := Arg{"ID": ev.Application, "Card": parse.MaskPAN(ev.CardMasked)}
	switch ev.Status {
	case backend.StatusReview:
		// The event does not say when the review ends; the receipt does.
		// Without it the note goes out all the same, without the time.
		apps, err := t.backend.Applications(t.ctx, st.MerchantNo)
		for _, a := range apps {
			if err == nil && a.ID == ev.Application && !a.ReviewBy.IsZero() {
				args["When"] = when(a.ReviewBy)
				t.say(msgNoteReview, args)
				return
			}
		}
		t.say(msgNoteReviewUndated, args)
	case backend.StatusApproved:
		t.say(msgNoteApproved, args)
	case backend.StatusEffective:
		t.say(msgNoteEffective, args)
	case backend.StatusRejected:
		lines, fixable := rejection(ev)
		r := t.say(msgNoteRejected, args)
		r.Lines = lines
		r.Buttons = t.rejectionButtons(ev.Application, fixable)
	}
}
