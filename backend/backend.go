// Package backend holds the acquirer API's types and errors, and the HTTP
// client that talks to it. The sandbox in backend/sandbox plays the same API
// locally (in-process or as an HTTP server).
package backend

import (
	"errors"
	"time"
)

// Errors the acquirer API reports. Callers check them with errors.Is; their
// texts are for logs and never carry card data.
var (
	ErrUnknownMerchant = errors.New("unknown merchant")
	// ErrUnknownApplication is an application id the acquirer does not know.
	ErrUnknownApplication = errors.New("unknown application")
	ErrPhoneMismatch      = errors.New("phone does not match the merchant's phone on file")
	ErrWrongCode          = errors.New("wrong verification code")
	ErrCodeExpired        = errors.New("verification code expired or not sent")
	ErrCodeTooSoon        = errors.New("verification code requested too soon")
	ErrTooManyRequests    = errors.New("too many change requests today")
	ErrChangePending      = errors.New("another change is already under review")
	ErrUnavailable        = errors.New("backend unavailable")
	// ErrInvalidRequest is a request the API refuses as malformed (a missing
	// field, a card number that is not 12 to 19 digits, no idempotency key).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrUnauthorized is a missing or wrong API key: an operator's mistake,
	// never the merchant's.
	ErrUnauthorized = errors.New("unauthorized")
)

// MerchantKind tells an individual business from a company.
type MerchantKind string

const (
	KindIndividual MerchantKind = "individual" // 个体户 / 小微商户: settles to a personal card
	KindCompany    MerchantKind = "company"    // 企业: settles to a company account
)

// Merchant is what the acquirer knows about a merchant once the phone on file
// has been proven.
type Merchant struct {
	No          string       `json:"merchant_no"`
	Name        string       `json:"name"`     // registered legal person / operator name
	Business    string       `json:"business"` // shop name
	Kind        MerchantKind `json:"kind"`
	PhoneMasked string       `json:"phone_masked"` // 138****0001
	CardMasked  string       `json:"card_masked"`  // current settlement card, 622202******1234
}

// Application is a settlement card change sent for review. CardNumber is
// the full number only on the way in (Submit); the API returns it masked.
type Application struct {
	MerchantNo string `json:"merchant_no"`
	CardNumber string `json:"card_number,omitempty"`
	CardMasked string `json:"card_masked,omitempty"`
	HolderName string `json:"holder_name"`
	BankCode   string `json:"bank_code,omitempty"`
	BankName   string `json:"bank_name"`
	Branch     string `json:"branch"`
	// BranchID and AreaCode are set when the branch was picked from the
	// acquirer's lists (Branches): its id (联行号) and its city's code.
	BranchID      string `json:"branch_id,omitempty"`
	AreaCode      string `json:"area_code,omitempty"`
	ReservedPhone string `json:"reserved_phone"`
	CardType      string `json:"card_type,omitempty"` // DC, CC, SCC, PC or "" when the BIN is unknown
}

// Status is where an application is in review. An application is submitted,
// then under review, then approved or rejected; an approved one becomes
// effective once the first payout has gone to the new card.
type Status string

const (
	StatusSubmitted Status = "submitted"    // 已提交: received, not yet picked up by a reviewer
	StatusReview    Status = "under_review" // 审核中
	StatusApproved  Status = "approved"     // 审核通过, waiting to take effect
	StatusRejected  Status = "rejected"     // 已驳回, see Reason
	StatusEffective Status = "effective"    // 已生效: payouts go to the new card (our API: the first went; WeChat Pay: the account in effect, verified)
)

// Statuses returns every status, a fresh slice, in the order an application walks them
// (approved and rejected are alternatives).
func Statuses() []Status {
	return []Status{StatusSubmitted, StatusReview, StatusApproved, StatusRejected, StatusEffective}
}

// Pending reports a status that blocks a new change: the acquirer takes one
// change at a time until it is effective or rejected.
func (s Status) Pending() bool {
	return s == StatusSubmitted || s == StatusReview || s == StatusApproved
}

// Final reports a status after which nothing changes any more.
func (s Status) Final() bool { return s == StatusRejected || s == StatusEffective }

// Rank orders statuses along an application's life, so a late event never
// overtakes a newer one: 0 for an unknown status.
func (s Status) Rank() int {
	switch s {
	case StatusSubmitted:
		return 1
	case StatusReview:
		return 2
	case StatusApproved, StatusRejected:
		return 3
	case StatusEffective:
		return 4
	}
	return 0
}

// Reason codes for a rejection. The acquirer may add others; a code this
// version does not know is shown with the acquirer's text.
const (
	ReasonNameMismatch = "name_mismatch"
	ReasonCreditCard   = "credit_card"
	ReasonTooSoon      = "change_within_30_days"
)

// Reasons returns the rejection codes this version knows, a fresh slice.
func Reasons() []string { return []string{ReasonNameMismatch, ReasonCreditCard, ReasonTooSoon} }

// StatusChange is one step of an application's history.
type StatusChange struct {
	Status Status    `json:"status"`
	At     time.Time `json:"at"`
}

// Receipt is an application as the acquirer tracks it. It carries no
// sensitive field: the card masked, no reserved phone.
type Receipt struct {
	ID         string `json:"id"`
	MerchantNo string `json:"merchant_no"`
	CardMasked string `json:"card_masked"`
	BankName   string `json:"bank_name"`
	Status     Status `json:"status"`
	Reason     string `json:"reason,omitempty"`
	// ReasonText is the acquirer's own words for Reason, in Chinese.
	ReasonText string `json:"reason_text,omitempty"`
	// ChangeAllowedFrom is, for change_within_30_days, when a new change
	// may be made.
	ChangeAllowedFrom time.Time      `json:"change_allowed_from,omitzero"`
	SubmittedAt       time.Time      `json:"submitted_at"`
	UpdatedAt         time.Time      `json:"updated_at"`
	ReviewBy          time.Time      `json:"review_by"` // when the review is expected to end
	History           []StatusChange `json:"history,omitempty"`
	// The non-sensitive answers, so a rejected application can be fixed
	// and sent again without asking them twice.
	HolderName string `json:"holder_name,omitempty"`
	BankCode   string `json:"bank_code,omitempty"`
	Branch     string `json:"branch,omitempty"`
	CardType   string `json:"card_type,omitempty"`
}

// Clone returns r with its own copy of History, so a receipt handed out
// does not change under its holder.
func (r Receipt) Clone() Receipt {
	r.History = append([]StatusChange(nil), r.History...)
	return r
}
