// Package parse reads what merchants type on their phones: card, phone and merchant numbers,
// SMS codes, names and branch names.
//
// Input is whatever a chat message holds: full-width digits (６２２２), ideographic spaces,
// dashes, "+86", emoji, invalid UTF-8, thousands of characters. Every function takes any string
// without panicking. Failures are the sentinel errors below, to be told apart with errors.Is and
// turned into a localized reply by the caller. No error text ever holds the input: it may be a
// card number.
package parse

import "errors"

// The ways merchant input can be wrong.
var (
	ErrEmpty     = errors.New("empty")
	ErrNotDigits = errors.New("not digits") // a number holds letters or other characters
	ErrLength    = errors.New("wrong length")
	ErrLuhn      = errors.New("luhn check failed")
	ErrNotMobile = errors.New("not a mainland mobile number")
	ErrTooLong   = errors.New("too long")
	ErrTooShort  = errors.New("too short")
	ErrBadChars  = errors.New("unexpected characters")
)
