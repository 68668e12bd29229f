package wechatpay_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/wechatpay"
	"github.com/merchantbot/merchantbot/bot/handoff"
	"github.com/merchantbot/merchantbot/bot/notify"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/internal/wechatpaytest"
)

// TestSubmitToAuditSuccess: in both key modes, the merchant is verified
// against the directory, sees the card in effect masked, gets a code of
// ours, and the change goes to WeChat Pay with the card number and name
// encrypted (the fake decrypts exactly them), then walks
// submitted → under_review → approved → effective.
func TestSubmitToAuditSuccess(t *testing.T) {
	for name, mode := range map[string]wechatpaytest.Mode{"public key": wechatpaytest.PublicKeyMode, "platform certificate": wechatpaytest.CertificateMode} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			e := setup(t, mode)
			_, err := e.b.VerifyMerchant(ctx, "M001", "13800138000")
			require.ErrorIs(t, err, backend.ErrPhoneMismatch)
			m, err := e.b.VerifyMerchant(ctx, "M001", "+86 138 0013 8001")
			require.NoError(t, err)
			assert.Equal(t, "622202*********3445", m.CardMasked)
			assert.Equal(t, "138****8001", m.PhoneMasked)
			assert.Equal(t, backend.KindIndividual, m.Kind)

			require.NoError(t, e.b.SendCode(ctx, "M001"))
			assert.Equal(t, phoneInd, e.codes.sent["M001"], "the code goes to the directory's phone")
			require.ErrorIs(t, e.b.CheckCode(ctx, "M001", "000000"), backend.ErrWrongCode)
			require.NoError(t, e.b.CheckCode(ctx, "M001", goodCode))

			rc, err := e.b.Submit(ctx, "key-1", app())
			require.NoError(t, err)
			apps := e.fake.Applications()
			require.Len(t, apps, 1)
			assert.Equal(t, apps[0].No, rc.ID, "the receipt is WeChat Pay's application_no")
			assert.Equal(t, backend.StatusSubmitted, rc.Status)
			assert.Equal(t, "622202******7894", rc.CardMasked)
			assert.Equal(t, []wechatpaytest.Decrypted{{SubMchID: subInd, AccountNumber: newCard, AccountName: nameInd}}, e.fake.Decrypted())
			assert.Equal(t, "ACCOUNT_TYPE_PRIVATE", apps[0].Account.Type)
			assert.Equal(t, "工商银行", apps[0].Account.Bank)

			again, err := e.b.Submit(ctx, "key-1", app())
			require.NoError(t, err)
			assert.Equal(t, rc.ID, again.ID, "the same key is the same application")
			assert.Len(t, e.fake.Applications(), 1)

			r, err := e.b.Application(ctx, rc.ID)
			require.NoError(t, err)
			assert.Equal(t, backend.StatusReview, r.Status)

			e.fake.Advance(reviewTime)
			r, err = e.b.Application(ctx, rc.ID)
			require.NoError(t, err)
			assert.Equal(t, backend.StatusEffective, r.Status)
			var walked []backend.Status
			for _, h := range r.History {
				walked = append(walked, h.Status)
			}
			assert.Equal(t, []backend.Status{backend.StatusSubmitted, backend.StatusReview, backend.StatusApproved, backend.StatusEffective}, walked)

			m, err = e.b.Merchant(ctx, "M001")
			require.NoError(t, err)
			assert.Equal(t, "622202******7894", m.CardMasked, "the account in effect is the new card")
			list, err := e.b.Applications(ctx, "M001")
			require.NoError(t, err)
			require.Len(t, list, 1)
			assert.Equal(t, backend.StatusEffective, list[0].Status)
			assert.Empty(t, e.fake.Refused(), "every request's signature and serial were right")
		})
	}
}

