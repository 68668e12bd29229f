package backend

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Event is a status change the acquirer pushes to the bot (openapi.yaml,
// StatusEvent). The same change may arrive more than once, late, or not at
// all: receivers de-duplicate by ID and poll for what they missed.
type Event struct {
	ID          string `json:"event_id"`
	Application string `json:"application_id"`
	MerchantNo  string `json:"merchant_no"`
	Status      Status `json:"status"`
	Reason      string `json:"reason,omitempty"`
	ReasonText  string `json:"reason_text,omitempty"`
	// ChangeAllowedFrom is, for change_within_30_days, when a new change
	// may be made.
	ChangeAllowedFrom time.Time `json:"change_allowed_from,omitzero"`
	CardMasked        string    `json:"card_masked,omitempty"`
	At                time.Time `json:"at"` // when the status changed
}

// EventOf is the event announcing r's current status. Its ID names the
// application and the status, so every report of one change, pushed or
// polled, carries the same ID.
func EventOf(r Receipt) Event {
	return Event{
		ID:                r.ID + ":" + string(r.Status),
		Application:       r.ID,
		MerchantNo:        r.MerchantNo,
		Status:            r.Status,
		Reason:            r.Reason,
		ReasonText:        r.ReasonText,
		ChangeAllowedFrom: r.ChangeAllowedFrom,
		CardMasked:        r.CardMasked,
		At:                r.UpdatedAt,
	}
}

// Valid reports an event with what a receiver needs to act on it.
func (e Event) Valid() bool {
	return e.ID != "" && e.Application != "" && e.MerchantNo != "" && e.Status.Rank() > 0
}

// Headers of a signed event request.
const (
	HeaderEventTimestamp = "X-Acquirer-Timestamp" // unix seconds, decimal
	HeaderEventSignature = "X-Acquirer-Signature" // "v1=" + hex HMAC-SHA256
)

// MaxEventAge is how far an event's timestamp may be from the receiver's
// clock, either way: a captured request cannot be replayed later.
const MaxEventAge = 5 * time.Minute

// Errors of Verify.
var (
	ErrBadSignature = errors.New("event signature missing or wrong")
	ErrStaleEvent   = errors.New("event timestamp missing or more than 5 minutes off")
)

// Sign signs body at ts under secret: the values of HeaderEventTimestamp and
// HeaderEventSignature. The MAC covers "<timestamp>.<body>", so neither can
// be changed without the other.
func Sign(secret []byte, ts time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(ts.Unix(), 10)
	return timestamp, "v1=" + hex.EncodeToString(mac(secret, timestamp, body))
}

// Verify checks a signed event at now: ErrStaleEvent when timestamp is not
// within MaxEventAge of now, ErrBadSignature when signature is not Sign's
// for this body and timestamp under secret. An empty secret verifies
// nothing.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time) error {
	if len(secret) == 0 {
		return ErrBadSignature
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStaleEvent
	}
	if age := now.Sub(time.Unix(sec, 0)); age > MaxEventAge || age < -MaxEventAge {
		return ErrStaleEvent
	}
	got, ok := strings.CutPrefix(signature, "v1=")
	if !ok {
		return ErrBadSignature
	}
	raw, err := hex.DecodeString(got)
	if err != nil || !hmac.Equal(raw, mac(secret, timestamp, body)) {
		return ErrBadSignature
	}
	return nil
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}
