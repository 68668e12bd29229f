package parse

import (
	"strings"
	"unicode/utf8"
)

// This file is the one place that decides which numbers in a text are
// sensitive: the intake deletes what it calls a card, the dialog refuses a
// card typed where none is asked, the support desk masks what it finds
// before anything reaches the group or Redis, and the logs redact it. The
// tests check it against an oracle of their own (leaktest), never against
// itself.
//
// How a text is read: digits (ASCII or full-width) form groups; groups
// joined by any run of separators (spaces of every kind, zero-width
// characters, dots, dashes, underscores, slashes, middle dots, in ASCII or
// full-width) form one run, so that 6228.4800.0012.3456.782,
// ６２２８ ４８００-0012… and 138.0000.0001 are one number each. A line break
// is no separator (two lines are two answers), and neither is any other
// character: a digit beside a star, a bracket or a letter ends its run but
// still counts, so *13800000001, 123456* and (123456) are a phone and codes.
//
// A run is cut at its joins into numbers of a known kind — a resident ID
// number (17 digits and X), a mainland mobile (11 digits 1[3-9]…, or with
// 86 / 0086 in front), a card (12 or more digits), a code (4 to 8 digits),
// or a date (2026-11-27, 27/11/2026), which is not sensitive — the way that
// keeps the most dates ("2026-11-27 10:00" is a date and a 10), then
// leaves the fewest digits unexplained, then makes the fewest numbers, then
// the fewest cards failing Luhn. So
// "822100050110001 13800000001" is a merchant number (masked as a card) and
// a phone, "on 2026-11-27 6222 0212 3456 7890 128" a date and a card.
//
// Not sensitive: numbers of 1–3 digits; a number of 9–11 digits that is
// no phone, alone in its run (an update id); a date; a run of at most 8
// digits that is an amount (¥1200, 1200 元, 1200 yuan, 1200.50) or a year
// (2026年); and a number masked already. A masked number is a run of at
// least four stars with at most 4 digits right after it and, right before
// it, nothing or at most 6 digits: 622202*********0128, 139****5678,
// ********1234, 110105********002X show at most 10 digits, as MaskPAN and
// MaskPhone leave them, and are left as they are. Any other digits beside
// a star are judged as digits.

// Kind is the kind of a sensitive number.
type Kind uint8

// The kinds of sensitive numbers.
const (
	KindCard  Kind = iota + 1 // 12 or more digits: a bank card or account number, or numbers run together
	KindID                    // a resident ID number (身份证号): 17 digits and X
	KindPhone                 // a mainland mobile number
	KindCode                  // 4 to 8 digits: a verification code
)

func (k Kind) String() string {
	switch k {
	case KindCard:
		return "card"
	case KindID:
		return "id"
	case KindPhone:
		return "phone"
	case KindCode:
		return "code"
	}
	return "none"
}

// Span is one sensitive number in a text.
type Span struct {
	Start, End int // byte offsets in the text, separators inside (and the + of +86) included
	Kind       Kind
	// Digits is the number in ASCII: a card's digits, an ID number's with
	// its X, a phone's 11 digits without the country code, a code's.
	Digits      string
	CountryCode bool // a phone written with 86 or 0086 in front
}

// Sensitive returns the sensitive numbers in text, in order.
func Sensitive(text string) []Span {
	if !mayHoldNumber(text) {
		return nil
	}
	var spans []Span
	for _, r := range unmasked(text, digitRuns(text, 0)) {
		spans = appendSpans(spans, text, r)
	}
	return spans
}

// Mask hides every sensitive number in text: a card or ID number as MaskPAN
// shows it (first 6, last 4), a phone as MaskPhone (138****0001, "+86 " in
// front when written with a country code), a code as stars. Separators
// inside a number go with it. changed reports whether anything was hidden.
// Masking a masked text changes nothing: where a mask lands beside stars
// and digits that then read differently (2026*2026-11-27 becomes
// *****2026-11-27, whose 2026 now follows a mask), the text is masked
// again until nothing changes; each round leaves fewer digits.
func Mask(text string) (masked string, changed bool) {
	masked = text
	for {
		out, again := maskOnce(masked)
		if !again {
			return masked, changed
		}
		masked, changed = out, true
	}
}