// TestApprovedUntilVerified: AUDIT_SUCCESS with the new account still being
// verified (VERIFYING) is approved, not yet effective.
func TestApprovedUntilVerified(t *testing.T) {
	ctx := context.Background()
	e := setup(t, wechatpaytest.PublicKeyMode)
	rc, err := e.b.Submit(ctx, "k", app())
	require.NoError(t, err)
	e.fake.Advance(reviewTime)
	e.fake.SetVerifyResult(subInd, "VERIFYING")
	r, err := e.b.Application(ctx, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, backend.StatusApproved, r.Status)
	e.fake.SetVerifyResult(subInd, "VERIFY_SUCCESS")
	r, err = e.b.Application(ctx, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, backend.StatusEffective, r.Status)
}

// TestSubmitToAuditFail: a rejection carries WeChat Pay's words, and our
// code when they are recognisable.
func TestSubmitToAuditFail(t *testing.T) {
	for reason, code := range map[string]string{
		"开户名称与商户主体名称不一致，请核实后重新提交": backend.ReasonNameMismatch,
		"该银行卡为信用卡，请使用借记卡":         backend.ReasonCreditCard,
		"银行账户信息有误，请核实后重新提交":       wechatpay.ReasonWeChat,
	} {
		t.Run(code, func(t *testing.T) {
			ctx := context.Background()
			e := setup(t, wechatpaytest.PublicKeyMode)
			e.fake.FailNext(subInd, reason)
			rc, err := e.b.Submit(ctx, "k", app())
			require.NoError(t, err)
			e.fake.Advance(reviewTime)
			r, err := e.b.Application(ctx, rc.ID)
			require.NoError(t, err)
			assert.Equal(t, backend.StatusRejected, r.Status)
			assert.Equal(t, code, r.Reason)
			assert.Equal(t, reason, r.ReasonText)
			m, err := e.b.Merchant(ctx, "M001")
			require.NoError(t, err)
			assert.Equal(t, "622202*********3445", m.CardMasked, "the old account stays in effect")
		})
	}
}

// TestTamperedSignature: an answer whose signature does not verify is not
// believed: no status comes of it, it is logged without its body, counted,
// and the Observer sees ErrBadSignature.
func TestTamperedSignature(t *testing.T) {
	ctx := context.Background()
	e := setup(t, wechatpaytest.PublicKeyMode)
	rc, err := e.b.Submit(ctx, "k", app())
	require.NoError(t, err)
	e.fake.Advance(reviewTime) // AUDIT_SUCCESS at WeChat Pay
	e.fake.Inject(wechatpaytest.OpApplication, wechatpaytest.Fault{Tamper: true})
	_, err = e.b.Application(ctx, rc.ID)
	require.ErrorIs(t, err, wechatpay.ErrBadSignature)
	require.ErrorIs(t, err, backend.ErrUnavailable)
	assert.EqualValues(t, 1, e.b.BadSignatures())
	logs := e.logs.String()
	assert.Contains(t, logs, "signature does not verify")
	assert.NotContains(t, logs, "AUDIT_SUCCESS", "the refused answer's body is not logged")
	list, err := e.b.Applications(ctx, "M001") // answered well this time
	require.NoError(t, err)
	assert.Equal(t, backend.StatusEffective, list[0].Status)
	var bad int
	for _, c := range e.obs.all() {
		if errors.Is(c.err, wechatpay.ErrBadSignature) {
			bad++
			assert.Equal(t, "application", c.op)
		}
	}
	assert.Equal(t, 1, bad)

	// A tampered answer to the submission itself: not believed, so the
	// next try looks before it sends, and makes no second application.
	e.fake.Inject(wechatpaytest.OpModify, wechatpaytest.Fault{Tamper: true})
	a2 := app()
	a2.CardNumber = "6222020000000000008"
	_, err = e.b.Submit(ctx, "k2", a2)
	require.ErrorIs(t, err, wechatpay.ErrBadSignature)
	rc2, err := e.b.Submit(ctx, "k2", a2)
	require.NoError(t, err)
	assert.Equal(t, backend.StatusReview, rc2.Status)
	assert.Len(t, e.fake.Applications(), 2)
	assert.EqualValues(t, 2, e.b.BadSignatures())
}

