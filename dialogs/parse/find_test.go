package parse

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// findCase is one message and what each Find function takes out of it.
type findCase struct {
	name, in string
	want     string // the value the tested Find returns
	n        int    // its candidates
}

func runFind(t *testing.T, find func(string) (string, int), tests []findCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := find(tt.in)
			assert.Equal(t, tt.want, got, "value")
			assert.Equal(t, tt.n, n, "candidates")
		})
	}
}

func TestFindCard(t *testing.T) {
	runFind(t, FindCard, []findCase{
		{"bare", icbc19, icbc19, 1},
		{"after a label", "卡号:" + icbc19, icbc19, 1},
		{"full-width colon and grouped", "卡号：6222 0212 3456 7890 128", icbc19, 1},
		{"in a sentence", "我的新卡是 6222 0212 3456 7890 128", icbc19, 1},
		{"full-width digits and spaces", "新卡 ６２２２　０２１２　３４５６　７８９０　１２８ 谢谢", icbc19, 1},
		{"dashes", "卡号6225-8812-3456-7898。", cmb16, 1},
		{"spaced dashes", "6225 - 8812 - 3456 - 7898", cmb16, 1},
		{"dots", "6225.8812.3456.7898", cmb16, 1},
		{"zero-width characters", "卡号 " + zeroWidth, icbc19, 1},
		{"emoji around", emoji, icbc19, 1},
		{"failing luhn is still a candidate", "卡号 6222 0212 3456 7890 123", bad62, 1},
		{"same card twice", icbc19 + " 就是 " + "6222 0212 3456 7890 128", icbc19, 1},
		{"two cards", "旧卡 " + cmb16 + " 新卡 " + icbc19, "", 2},
		{"two cards one space apart", cmb16 + " " + icbc19, "", 2},
		{"card and phone", "卡号 " + icbc19 + " 手机 13800000001", icbc19, 1},
		{"card and phone one space apart", icbc19 + " 13800000001", icbc19, 1},
		{"phone then code is not a 17-digit card", "138 0000 0001 123456", "", 0},
		{"15 digits", "卡号 622588123456789", "", 0},
		{"20 digits", "62220212345678901280", "", 0},
		{"a stray digit after the card", "6222 0212 3456 7890 128 5", "", 0},
		{"on two lines", "6222 0212\n3456 7890 128", "", 0},
		{"too many spaces between groups", "6222     0212 3456 7890 128", "", 0},
		{"letters inside", "6222O21234567890128", "", 0},
		{"an ID number ending in X", "身份证 11010119900307123X", "", 0},
		{"a grouped ID number ending in x", "110101 19900307 123x", "", 0},
		{"an ID number beside a card", "11010119900307123X " + icbc19, icbc19, 1},
		{"nothing", "工商银行", "", 0},
		{"empty", "", "", 0},
		{"invalid utf-8 inside", brokenUTF8, "", 0},
		{"4,000 digits", huge, "", 0},
		{"4,000 mixed", hugeMixed, "", 0},
		{"many cards", strings.Repeat(icbc19+"，"+cmb16+"，", 200), "", 2},
	})
}

func TestFindPhone(t *testing.T) {
	runFind(t, FindPhone, []findCase{
		{"bare", "13800000001", "13800000001", 1},
		{"in a sentence", "我的手机号是13800000001", "13800000001", 1},
		{"dots", "138.0000.0001", "13800000001", 1},
		{"full-width dots", "１３８．００００．０００１", "13800000001", 1},
		{"spaces and dashes", "手机 138 0000-0001 谢谢", "13800000001", 1},
		{"+86", "+86 138 0000 0001", "13800000001", 1},
		{"+86 joined", "+8613800000001", "13800000001", 1},
		{"0086", "0086 13800000001", "13800000001", 1},
		{"bracketed +86", "(+86) 138-0000-0001", "13800000001", 1},
		{"full-width dashes", "１３８－００００－０００１", "13800000001", 1},
		{"phone and code in one message", "手机：138 0000 0001；验证码：123456", "13800000001", 1},
		{"same phone twice", "13800000001，对，+86 13800000001", "13800000001", 1},
		{"two phones", "13800000001 或 13900000002", "", 2},
		{"a card is not a phone", "卡号 " + icbc19, "", 0},
		{"a merchant number is not a phone", "822100050110001", "", 0},
		{"card and phone", icbc19 + " 13800000001", "13800000001", 1},
		{"landline", "021-12345678", "", 0},
		{"starts 12", "12800000001", "", 0},
		{"10 digits", "1380000000", "", 0},
		{"12 digits", "138000000012", "", 0},
		{"empty", "", "", 0},
	})
}

func TestFindCode(t *testing.T) {
	runFind(t, FindCode, []findCase{
		{"bare", "123456", "123456", 1},
		{"pasted sms", "验证码是 123456", "123456", 1},
		{"whole sms", "【某某支付】您的验证码是123456，5分钟内有效，请勿告诉他人。", "123456", 1},
		{"grouped", "123 456", "123456", 1},
		{"full-width", "１２３ ４５６", "123456", 1},
		{"two codes", "123456 还是 654321", "", 2},
		{"phone and code in one message", "手机：138 0000 0001；验证码：123456", "123456", 1},
		{"masked phone in the sms", "【银行】尾号0128的卡，138****0001，验证码 654321", "654321", 1},
		{"a card is not a code", "6222 0212 3456 7890 128", "", 0},
		{"a phone is not a code", "13800000001", "", 0},
		{"5 digits", "12345", "", 0},
		{"7 digits", "1234567", "", 0},
		{"empty", "", "", 0},
	})
}

func TestFindMerchantNo(t *testing.T) {
	runFind(t, FindMerchantNo, []findCase{
		{"bare", "822100050110001", "822100050110001", 1},
		{"after a label", "商户号：822100050110001", "822100050110001", 1},
		{"grouped", "商户号 822 1000 5011 0001", "822100050110001", 1},
		{"full-width", "８２２１０００５０１１０００１", "822100050110001", 1},
		{"two", "822100050110001 822100050110002", "", 2},
		{"0086 and a mobile is a phone", "008613800000001", "", 0},
		{"a card is not a merchant number", icbc19, "", 0},
		{"14 digits", "82210005011000", "", 0},
		{"empty", "", "", 0},
	})
}
