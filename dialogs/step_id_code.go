package dialogs

import (
	"errors"
	"time"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// idCodeStep is the step StepIDCode.
func idCodeStep() stepDef {
	return stepDef{
		name:    StepIDCode,
		guide:   &guide{asks: []MsgID{msgCodeSent}, answer: AnswerCode, notes: []MsgID{msgCodeWarning, msgBound}},
		kind:    identify,
		prompt:  (*turn).codePrompt,
		text:    (*turn).code,
		button:  (*turn).codeButton,
		buttons: []string{"code"},
		back:    StepIDPhone,
		moves:   map[move]string{evBound: StepChecklist},
		typed:   true,
	}
}

func (t *turn) codeMerchant() string {
	if t.st.Step == StepIDCode {
		return t.st.PendingNo
	}
	return t.st.MerchantNo
}

func (t *turn) codePrompt() {
	if t.st.Step == StepVerify && t.st.Verified && t.st.SubmitRefused {
		t.sayRefused()
		return
	}
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
		if wait, paused := t.codesPaused(); paused {
			t.sayPaused(wait) // the acquirer paused codes: Resend cannot help yet
			return
		}
		t.say(msgCodeLocked, nil, row(btn(msgBtnResend, "code:resend")))
		return
	}
	if !st.CodePending {
		// No code is out to check: say how to get one.
		if t.now().Sub(st.CodeSentAt) < CodeResendAfter {
			t.sayCodeWait(msgCodeWaitFirst)
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
	st.CodeAttempts, st.CodePending = 0, false
	if st.Step == StepIDCode {
		m, err := t.backend.Merchant(t.ctx, st.PendingNo)
		if err != nil {
			t.backendError("merchant", err)
			return
		}
		// The code proves the phone of the merchant the chat is bound to
		// now, and nothing before the binding.
		t.bind(m, t.now())
		return
	}
	st.Verified, st.ProvedAt = true, t.now()
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
		t.sayCodeWait(msgCodeWait)
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
	t.codeOut()
	t.codeSent(key)
}

// codeOut records a code the acquirer just sent. The wrong codes typed so
// far still count: the acquirer counts them across resent codes until
// MaxCodeAttempts locks it (and starts again) or an hour passes after the
// last one, which was typed at most CodeTTL after the previous code went
// out (CodeSentAt; the bot's guess at it errs late, counting longer).
func (t *turn) codeOut() {
	st := t.st
	if st.CodeAttempts >= MaxCodeAttempts || t.now().Sub(st.CodeSentAt) > time.Hour+backend.CodeTTL {
		st.CodeAttempts = 0
	}
	st.CodeSentAt, st.CodePending = t.now(), true
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
	t.codeOut()
	t.prompt()
}

// tooSoon answers an acquirer that refused a new code for now: the
// merchant learns how long to wait, counted by the acquirer's clock.
func (t *turn) tooSoon(err error) {
	st := t.st
	if wait, ok := backend.RetryAfter(err); ok {
		// Past the minute between two codes, CodeSentAt lies ahead: the
		// code step tells the acquirer's pause from it (sayCodeWait).
		st.CodeSentAt = t.now().Add(wait - CodeResendAfter)
	}
	key := msgCodeWait
	if !st.CodePending {
		key = msgCodeWaitFirst
	}
	t.sayCodeWait(key)
}

// sayCodeWait tells a merchant who asked for a code too soon (key: a code
// is out, or none is) when the acquirer sends the next one: in seconds
// within the minute between two codes, in minutes when it paused codes for
// this phone for longer.
func (t *turn) sayCodeWait(key MsgID) {
	if wait, paused := t.codesPaused(); paused {
		t.sayPaused(wait)
		return
	}
	t.say(key, Arg{"Seconds": t.resendIn()}, row(btn(msgBtnResend, "code:resend")))
}

// codesPaused reports the acquirer pausing codes for this phone longer
// than the minute between two codes (tooSoon set CodeSentAt ahead), and how
// long the pause lasts from now.
func (t *turn) codesPaused() (time.Duration, bool) {
	wait := CodeResendAfter - t.now().Sub(t.st.CodeSentAt)
	return wait, wait > CodeResendAfter
}

// sayPaused says that no code can be sent to this phone for wait. It names
// no cause: the acquirer's refusal does not tell wrong codes from the
// hourly cap on codes, nor this chat's codes from those asked elsewhere.
// Only a change has answers to keep.
func (t *turn) sayPaused(wait time.Duration) {
	key := msgCodePaused
	if t.st.Step == StepVerify {
		key = msgCodePausedKept
	}
	t.say(key, Arg{"Minutes": int((wait + time.Minute - 1) / time.Minute)}, row(btn(msgBtnResend, "code:resend")))
}