// TestLostAnswer: the application is made, its answer lost; the retry
// (same key) makes no second application, whatever happened meanwhile.
func TestLostAnswer(t *testing.T) {
	ctx := context.Background()
	t.Run("still under review", func(t *testing.T) {
		e := setup(t, wechatpaytest.PublicKeyMode)
		e.fake.Inject(wechatpaytest.OpModify, wechatpaytest.Fault{Lost: true})
		_, err := e.b.Submit(ctx, "k", app())
		require.ErrorIs(t, err, backend.ErrUnavailable)
		require.Len(t, e.fake.Applications(), 1, "the fake made it")
		rc, err := e.b.Submit(ctx, "k", app())
		require.NoError(t, err)
		assert.Len(t, e.fake.Applications(), 1, "no second application")
		assert.Equal(t, backend.StatusReview, rc.Status)
		assert.True(t, strings.HasPrefix(rc.ID, "WX"), "followed under an id of ours: %s", rc.ID)
		e.fake.Advance(reviewTime)
		r, err := e.b.Application(ctx, rc.ID)
		require.NoError(t, err)
		assert.Equal(t, backend.StatusEffective, r.Status)
		again, err := e.b.Submit(ctx, "k", app())
		require.NoError(t, err)
		assert.Equal(t, rc.ID, again.ID)
		assert.Equal(t, 2, e.fake.Calls(wechatpaytest.OpModify))
	})
	t.Run("already in effect", func(t *testing.T) {
		e := setup(t, wechatpaytest.PublicKeyMode)
		e.fake.Inject(wechatpaytest.OpModify, wechatpaytest.Fault{Lost: true})
		_, err := e.b.Submit(ctx, "k", app())
		require.ErrorIs(t, err, backend.ErrUnavailable)
		e.fake.Advance(reviewTime)
		rc, err := e.b.Submit(ctx, "k", app())
		require.NoError(t, err)
		assert.Equal(t, backend.StatusEffective, rc.Status)
		assert.Equal(t, 1, e.fake.Calls(wechatpaytest.OpModify), "not sent again: the settlement showed it")
		assert.Len(t, e.fake.Applications(), 1)
	})
	t.Run("5xx, nothing made", func(t *testing.T) {
		e := setup(t, wechatpaytest.PublicKeyMode)
		e.fake.Inject(wechatpaytest.OpModify, wechatpaytest.Fault{Status: 500, Code: "SYSTEM_ERROR", Message: "系统异常，请稍后重试"})
		_, err := e.b.Submit(ctx, "k", app())
		require.ErrorIs(t, err, backend.ErrUnavailable)
		rc, err := e.b.Submit(ctx, "k", app())
		require.NoError(t, err)
		assert.Equal(t, backend.StatusSubmitted, rc.Status)
		assert.Len(t, e.fake.Applications(), 1)
	})
}

