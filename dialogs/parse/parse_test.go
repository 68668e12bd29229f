package parse

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Luhn-valid numbers, and one 62 card that fails Luhn.
const (
	icbc19 = "6222021234567890128"
	cmb16  = "6225881234567898"
	bad62  = "6222021234567890123"
	visa16 = "4111111111111111"
)

var (
	huge       = strings.Repeat("６", 4000)                     // 4,000 full-width digits
	hugeMixed  = strings.Repeat("6222 ０２—", 800)               // 4,000 runes of digits, spaces and dashes
	hugeLetter = strings.Repeat("阿", 4000)                     // 4,000 Han characters
	brokenUTF8 = "6222\xff\xfe0212\xc334567890128"             // invalid UTF-8 inside a card number
	emoji      = "👍🏽 6222 0212 3456 7890 128 🙏"                // emoji around a card number
	zeroWidth  = "6222\u200b0212\u200b3456\u200b7890\ufeff128" // pasted from a bank app
)

func TestDigits(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"6222021234567890128", "6222021234567890128"},
		{"６２２２　０２１２", "62220212"},
		{"6222 0212-3456_7890", "6222021234567890"},
		{"6222\u00a00212\t3456\n7890", "6222021234567890"},
		{"6222－0212—3456–7890‐128", "6222021234567890128"},
		{zeroWidth, icbc19},
		{"+86 (138) 0000-0001", "+86(138)00000001"},
		{"abc 12", "abc12"},
		{"\xff 1", "\ufffd1"},
		{"\xef\xbc \x90", "\ufffd\ufffd\ufffd"}, // the bytes of ０ around a space stay apart
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Digits(tt.in), "%q", tt.in)
	}
}

func TestCardNumber(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"19 digits", icbc19, icbc19, nil},
		{"16 digits", cmb16, cmb16, nil},
		{"visa", visa16, visa16, nil},
		{"grouped with spaces", "6222 0212 3456 7890 128", icbc19, nil},
		{"full-width with ideographic spaces", "６２２２　０２１２　３４５６　７８９０　１２８", icbc19, nil},
		{"dashes", "6225-8812-3456-7898", cmb16, nil},
		{"zero-width characters", zeroWidth, icbc19, nil},
		{"surrounding blanks", "  \u3000" + icbc19 + "\n", icbc19, nil},
		{"62 card failing luhn keeps its digits", "6222 0212 3456 7890 123", bad62, ErrLuhn},
		{"other card failing luhn", "4111111111111112", "4111111111111112", ErrLuhn},
		{"15 digits", "622588123456789", "622588123456789", ErrLength},
		{"20 digits", "62220212345678901280", "62220212345678901280", ErrLength},
		{"4,000 digits", huge, strings.Repeat("6", 4000), ErrLength},
		{"4,000 mixed", hugeMixed, strings.Repeat("622202", 800), ErrLength},
		{"empty", "", "", ErrEmpty},
		{"only blanks", " \u3000 - ", "", ErrEmpty},
		{"letters", "6222O21234567890128", "", ErrNotDigits},
		{"emoji", emoji, "", ErrNotDigits},
		{"invalid utf-8", brokenUTF8, "", ErrNotDigits},
		{"4,000 han", hugeLetter, "", ErrNotDigits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CardNumber(tt.in)
			require.ErrorIs(t, err, tt.err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLuhn(t *testing.T) {
	for in, want := range map[string]bool{
		icbc19: true, cmb16: true, visa16: true, "79927398713": true, "0": true,
		bad62: false, "79927398710": false, "": false, "7992739871a": false, "７９９２７３９８７１３": false,
	} {
		assert.Equal(t, want, Luhn(in), "%q", in)
	}
}

func TestMaskPAN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"6222021234567890123", "622202*********0123"},
		{"6225881234567898", "622588******7898"},
		{"12345678901234", "123456****1234"},
		{"1234567890123", "*********0123"}, // shorter than 14: head hidden too
		{"1234567890", "******7890"},
		{"123456789", "*********"},
		{"", ""},
		{"62220２１２34567890", "62220２******7890"}, // counts runes, not bytes
	}
	for _, tt := range tests {
		got := MaskPAN(tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
		assert.Equal(t, utf8.RuneCountInString(tt.in), utf8.RuneCountInString(got))
	}
	assert.True(t, utf8.ValidString(MaskPAN(brokenUTF8)))
}

