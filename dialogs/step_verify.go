package dialogs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// verifyStep is the step StepVerify.
func verifyStep() stepDef {
	return stepDef{
		name:    StepVerify,
		guide:   &guide{asks: []MsgID{msgCodeSent}, answer: AnswerCode, notes: []MsgID{msgCodeWarning}},
		kind:    draft,
		prompt:  (*turn).codePrompt,
		text:    (*turn).code,
		button:  (*turn).codeButton,
		buttons: []string{"code", "sub"},
		back:    StepSummary,
		// Back at the summary, a change must be proven again.
		onBack: func(t *turn) bool {
			t.st.Verified = false
			return false
		},
		moves: map[move]string{evSubmitted: StepMenu},
		typed: true,
	}
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
	fields := []string{draftID, app.MerchantNo, app.CardNumber, app.HolderName, app.BankCode,
		app.BankName, app.Branch, app.ReservedPhone, app.CardType}
	if app.BranchID != "" || app.AreaCode != "" {
		// A picked branch (WithBranches); a typed one keeps its key.
		fields = append(fields, app.BranchID, app.AreaCode)
	}
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func (t *turn) submit() {
	st := t.st
	app := t.application()
	st.SubmitRefused = false // this try decides it
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
		st.SubmitRefused = true
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
