package sandbox

import (
	"strings"

	"github.com/merchantbot/merchantbot/dialogs/parse"
	"unicode"
)

// maskCard shows a number the way the bot does (parse.MaskPAN): first 6
// and last 4 of a card, only the last 4 of a short account, so that no mask
// gives most of a number away.
func maskCard(number string) string { return parse.MaskPAN(number) }

// isCardNumber is 9 to 30 ASCII digits: a personal card (16–19) or a
// company account (对公账号, 9–30). The dialog normalises and checks Luhn; the
// API only refuses what cannot be an account.
func isCardNumber(s string) bool {
	if len(s) < 9 || len(s) > 30 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// maskPhone is 138****0001.
func maskPhone(phone string) string {
	if len(phone) < 7 {
		return strings.Repeat("*", len(phone))
	}
	return phone[:3] + strings.Repeat("*", len(phone)-7) + phone[len(phone)-4:]
}

// normalisePhone turns what a merchant or a shared contact gives
// (+86 138-0000-0001, ＋８６１３８…) into 11 digits: full-width digits become
// ASCII, everything but digits goes, and a leading 86 / 0086 country code is
// dropped.
func normalisePhone(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune(r - '０' + '0')
		}
	}
	d := b.String()
	switch {
	case len(d) == 13 && strings.HasPrefix(d, "86"):
		return d[2:]
	case len(d) == 15 && strings.HasPrefix(d, "0086"):
		return d[4:]
	}
	return d
}

// normaliseName compares holder names as people type them: without any
// space (ASCII, full-width, zero-width) and with every middle-dot look-alike
// in minority names (阿依古丽・买买提, 阿依古丽•买买提) turned into U+00B7.
func normaliseName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), r == '\u200b', r == '\u200c', r == '\u200d', r == '\ufeff':
			continue
		case r == '·', r == '・', r == '•', r == '‧', r == '･', r == '∙', r == '⋅':
			b.WriteRune('·')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