func TestMobilePhone(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"13800000001", "13800000001", nil},
		{"+86 138-0000-0001", "13800000001", nil},
		{"+8613800000001", "13800000001", nil},
		{"8613800000001", "13800000001", nil},
		{"0086 138 0000 0001", "13800000001", nil},
		{"(+86) 138 0000 0001", "13800000001", nil},
		{"（＋８６）１３８　００００　０００１", "13800000001", nil},
		{"(86)13800000001", "13800000001", nil},
		{"１９９１２３４５６７８", "19912345678", nil},
		{"", "", ErrEmpty},
		{" \u3000", "", ErrEmpty},
		{"+1 415 555 0100", "", ErrNotMobile},
		{"12800000001", "", ErrNotMobile},
		{"23800000001", "", ErrNotMobile},
		{"021-12345678", "", ErrNotMobile}, // a landline
		{"1380000000", "", ErrLength},
		{"138000000012", "", ErrLength},
		{"+86", "", ErrLength},
		{"138 0000 000l", "", ErrNotDigits},
		{"(+86 13800000001", "", ErrNotDigits},
		{brokenUTF8, "", ErrNotDigits},
		{huge, "", ErrLength},
		{hugeLetter, "", ErrNotDigits},
	}
	for _, tt := range tests {
		got, err := MobilePhone(tt.in)
		require.ErrorIs(t, err, tt.err, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"13800000001": "138****0001",
		"12345678":    "123*5678",
		"1234567":     "*******",
		"":            "",
	} {
		assert.Equal(t, want, MaskPhone(in), in)
	}
}

func TestName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  张三  ", "张三"},
		{"张　三", "张三"},
		{"阿依古丽·买买提", "阿依古丽·买买提"},
		{"阿依古丽 • 买买提", "阿依古丽·买买提"},
		{"阿依古丽・买买提", "阿依古丽·买买提"},
		{"阿依古丽･买买提", "阿依古丽·买买提"},
		{"阿依古丽‧买买提", "阿依古丽·买买提"},
		{"阿依古丽⋅买买提", "阿依古丽·买买提"},
		{"阿依古丽.买买提", "阿依古丽·买买提"},
		{"阿依古丽 · · 买买提", "阿依古丽·买买提"},
		{"ＺＨＡＮＧ　Ｓａｎ", "zhangsan"},
		{"上海某某餐饮有限公司（浦东）", "上海某某餐饮有限公司(浦东)"},
		{"张\u200b三", "张三"},
		{"\xff张三", "\ufffd张三"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Name(tt.in), "%q", tt.in)
	}
}

func TestSameName(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"阿依古丽·买买提", "阿依古丽 • 买买提", true},
		{"阿依古丽·买买提", "阿依古丽买买提", true}, // merchants often leave the dot out
		{"阿依古丽・买买提", "阿依古丽.买买提", true},
		{"张三", " 张 三 ", true},
		{"张三", "张　三", true},
		{"Zhang San", "ＺＨＡＮＧ ＳＡＮ", true},
		{"上海某某餐饮有限公司（浦东）", "上海某某餐饮有限公司(浦东)", true},
		{"张三", "张四", false},
		{"张三", "张三丰", false},
		{"", "", false},
		{" ", "\u3000", false},
		{"·", "", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, SameName(tt.a, tt.b), "%q vs %q", tt.a, tt.b)
		assert.Equal(t, tt.want, SameName(tt.b, tt.a), "%q vs %q", tt.b, tt.a)
	}
}

