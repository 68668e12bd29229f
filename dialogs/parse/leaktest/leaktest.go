// Package leaktest is the tests' oracle for sensitive numbers: given what a
// merchant wrote and what the bot let out of it (to the support group, to
// Redis, to a log), it names the card, ID, phone and code digit strings of
// the input that are still readable in the output.
//
// It is written apart from the detector it checks (parse.Sensitive) and
// shares none of its code: it works on digit-only forms made with regular
// expressions. It follows the same written rules (dialogs/parse/sensitive.go)
// where they say what is not sensitive — dates, amounts, numbers masked
// already — so that it does not call an ordinary sentence a leak. Only
// tests import it.
package leaktest

import (
	"regexp"
	"strings"
)

// separators people type inside a number; a line break is not one.
const sep = `[\t \x{00a0}\x{1680}\x{2000}-\x{200d}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}` +
	`._/\\．。｡／＼·・･\-‐‑‒–—―−﹘﹣－＿]`

var (
	fullWidth = strings.NewReplacer("０", "0", "１", "1", "２", "2", "３", "3", "４", "4",
		"５", "5", "６", "6", "７", "7", "８", "8", "９", "9")
	// number is a run of digit groups and an ID number's X right after it.
	number = regexp.MustCompile(`[0-9]+(?:` + sep + `+[0-9]+)*([XxＸｘ]?)`)
	// token splits text into digit groups, star runs and single characters.
	token = regexp.MustCompile(`(?s)[0-9]+|\*+|.`)
	// date is a whole run that writes a date with a year.
	dateYMD = regexp.MustCompile(`^(?:19|20)[0-9]{2}[-/.．／－](?:0?[1-9]|1[0-2])(?:[-/.．／－](?:0?[1-9]|[12][0-9]|3[01]))?$`)
	dateDMY = regexp.MustCompile(`^(?:0?[1-9]|[12][0-9]|3[01])[-/.．／－](?:0?[1-9]|[12][0-9]|3[01])[-/.．／－](?:19|20)[0-9]{2}$`)
	decimal = regexp.MustCompile(`^[0-9]+[.．][0-9]{1,2}$`)
	digit   = regexp.MustCompile(`[0-9]+`)
	mobile  = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	// currency (or 年) before or after a short number makes it an amount or a year.
	moneyBefore = regexp.MustCompile(`(?i)(?:[¥￥$＄]|rmb|cny)[ \x{3000}]*$`)
	moneyAfter  = regexp.MustCompile(`(?i)^[ \x{3000}]*(?:元|块|万|角|年|yuan|rmb|cny)`)
	datePart    = regexp.MustCompile(`[0-9]+(?:[-/.．／－][0-9]+){1,2}`)
)

// Secrets lists the digit strings of the sensitive numbers in text: every
// run of 4–8 digits, every phone (its 11 digits), ID number (its 17
// digits) and run of 12 or more digits, with, inside a run of 12 or more,
// every stretch of whole groups that makes 12–19 digits or a phone.
func Secrets(text string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, n := range numbers(text) {
		d := n.digits
		switch l := len(d); {
		case n.x && l == 17:
			add(d)
		case l >= 4 && l <= 8:
			add(d)
		case mobile.MatchString(d):
			add(d)
		case l == 13 && strings.HasPrefix(d, "86") && mobile.MatchString(d[2:]):
			add(d[2:])
		case l == 15 && strings.HasPrefix(d, "0086") && mobile.MatchString(d[4:]):
			add(d[4:])
		}
		if len(d) < 12 {
			continue
		}
		add(d)
		for i := range n.groups {
			s := ""
			for j := i; j < len(n.groups); j++ {
				s += n.groups[j]
				if len(s) > 19 {
					break
				}
				if len(s) >= 12 || mobile.MatchString(s) {
					add(s)
				}
			}
		}
	}
	return out
}

// Leaks returns the secrets of input (Secrets) that can be read in any of
// outputs: inside the digits of one of their numbers, separators removed.
// A secret that the input also holds inside a number that is no secret
// (the 123456 of 7890123456, a 10-digit number) is not counted.
func Leaks(input string, outputs ...string) []string {
	secrets := Secrets(input)
	if len(secrets) == 0 {
		return nil
	}
	var plain []string
	isSecret := map[string]bool{}
	for _, s := range secrets {
		isSecret[s] = true
	}
	for _, n := range numbers(input) {
		if !isSecret[n.digits] && len(n.digits) < 12 {
			plain = append(plain, n.digits)
		}
	}
	kept := secrets[:0]
	for _, s := range secrets {
		shown := false
		for _, p := range plain {
			shown = shown || strings.Contains(p, s)
		}
		if !shown {
			kept = append(kept, s)
		}
	}
	secrets = kept
	var found []string
	for _, out := range outputs {
		var runs []string
		for _, n := range numbers(out) {
			runs = append(runs, n.digits)
		}
		for _, s := range secrets {
			for _, r := range runs {
				if strings.Contains(r, s) {
					found = append(found, s)
					break
				}
			}
		}
	}
	return found
}