func maskOnce(text string) (string, bool) {
	spans := Sensitive(text)
	if len(spans) == 0 {
		return text, false
	}
	var b strings.Builder
	b.Grow(len(text))
	at := 0
	for _, s := range spans {
		b.WriteString(text[at:s.Start])
		b.WriteString(maskSpan(s))
		at = s.End
	}
	b.WriteString(text[at:])
	return b.String(), true
}

// LooksLikeCard reports a card number (16 or more digits) or an ID number
// in text: what is deleted from the merchant's chat wherever it is typed.
// A merchant number (15 digits), a phone or a code is not.
func LooksLikeCard(text string) bool {
	for _, s := range Sensitive(text) {
		if s.Kind == KindID || s.Kind == KindCard && len(s.Digits) >= 16 {
			return true
		}
	}
	return false
}

func maskSpan(s Span) string {
	switch s.Kind {
	case KindPhone:
		if s.CountryCode {
			return "+86 " + MaskPhone(s.Digits)
		}
		return MaskPhone(s.Digits)
	case KindCode:
		return strings.Repeat("*", len(s.Digits))
	}
	return MaskPAN(s.Digits)
}

// LongestNumber is how many digits the longest number in text has, read
// as Sensitive reads numbers (groups joined by any separators).
func LongestNumber(text string) int {
	best := 0
	for _, r := range digitRuns(text, 0) {
		best = max(best, r.digits())
	}
	return best
}

// mayHoldNumber reports whether text has at least four digits, counting a
// full-width digit by its last byte: most text has not, and costs nothing.
func mayHoldNumber(text string) bool {
	n := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= '0' && c <= '9' || c >= 0x90 && c <= 0x99 && i >= 2 && text[i-2] == 0xef && text[i-1] == 0xbc {
			if n++; n >= 4 {
				return true
			}
		}
	}
	return false
}

// group is digits written together.
type group struct {
	start, end int    // byte offsets
	digits     string // ASCII
	sep        string // the separators between the previous group of the run and this one
}

// run is groups joined by separators.
type run struct {
	groups []group
	x      int // the byte length of an X right after the last group (an ID number's check), else 0
}

func (r run) digits() int {
	n := 0
	for _, g := range r.groups {
		n += len(g.digits)
	}
	return n
}

// digitRuns reads the runs of digit groups in text. With maxJoin > 0, more
// than maxJoin separators in a row end a run.
func digitRuns(text string, maxJoin int) []run {
	var all []run
	var groups []group
	var cur []byte
	start, sepAt, joins := 0, -1, 0
	endGroup := func(at int) {
		if len(cur) > 0 {
			g := group{start: start, end: at, digits: string(cur)}
			if len(groups) > 0 && sepAt >= 0 {
				g.sep = text[sepAt:start]
			}
			groups = append(groups, g)
			cur = cur[:0]
			sepAt, joins = -1, 0
		}
	}
	endRun := func(x int) {
		if len(groups) > 0 {
			all = append(all, run{groups: groups, x: x})
			groups = nil
		}
		sepAt, joins = -1, 0
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r >= '0' && r <= '9' || r >= '０' && r <= '９':
			if len(cur) == 0 {
				start = i
			}
			if r > '9' {
				r = '0' + r - '０'
			}
			cur = append(cur, byte(r))
		case isSeparator(r) && (len(cur) > 0 || len(groups) > 0):
			endGroup(i)
			if sepAt < 0 {
				sepAt = i
			}
			if joins++; maxJoin > 0 && joins > maxJoin {
				endRun(0)
			}
		default:
			x := 0
			if len(cur) > 0 && isIDCheck(r) {
				x = size
			}
			endGroup(i)
			endRun(x)
		}
		i += size
	}
	endGroup(len(text))
	endRun(0)
	return all
}

// isSeparator reports a character people put inside a number to read it.
// A line break is not one: two lines are two answers.
func isSeparator(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029':
		return false
	case '.', '．', '。', '｡', '/', '／', '\\', '＼', '·', '・', '･':
		return true
	}
	return isBlank(r) || isDash(r)
}

// isIDCheck reports the X that ends some resident ID numbers.
func isIDCheck(r rune) bool {
	return r == 'X' || r == 'x' || r == 'Ｘ' || r == 'ｘ'
}

