package parse

import (
	"math/rand"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
)

func TestMask(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no digits", "你好，我想换卡", "你好，我想换卡"},
		{"card", "6222021234567890128", "622202*********0128"},
		{"card in a sentence", "卡号 6222 0212 3456 7890 128 谢谢", "卡号 622202*********0128 谢谢"},
		{"dotted card", "6228.4800.0012.3456.782", "622848*********6782"},
		{"full-width and mixed separators", "６２２８ ４８００-0012．3456／782", "622848*********6782"},
		{"underscores and slashes", "6228_4800_0012/3456/782", "622848*********6782"},
		{"spaced dashes", "6228 - 4800 - 0012 - 3456 - 782", "622848*********6782"},
		{"zero-width characters", "\u200b6222\u200b0212\u200b3456\u200b7890\u200b128", "\u200b622202*********0128"},
		{"full-width digits", "６２２２０２１２３４５６７８９０１２８", "622202*********0128"},
		{"12-digit card", "card 622848001234", "card ********1234"},
		{"glued to Han characters", "卡号6222021234567890128。", "卡号622202*********0128。"},
		{"ID number", "ID 11010519491231002X ok", "ID 110105********002X ok"},
		{"grouped ID number", "110105 19491231 002x", "110105********002X"},
		{"phone", "phone 13912345678", "phone 139****5678"},
		{"spaced phone", "phone 139 1234 5678", "phone 139****5678"},
		{"dotted phone", "138.0000.0001", "138****0001"},
		{"phone with +86", "+86 138-0000-0001", "+86 138****0001"},
		{"phone with 0086", "0086 13800000001", "+86 138****0001"},
		{"phone with 86", "86 138 0000 0001", "+86 138****0001"},
		{"bracketed country code", "(+86) 138 0000 0001", "(+86) 138****0001"},
		{"star before a phone", "*13800000001", "*138****0001"},
		{"code", "code 123456", "code ******"},
		{"4-digit code", "验证码 1234", "验证码 ****"},
		{"8-digit code", "code 12345678", "code ********"},
		{"split code", "123 456", "******"},
		{"dashed code", "12-34-56", "******"},
		{"star after a code", "123456*", "*******"},
		{"bracketed code", "(123456)", "(******)"},
		{"two codes on two lines", "123456\n654321", "******\n******"},
		{"two codes in a run are 12 digits", "codes 123456 654321", "codes ********4321"},
		{"merchant number and phone", "822100050110001 13800000001", "822100*****0001 138****0001"},
		{"full-width plus", "＋８６１３８０００００００１", "+86 138****0001"},
		{"a mask that lands beside stars is masked again", "2026*2026-11-27", "*****2026-****"},
		{"card and phone in a run", "6222021234567890128 13800000001", "622202*********0128 138****0001"},
		{"date and card in a run", "2026-11-27 6222 0212 3456 7890 128", "2026-11-27 622202*********0128"},
		{"masked card kept", "622202*********0128", "622202*********0128"},
		{"masked card with six stars kept", "622202******1234", "622202******1234"},
		{"masked phone kept", "139****5678", "139****5678"},
		{"masked short account kept", "********1234", "********1234"},
		{"masked ID number kept", "110105********002X", "110105********002X"},
		{"stars do not hide a code before them", "123456****", "**********"},
		{"stars do not hide a code after them", "****123456", "**********"},
		{"a long head is no mask", "1234567****1234", "***************"},
		{"the tail of one mask starts no other", "1234****5678****9012", "1234****5678********"},
		{"merchant number", "merchant 822100050110001", "merchant 822100*****0001"},
		{"date", "on 2026-11-27 at 10:05", "on 2026-11-27 at 10:05"},
		{"date with slashes", "27/11/2026", "27/11/2026"},
		{"date and time", "at 2026-11-27 10:00", "at 2026-11-27 10:00"},
		{"a digit before a date", "1 2026-11-27", "1 2026-11-27"},
		{"year and month", "2026.11", "2026.11"},
		{"year", "2026年11月27日", "2026年11月27日"},
		{"amount in yuan", "amount 1200 yuan", "amount 1200 yuan"},
		{"amount in 元", "到账1200元", "到账1200元"},
		{"amount with a sign", "￥ 35000", "￥ 35000"},
		{"decimal amount", "paid 1200.50", "paid 1200.50"},
		{"short numbers", "3 shops, 2 cards, 15 days", "3 shops, 2 cards, 15 days"},
		{"update id", "update 987654321", "update 987654321"},
		{"time", "10:05:30", "10:05:30"},
		{"invalid UTF-8", "\xff13800000001", "\xff138****0001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := Mask(tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.want != tt.in, changed, "changed")
			again, _ := Mask(got)
			assert.Equal(t, got, again, "masking a masked text changes it")
			assert.Empty(t, leaktest.Leaks(tt.in, got), "the oracle reads a secret in the output")
		})
	}
}

