package parse

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// A number can be split where Mask does not join it: over two or three
// messages (6222021234, then 567890128), or over lines or commas of one
// text (622202123，4567890128; 123\n456). Each piece alone is no sensitive
// number (a run of 9–11 digits, or 1–3), so masking each alone lets the
// whole be read. MaskAcross reads such pieces together as well.

// maxPieces is how many consecutive pieces (messages, lines, comma-separated
// parts) are read together: a card, an ID number or a code split over up to
// three of them is found; longer lists of short numbers (amounts, one per
// line) are left readable.
const maxPieces = 3

// isBoundary reports a character that ends a piece of text without ending
// what an agent may read as one number: a line break or a comma.
func isBoundary(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029',
		',', '，', '、', '､', '﹐', '﹑':
		return true
	}
	return false
}

// MaskAcross masks each of texts (consecutive messages of one person, in
// order) as Mask does, and then every sensitive number found when up to
// three consecutive pieces (messages, lines, or parts between commas) are
// read as one: each of its digits, in every piece, becomes a star. Numbers that are not sensitive even when read together (a list of
// amounts, one per line, dates) stay as they are. changed reports whether
// anything was hidden.
func MaskAcross(texts []string) (masked []string, changed bool) {
	joined := strings.Join(texts, "\n")
	if !mayHoldNumber(joined) {
		return append([]string(nil), texts...), false
	}
	// The pieces, and a view of the text in which every boundary is a
	// separator of the same byte length, so that offsets agree.
	type seg struct{ start, end int }
	var segs []seg
	view := []byte(joined)
	at := 0
	for i := 0; i < len(joined); {
		r, size := utf8.DecodeRuneInString(joined[i:])
		if isBoundary(r) {
			segs = append(segs, seg{at, i})
			for k := i; k < i+size; k++ {
				view[k] = ' '
			}
			at = i + size
		}
		i += size
	}
	segs = append(segs, seg{at, len(joined)})
	// A piece of nothing but separators (a blank line, ",,") is part of
	// the boundary around it, not one of the three.
	kept := segs[:0]
	for _, s := range segs {
		if strings.IndexFunc(joined[s.start:s.end], func(r rune) bool { return !isSeparator(r) }) >= 0 {
			kept = append(kept, s)
		}
	}
	segs = kept
	// Every other number read in a window of pieces is hidden, digit by
	// digit: even one within one piece (a 10-digit number that, beside
	// another, is read as part of a card) is one the pieces make together.
	// A number Mask finds in one text alone is left to Mask.
	alone := make([]bool, len(joined))
	pos := 0
	for _, t := range texts {
		for _, s := range Sensitive(t) {
			for p := pos + s.Start; p < pos+s.End; p++ {
				alone[p] = true
			}
		}
		pos += len(t) + 1
	}
	hide := make([]bool, len(joined))
	for i := range segs {
		for k := 2; k <= maxPieces && i+k-1 < len(segs); k++ {
			base := segs[i].start
			for _, s := range Sensitive(string(view[base:segs[i+k-1].end])) {
				if !slices.Contains(alone[base+s.Start:base+s.End], false) {
					continue
				}
				for p := base + s.Start; p < base+s.End; p++ {
					hide[p] = true
				}
			}
		}
	}
	// Each text is written back: a number Mask finds in it that holds no
	// hidden digit as Mask writes it (622202*********0128); any other
	// hidden digit, and an ID number's X, as a star.
	masked = make([]string, len(texts))
	var b strings.Builder
	pos = 0
	for n, t := range texts {
		b.Reset()
		spans := Sensitive(t)
		for j := 0; j < len(t); {
			if len(spans) > 0 && j == spans[0].Start {
				s := spans[0]
				spans = spans[1:]
				if !slices.Contains(hide[pos+s.Start:pos+s.End], true) {
					b.WriteString(maskSpan(s))
					j = s.End
					continue
				}
				for p := pos + s.Start; p < pos+s.End; p++ {
					hide[p] = true
				}
			}
			r, size := utf8.DecodeRuneInString(t[j:])
			if hide[pos+j] && (r >= '0' && r <= '9' || r >= '０' && r <= '９' || isIDCheck(r)) {
				b.WriteByte('*')
			} else {
				b.WriteString(t[j : j+size])
			}
			j += size
		}
		masked[n], _ = Mask(b.String())
		changed = changed || masked[n] != t
		pos += len(t) + 1 // the "\n" joining them
	}
	return masked, changed
}
