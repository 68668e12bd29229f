package dialogs_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/locales"
)

// bocCard is a Bank of China debit card (BIN 601382, Luhn-valid).
const bocCard = "6013821234567890123"

// keys lists the message ids of out's replies.
func keys(out dialogs.Outcome) []dialogs.MsgID {
	var ks []dialogs.MsgID
	for _, r := range out.Replies {
		ks = append(ks, r.Key)
	}
	return ks
}

// hasButton reports a button with data in out.
func hasButton(out dialogs.Outcome, data string) bool {
	for _, r := range out.Replies {
		for _, row := range r.Buttons {
			for _, b := range row {
				if b.Data == data {
					return true
				}
			}
		}
	}
	return false
}

func (f *fixture) use(t *testing.T, b dialogs.Backend) {
	f.engine = dialogs.NewEngine(b, mustBins(t), dialogs.WithClock(f.clock))
}

// The case: a submission whose answer is lost, then /back, a new
// card and a new confirmation. The new content is a new application: it is
// never answered with the first one's receipt.
func TestChangedCardAfterALostSubmissionIsANewApplication(t *testing.T) {
	for _, tc := range []struct {
		name string
		lose int
	}{{"answer lost", answerLost}, {"request lost", requestLost}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			c := &chat{t: t, f: f, id: 21}
			throughSummary(c)
			f.advance(dialogs.FreshProof)
			c.press("sum:confirm")
			flaky := &flakySubmit{Backend: f.backend, lose: tc.lose}
			f.use(t, flaky)
			out := c.text(code)
			require.True(t, hasButton(out, "sub:retry"))

			c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
			require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 21).Step)
			c.press("sum:edit.card")
			c.text(bocCard)
			// Another bank: its branch is asked again, then the summary.
			require.Equal(t, dialogs.StepBranch, mustLoad(t, f, 21).Step)
			c.text("北京西单支行")
			require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 21).Step)
			out = c.press("sum:confirm") // the code typed a minute ago confirms it

			require.Equal(t, 2, flaky.calls)
			assert.NotEqual(t, flaky.keys[0], flaky.keys[1], "new content, new key")
			apps, err := f.backend.Applications(context.Background(), "822100050110001")
			require.NoError(t, err)
			require.Len(t, apps, 1)
			switch tc.lose {
			case answerLost:
				// The ICBC application exists: the BOC one is refused as a
				// second change, and the merchant is told that the pending
				// one carries the OLD card (masked), and what to do.
				assert.Equal(t, "622202*********0128", apps[0].CardMasked)
				assert.NotContains(t, keys(out), dialogs.MsgID("submitted"))
				require.Contains(t, keys(out), dialogs.MsgID("pending_old_card"))
				said := f.render.Reply(out.Lang, out.Replies[slices.Index(keys(out), dialogs.MsgID("pending_old_card"))])
				for _, want := range []string{apps[0].ID, "622202*********0128", "601382*********0123", "/status", "驳回", "人工客服"} {
					assert.Contains(t, said, want)
				}
				assert.True(t, hasButton(out, "m:support"))
				assert.Equal(t, apps[0].ID, mustLoad(t, f, 21).LastApp, "followed from now on")
				assert.True(t, mustLoad(t, f, 21).Secrets.Empty(), "the new card is not kept")
			case requestLost:
				assert.Equal(t, "601382*********0123", apps[0].CardMasked)
				require.Contains(t, keys(out), dialogs.MsgID("submitted"))
				assert.Contains(t, f.render.Reply(out.Lang, out.Replies[1]), "601382*********0123")
			}
		})
	}
}