func TestHolderName(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"张三", "张三", nil},
		{"  张三\u3000", "张三", nil},
		{"阿依古丽·买买提", "阿依古丽·买买提", nil},
		{"阿依古丽 ⋅ 买买提", "阿依古丽 ⋅ 买买提", nil},
		{"Zhang   San", "Zhang San", nil},
		{"ＺＨＡＮＧ\u3000\u3000ＳＡＮ", "ＺＨＡＮＧ ＳＡＮ", nil},
		{"O'Brien-Smith", "O'Brien-Smith", nil},
		{"张\u200b三\ufeff", "张三", nil},
		{"李〇", "李〇", nil},
		{"上海某某餐饮有限公司（浦东）", "上海某某餐饮有限公司（浦东）", nil},
		{strings.Repeat("阿", 40), strings.Repeat("阿", 40), nil},
		{"", "", ErrEmpty},
		{" \u3000\t", "", ErrEmpty},
		{"张", "", ErrTooShort},
		{strings.Repeat("阿", 41), "", ErrTooLong},
		{hugeLetter, "", ErrTooLong},
		{"张三1", "", ErrBadChars},
		{"张三１", "", ErrBadChars},
		{icbc19, "", ErrBadChars},
		{huge, "", ErrBadChars},
		{"张三👍", "", ErrBadChars},
		{"张\x00三", "", ErrBadChars},
		{"张\u202e三", "", ErrBadChars}, // right-to-left override
		{"张\xff三", "", ErrBadChars},
		{"··", "", ErrBadChars}, // no letter
		{"？！", "", ErrBadChars},
	}
	for _, tt := range tests {
		got, err := HolderName(tt.in)
		require.ErrorIs(t, err, tt.err, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func TestBranch(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"中国工商银行上海分行张江支行", "中国工商银行上海分行张江支行", nil},
		{"  工商银行　张江  支行 ", "工商银行 张江 支行", nil},
		{"招商银行第88支行（原浦东支行）", "招商银行第88支行（原浦东支行）", nil},
		{"ICBC", "ICBC", nil},
		{"工行", "工行", nil},
		{strings.Repeat("行", 60), strings.Repeat("行", 60), nil},
		{"", "", ErrEmpty},
		{"\u3000", "", ErrEmpty},
		{"行", "", ErrTooShort},
		{strings.Repeat("行", 61), "", ErrTooLong},
		{hugeLetter, "", ErrTooLong},
		{"8888", "", ErrBadChars}, // no letter
		{"—— ！", "", ErrBadChars},
		{"张江支行🏦", "", ErrBadChars},
		{"张江\n\x07支行", "", ErrBadChars},
		{"张江\xff支行", "", ErrBadChars},
	}
	for _, tt := range tests {
		got, err := Branch(tt.in)
		require.ErrorIs(t, err, tt.err, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func TestCode(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"123456", "123456", nil},
		{"１２３ ４５６", "123456", nil},
		{"123-456", "123456", nil},
		{"012345", "012345", nil},
		{"", "", ErrEmpty},
		{"12345", "", ErrLength},
		{"1234567", "", ErrLength},
		{"12345a", "", ErrNotDigits},
		{"验证码123456", "", ErrNotDigits},
		{huge, "", ErrLength},
		{brokenUTF8, "", ErrNotDigits},
	}
	for _, tt := range tests {
		got, err := Code(tt.in)
		require.ErrorIs(t, err, tt.err, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func TestMerchantNo(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"822100050110001", "822100050110001", nil},
		{"8221 0005 0110 001", "822100050110001", nil},
		{"８２２１０００５０１１０００１", "822100050110001", nil},
		{"", "", ErrEmpty},
		{"82210005011000", "", ErrLength},
		{"8221000501100011", "", ErrLength},
		{"82210005011000１2", "", ErrLength},
		{"M22100050110001", "", ErrNotDigits},
		{emoji, "", ErrNotDigits},
		{huge, "", ErrLength},
	}
	for _, tt := range tests {
		got, err := MerchantNo(tt.in)
		require.ErrorIs(t, err, tt.err, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

// parsers holds every function that reads merchant input and can fail.
var parsers = map[string]func(string) (string, error){
	"CardNumber":  CardNumber,
	"MobilePhone": MobilePhone,
	"HolderName":  HolderName,
	"Branch":      Branch,
	"Code":        Code,
	"MerchantNo":  MerchantNo,
}

var sentinels = []error{
	ErrEmpty, ErrNotDigits, ErrLength, ErrLuhn, ErrNotMobile, ErrTooLong, ErrTooShort, ErrBadChars,
}

func TestErrorsNeverHoldInput(t *testing.T) {
	inputs := []string{
		bad62, "622202123456789", "62220212345678901280", "6222O21234567890128", "+1 415 555 0100",
		"13800000001x", "12800000001", "张三" + icbc19, "8221000501100011", huge, hugeMixed, brokenUTF8,
		emoji, "", "张", hugeLetter,
	}
	for name, parse := range parsers {
		for _, in := range inputs {
			_, err := parse(in)
			if err == nil {
				continue
			}
			msg := err.Error()
			assert.True(t, isSentinel(err), "%s: unknown error %v", name, err)
			if in != "" {
				assert.NotContains(t, msg, in, name)
			}
			assert.False(t, strings.ContainsAny(msg, "0123456789"), "%s error holds digits: %q", name, msg)
		}
	}
}

func TestAnyInputIsSafe(t *testing.T) {
	inputs := []string{
		"", huge, hugeMixed, hugeLetter, brokenUTF8, emoji, zeroWidth, "\x00", "\xff\xfe\xfd",
		strings.Repeat("👨‍👩‍👧‍👦", 1000), strings.Repeat("\u0301", 4000), strings.Repeat("·", 4000),
	}
	for _, in := range inputs {
		assert.NotPanics(t, func() {
			for _, parse := range parsers {
				_, _ = parse(in)
			}
			_ = Digits(in)
			_ = Luhn(in)
			_ = MaskPAN(in)
			_ = MaskPhone(in)
			_ = Name(in)
			_ = SameName(in, in)
		})
	}
}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
