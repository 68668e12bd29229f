package parse

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
)

// asOne reads consecutive messages as an agent may: one after the other,
// line breaks and commas read as the spaces inside a number.
var asOneReplacer = strings.NewReplacer("\r", " ", "\n", " ", ",", " ", "，", " ", "、", " ")

func asOne(texts []string) string { return asOneReplacer.Replace(strings.Join(texts, " ")) }

// TestMaskAcross: a card, an ID number or a code split over two or three
// messages, lines or comma-separated parts, with any separators, cannot be
// read by the oracle in the pieces read together; numbers that are not
// sensitive even read together stay.
func TestMaskAcross(t *testing.T) {
	split := []struct {
		name string
		in   []string
	}{
		{"card over two messages", []string{"6222021234", "567890128"}},
		{"card over a full-width comma", []string{"622202123，4567890128"}},
		{"card over a comma and a space", []string{"622202123, 4567890128"}},
		{"card over a line break", []string{"622202123\n4567890128"}},
		{"card over a blank line", []string{"622202123\n\n4567890128"}},
		{"card over three messages", []string{"622", "2021234567", "890128"}},
		{"dotted card over two messages", []string{"6222.0212.34", "56.7890.128"}},
		{"card after words", []string{"my card is 6222021234", "567890128 thanks"}},
		{"ID number over two messages", []string{"110105199", "00101123X"}},
		{"ID number over lines", []string{"1101051990\n0101123x"}},
		{"code over two messages", []string{"123", "456"}},
		{"code over three lines", []string{"12\n34\n56"}},
		{"code over commas", []string{"12，34，56"}},
		{"code over dashes and messages", []string{"12-3", "4-56"}},
		{"full-width card halves", []string{"６２２２０２１２３４", "５６７８９０１２８"}},
	}
	for _, tt := range split {
		t.Run(tt.name, func(t *testing.T) {
			out, changed := MaskAcross(tt.in)
			assert.True(t, changed)
			assert.Len(t, out, len(tt.in))
			assert.Empty(t, leaktest.Leaks(asOne(tt.in), asOne(out)), "%q → %q", tt.in, out)
		})
	}
	kept := []struct {
		name string
		in   []string
	}{
		{"words", []string{"hello", "你好，我想换卡"}},
		{"amounts one per line", []string{"100元\n200元\n¥300"}},
		{"numbers in sentences one per line", []string{"ref 1234567890 ok\nref 2234567890 ok"}},
		{"short numbers in sentences", []string{"I have 2 shops", "and 3 terminals"}},
		{"a date and a time", []string{"on 2026-11-27, at 10:05"}},
		{"update id", []string{"ref 1234567890, ok"}},
		{"merchant number", []string{"822100*****0001"}},
	}
	for _, tt := range kept {
		t.Run(tt.name, func(t *testing.T) {
			out, changed := MaskAcross(tt.in)
			assert.False(t, changed)
			assert.Equal(t, tt.in, out)
		})
	}
	// Each piece is masked as Mask masks it.
	out, _ := MaskAcross([]string{"card 6222021234567890128", "ok"})
	assert.Equal(t, []string{"card 622202*********0128", "ok"}, out)
	out, _ = MaskAcross([]string{"6222021234", "567890128"})
	assert.Equal(t, []string{"**********", "*********"}, out)
}

func FuzzMaskAcross(f *testing.F) {
	for _, s := range []string{"6222021234\x00567890128", "622202123，4567890128", "123\x00456", "12\n34\n56",
		"110105199\x0000101123X", "100\n200\n300\n400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in := strings.Split(s, "\x00")
		pieces := 0
		for _, p := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune("\x00\r\n,，、", r) }) {
			if strings.ContainsAny(p, "0123456789０１２３４５６７８９") {
				pieces++
			}
		}
		if pieces > maxPieces {
			return // longer lists of short numbers are left readable
		}
		out, _ := MaskAcross(in)
		if leaks := leaktest.Leaks(asOne(in), asOne(out)); len(leaks) > 0 {
			t.Fatalf("%q → %q: %q readable", in, out, leaks)
		}
	})
}
