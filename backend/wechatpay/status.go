package wechatpay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// ReasonWeChat is the Reason of a rejection whose verify_fail_reason says
// nothing this version recognises: the merchant reads WeChat Pay's words.
const ReasonWeChat = "wechatpay_audit_fail"

// maxListed bounds what Applications reads of a merchant's history.
const maxListed = 20

// application is the answer of GET …/application/{application_no}.
type application struct {
	AccountNumber    string `json:"account_number"`
	VerifyResult     string `json:"verify_result"` // AUDITING, AUDIT_SUCCESS, AUDIT_FAIL
	VerifyFailReason string `json:"verify_fail_reason"`
}

// Application returns application id as WeChat Pay has it now: AUDITING is
// under review, AUDIT_FAIL rejected, AUDIT_SUCCESS approved, and effective
// once the account in effect is the new one and verified. The poller calls
// it for every open application.
func (b *Backend) Application(ctx context.Context, id string) (backend.Receipt, error) {
	key, err := b.rdb.Get(ctx, b.idKey(id)).Result()
	if errors.Is(err, redis.Nil) {
		return backend.Receipt{}, fmt.Errorf("get application: %w", backend.ErrUnknownApplication)
	}
	if err != nil {
		return backend.Receipt{}, fmt.Errorf("get application: %w: %w", backend.ErrUnavailable, err)
	}
	r, err := b.load(ctx, key)
	if err == nil && r == nil {
		err = backend.ErrUnknownApplication
	}
	if err == nil {
		err = b.refresh(ctx, r)
	}
	if err != nil {
		return backend.Receipt{}, fmt.Errorf("get application: %w", err)
	}
	return b.receipt(r), nil
}

// Applications lists merchant no's applications, newest first, each as
// WeChat Pay has it now (as last seen when WeChat Pay does not answer).
func (b *Backend) Applications(ctx context.Context, no string) ([]backend.Receipt, error) {
	keys, err := b.rdb.ZRevRange(ctx, b.listKey(no), 0, maxListed-1).Result()
	if err != nil {
		return nil, fmt.Errorf("list applications: %w: %w", backend.ErrUnavailable, err)
	}
	out := []backend.Receipt{}
	for _, k := range keys {
		r, err := b.load(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("list applications: %w", err)
		}
		if r == nil || r.ID == "" {
			continue
		}
		if err := b.refresh(ctx, r); err != nil {
			b.log.Warn("application status not refreshed", "app", r.ID, "err", err)
		}
		out = append(out, b.receipt(r))
	}
	return out, nil
}

// refresh asks WeChat Pay where r is and saves what changed.
func (b *Backend) refresh(ctx context.Context, r *record) error {
	if r.Status.Final() {
		return nil
	}
	before, beforeText := r.Status, r.ReasonText
	if r.AppNo != "" && r.Status.Rank() < backend.StatusApproved.Rank() {
		var a application
		err := b.call(ctx, opApplication, http.MethodGet,
			subPath(r.SubMchID, "/application/"+url.PathEscape(r.AppNo)), maskRule, nil, &a)
		if err != nil {
			return err
		}
		switch a.VerifyResult {
		case "AUDITING":
			b.setStatus(r, backend.StatusReview)
		case "AUDIT_FAIL":
			r.ReasonText = hideNumbers(a.VerifyFailReason)
			r.Reason = reasonOf(a.VerifyFailReason)
			b.setStatus(r, backend.StatusRejected)
		case "AUDIT_SUCCESS":
			b.setStatus(r, backend.StatusApproved)
		default:
			b.log.Warn("unknown verify_result from WeChat Pay", "app", r.ID, "verify_result", hideDigits(a.VerifyResult))
		}
	}
	if r.Status == backend.StatusApproved || r.State == stateTaken {
		// The account in effect tells approved from effective, and is all
		// there is to see of an application whose number was lost.
		s, err := b.settlement(ctx, r.SubMchID)
		if err != nil {
			return err
		}
		if sameCard(s.AccountNumber, r.CardMasked) {
			switch s.VerifyResult {
			case "VERIFY_SUCCESS":
				b.setStatus(r, backend.StatusApproved)
				b.setStatus(r, backend.StatusEffective)
			case "VERIFYING":
				b.setStatus(r, backend.StatusApproved)
			case "VERIFY_FAIL":
				b.setStatus(r, backend.StatusApproved)
				if r.ReasonText == "" {
					b.log.Warn("new account in effect but WeChat Pay cannot pay out to it", "app", r.ID)
				}
				r.ReasonText = hideNumbers(s.VerifyFailReason)
			}
		}
	}
	switch {
	case r.Status != before:
		return b.saveNewer(ctx, r)
	case r.ReasonText != beforeText: // the new account's check failed (VERIFY_FAIL)
		return b.save(ctx, r)
	}
	return nil
}

// saveNewer saves r unless another caller (the poller and the support desk
// refresh the same record) saved a later status meanwhile.
func (b *Backend) saveNewer(ctx context.Context, r *record) error {
	err := b.rdb.Watch(ctx, func(tx *redis.Tx) error {
		cur, err := b.load(ctx, r.Key)
		if err != nil || cur == nil || cur.Status.Rank() >= r.Status.Rank() {
			return err
		}
		raw, err := b.encode(r)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, b.recKey(r.Key), raw, 0)
			return nil
		})
		return err
	}, b.recKey(r.Key))
	if errors.Is(err, redis.TxFailedErr) {
		return nil // changed meanwhile: the next refresh reads it
	}
	if err != nil {
		return fmt.Errorf("%w: save status: %w", backend.ErrUnavailable, err)
	}
	return nil
}

// reasonOf recognises WeChat Pay's rejection reasons that have our codes.
func reasonOf(text string) string {
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(text, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("户名", "开户名", "姓名", "名称不一致", "名称不符"):
		return backend.ReasonNameMismatch
	case has("信用卡", "贷记卡", "非储蓄卡", "非借记卡"):
		return backend.ReasonCreditCard
	case has("30天", "三十天", "30日"):
		return backend.ReasonTooSoon
	}
	return ReasonWeChat
}

// hideNumbers masks what reads as a card, ID or phone number in WeChat
// Pay's words before they are kept or shown.
func hideNumbers(s string) string {
	m, _ := parse.Mask(s)
	return m
}