// unmasked takes out of runs the digits of numbers masked already: a run
// of at least four stars right after a group of at most 6 digits (or after
// no digit) and right before a group of at most 4 digits. The group after
// the stars of one masked number is never the group before those of another.
func unmasked(text string, runs []run) []run {
	if !strings.Contains(text, "****") {
		return runs
	}
	type ref struct{ run, group int }
	at := make(map[int]ref) // a group's start → where it is
	for i, r := range runs {
		for j, g := range r.groups {
			at[g.start] = ref{i, j}
		}
	}
	byEnd := make(map[int]ref)
	for i, r := range runs {
		for j, g := range r.groups {
			byEnd[g.end] = ref{i, j}
		}
	}
	type starRun struct{ from, to int }
	var stars []starRun
	for i := 0; i < len(text); {
		if text[i] != '*' {
			i++
			continue
		}
		j := i
		for j < len(text) && text[j] == '*' {
			j++
		}
		if j-i >= 4 {
			stars = append(stars, starRun{i, j})
		}
		i = j
	}
	digitsOf := func(r ref) int { return len(runs[r.run].groups[r.group].digits) }
	// headOfNext reports a group right before the stars of a masked number
	// with a head: it is that number's head, not the tail of one before.
	headOfNext := func(k int, g ref) bool {
		if k+1 >= len(stars) || stars[k+1].from != runs[g.run].groups[g.group].end || digitsOf(g) > 6 {
			return false
		}
		t, ok := at[stars[k+1].to]
		return ok && digitsOf(t) <= 4
	}
	drop := make(map[ref]bool)
	for k, sr := range stars {
		tail, hasTail := at[sr.to]
		head, hasHead := byEnd[sr.from]
		switch {
		case !hasTail || digitsOf(tail) > 4:
		case !hasHead:
			if !headOfNext(k, tail) {
				drop[tail] = true
			}
		case !drop[head] && digitsOf(head) <= 6:
			drop[head], drop[tail] = true, true
		}
	}
	if len(drop) == 0 {
		return runs
	}
	var out []run
	for i, r := range runs {
		var part run
		for j, g := range r.groups {
			if drop[ref{i, j}] {
				if len(part.groups) > 0 {
					out = append(out, part)
				}
				part = run{}
				continue
			}
			if len(part.groups) == 0 {
				g.sep = ""
			}
			part.groups = append(part.groups, g)
		}
		if len(part.groups) > 0 {
			if !drop[ref{i, len(r.groups) - 1}] {
				part.x = r.x
			}
			out = append(out, part)
		}
	}
	return out
}

// piece is one number of a run: groups [from, to).
type piece struct {
	from, to int
	kind     Kind // 0: not sensitive
	digits   string
	cc       bool
}

// cutCost ranks the ways to cut a run.
type cutCost struct {
	ok                 bool
	unexplained, dates int // digits in no number of a known kind; digits in dates
	numbers, luhnFails int
	next               int
	piece              piece
}

func (c cutCost) less(d cutCost) bool {
	switch {
	case c.dates != d.dates:
		return c.dates > d.dates
	case c.unexplained != d.unexplained:
		return c.unexplained < d.unexplained
	case c.numbers != d.numbers:
		return c.numbers < d.numbers
	}
	return c.luhnFails < d.luhnFails
}

func appendSpans(spans []Span, text string, r run) []Span {
	total := r.digits()
	if total < 4 {
		return spans
	}
	if total <= 8 && benignAlone(text, r) {
		return spans
	}
	n := len(r.groups)
	best := make([]cutCost, n+1)
	best[n] = cutCost{ok: true}
	var buf []byte
	for i := n - 1; i >= 0; i-- {
		buf = buf[:0]
		for j := i + 1; j <= n; j++ {
			buf = append(buf, r.groups[j-1].digits...)
			if len(buf) > maxNumber && j > i+1 {
				break
			}
			p, date := classifyPiece(r, i, j, string(buf), total)
			rest := best[j]
			c := cutCost{ok: true, unexplained: rest.unexplained, dates: rest.dates, numbers: rest.numbers + 1,
				luhnFails: rest.luhnFails, next: j, piece: p}
			switch {
			case date:
				c.dates += len(buf)
			case p.kind == 0:
				c.unexplained += len(buf)
			case p.kind == KindCard && len(p.digits) >= 16 && len(p.digits) <= maxNumber && !Luhn(p.digits):
				c.luhnFails++
			}
			if !best[i].ok || c.less(best[i]) {
				best[i] = c
			}
		}
	}
	for i := 0; i < n; i = best[i].next {
		p := best[i].piece
		if p.kind == 0 {
			continue
		}
		s := Span{Start: r.groups[p.from].start, End: r.groups[p.to-1].end, Kind: p.kind, Digits: p.digits, CountryCode: p.cc}
		if p.kind == KindID {
			s.End += r.x
		}
		if p.cc {
			// The plus of +86 goes with the number: the mask writes its own.
			if strings.HasSuffix(text[:s.Start], "+") {
				s.Start--
			} else if strings.HasSuffix(text[:s.Start], "＋") {
				s.Start -= len("＋")
			}
		}
		spans = append(spans, s)
	}
	return spans
}

