package parse

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Digits folds full-width digits to ASCII and removes what people put inside numbers to read them:
// spaces of every kind (ASCII, U+3000, NBSP, tabs, newlines), zero-width characters that
// pasting leaves behind, and dashes, hyphens and underscores of every common kind.
// It does not validate: everything else is kept, except that invalid UTF-8 becomes U+FFFD (so
// that removing a space can never join stray bytes into a character, a full-width digit say).
func Digits(s string) string {
	if isASCIIDigits(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r >= '０' && r <= '９':
			b.WriteByte(byte('0' + r - '０'))
		case isBlank(r) || isDash(r):
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// CardNumber reads a bank card number: 16 to 19 digits that pass the Luhn check.
// On ErrLength and ErrLuhn it still returns the digits it read: the caller may tell how many
// there were, or let the merchant confirm a UnionPay (62…) card that fails Luhn, as a few
// genuine ones do.
func CardNumber(s string) (string, error) {
	d := Digits(s)
	switch {
	case d == "":
		return "", ErrEmpty
	case !isASCIIDigits(d):
		return "", ErrNotDigits
	case len(d) < 16 || len(d) > 19:
		return d, ErrLength
	case !Luhn(d):
		return d, ErrLuhn
	}
	return d, nil
}

// Luhn reports whether digits, ASCII digits only, end in a valid Luhn check digit.
func Luhn(digits string) bool {
	if digits == "" {
		return false
	}
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		c := digits[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// MaskPAN hides a card or account number for display: the first 6 and last 4 characters stay,
// the rest become stars, and the length is kept (6222021234567890123 → 622202*********0123).
// A number of 10 to 13 characters keeps only its last 4, so that something is always hidden;
// a shorter one is all stars.
func MaskPAN(digits string) string {
	r := []rune(digits)
	head, tail := 6, 4
	switch {
	case len(r) < 10:
		head, tail = 0, 0
	case len(r) < 14:
		head = 0
	}
	return mask(r, head, tail)
}

// Code reads an SMS verification code: 6 digits.
func Code(s string) (string, error) {
	return number(s, 6)
}

// MerchantNo reads a merchant number (商户号): 15 digits, as acquirers like Lakala issue them
// (822100050110001).
func MerchantNo(s string) (string, error) {
	return number(s, 15)
}

func number(s string, n int) (string, error) {
	d := Digits(s)
	switch {
	case d == "":
		return "", ErrEmpty
	case !isASCIIDigits(d):
		return "", ErrNotDigits
	case len(d) != n:
		return "", ErrLength
	}
	return d, nil
}

// mask keeps head runes at the start and tail runes at the end of r and stars the rest.
func mask(r []rune, head, tail int) string {
	var b strings.Builder
	b.Grow(len(r))
	for i, c := range r {
		if i < head || i >= len(r)-tail {
			b.WriteRune(c)
		} else {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// AllDigits reports whether s is one or more ASCII digits (what Digits
// leaves of a number written with spaces, dashes or full-width digits).
func AllDigits(s string) bool { return s != "" && isASCIIDigits(s) }

// isASCIIDigits reports whether s holds nothing but ASCII digits; "" does.
func isASCIIDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isBlank reports a space of any kind, or an invisible character that stands between words.
func isBlank(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff': // zero-width space, (non-)joiner, word joiner, BOM
		return true
	}
	return unicode.IsSpace(r)
}

func isDash(r rune) bool {
	switch r {
	case '-', '_', '‐', '‑', '‒', '–', '—', '―', '−', '﹘', '﹣', '－', '＿':
		return true
	}
	return false
}
