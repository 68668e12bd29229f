package parse

import "strings"

// MobilePhone reads a mainland mobile number and returns its 11 digits (1[3-9]…).
// It takes the forms people type and Telegram sends: spaces, dashes and full-width digits
// anywhere, and a country code in front as +86, 0086 or 86, bracketed or not
// ("(+86) 138-0000-0001"). A number with another country code is ErrNotMobile.
func MobilePhone(s string) (string, error) {
	d := Digits(s)
	if d == "" {
		return "", ErrEmpty
	}
	d, ok := cutCountryCode(d)
	switch {
	case !ok:
		return "", ErrNotMobile
	case !isASCIIDigits(d):
		return "", ErrNotDigits
	case len(d) != 11:
		return "", ErrLength
	case d[0] != '1' || d[1] < '3':
		return "", ErrNotMobile
	}
	return d, nil
}

// MaskPhone hides the middle of a phone number: 13800000001 → 138****0001.
// A number shorter than 8 characters is all stars.
func MaskPhone(p string) string {
	r := []rune(p)
	if len(r) < 8 {
		return mask(r, 0, 0)
	}
	return mask(r, 3, 4)
}

// cutCountryCode removes a leading "+86", "0086" or "86", bracketed or not, from d.
// ok is false when d starts with a plus for another country.
func cutCountryCode(d string) (rest string, ok bool) {
	rest, open := cutPrefix(d, "(", "（")
	rest, plus := cutPrefix(rest, "+", "＋")
	switch {
	case strings.HasPrefix(rest, "0086"):
		rest = rest[4:]
	case strings.HasPrefix(rest, "86") && (plus || open || len(rest) > 11):
		// A bare mainland mobile starts with 1, so a longer number starting 86 carries the code.
		rest = rest[2:]
	case plus:
		return d, false
	case open:
		return d, true // brackets around something else: not ours to read
	}
	if open {
		var closed bool
		if rest, closed = cutPrefix(rest, ")", "）"); !closed {
			return d, true
		}
	}
	return rest, true
}

func cutPrefix(s string, prefixes ...string) (string, bool) {
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest, true
		}
	}
	return s, false
}
