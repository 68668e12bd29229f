package dialogs

import (
	"time"

	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// merchantStep is the step StepMerchant.
func merchantStep() stepDef {
	return stepDef{
		name:   StepMerchant,
		guide:  &guide{asks: []MsgID{msgAskMerchantNo}, answer: AnswerMerchantNo},
		kind:   identify,
		prompt: func(t *turn) { t.say(msgAskMerchantNo, nil) },
		text:   (*turn).merchantNo,
		back:   StepMenu,
		moves:  map[move]string{evMerchantOK: StepIDPhone},
		typed:  true,
	}
}

func (t *turn) merchantNo(text string) {
	if t.lookupsSpent() {
		return
	}
	no, ok := t.single(parse.FindMerchantNo, text, msgWhatMerchantNo, func() { t.say(msgMerchantNoInvalid, nil) })
	if !ok {
		return
	}
	if no != t.st.PendingNo && no != t.st.MerchantNo {
		// The acquirer counts wrong codes by phone: another merchant's
		// phone starts with every try.
		t.st.CodeAttempts = 0
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
