package parse

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// nameDot is the one middle dot Name writes for all the dots people put between the parts of a
// transliterated name (阿依古丽·买买提).
const nameDot = '·'

// Name normalises a person's or company's name for comparison. It applies NFKC (so full-width
// letters, digits and brackets become ASCII), lower-cases letters, removes every space and
// invisible character, and writes each run of middle dots (·, ・, •, ‧, ⋅, ･, .) as one "·".
// The result is for comparing, not for display.
func Name(s string) string {
	s = norm.NFKC.String(strings.ToValidUTF8(s, "\uFFFD"))
	var b strings.Builder
	b.Grow(len(s))
	dot := false
	for _, r := range s {
		switch {
		case isBlank(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue // spaces around a dot do not end the run of dots
		case isNameDot(r):
			if !dot {
				b.WriteRune(nameDot)
			}
			dot = true
			continue
		}
		b.WriteRune(unicode.ToLower(r))
		dot = false
	}
	// Removing the spaces and invisibles may have put a letter next to a combining mark.
	return norm.NFKC.String(b.String())
}

// SameName reports whether a and b name the same person or company once both are normalised
// with Name. The middle dot is ignored altogether, because merchants often leave it out:
// "阿依古丽·买买提", "阿依古丽 • 买买提" and "阿依古丽买买提" are the same name.
// Two names that normalise to nothing are not the same: an empty name matches nobody.
func SameName(a, b string) bool {
	na := strings.ReplaceAll(Name(a), string(nameDot), "")
	nb := strings.ReplaceAll(Name(b), string(nameDot), "")
	return na != "" && na == nb
}

// HolderName reads an account holder's name as typed: 2 to 40 characters once trimmed, made of
// letters (any script), combining marks, punctuation and the middle dots of transliterated
// names, at least one of them a letter. Digits, symbols, emoji and control characters are
// ErrBadChars. It returns the name trimmed, with each run of spaces inside it made one ASCII
// space and zero-width characters dropped.
func HolderName(s string) (string, error) {
	name, err := collapse(s)
	if err != nil {
		return "", err
	}
	letter := false
	for _, r := range name {
		if !nameRune(r) {
			return "", ErrBadChars
		}
		letter = letter || unicode.IsLetter(r) || unicode.Is(unicode.Han, r)
	}
	if !letter {
		return "", ErrBadChars
	}
	if err := checkLength(name, 2, 40); err != nil {
		return "", err
	}
	return name, nil
}

// Branch reads the name of a bank or a bank branch (中国工商银行上海分行张江支行): 2 to 60
// characters once trimmed, at least one of them a Han or Latin letter. Digits and punctuation
// are fine (第88支行, "(原浦东支行)"); control characters, emoji and other pictographs are
// ErrBadChars. It returns the name trimmed, with each run of spaces inside it made one ASCII
// space and zero-width characters dropped.
func Branch(s string) (string, error) {
	name, err := collapse(s)
	if err != nil {
		return "", err
	}
	letter := false
	for _, r := range name {
		if !branchRune(r) {
			return "", ErrBadChars
		}
		if unicode.IsLetter(r) && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Latin, r)) {
			letter = true
		}
	}
	if !letter {
		return "", ErrBadChars
	}
	if err := checkLength(name, 2, 60); err != nil {
		return "", err
	}
	return name, nil
}

// collapse trims s, makes each run of spaces inside it one ASCII space and drops zero-width
// characters. Invalid UTF-8 is ErrBadChars; nothing left is ErrEmpty.
func collapse(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", ErrBadChars
	}
	var b strings.Builder
	b.Grow(len(s))
	blank := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			blank = true
			continue
		}
		if isBlank(r) {
			continue
		}
		if blank && b.Len() > 0 {
			b.WriteByte(' ')
		}
		blank = false
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "", ErrEmpty
	}
	return b.String(), nil
}

func checkLength(s string, lo, hi int) error {
	switch n := utf8.RuneCountInString(s); {
	case n < lo:
		return ErrTooShort
	case n > hi:
		return ErrTooLong
	}
	return nil
}

func nameRune(r rune) bool {
	switch {
	case r == ' ', isNameDot(r):
		return true
	case unicode.Is(unicode.Han, r): // 〇 is a Han character, though Unicode counts it a number
		return true
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsPunct(r)
}

func branchRune(r rune) bool {
	switch {
	case r == ' ':
		return true
	case unicode.In(r, unicode.So, unicode.Sk): // emoji and other pictographs
		return false
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}

func isNameDot(r rune) bool {
	switch r {
	case '\u00b7', '\u30fb', '\u2022', '\u2027', '\u22c5', '\uff65', '.', // · ・ • ‧ ⋅ ･ .
		'\u2219', '\u2e31', '\uff0e', '\u0387': // ∙ ⸱ ． and the Greek ano teleia
		return true
	}
	return false
}