// HasCard reports a run of 16 or more digits in text, or an ID number (17
// digits and X): what must leave a merchant's chat.
func HasCard(text string) bool {
	for _, n := range numbers(text) {
		if len(n.digits) >= 16 || n.x && len(n.digits) == 17 {
			return true
		}
	}
	return false
}

type num struct {
	digits string
	groups []string
	x      bool
}

// numbers are the runs of text that are not dates, amounts or masked
// already, in digit-only form.
func numbers(text string) []num {
	text = fullWidth.Replace(text)
	text = hideMasked(text)
	var out []num
	for _, m := range number.FindAllStringSubmatchIndex(text, -1) {
		whole := text[m[0]:m[1]]
		body := text[m[0]:m[2]]
		groups := digit.FindAllString(body, -1)
		d := strings.Join(groups, "")
		if len(d) <= 8 && m[2] == m[3] && (decimal.MatchString(body) ||
			moneyBefore.MatchString(text[:m[0]]) || moneyAfter.MatchString(text[m[1]:])) {
			continue
		}
		body = hideDates(body)
		if body != text[m[0]:m[2]] {
			// What is left beside the dates is read again.
			for _, part := range number.FindAllString(body, -1) {
				g := digit.FindAllString(part, -1)
				out = append(out, num{digits: strings.Join(g, ""), groups: g})
			}
			continue
		}
		out = append(out, num{digits: d, groups: groups, x: len(whole) > len(body)})
	}
	return out
}

// hideMasked blanks the digits of numbers masked already: at least four
// stars with at most 4 digits right after them and, right before them, at
// most 6 digits or none; digits are part of one masked number at most,
// read left to right, but those right after headless stars go to the next
// masked number when they can be its head.
func hideMasked(text string) string {
	toks := token.FindAllString(text, -1)
	hidden := make([]bool, len(toks))
	isDigits := func(i int) bool { return i >= 0 && i < len(toks) && toks[i][0] >= '0' && toks[i][0] <= '9' }
	long := func(i int) bool { return i >= 0 && i < len(toks) && toks[i][0] == '*' && len(toks[i]) >= 4 }
	for i := range toks {
		if !long(i) || !isDigits(i+1) || len(toks[i+1]) > 4 {
			continue
		}
		switch {
		case !isDigits(i - 1):
			// The digits after are the head of the next masked number if
			// they can be.
			if !(long(i+2) && len(toks[i+1]) <= 6 && isDigits(i+3) && len(toks[i+3]) <= 4) {
				hidden[i+1] = true
			}
		case !hidden[i-1] && len(toks[i-1]) <= 6:
			hidden[i-1], hidden[i+1] = true, true
		}
	}
	var b strings.Builder
	for i, t := range toks {
		if hidden[i] {
			b.WriteString("#")
			continue
		}
		b.WriteString(t)
	}
	return b.String()
}

// hideDates blanks the dates in a run that stand between its groups.
func hideDates(body string) string {
	locs := datePart.FindAllStringIndex(body, -1)
	if len(locs) == 0 {
		return body
	}
	// Try every stretch of 2–3 groups: dates may touch each other.
	groups := digit.FindAllStringIndex(body, -1)
	var b strings.Builder
	at := 0
	for i := 0; i < len(groups); {
		matched := 0
		for k := 3; k >= 2; k-- {
			if i+k > len(groups) {
				continue
			}
			s := body[groups[i][0]:groups[i+k-1][1]]
			if (dateYMD.MatchString(s) || dateDMY.MatchString(s)) && oneSeparator(s) {
				matched = k
				break
			}
		}
		if matched == 0 {
			i++
			continue
		}
		b.WriteString(body[at:groups[i][0]])
		b.WriteString("#")
		at = groups[i+matched-1][1]
		i += matched
	}
	b.WriteString(body[at:])
	return b.String()
}

// oneSeparator reports a date written with one separator between its parts,
// the same each time.
func oneSeparator(s string) bool {
	seps := digit.Split(s, -1)
	seps = seps[1 : len(seps)-1]
	for _, p := range seps {
		if p != seps[0] || len([]rune(p)) != 1 {
			return false
		}
	}
	return true
}