// TestErrorsMapped: WeChat Pay's error answers become the backend's errors;
// a refusal leaves the key free for a corrected try; the operator's key
// mistakes are logged.
func TestErrorsMapped(t *testing.T) {
	ctx := context.Background()
	e := setup(t, wechatpaytest.PublicKeyMode)
	for _, c := range []struct {
		fault wechatpaytest.Fault
		want  error
	}{
		{wechatpaytest.Fault{Status: 400, Code: "PARAM_ERROR", Message: "参数错误"}, backend.ErrInvalidRequest},
		{wechatpaytest.Fault{Status: 401, Code: "SIGN_ERROR", Message: "签名错误"}, backend.ErrUnauthorized},
		{wechatpaytest.Fault{Status: 429, Code: "FREQUENCY_LIMITED", Message: "频率超限"}, backend.ErrUnavailable},
		{wechatpaytest.Fault{Status: 429, Code: "FREQUENCY_LIMITED", Message: "当日修改次数已达上限，请明日再试"}, backend.ErrTooManyRequests},
		{wechatpaytest.Fault{Status: 503, Code: "SYSTEM_ERROR", Message: "系统繁忙"}, backend.ErrUnavailable},
	} {
		e.fake.Inject(wechatpaytest.OpModify, c.fault)
		_, err := e.b.Submit(ctx, "k-"+c.fault.Code+c.fault.Message, app())
		require.ErrorIs(t, err, c.want, "%+v", c.fault)
		var we *wechatpay.Error
		require.ErrorAs(t, err, &we)
		assert.Equal(t, c.fault.Code, we.Code)
	}
	assert.Contains(t, e.logs.String(), "refused our signature")
	assert.Empty(t, e.fake.Applications())

	// The key refused with PARAM_ERROR is free again.
	rc, err := e.b.Submit(ctx, "k-PARAM_ERROR参数错误", app())
	require.NoError(t, err)
	// A second change while one is AUDITING is refused by WeChat Pay.
	other := app()
	other.CardNumber = "6222020000000000008"
	_, err = e.b.Submit(ctx, "k-other", other)
	require.ErrorIs(t, err, backend.ErrChangePending)
	list, err := e.b.Applications(ctx, "M001")
	require.NoError(t, err)
	require.Len(t, list, 1, "the refused one is not listed")
	assert.Equal(t, rc.ID, list[0].ID)

	_, err = e.b.Submit(ctx, "k-nobank", backend.Application{MerchantNo: "M001", CardNumber: newCard, BankName: "宁波银行", AreaCode: "584"})
	require.ErrorIs(t, err, backend.ErrInvalidRequest, "宁波银行 needs its branch")
	_, err = e.b.Merchant(ctx, "M404")
	require.ErrorIs(t, err, backend.ErrUnknownMerchant)
}

// TestOperatorKeyMistakes: a wrong certificate serial or private key is
// refused by WeChat Pay with SIGN_ERROR: ErrUnauthorized, logged.
func TestOperatorKeyMistakes(t *testing.T) {
	ctx := context.Background()
	e := setup(t, wechatpaytest.PublicKeyMode)
	cfg := e.cfg
	cfg.CertSerial = "0123456789ABCDEF"
	b, err := wechatpay.New(ctx, cfg)
	require.NoError(t, err)
	_, err = b.Merchant(ctx, "M001")
	require.ErrorIs(t, err, backend.ErrUnauthorized)
	assert.Contains(t, e.fake.Refused(), "authorization: serial_no")
	assert.Contains(t, e.logs.String(), "refused our signature")

	cfg = e.cfg
	cfg.PublicKeyID = "PUB_KEY_ID_WRONG"
	b, err = wechatpay.New(ctx, cfg)
	require.NoError(t, err)
	_, err = b.Merchant(ctx, "M001")
	require.ErrorIs(t, err, backend.ErrInvalidRequest, "WeChat Pay refuses a Wechatpay-Serial it does not have")
}