// Every field is part of the idempotency key: any change is a new key, the
// same content the same key.
func TestSubmissionKeyFollowsEveryField(t *testing.T) {
	base := backend.Application{MerchantNo: "822100050110001", CardNumber: card, HolderName: "张三",
		BankCode: "ICBC", BankName: "中国工商银行", Branch: "上海张江支行", ReservedPhone: reservedPhone, CardType: "DC"}
	key := dialogs.SubmissionKey("d1", base)
	assert.Equal(t, key, dialogs.SubmissionKey("d1", base))
	assert.NotEqual(t, key, dialogs.SubmissionKey("d2", base), "another draft")
	for name, change := range map[string]func(*backend.Application){
		"merchant": func(a *backend.Application) { a.MerchantNo = "822100050110002" },
		"card":     func(a *backend.Application) { a.CardNumber = bocCard },
		"holder":   func(a *backend.Application) { a.HolderName = "李四" },
		"bank":     func(a *backend.Application) { a.BankCode, a.BankName = "BOC", "中国银行" },
		"branch":   func(a *backend.Application) { a.Branch = "上海张江支" },
		"phone":    func(a *backend.Application) { a.ReservedPhone = "13912345679" },
		"type":     func(a *backend.Application) { a.CardType = "" },
		"shifted":  func(a *backend.Application) { a.HolderName, a.Branch = "张三上海", "张江支行" },
	} {
		app := base
		change(&app)
		assert.NotEqual(t, key, dialogs.SubmissionKey("d1", app), name)
	}
	assert.NotContains(t, key, card[6:], "the key carries no card data")
}

// drive plays a merchant who follows dialogs.Guide() the shortest way,
// from /start until the application is in (the console's way, or sharing
// the contact), and returns how many actions (messages, taps, contacts) it
// took. Every action moves the dialog on: no question is asked twice and
// nothing makes the merchant wait or fails.
func drive(t *testing.T, f *fixture, c *chat, lang string, shareContact bool) int {
	t.Helper()
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start", LanguageCode: lang})
	m := zhangSan()
	if shareContact {
		m.sharing()
	}
	at := ""
	m.walk(c, func(st *dialogs.State) bool {
		for _, k := range keys(c.last) {
			require.NotContains(t, []dialogs.MsgID{"code_wait", "code_wait_first", "unavailable", "internal"}, k,
				"a forced wait or a failure on the happy path")
		}
		require.True(t, st.LastApp != "" || st.Step != at, "an action at step %q did not move the dialog on", at)
		at = st.Step
		return st.LastApp != ""
	})
	return 1 + m.actions
}

// effortBar is DESIGN.md §2's bar: a merchant finishes a change in at
// most 12 actions, counted when the guided steps were effortSteps. A step
// added since may cost one more action each; nothing else may.
const effortBar = 12

var effortSteps = []string{dialogs.StepMenu, dialogs.StepMerchant, dialogs.StepIDPhone, dialogs.StepIDCode,
	dialogs.StepChecklist, dialogs.StepConsent, dialogs.StepCard, dialogs.StepCardLuhn, dialogs.StepHolder,
	dialogs.StepBank, dialogs.StepBranch, dialogs.StepPhone, dialogs.StepSummary, dialogs.StepVerify}

// allowedActions is effortBar plus one per guided step added since.
func allowedActions() int {
	n := effortBar
	for _, g := range dialogs.Guide() {
		if !slices.Contains(effortSteps, g.Step) {
			n++
		}
	}
	return n
}

// DESIGN.md §2: a merchant who shares their contact finishes in at most
// 12 actions from /start to submitted (one more per step added since),
// with no forced wait; the console (typed phone and a code) takes one
// more step and, the identity code confirming the summary, no more
// actions.
func TestHappyPathActions(t *testing.T) {
	limit := allowedActions()
	for _, lang := range []string{locales.Chinese, locales.English} {
		t.Run("telegram "+lang, func(t *testing.T) {
			f := newFixture(t, nil)
			n := drive(t, f, &chat{t: t, f: f, id: 31}, lang, true)
			t.Logf("%d actions (at most %d)", n, limit)
			assert.LessOrEqual(t, n, limit, "actions from /start to submitted")
		})
		t.Run("console "+lang, func(t *testing.T) {
			f := newFixture(t, nil)
			n := drive(t, f, &chat{t: t, f: f, id: 32}, lang, false)
			t.Logf("%d actions (at most %d)", n, limit)
			assert.LessOrEqual(t, n, limit, "actions from /start to submitted (the identity code confirms the summary)")
		})
	}
}

// walkTo is throughSummary in lang.
func walkTo(c *chat, lang string) {
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start", LanguageCode: lang})
	throughSummary(c)
}

