package handoff

import (
	"strings"
	"unicode"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// maskSensitive hides what must never reach the support group in what a
// merchant typed: card and ID numbers (16 or more digits, read across the
// spaces and dashes people type inside them; shown 6+4 as everywhere),
// mainland mobile numbers (the reserved phone: 3+4) and SMS codes (a
// number of exactly six digits: all stars). changed reports whether
// anything was hidden.
func maskSensitive(text string) (masked string, changed bool) {
	r := []rune(text)
	var b strings.Builder
	for i := 0; i < len(r); {
		if !isDigit(r[i]) {
			b.WriteRune(r[i])
			i++
			continue
		}
		// A number: digits, and blanks or dashes between digits.
		j, last := i, i
		for j < len(r) && (isDigit(r[j]) || isJoiner(r[j])) {
			if isDigit(r[j]) {
				last = j
			}
			j++
		}
		run := r[i : last+1]
		// An ID number ends in X.
		if last+1 < len(r) && (r[last+1] == 'X' || r[last+1] == 'x') && digitsOf(run) == 17 {
			run = r[i : last+2]
			last++
		}
		if i > 0 && r[i-1] == '*' || last+1 < len(r) && r[last+1] == '*' {
			// Part of a number masked already (622202*********0128).
			b.WriteString(string(run))
			i = last + 1
			continue
		}
		out, hid := maskNumber(run)
		changed = changed || hid
		b.WriteString(out)
		i = last + 1
	}
	masked = b.String()
	if dialogs.LooksLikeCard(masked) {
		// The fold above and the dialog's disagree on some odd separator:
		// hide every digit rather than let one card through.
		masked, changed = strings.Map(func(c rune) rune {
			if isDigit(c) {
				return '*'
			}
			return c
		}, masked), true
	}
	return masked, changed
}

// maskNumber masks one number as typed (with its separators).
func maskNumber(run []rune) (string, bool) {
	digits := []rune(parse.Digits(string(run)))
	n := digitsOf(run)
	switch {
	case n >= 16:
		return parse.MaskPAN(string(digits)), true
	case n == 11 && digits[0] == '1':
		return parse.MaskPhone(string(digits)), true
	}
	// Several short numbers typed apart ("123456 654321"): each on its own.
	var b strings.Builder
	changed := false
	for i := 0; i < len(run); {
		if !isDigit(run[i]) {
			b.WriteRune(run[i])
			i++
			continue
		}
		j := i
		for j < len(run) && isDigit(run[j]) {
			j++
		}
		group := string(run[i:j])
		switch d := parse.Digits(group); {
		case len(d) == 6:
			b.WriteString("******")
			changed = true
		case len(d) == 11 && d[0] == '1':
			b.WriteString(parse.MaskPhone(d))
			changed = true
		default:
			b.WriteString(group)
		}
		i = j
	}
	return b.String(), changed
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' || r >= '０' && r <= '９' }

// isJoiner is what people put inside a number to read it.
func isJoiner(r rune) bool {
	switch r {
	case '-', '_', '‐', '‑', '‒', '–', '—', '―', '−', '－', '＿', '\u200b', '\u200c', '\u200d', '\ufeff':
		return true
	}
	return unicode.IsSpace(r)
}

func digitsOf(run []rune) int {
	n := 0
	for _, r := range run {
		if isDigit(r) {
			n++
		}
	}
	return n
}