// TestBranchesCached: cities and branches come from WeChat Pay's lists,
// fetched once and then read from Redis (no HTTP call), searched by a word.
func TestBranchesCached(t *testing.T) {
	ctx := context.Background()
	e := setup(t, wechatpaytest.PublicKeyMode)
	lists := func() int {
		n := 0
		for _, op := range []string{wechatpaytest.OpProvinces, wechatpaytest.OpCities, wechatpaytest.OpBanks, wechatpaytest.OpBranches} {
			n += e.fake.Calls(op)
		}
		return n
	}
	for round := range 2 {
		before := lists()
		cities, err := e.b.Cities(ctx, "深圳", 10)
		require.NoError(t, err)
		assert.Equal(t, []backend.Area{{Code: "584", Name: "深圳市", Province: "广东省"}}, cities)
		br, err := e.b.Branches(ctx, "NBCB", "宁波银行", "584", "南山", 10)
		require.NoError(t, err)
		assert.Equal(t, []backend.Branch{{ID: "313584000012", Name: "宁波银行股份有限公司深圳南山支行"}}, br)
		all, err := e.b.Branches(ctx, "NBCB", "宁波银行", "584", "", 0)
		require.NoError(t, err)
		assert.Len(t, all, 2)
		_, err = e.b.Branches(ctx, "CGB", "广发银行", "10", "", 0)
		require.ErrorIs(t, err, backend.ErrNoBranchNeeded, "广发银行 needs no branch in either list")
		icbc, err := e.b.Branches(ctx, "ICBC", "中国工商银行", "10", "", 0)
		require.NoError(t, err)
		assert.Len(t, icbc, 1, "工商银行 needs one for a business account: its branches are offered")
		_, err = e.b.Branches(ctx, "XYZ", "某某村镇银行", "10", "", 0)
		require.ErrorIs(t, err, backend.ErrNoBranchList, "a bank WeChat Pay does not list has no branches to offer")
		if round == 0 {
			assert.Positive(t, lists()-before)
		} else {
			assert.Equal(t, before, lists(), "the second lookup makes no HTTP call")
		}
	}
	// A picked branch goes with the change.
	a := app()
	a.BankCode, a.BankName, a.AreaCode, a.BranchID, a.Branch = "NBCB", "宁波银行", "584", "313584000012", "宁波银行股份有限公司深圳南山支行"
	_, err := e.b.Submit(ctx, "k", a)
	require.NoError(t, err)
	got := e.fake.Applications()[0].Account
	assert.Equal(t, "宁波银行", got.Bank)
	assert.Equal(t, "313584000012", got.BranchID)
	assert.Equal(t, "宁波银行股份有限公司深圳南山支行", got.BankName)
}

// TestUnlistedBankTakesTheTypedBranch: a bank neither of WeChat Pay's bank
// lists knows has no branch list (backend.ErrNoBranchList, in any city);
// its change goes as account_bank 其他银行 with bank_name the branch's
// full name typed and the city's code, no bank_branch_id; without the
// name nothing is sent.
func TestUnlistedBankTakesTheTypedBranch(t *testing.T) {
	ctx := context.Background()
	e := setup(t, wechatpaytest.PublicKeyMode)
	for _, city := range []string{"584", "10", ""} {
		list, err := e.b.Branches(ctx, "", "浙江某某村镇银行股份有限公司", city, "", 8)
		require.ErrorIs(t, err, backend.ErrNoBranchList, "city %q", city)
		assert.Empty(t, list)
	}
	a := app()
	a.BankCode, a.BankName, a.AreaCode = "", "浙江某某村镇银行股份有限公司", "584"
	_, err := e.b.Submit(ctx, "k-nobranch", a)
	require.ErrorIs(t, err, backend.ErrInvalidRequest, "其他银行 needs the branch's name")
	assert.Empty(t, e.fake.Applications(), "nothing sent")

	a.Branch = "浙江某某村镇银行股份有限公司城南支行"
	rc, err := e.b.Submit(ctx, "k-typed", a)
	require.NoError(t, err)
	apps := e.fake.Applications()
	require.Len(t, apps, 1)
	assert.Equal(t, rc.ID, apps[0].No)
	got := apps[0].Account
	assert.Equal(t, "其他银行", got.Bank)
	assert.Equal(t, "浙江某某村镇银行股份有限公司城南支行", got.BankName)
	assert.Empty(t, got.BranchID)
	assert.Equal(t, "584", got.AddressCode)
	assert.Equal(t, "ACCOUNT_TYPE_PRIVATE", got.Type)
	assert.Equal(t, []wechatpaytest.Decrypted{{SubMchID: subInd, AccountNumber: newCard, AccountName: nameInd}}, e.fake.Decrypted(),
		"the fake decrypted the card number and name")
	r, err := e.b.Application(ctx, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, a.Branch, r.Branch, "the receipt names the branch typed")
	assert.Empty(t, e.fake.Refused())
}