func TestBankAnswers(t *testing.T) {
	yes := []string{"是", "是的", "对", "对的", "yes", "OK", "correct", "Yes"}
	for _, in := range yes {
		t.Run("yes "+in, func(t *testing.T) {
			f := newFixture(t, nil)
			c := &chat{t: t, f: f, id: 41}
			throughSummary(c)
			c.press("sum:edit.bank")
			c.text(in)
			st := mustLoad(t, f, 41)
			assert.Equal(t, dialogs.StepSummary, st.Step)
			assert.Equal(t, "中国工商银行", st.BankName)
		})
	}
	for _, tc := range []struct {
		in, bank string
		step     string
		key      dialogs.MsgID
	}{
		{"工行", "中国工商银行", dialogs.StepSummary, "summary"},
		{"ICBC", "中国工商银行", dialogs.StepSummary, "summary"},
		{"中国工商银行股份有限公司", "中国工商银行", dialogs.StepSummary, "summary"},
		{"招商银行", "中国工商银行", dialogs.StepBank, "bank_contradicts"},
		{"13800000001", "中国工商银行", dialogs.StepBank, "name_is_phone"},
		{"-1", "中国工商银行", dialogs.StepBank, "name_is_number"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			f := newFixture(t, nil)
			c := &chat{t: t, f: f, id: 42}
			throughSummary(c)
			c.press("sum:edit.bank")
			out := c.text(tc.in)
			st := mustLoad(t, f, 42)
			assert.Equal(t, tc.step, st.Step)
			assert.Equal(t, tc.bank, st.BankName)
			assert.Equal(t, tc.key, out.Replies[0].Key)
		})
	}
	t.Run("a bank against the BIN, confirmed", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 43}
		throughSummary(c)
		c.press("sum:edit.bank")
		c.text("招行")
		c.press("bank:sure.CMB")
		st := mustLoad(t, f, 43)
		assert.Equal(t, "招商银行", st.BankName)
		assert.Equal(t, dialogs.StepBranch, st.Step, "another bank, another branch")
	})
	t.Run("unknown bank offers the closest", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 44}
		throughSummary(c)
		c.press("sum:edit.bank")
		out := c.text("工商银")
		st := mustLoad(t, f, 44)
		assert.Equal(t, dialogs.StepBank, st.Step)
		assert.Equal(t, "中国工商银行", st.BankName, "nothing stored as typed")
		require.NotEmpty(t, out.Replies)
		assert.Contains(t, []dialogs.MsgID{"bank_closest", "bank_unknown"}, out.Replies[0].Key)
		if out.Replies[0].Key == "bank_closest" {
			assert.NotEmpty(t, out.Replies[0].Buttons)
		}
	})
	t.Run("english names in english", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 45}
		walkTo(c, locales.English)
		b, ok := mustBins(t).BankByCode("ICBC")
		require.True(t, ok)
		require.NotEmpty(t, b.NameEN)
		all := strings.Join(c.said, "\n")
		assert.Contains(t, all, "Bank: "+b.NameEN)
		assert.NotContains(t, all, "中国工商银行")
	})
}

// At the holder question a typed "yes" answers the registered-name button.
func TestHolderYes(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 47}
	throughSummary(c)
	c.press("sum:edit.holder")
	c.text("是的")
	st := mustLoad(t, f, 47)
	assert.Equal(t, dialogs.StepSummary, st.Step)
	assert.Equal(t, "张三", st.Holder)
}

func TestBranchReasons(t *testing.T) {
	for in, want := range map[string]dialogs.MsgID{
		"13800000001": "name_is_phone", "-1": "name_is_number", "12345": "name_is_number",
		"上": "branch_invalid", "上海张江支行": "ask_reserved_phone",
	} {
		t.Run(in, func(t *testing.T) {
			f := newFixture(t, nil)
			c := &chat{t: t, f: f, id: 46}
			throughSummary(c)
			c.press("sum:edit.branch")
			out := c.text(in)
			if want == "ask_reserved_phone" {
				assert.Equal(t, dialogs.StepSummary, mustLoad(t, f, 46).Step)
				return
			}
			assert.Equal(t, want, out.Replies[0].Key)
			assert.Equal(t, "上海张江支行", mustLoad(t, f, 46).Branch)
		})
	}
}

