package sandbox

import (
	"time"

	"github.com/merchantbot/merchantbot/backend"
)

// advance plays the review up to now: each application in review is decided
// at its ReviewBy, each approved one becomes effective a delay later. Times
// are the scheduled ones, not now, so a late reader sees what would have
// happened on time. The caller holds the lock.
func (s *Sandbox) advance(now time.Time) {
	for _, a := range s.apps {
		if a.receipt.Status == backend.StatusReview && !now.Before(a.receipt.ReviewBy) {
			s.decide(a, a.receipt.ReviewBy)
		}
		if a.receipt.Status == backend.StatusApproved && !now.Before(a.effectiveAt) {
			s.takeEffect(a, a.effectiveAt)
		}
	}
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
	}
	a.receipt.UpdatedAt = at
	if reason != "" {
		a.receipt.Status, a.receipt.Reason = backend.StatusRejected, reason
	} else {
		a.receipt.Status = backend.StatusApproved
		a.effectiveAt = at.Add(s.delay)
	}
	s.emit(a.receipt)
}

func (s *Sandbox) takeEffect(a *application, at time.Time) {
	m := s.merchants[a.receipt.MerchantNo]
	m.cardMasked = a.receipt.CardMasked
	m.lastChange = at
	a.receipt.Status, a.receipt.UpdatedAt = backend.StatusEffective, at
	s.emit(a.receipt)
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