// TestNoCardDataInClear: no card number, holder name or phone in clear in
// any log line, error text or Redis value, through a change's whole life,
// its failures included.
func TestNoCardDataInClear(t *testing.T) {
	ctx := context.Background()
	e := setup(t, wechatpaytest.PublicKeyMode)
	var errs []string
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	_, err := e.b.VerifyMerchant(ctx, "M001", "13800138000")
	keep(err)
	_, err = e.b.VerifyMerchant(ctx, "M001", phoneInd)
	keep(err)
	keep(e.b.SendCode(ctx, "M001"))
	keep(e.b.CheckCode(ctx, "M001", "135791"))
	for _, f := range []wechatpaytest.Fault{
		{Status: 400, Code: "PARAM_ERROR", Message: "account_number " + newCard + " 无效"},
		{Status: 401, Code: "SIGN_ERROR", Message: "签名错误"},
		{Lost: true}, {Tamper: true},
	} {
		e.fake.Inject(wechatpaytest.OpModify, f)
		_, err = e.b.Submit(ctx, "k", app())
		keep(err)
	}
	_, err = e.b.Submit(ctx, "k", app())
	keep(err)
	e.fake.Advance(reviewTime)
	e.fake.FailNext(subInd, "开户名称"+nameInd+"与主体不一致")
	a2 := app()
	a2.CardNumber = "6222020000000000008"
	rc, err := e.b.Submit(ctx, "k2", a2)
	require.NoError(t, err)
	e.fake.Advance(reviewTime)
	e.fake.Inject(wechatpaytest.OpApplication, wechatpaytest.Fault{Tamper: true})
	_, err = e.b.Application(ctx, rc.ID)
	keep(err)
	r, err := e.b.Application(ctx, rc.ID)
	keep(err)
	require.Equal(t, backend.StatusRejected, r.Status)
	require.Contains(t, r.ReasonText, nameInd, "WeChat Pay's words reach the merchant")
	list, err := e.b.Applications(ctx, "M001")
	keep(err)
	require.Len(t, list, 2)
	assert.Equal(t, r.ReasonText, list[0].ReasonText, "read back from Redis, unsealed")
	_, err = e.b.Branches(ctx, "NBCB", "宁波银行", "584", "", 0)
	keep(err)
	require.NotEmpty(t, errs)

	dump, err := redistest.Dump(ctx, e.rdb, e.prefix)
	require.NoError(t, err)
	require.NotEmpty(t, dump)
	outputs := append(append([]string{e.logs.String()}, errs...), dump...)
	input := newCard + " " + phoneInd + " " + oldCard + " " + a2.CardNumber
	assert.Empty(t, leaktest.Leaks(input, outputs...), "card or phone digits in clear")
	for _, o := range outputs {
		assert.NotContains(t, o, nameInd, "the holder's name in clear")
	}
}

// TestDoubleTap: the same submission sent twice at once makes one
// application; the call that found the other in flight is told to try
// again and then gets the same receipt.
func TestDoubleTap(t *testing.T) {
	ctx := context.Background()
	e := setup(t, wechatpaytest.PublicKeyMode)
	var wg sync.WaitGroup
	ids := make([]string, 4)
	errs := make([]error, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc, err := e.b.Submit(ctx, "k", app())
			ids[i], errs[i] = rc.ID, err
		}()
	}
	wg.Wait()
	require.Len(t, e.fake.Applications(), 1)
	no := e.fake.Applications()[0].No
	for i, err := range errs {
		if err != nil {
			require.ErrorIs(t, err, backend.ErrUnavailable)
			continue
		}
		assert.Equal(t, no, ids[i])
	}
	rc, err := e.b.Submit(ctx, "k", app())
	require.NoError(t, err)
	assert.Equal(t, no, rc.ID)
	assert.Equal(t, 1, e.fake.Calls(wechatpaytest.OpModify))
}

// The Backend is what the dialog, the poller, the support desk and the
// branch picker need.
var (
	_ dialogs.Backend     = (*wechatpay.Backend)(nil)
	_ notify.Applications = (*wechatpay.Backend)(nil)
	_ handoff.Backend     = (*wechatpay.Backend)(nil)
	_ backend.Branches    = (*wechatpay.Backend)(nil)
)