// Numbers inside sentences are taken when exactly one of the right shape
// is there; two get "which one?"; none the specific reason.
func TestNumbersInSentences(t *testing.T) {
	type tc struct {
		in    string
		want  dialogs.MsgID // first reply
		moved bool          // the step was answered
	}
	at := func(t *testing.T, upTo func(c *chat), id int64, cases []tc, check func(t *testing.T, st *dialogs.State)) {
		for _, c0 := range cases {
			t.Run(c0.in, func(t *testing.T) {
				f := newFixture(t, nil)
				c := &chat{t: t, f: f, id: id}
				upTo(c)
				before := mustLoad(t, f, id).Step
				out := c.text(c0.in)
				st := mustLoad(t, f, id)
				assert.Equal(t, c0.want, out.Replies[0].Key)
				assert.Equal(t, c0.moved, st.Step != before, "step %s", st.Step)
				if c0.moved && check != nil {
					check(t, st)
				}
			})
		}
	}
	toCard := func(c *chat) {
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
		c.press("m:change")
		c.text("822100050110001")
		c.text("13800000001")
		c.text(code)
		c.press("ck:all")
		c.press("cs:yes")
	}
	t.Run("card", func(t *testing.T) {
		at(t, toCard, 51, []tc{
			{"卡号:6222021234567890128", "card_accepted", true},
			{"我的新卡是 6222 0212 3456 7890 128", "card_accepted", true},
			{"旧卡 6225881234567898 新卡 6222021234567890128", "which_one", false},
			{"卡号 622588123456789", "card_length", false},
			{"工商银行", "card_digits", false},
		}, func(t *testing.T, st *dialogs.State) { assert.Equal(t, card, st.Secrets.CardNumber) })
	})
	t.Run("a card in a sentence leaves the chat", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 52}
		toCard(c)
		for _, in := range []string{"我的新卡是 6222 0212 3456 7890 128", "旧卡 6225881234567898 新卡 6222021234567890128"} {
			out := c.text(in)
			require.NotEmpty(t, out.Effects)
			assert.Equal(t, dialogs.DeleteMessage, out.Effects[0].Kind)
		}
	})
	t.Run("reserved phone", func(t *testing.T) {
		at(t, func(c *chat) {
			throughSummary(c)
			c.press("sum:edit.phone")
		}, 53, []tc{
			{"我的手机号是13800000001", "summary", true},
			{"138.0000.0001", "summary", true},
			{"13800000001 或 13900000002", "which_one", false},
			{"手机号", "phone_invalid", false},
			{"021-12345678", "phone_not_mobile", false},
			{"138 0000 001", "phone_length", false},
		}, func(t *testing.T, st *dialogs.State) { assert.Equal(t, "13800000001", st.Secrets.ReservedPhone) })
	})
	t.Run("code", func(t *testing.T) {
		at(t, func(c *chat) {
			c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
			c.press("m:change")
			c.text("822100050110001")
			c.text("13800000001")
		}, 54, []tc{
			{"【收单】验证码是 123456，5分钟内有效", "bound", true},
			{"123456 或者 654321", "which_one", false},
			{"验证码", "code_format", false},
		}, nil)
	})
	t.Run("merchant number", func(t *testing.T) {
		at(t, func(c *chat) {
			c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
			c.press("m:change")
		}, 55, []tc{
			{"商户号：822100050110001", "ask_phone", true},
			{"822100050110001 和 822100050110002", "which_one", false},
			{"商户号", "merchant_no_invalid", false},
		}, func(t *testing.T, st *dialogs.State) { assert.Equal(t, "822100050110001", st.PendingNo) })
	})
}

// counting counts the identifications the acquirer is asked for.
type counting struct {
	dialogs.Backend
	verifies atomic.Int32
}

func (c *counting) VerifyMerchant(ctx context.Context, no, phone string) (backend.Merchant, error) {
	c.verifies.Add(1)
	return c.Backend.VerifyMerchant(ctx, no, phone)
}