func TestSensitiveKinds(t *testing.T) {
	tests := []struct {
		in    string
		kinds []Kind
		want  []string
	}{
		{"6228.4800.0012.3456.782", []Kind{KindCard}, []string{"6228480000123456782"}},
		{"身份证 11010519491231002X", []Kind{KindID}, []string{"11010519491231002X"}},
		{"+86 138-0000-0001", []Kind{KindPhone}, []string{"13800000001"}},
		{"code 12-34-56, card 6222021234567890128", []Kind{KindCode, KindCard}, []string{"123456", "6222021234567890128"}},
		{"2026-11-27 amount 1200 yuan", nil, nil},
		{"", nil, nil},
	}
	for _, tt := range tests {
		var kinds []Kind
		var digits []string
		for _, s := range Sensitive(tt.in) {
			kinds, digits = append(kinds, s.Kind), append(digits, s.Digits)
		}
		assert.Equal(t, tt.kinds, kinds, tt.in)
		assert.Equal(t, tt.want, digits, tt.in)
	}
}

func TestLooksLikeCard(t *testing.T) {
	for in, want := range map[string]bool{
		"6222021234567890128":             true,
		"6228.4800.0012.3456.782":         true,
		"６２２８ ４８００-0012．3456／782":         true,
		"my card 6222 0212 3456 7890 128": true,
		"6222 0212 3456 7890 123":         true, // failing Luhn: a card with a typo
		"11010519491231002X":              true,
		"1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6": true,
		"822100050110001":                 false, // the merchant number of the identify step
		"822.100.050.110.001":             false,
		"822100050110001 13800000001":     false, // a merchant number and a phone
		"+86 138 0000 0001":               false,
		"123 456":                         false,
		"622202*********0128":             false,
		"on 2026-11-27":                   false,
		"":                                false,
	} {
		assert.Equal(t, want, LooksLikeCard(in), in)
		if want {
			assert.True(t, leaktest.HasCard(in), "the oracle disagrees: %q", in)
		}
	}
}

// maskSeeds are the forms the issue lists (dotted, full-width, mixed,
// starred, split), kept as seeds of FuzzMask.
var maskSeeds = []string{
	"6228.4800.0012.3456.782", "６２２８ ４８００-0012．3456／782", "*13800000001", "123456*", "(123456)",
	"123 456", "12-34-56", "+86 138-0000-0001", "0086 138.0000.0001", "138.0000.0001", "11010519491231002X",
	"622202******1234", "139****5678", "1234****5678****9012", "2026-11-27 6222 0212 3456 7890 128",
	"amount 1200 yuan", "¥1200.50", "822100050110001 13800000001", "codes 123456 654321",
	"1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6", "code 123456\n7890123456", "\u200b6222\u200b0212\u200b3456\u200b7890",
}

func FuzzMask(f *testing.F) {
	addSeeds(f)
	for _, s := range maskSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, changed := Mask(s)
		if leaks := leaktest.Leaks(s, out); len(leaks) > 0 {
			t.Fatalf("Mask(%q) = %q: %q readable", s, out, leaks)
		}
		if again, _ := Mask(out); again != out {
			t.Fatalf("Mask not idempotent: %q → %q → %q", s, out, again)
		}
		if changed == (out == s) {
			t.Fatalf("Mask(%q) = %q, changed %v", s, out, changed)
		}
		if !strings.ContainsAny(s, "0123456789０１２３４５６７８９") && out != s {
			t.Fatalf("text without digits changed: %q → %q", s, out)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Mask(%q) = %q: invalid UTF-8", s, out)
		}
		if LooksLikeCard(s) && LooksLikeCard(out) {
			t.Fatalf("a card survived masking: %q → %q", s, out)
		}
	})
}

// TestMaskComposedNumbers masks texts put together from the pieces that
// make numbers hard to read (separators, stars, country codes, dates,
// amounts, masks), which random bytes seldom make, and checks each with the
// oracle. The seed is fixed: a failure names its text.
func TestMaskComposedNumbers(t *testing.T) {
	pieces := []string{"0", "1", "5", "9", "１", "６", " ", "  ", ".", "-", "_", "*", "****", "X", "\n", "/", "(",
		"元", "yuan", "¥", "a", "年", "．", "　", "\u200b", "13900000002", "6222021234567890128", "622848000012345",
		"2026-11-27", "27/11/2026", "0086", "86", "+", "123456", "1200.50", "2026", "12", "01",
		"11010519491231002", "138****0001", "622202*********0128"}
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 5000; i++ {
		var b strings.Builder
		for n := 1 + rng.Intn(12); n > 0; n-- {
			b.WriteString(pieces[rng.Intn(len(pieces))])
		}
		s := b.String()
		out, _ := Mask(s)
		if leaks := leaktest.Leaks(s, out); len(leaks) > 0 {
			t.Fatalf("Mask(%q) = %q: %q readable", s, out, leaks)
		}
		if again, _ := Mask(out); again != out {
			t.Fatalf("Mask not idempotent: %q → %q → %q", s, out, again)
		}
	}
}
