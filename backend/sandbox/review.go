package sandbox

import (
	"time"

	"github.com/merchantbot/merchantbot/backend"
)

// advance plays the review up to now: each submitted application is picked
// up by a reviewer halfway to its ReviewBy, decided at its ReviewBy, and an
// approved one becomes effective a delay later (the first payout to the new
// card). Times are the scheduled ones, not now, so a late reader sees what
// would have happened on time. The caller holds the lock.
func (s *Sandbox) advance(now time.Time) {
	for _, a := range s.apps {
		r := &a.receipt
		if r.Status == backend.StatusSubmitted {
			at := r.SubmittedAt.Add(r.ReviewBy.Sub(r.SubmittedAt) / 2)
			if now.Before(at) {
				continue
			}
			s.change(a, backend.StatusReview, at)
		}
		if r.Status == backend.StatusReview && !now.Before(r.ReviewBy) {
			s.decide(a, r.ReviewBy)
		}
		if r.Status == backend.StatusApproved && !now.Before(a.effectiveAt) {
			s.takeEffect(a, a.effectiveAt)
		}
	}
}

// change moves a to status at, records it and queues its event.
func (s *Sandbox) change(a *application, status backend.Status, at time.Time) {
	a.receipt.Status, a.receipt.UpdatedAt = status, at
	a.receipt.History = append(a.receipt.History, backend.StatusChange{Status: status, At: at})
	s.emit(a.receipt)
}

// reasonTexts is what the acquirer says about each rejection, in its own
// (Chinese) words.
var reasonTexts = map[string]string{
	backend.ReasonNameMismatch: "结算卡户名与商户登记的法人/经营者姓名不一致",
	backend.ReasonCreditCard:   "结算卡须为一类借记卡，不支持信用卡、准贷记卡或预付卡",
	backend.ReasonTooSoon:      "30 天内已变更过结算卡",
}

func (s *Sandbox) decide(a *application, at time.Time) {
	m := s.merchants[a.receipt.MerchantNo]
	reason := ""
	switch {
	case normaliseName(a.holderName) != normaliseName(m.name):
		reason = backend.ReasonNameMismatch
	case isCreditCardType(a.cardType):
		reason = backend.ReasonCreditCard
	case !m.lastChange.IsZero() && at.Sub(m.lastChange) < MinChangeInterval:
		reason = backend.ReasonTooSoon
		a.receipt.ChangeAllowedFrom = m.lastChange.Add(MinChangeInterval)
	}
	if reason != "" {
		a.receipt.Reason, a.receipt.ReasonText = reason, reasonTexts[reason]
		s.change(a, backend.StatusRejected, at)
		return
	}
	a.effectiveAt = at.Add(s.delay)
	s.change(a, backend.StatusApproved, at)
}

func (s *Sandbox) takeEffect(a *application, at time.Time) {
	m := s.merchants[a.receipt.MerchantNo]
	m.cardMasked = a.receipt.CardMasked
	m.lastChange = at
	s.change(a, backend.StatusEffective, at)
}

// isCreditCardType is true for credit (CC), semi-credit (SCC) and prepaid (PC)
// cards: none can receive settlements.
func isCreditCardType(t string) bool {
	switch t {
	case "CC", "SCC", "PC":
		return true
	}
	return false
}