// An unknown merchant number and a wrong phone get the same answer, and a
// chat has MaxLookups of them a day.
func TestIdentificationDoesNotTellMerchantsApart(t *testing.T) {
	answer := func(no string) []dialogs.MsgID {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 61}
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
		c.press("m:change")
		c.text(no)
		out := c.text("13900000009")
		assert.Equal(t, dialogs.StepMerchant, mustLoad(t, f, 61).Step)
		return keys(out)
	}
	unknown, wrongPhone := answer("822100050119999"), answer("822100050110001")
	assert.Equal(t, unknown, wrongPhone)

	f := newFixture(t, nil)
	cb := &counting{Backend: f.backend}
	f.use(t, cb)
	c := &chat{t: t, f: f, id: 62}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	c.press("m:change")
	for i := range dialogs.MaxLookups + 3 {
		c.text(fmt.Sprintf("82210005011%04d", 9000+i))
		c.text("13900000009")
	}
	assert.Equal(t, int32(dialogs.MaxLookups), cb.verifies.Load(), "no lookups past the budget")
	assert.Equal(t, dialogs.MsgID("lookups_spent"), c.last.Replies[0].Key)
	f.advance(dialogs.LookupWindow)
	c.text("822100050110001")
	c.text("13800000001")
	assert.Equal(t, int32(dialogs.MaxLookups+1), cb.verifies.Load(), "a new day, a new budget")
}

// refusing answers every submission with an acquirer's 4xx.
type refusing struct {
	dialogs.Backend
	err error
}

func (r refusing) Submit(context.Context, string, backend.Application) (backend.Receipt, error) {
	return backend.Receipt{}, r.err
}

func TestAcquirerRefusalGoesToSupport(t *testing.T) {
	for _, err := range []error{backend.ErrInvalidRequest, backend.ErrUnauthorized} {
		t.Run(err.Error(), func(t *testing.T) {
			f := newFixture(t, nil)
			c := &chat{t: t, f: f, id: 71}
			throughSummary(c)
			f.use(t, refusing{Backend: f.backend, err: fmt.Errorf("submit: %w", err)})
			out := c.press("sum:confirm")
			assert.Contains(t, keys(out), dialogs.MsgID("acquirer_refused"))
			assert.True(t, hasButton(out, "m:support"))
			assert.False(t, hasButton(out, "sub:retry"), "no retry that cannot succeed")
			// Whatever the merchant says at that step next, the same: support,
			// never the retry the refusal rules out.
			for _, in := range []dialogs.Input{{Kind: dialogs.InText, Text: "hello?"}, {Kind: dialogs.InCommand, Text: "help"}} {
				out = c.send(in)
				assert.False(t, hasButton(out, "sub:retry"), "%s: no retry that cannot succeed", in.Text)
				assert.Contains(t, keys(out), dialogs.MsgID("acquirer_refused"), in.Text)
			}
			// Proven again and tried again, a failure that a retry can fix
			// offers the retry once more.
			f.use(t, refusing{Backend: f.backend, err: fmt.Errorf("submit: %w", backend.ErrUnavailable)})
			c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
			c.press("sum:confirm")
			out = c.send(dialogs.Input{Kind: dialogs.InText, Text: "hello?"})
			assert.True(t, hasButton(out, "sub:retry"), "a try that failed for now can be retried")
		})
	}
}

