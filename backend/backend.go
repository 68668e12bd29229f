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
	ErrPhoneMismatch   = errors.New("phone does not match the merchant's phone on file")
	ErrWrongCode       = errors.New("wrong verification code")
	ErrCodeExpired     = errors.New("verification code expired or not sent")
	ErrCodeTooSoon     = errors.New("verification code requested too soon")
	ErrTooManyRequests = errors.New("too many change requests today")
	ErrChangePending   = errors.New("another change is already under review")
	ErrUnavailable     = errors.New("backend unavailable")
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
	MerchantNo    string `json:"merchant_no"`
	CardNumber    string `json:"card_number,omitempty"`
	CardMasked    string `json:"card_masked,omitempty"`
	HolderName    string `json:"holder_name"`
	BankCode      string `json:"bank_code,omitempty"`
	BankName      string `json:"bank_name"`
	Branch        string `json:"branch"`
	ReservedPhone string `json:"reserved_phone"`
	CardType      string `json:"card_type,omitempty"` // DC, CC, SCC, PC or "" when the BIN is unknown
}

// Status is where an application is in review.
type Status string

const (
	StatusReview    Status = "review"    // 审核中
	StatusApproved  Status = "approved"  // 审核通过, waiting to take effect
	StatusRejected  Status = "rejected"  // 已驳回, see Reason
	StatusEffective Status = "effective" // 已生效: payouts go to the new card
)

// Reason codes for a rejection.
const (
	ReasonNameMismatch = "name_mismatch"
	ReasonCreditCard   = "credit_card"
	ReasonTooSoon      = "change_within_30_days"
)

// Receipt is an application as the acquirer tracks it.
type Receipt struct {
	ID          string    `json:"id"`
	MerchantNo  string    `json:"merchant_no"`
	CardMasked  string    `json:"card_masked"`
	BankName    string    `json:"bank_name"`
	Status      Status    `json:"status"`
	Reason      string    `json:"reason,omitempty"`
	SubmittedAt time.Time `json:"submitted_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	ReviewBy    time.Time `json:"review_by"` // when the review is expected to end
}