// classifyPiece tells the kind of the number made of groups [from, to) of
// r, whose digits are d; date reports a date (not sensitive, but read).
// total is the run's digits: in a run of 12 or more, a number of 9 or more
// digits of no other kind is taken for a card (part of one, or one typed
// with a digit too many).
func classifyPiece(r run, from, to int, d string, total int) (p piece, date bool) {
	p = piece{from: from, to: to}
	if isDate(r.groups[from:to]) {
		return p, true
	}
	switch n := len(d); {
	case n == 17 && to == len(r.groups) && r.x > 0:
		p.kind, p.digits = KindID, d+"X"
	case n == 11 && isMobile(d):
		p.kind, p.digits = KindPhone, d
	case n == 13 && d[:2] == "86" && isMobile(d[2:]):
		p.kind, p.digits, p.cc = KindPhone, d[2:], true
	case n == 15 && d[:4] == "0086" && isMobile(d[4:]):
		p.kind, p.digits, p.cc = KindPhone, d[4:], true
	case n >= 12, n >= 9 && total >= 12:
		p.kind, p.digits = KindCard, d
	case n >= 4 && n <= 8:
		p.kind, p.digits = KindCode, d
	}
	return p, false
}

// isDate reports groups that write a date with a year: 2026-11-27,
// 2026/11/27, 2026.11.27, 27/11/2026, 11/27/2026, 2026-11. The same single
// separator stands between the parts.
func isDate(g []group) bool {
	if len(g) < 2 || len(g) > 3 {
		return false
	}
	sep := g[1].sep
	switch sep {
	case "-", "/", ".", "－", "／", "．":
	default:
		return false
	}
	if len(g) == 3 && g[2].sep != sep {
		return false
	}
	year := func(s string) bool { return len(s) == 4 && (s[:2] == "19" || s[:2] == "20") }
	in := func(s string, hi int) bool {
		if len(s) < 1 || len(s) > 2 {
			return false
		}
		v := 0
		for i := 0; i < len(s); i++ {
			v = v*10 + int(s[i]-'0')
		}
		return v >= 1 && v <= hi
	}
	a, b := g[0].digits, g[1].digits
	if len(g) == 2 {
		return year(a) && in(b, 12)
	}
	c := g[2].digits
	switch {
	case year(a):
		return in(b, 12) && in(c, 31)
	case year(c):
		return in(a, 31) && in(b, 12) || in(a, 12) && in(b, 31)
	}
	return false
}

// benignAlone reports a run of at most 8 digits that is an amount or a
// year by what stands around it: a currency sign or word before or after
// (¥1200, 1200 元, 1200 yuan), 年 after it, or two decimals (1200.50).
func benignAlone(text string, r run) bool {
	if r.x > 0 {
		return false
	}
	if len(r.groups) == 2 && (r.groups[1].sep == "." || r.groups[1].sep == "．") && len(r.groups[1].digits) <= 2 {
		return true
	}
	before := strings.TrimRight(text[:r.groups[0].start], " \u3000")
	after := strings.ToLower(strings.TrimLeft(text[r.groups[len(r.groups)-1].end:], " \u3000"))
	for _, p := range []string{"元", "块", "万", "角", "年", "yuan", "rmb", "cny"} {
		if strings.HasPrefix(after, p) {
			return true
		}
	}
	lower := strings.ToLower(before)
	for _, s := range []string{"¥", "￥", "$", "＄", "rmb", "cny"} {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	return false
}