func TestSmallerOnes(t *testing.T) {
	t.Run("back inside the checklist", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 81}
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
		c.press("m:change")
		c.text("822100050110001")
		c.text("13800000001")
		c.text(code)
		c.press("ck:no")
		c.press("ck:no.2")
		out := c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
		assert.Equal(t, dialogs.StepChecklist, mustLoad(t, f, 81).Step)
		assert.True(t, hasButton(out, "ck:all"))
		out = c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
		assert.Equal(t, dialogs.StepChecklist, mustLoad(t, f, 81).Step, "not the menu")
		assert.Equal(t, dialogs.MsgID("checklist_first"), out.Replies[0].Key)
		c.press("ck:why")
		c.press("ck:all")
		assert.Equal(t, dialogs.StepConsent, mustLoad(t, f, 81).Step)
	})
	t.Run("help at the menu keeps its buttons", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 82}
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
		out := c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "help"})
		assert.True(t, hasButton(out, "m:change"))
	})
	t.Run("typing the language", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 83}
		throughSummary(c)
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "language"})
		c.text("English")
		st := mustLoad(t, f, 83)
		assert.Equal(t, locales.English, st.Lang)
		assert.Equal(t, dialogs.StepSummary, st.Step)
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "language"})
		c.text("中文")
		assert.Equal(t, locales.Chinese, mustLoad(t, f, 83).Lang)
	})
	t.Run("first code after a wait", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 84}
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
		zhangSan().sharing().walkTo(c, dialogs.StepSummary)
		// A code went to the phone on file moments ago (another channel):
		// the acquirer makes the first code of this step wait.
		f.use(t, &tooSoonOnce{Backend: f.backend})
		c.press("sum:confirm")
		require.Equal(t, []dialogs.MsgID{"code_wait_first"}, keys(c.last))
		f.advance(dialogs.CodeResendAfter)
		out := c.press("code:resend")
		assert.Equal(t, []dialogs.MsgID{"code_sent", "code_warning"}, keys(out), "the first code is sent, not re-sent, with the warning")
		out = c.press("code:resend")
		assert.Equal(t, []dialogs.MsgID{"code_wait"}, keys(out))
		f.advance(dialogs.CodeResendAfter)
		out = c.press("code:resend")
		assert.Equal(t, []dialogs.MsgID{"code_resent", "code_warning"}, keys(out))
	})
	t.Run("one try left", func(t *testing.T) {
		f := newFixture(t, nil)
		c := &chat{t: t, f: f, id: 85}
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
		c.press("m:change")
		c.text("822100050110001")
		c.text("13800000001")
		var last string
		for range dialogs.MaxCodeAttempts - 1 {
			out := c.text("000000")
			last = f.render.Reply(out.Lang, out.Replies[0])
		}
		assert.Equal(t, "验证码不正确，还可以尝试 1 次。", last)
	})
}

// tooSoonOnce refuses the first code as too soon after another one.
type tooSoonOnce struct {
	dialogs.Backend
	refused bool
}

func (b *tooSoonOnce) SendCode(ctx context.Context, no string) error {
	if !b.refused {
		b.refused = true
		return &backend.TooSoonError{Wait: 50 * time.Second}
	}
	return b.Backend.SendCode(ctx, no)
}

// TestStrayCardInEveryForm: a card number typed where none is asked, in
// any written form (dots, slashes, full-width, mixed), leaves the chat and
// changes nothing; the merchant number typed at the identify step, dotted
// or not, is an answer and stays.
func TestStrayCardInEveryForm(t *testing.T) {
	for _, in := range []string{"6228.4800.0012.3456.782", "６２２８ ４８００-0012．3456／782", "6228_4800_0012_3456_782",
		"卡号 6228 4800 0012 3456 782", "11010519491231002X"} {
		t.Run(in, func(t *testing.T) {
			f := newFixture(t, nil)
			c := &chat{t: t, f: f, id: 61}
			c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
			c.press("m:change")
			before := mustLoad(t, f, 61)
			out := c.text(in)
			require.Len(t, effectsOf(out, dialogs.DeleteMessage), 1)
			assert.Equal(t, dialogs.MsgID("stray_card"), out.Replies[0].Key)
			assert.Equal(t, before.Step, mustLoad(t, f, 61).Step)
		})
	}
	for _, in := range []string{"822100050110001", "822.100.050.110.001", "商户号 8221 0005 0110 001"} {
		t.Run(in, func(t *testing.T) {
			f := newFixture(t, nil)
			c := &chat{t: t, f: f, id: 62}
			c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
			c.press("m:change")
			out := c.text(in)
			assert.Empty(t, effectsOf(out, dialogs.DeleteMessage), "the merchant number stays in the chat")
			assert.Equal(t, dialogs.StepIDPhone, mustLoad(t, f, 62).Step)
		})
	}
}