// TestVerifyFail: the new account in effect whose check failed stays
// approved, with WeChat Pay's words kept.
func TestVerifyFail(t *testing.T) {
	ctx := context.Background()
	e := setup(t, wechatpaytest.PublicKeyMode)
	rc, err := e.b.Submit(ctx, "k", app())
	require.NoError(t, err)
	e.fake.Advance(reviewTime)
	e.fake.SetVerifyResult(subInd, "VERIFY_FAIL")
	r, err := e.b.Application(ctx, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, backend.StatusApproved, r.Status)
	assert.Contains(t, e.logs.String(), "cannot pay out")
}

// countingTransport counts the requests that leave the Backend.
type countingTransport struct {
	mu sync.Mutex
	n  int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *countingTransport) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestMalformedCardNumberNotSent: a card number that parse.Digits does not
// turn into 12 to 19 ASCII digits (dots, letters, a stray byte) is refused
// by the adapter itself, before any request leaves it (not the bank list,
// not modify-settlement), and the refusal does not carry the number.
func TestMalformedCardNumberNotSent(t *testing.T) {
	ctx := context.Background()
	e := setup(t, wechatpaytest.PublicKeyMode)
	ct := &countingTransport{}
	cfg := e.cfg
	cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: ct}
	b, err := wechatpay.New(ctx, cfg)
	require.NoError(t, err)
	for _, card := range []string{
		"6222.0212.3456.7894", // 19 characters, 16 digits
		"6222021234567894.",
		"622202123456789.4",
		"62220212345678ab",
		"6222021234567894\xff",
		"６２２２．０２１２．３４５６．７８９４",
		"622202123",            // too short
		"62220212345678901234", // too long
	} {
		a := app()
		a.CardNumber = card
		before := ct.count()
		_, err := b.Submit(ctx, "k-"+card, a)
		require.ErrorIs(t, err, backend.ErrInvalidRequest, "%q", card)
		assert.Empty(t, leaktest.Leaks(card, err.Error()), "%q: the number in the error", card)
		assert.NotContains(t, err.Error(), card)
		assert.Equal(t, before, ct.count(), "%q: a request left the adapter", card)
	}
	assert.Empty(t, e.fake.Applications())

	// The same Backend sends a good number: the transport does count.
	_, err = b.Submit(ctx, "k-good", app())
	require.NoError(t, err)
	assert.NotZero(t, ct.count())
}

// proxyTimeout forwards the modify-settlement request, then answers it as a
// proxy on the way whose own timeout ran out would: 408, an HTML page.
type proxyTimeout struct{ next http.RoundTripper }

func (p proxyTimeout) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := p.next.RoundTrip(r)
	if err != nil || !strings.Contains(r.URL.Path, "modify-settlement") {
		return res, err
	}
	res.Body.Close()
	return &http.Response{StatusCode: http.StatusRequestTimeout, Status: "408 Request Timeout",
		Header: http.Header{"Content-Type": {"text/html"}}, Request: r,
		Body: io.NopCloser(strings.NewReader("<html><body>gateway timeout</body></html>"))}, nil
}

// TestProxyErrorIsALostAnswer: an error answer that is not WeChat Pay's (no
// code of its, e.g. a proxy's 408 page after the request went through) is
// taken as a lost answer, not a refusal: the submission's record is kept,
// and the next try finds the application made instead of being refused as
// "another change under review".
func TestProxyErrorIsALostAnswer(t *testing.T) {
	ctx := context.Background()
	e := setup(t, wechatpaytest.PublicKeyMode)
	cfg := e.cfg
	cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: proxyTimeout{next: http.DefaultTransport}}
	b, err := wechatpay.New(ctx, cfg)
	require.NoError(t, err)
	_, err = b.Submit(ctx, "k", app())
	require.ErrorIs(t, err, backend.ErrUnavailable)
	require.Len(t, e.fake.Applications(), 1, "the request went through")
	rc, err := e.b.Submit(ctx, "k", app())
	require.NoError(t, err, "the application made is found, not refused as another one under review")
	assert.Equal(t, backend.StatusReview, rc.Status)
	assert.Len(t, e.fake.Applications(), 1, "no second application")
}
