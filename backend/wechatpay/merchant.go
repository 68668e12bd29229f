package wechatpay

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// Operations as the Observer sees them: a fixed set, never a path.
const (
	opModify      = backend.OpSubmit
	opSettlement  = backend.OpMerchant
	opApplication = "application"
	opLists       = "lists"
)

// maskRule asks WeChat Pay for numbers masked as ours: first 6, last 4.
var maskRule = url.Values{"account_number_rule": {"ACCOUNT_NUMBER_RULE_MASK_V2"}}

// settlement is the answer of GET …/settlement.
type settlement struct {
	AccountType      string `json:"account_type"`
	AccountBank      string `json:"account_bank"`
	BankName         string `json:"bank_name"`
	BankBranchID     string `json:"bank_branch_id"`
	AccountNumber    string `json:"account_number"` // masked
	VerifyResult     string `json:"verify_result"`  // VERIFY_SUCCESS, VERIFY_FAIL, VERIFYING
	VerifyFailReason string `json:"verify_fail_reason"`
}

func subPath(sub, suffix string) string {
	return "/v3/apply4sub/sub_merchants/" + url.PathEscape(sub) + suffix
}

// settlement reads the account in effect for sub-merchant sub.
func (b *Backend) settlement(ctx context.Context, sub string) (settlement, error) {
	var s settlement
	err := b.call(ctx, opSettlement, http.MethodGet, subPath(sub, "/settlement"), maskRule, nil, &s)
	return s, err
}

// VerifyMerchant checks phone against the directory's phone on file for
// merchant no, and reads the account in effect from WeChat Pay.
func (b *Backend) VerifyMerchant(ctx context.Context, no, phone string) (backend.Merchant, error) {
	e, err := b.dir.Lookup(ctx, no)
	if err != nil {
		return backend.Merchant{}, fmt.Errorf("verify merchant: %w", err)
	}
	if !samePhone(phone, e.Phone) {
		return backend.Merchant{}, fmt.Errorf("verify merchant: %w", backend.ErrPhoneMismatch)
	}
	return b.merchant(ctx, e)
}

// Merchant returns merchant no as the directory has it, with the card in
// effect as WeChat Pay shows it (masked).
func (b *Backend) Merchant(ctx context.Context, no string) (backend.Merchant, error) {
	e, err := b.dir.Lookup(ctx, no)
	if err != nil {
		return backend.Merchant{}, fmt.Errorf("get merchant: %w", err)
	}
	return b.merchant(ctx, e)
}

func (b *Backend) merchant(ctx context.Context, e backend.DirectoryEntry) (backend.Merchant, error) {
	s, err := b.settlement(ctx, e.SubMchID)
	if err != nil {
		return backend.Merchant{}, fmt.Errorf("get merchant: %w", err)
	}
	return backend.Merchant{
		No: e.MerchantNo, Name: e.Name, Business: e.Business, Kind: e.Kind,
		PhoneMasked: parse.MaskPhone(e.Phone), CardMasked: normalMask(s.AccountNumber),
	}, nil
}

// SendCode sends a code of the bot's own to the directory's phone for no.
func (b *Backend) SendCode(ctx context.Context, no string) error {
	e, err := b.dir.Lookup(ctx, no)
	if err == nil {
		err = b.codes.Send(ctx, no, e.Phone)
	}
	if err != nil {
		return fmt.Errorf("send code: %w", err)
	}
	return nil
}

// CheckCode checks a code sent by SendCode.
func (b *Backend) CheckCode(ctx context.Context, no, code string) error {
	if err := b.codes.Check(ctx, no, code); err != nil {
		return fmt.Errorf("check code: %w", err)
	}
	return nil
}

func samePhone(a, b string) bool {
	pa, err1 := parse.MobilePhone(a)
	pb, err2 := parse.MobilePhone(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return pa == pb
}

// normalMask turns WeChat Pay's masked number (MASK_V2: first 6, last 4,
// stars between) into ours: the digits it shows and stars between, four at
// least. A mask that does not show 6 and 4 digits (MASK_V1) keeps only the
// digits it shows at its ends, hidden as ours would hide them.
func normalMask(s string) string {
	head, tail, ok := maskEnds(s)
	if !ok {
		return ""
	}
	stars := len(s) - len(head) - len(tail)
	if stars < 4 {
		stars = 4
	}
	return head + strings.Repeat("*", stars) + tail
}

// maskEnds returns the 6 leading and 4 trailing digits of a masked number.
func maskEnds(s string) (head, tail string, ok bool) {
	if len(s) < 10 || !parse.AllDigits(s[:6]) || !parse.AllDigits(s[len(s)-4:]) {
		return "", "", false
	}
	return s[:6], s[len(s)-4:], true
}

// sameCard tells whether two masked (or full) numbers show the same first 6
// and last 4 digits.
func sameCard(a, b string) bool {
	ha, ta, ok1 := maskEnds(a)
	hb, tb, ok2 := maskEnds(b)
	return ok1 && ok2 && ha == hb && ta == tb
}
