package handoff

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
)

// TestMaskSensitive: the desk masks with the one detector, in every
// written form the issue lists (parse's TestMask has the full table).
func TestMaskSensitive(t *testing.T) {
	tests := []struct {
		in, want string
		changed  bool
	}{
		{"hello", "hello", false},
		{"6222021234567890128", "622202*********0128", true},
		{"卡号 6222 0212 3456 7890 128 谢谢", "卡号 622202*********0128 谢谢", true},
		{"６２２２０２１２３４５６７８９０１２８", "622202*********0128", true},
		{"6228.4800.0012.3456.782", "622848*********6782", true},
		{"６２２８ ４８００-0012．3456／782", "622848*********6782", true},
		{"ID 11010519491231002X ok", "ID 110105********002X ok", true},
		{"code 123456", "code ******", true},
		{"code 123 456", "code ******", true},
		{"code 12-34-56", "code ******", true},
		{"phone 13912345678", "phone 139****5678", true},
		{"phone 139 1234 5678", "phone 139****5678", true},
		{"phone +86 138-0000-0001", "phone +86 138****0001", true},
		{"*13800000001", "*138****0001", true},
		{"123456*", "*******", true},
		{"(123456)", "(******)", true},
		{"merchant 822100050110001", "merchant 822100*****0001", true},
		{"on 2026-11-27 at 10:05", "on 2026-11-27 at 10:05", false},
		{"amount 1200 yuan", "amount 1200 yuan", false},
		{"622202*********0128", "622202*********0128", false},
		{"622202******1234", "622202******1234", false},
	}
	for _, tt := range tests {
		got, changed := maskSensitive(tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		assert.Equal(t, tt.changed, changed, tt.in)
		assert.Empty(t, leaktest.Leaks(tt.in, got), tt.in)
	}
}

func FuzzMaskSensitive(f *testing.F) {
	for _, s := range []string{"6222021234567890128", "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6", "６２２２-０２１２", "code 123456\n7890123456",
		"11010519491231002x", "\u200b6222\u200b0212\u200b3456\u200b7890",
		"6228.4800.0012.3456.782", "６２２８ ４８００-0012．3456／782", "*13800000001", "123456*", "(123456)",
		"123 456", "12-34-56", "+86 138-0000-0001", "0086 138.0000.0001", "622202******1234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, _ := maskSensitive(s)
		if leaks := leaktest.Leaks(s, out); len(leaks) > 0 {
			t.Fatalf("%q → %q: %q readable", s, out, leaks)
		}
		if leaktest.HasCard(out) {
			t.Fatalf("a card number survived masking: %q → %q", s, out)
		}
		// Invalid UTF-8 comes back as U+FFFD; Telegram sends none.
		if utf8.ValidString(s) && !strings.ContainsAny(s, "0123456789０１２３４５６７８９") && out != s {
			t.Fatalf("text without digits changed: %q → %q", s, out)
		}
	})
}
