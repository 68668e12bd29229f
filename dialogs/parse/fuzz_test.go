package parse

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// fuzzSeeds start every fuzz target; testdata/fuzz holds more, one per target.
var fuzzSeeds = []string{
	"",
	icbc19,
	bad62,
	"６２２２　０２１２　３４５６　７８９０　１２８",
	"6225-8812-3456-7898",
	"+86 138-0000-0001",
	"（＋８６）１３８　００００　０００１",
	"822100050110001",
	"１２３ ４５６",
	"阿依古丽·买买提",
	"阿依古丽 • 买买提",
	"中国工商银行上海分行张江支行",
	emoji,
	zeroWidth,
	brokenUTF8,
	"\xef\xbc \x90",
}

func addSeeds(f *testing.F) {
	f.Helper()
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
}

func FuzzDigits(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		d := Digits(s)
		if !utf8.ValidString(d) {
			t.Fatalf("Digits(%q) = %q: invalid UTF-8", s, d)
		}
		for _, r := range d {
			if isBlank(r) || isDash(r) || (r >= '０' && r <= '９') {
				t.Fatalf("Digits(%q) = %q: kept %q", s, d, r)
			}
		}
		if again := Digits(d); again != d {
			t.Fatalf("Digits not idempotent: %q → %q → %q", s, d, again)
		}
		if len(d) > 3*len(s) { // at worst a stray byte becomes a 3-byte U+FFFD
			t.Fatalf("Digits(%q) grew to %d bytes", s, len(d))
		}
	})
}

func FuzzCardNumber(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := CardNumber(s)
		requireSentinel(t, err)
		switch {
		case err == nil:
			if !isASCIIDigits(d) || len(d) < 16 || len(d) > 19 || !Luhn(d) {
				t.Fatalf("CardNumber(%q) = %q, accepted", s, d)
			}
		case errors.Is(err, ErrLuhn):
			if !isASCIIDigits(d) || len(d) < 16 || len(d) > 19 || Luhn(d) {
				t.Fatalf("CardNumber(%q) = %q, ErrLuhn", s, d)
			}
		case errors.Is(err, ErrLength):
			if d == "" || !isASCIIDigits(d) || (len(d) >= 16 && len(d) <= 19) {
				t.Fatalf("CardNumber(%q) = %q, ErrLength", s, d)
			}
		case d != "":
			t.Fatalf("CardNumber(%q) = %q with %v", s, d, err)
		}
		if d != "" {
			requireMasked(t, d, MaskPAN(d))
		}
		requireMasked(t, s, MaskPAN(s))
	})
}

// requireMasked checks that masked keeps the length of pan and hides its middle.
func requireMasked(t *testing.T, pan, masked string) {
	t.Helper()
	p, m := []rune(pan), []rune(masked)
	if len(p) != len(m) {
		t.Fatalf("MaskPAN(%q) = %q: length changed", pan, masked)
	}
	n := len(p)
	for i := range m {
		shown := (n >= 14 && i < 6) || (n >= 10 && i >= n-4)
		switch {
		case shown && m[i] != p[i]:
			t.Fatalf("MaskPAN(%q) = %q: changed position %d", pan, masked, i)
		case !shown && m[i] != '*':
			t.Fatalf("MaskPAN(%q) = %q: shows position %d", pan, masked, i)
		}
	}
}

func FuzzMobilePhone(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := MobilePhone(s)
		requireSentinel(t, err)
		if err != nil {
			if p != "" {
				t.Fatalf("MobilePhone(%q) = %q with %v", s, p, err)
			}
			return
		}
		if len(p) != 11 || !isASCIIDigits(p) || p[0] != '1' || p[1] < '3' {
			t.Fatalf("MobilePhone(%q) = %q", s, p)
		}
		for _, again := range []string{p, "+86 " + p, "(0086)" + p} {
			if got, err := MobilePhone(again); got != p || err != nil {
				t.Fatalf("MobilePhone(%q) = %q, %v; want %q", again, got, err, p)
			}
		}
		if m := MaskPhone(p); m != p[:3]+"****"+p[7:] {
			t.Fatalf("MaskPhone(%q) = %q", p, m)
		}
	})
}

func FuzzHolderName(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		name, err := HolderName(s)
		requireSentinel(t, err)
		if err != nil {
			if name != "" {
				t.Fatalf("HolderName(%q) = %q with %v", s, name, err)
			}
			return
		}
		requireCollapsed(t, s, name, 2, 40)
		for _, r := range name {
			if unicode.IsDigit(r) || unicode.IsControl(r) {
				t.Fatalf("HolderName(%q) = %q: holds %q", s, name, r)
			}
		}
		if again, err := HolderName(name); again != name || err != nil {
			t.Fatalf("HolderName not idempotent: %q → %q → %q, %v", s, name, again, err)
		}
		if !SameName(name, s) || !SameName(s, name) {
			t.Fatalf("SameName(%q, %q) is false", name, s)
		}
	})
}

func FuzzBranch(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		name, err := Branch(s)
		requireSentinel(t, err)
		if err != nil {
			if name != "" {
				t.Fatalf("Branch(%q) = %q with %v", s, name, err)
			}
			return
		}
		requireCollapsed(t, s, name, 2, 60)
		if !strings.ContainsFunc(name, func(r rune) bool {
			return unicode.IsLetter(r) && unicode.In(r, unicode.Han, unicode.Latin)
		}) {
			t.Fatalf("Branch(%q) = %q: no Han or Latin letter", s, name)
		}
		if again, err := Branch(name); again != name || err != nil {
			t.Fatalf("Branch not idempotent: %q → %q → %q, %v", s, name, again, err)
		}
	})
}

// requireCollapsed checks a name that HolderName or Branch returned.
func requireCollapsed(t *testing.T, in, name string, lo, hi int) {
	t.Helper()
	n := utf8.RuneCountInString(name)
	switch {
	case !utf8.ValidString(name):
		t.Fatalf("%q → %q: invalid UTF-8", in, name)
	case n < lo || n > hi:
		t.Fatalf("%q → %q: %d runes", in, name, n)
	case strings.TrimFunc(name, isBlank) != name:
		t.Fatalf("%q → %q: not trimmed", in, name)
	case strings.Contains(name, "  "):
		t.Fatalf("%q → %q: spaces not collapsed", in, name)
	case strings.ContainsFunc(name, func(r rune) bool {
		return r != ' ' && isBlank(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	}):
		t.Fatalf("%q → %q: holds a blank other than a space or a control", in, name)
	}
}

func FuzzCode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		requireNumber(t, Code, s, 6)
	})
}

func FuzzMerchantNo(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		requireNumber(t, MerchantNo, s, 15)
	})
}

func requireNumber(t *testing.T, parse func(string) (string, error), s string, n int) {
	t.Helper()
	d, err := parse(s)
	requireSentinel(t, err)
	switch {
	case err != nil && d != "":
		t.Fatalf("%q → %q with %v", s, d, err)
	case err == nil && (len(d) != n || !isASCIIDigits(d)):
		t.Fatalf("%q → %q", s, d)
	case err == nil && d != Digits(s):
		t.Fatalf("%q → %q, not its digits", s, d)
	}
}

func FuzzName(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		n := Name(s)
		if !utf8.ValidString(n) {
			t.Fatalf("Name(%q) = %q: invalid UTF-8", s, n)
		}
		if strings.ContainsFunc(n, isBlank) {
			t.Fatalf("Name(%q) = %q: holds a blank", s, n)
		}
		if strings.Contains(n, string(nameDot)+string(nameDot)) {
			t.Fatalf("Name(%q) = %q: dots not merged", s, n)
		}
		if again := Name(n); again != n {
			t.Fatalf("Name not idempotent: %q → %q → %q", s, n, again)
		}
		empty := strings.ReplaceAll(n, string(nameDot), "") == ""
		if SameName(s, " "+s+"\u3000") == empty {
			t.Fatalf("SameName(%q, itself spaced) = %v", s, !empty)
		}
	})
}

// requireSentinel fails unless err is nil or one of the package's errors, unwrapped: their texts
// are fixed, so they cannot carry the input.
func requireSentinel(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range sentinels {
		if err == s { // identity, not errors.Is: a wrapped error could add text
			return
		}
	}
	t.Fatalf("unexpected error %q", err)
}

// findSeeds are sentences as merchants write them, for the Find targets.
var findSeeds = []string{
	"卡号:6222021234567890128",
	"我的新卡是 6222 0212 3456 7890 128",
	"验证码是 123456",
	"【某某支付】您的验证码是123456，5分钟内有效",
	"我的手机号是13800000001",
	"138.0000.0001",
	"+86 138 0000 0001",
	"商户号 822 1000 5011 0001",
	"6222021234567890128 13800000001",
	"138 0000 0001 123456",
	"6225 - 8812 - 3456 - 7898",
	"１２３．４５６",
}

func fuzzFind(f *testing.F, find func(string) (string, int), valid func(string) bool) {
	f.Helper()
	addSeeds(f)
	for _, s := range findSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, n := find(s)
		switch {
		case n < 0:
			t.Fatalf("%q: %d candidates", s, n)
		case n != 1 && v != "":
			t.Fatalf("%q → %q with %d candidates", s, v, n)
		case n != 1:
			return
		case !valid(v):
			t.Fatalf("%q → %q: wrong shape", s, v)
		case !strings.Contains(onlyDigits(s), v):
			t.Fatalf("%q → %q: not digits of the text", s, v)
		}
		if again, n := find(v); again != v || n != 1 {
			t.Fatalf("%q → %q → %q, %d", s, v, again, n)
		}
	})
}

// onlyDigits keeps the digits of s, folded to ASCII.
func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteByte(byte('0' + r - '０'))
		}
	}
	return b.String()
}

func FuzzFindCard(f *testing.F) {
	fuzzFind(f, FindCard, func(v string) bool {
		return isASCIIDigits(v) && len(v) >= 16 && len(v) <= 19
	})
}

func FuzzFindPhone(f *testing.F) {
	fuzzFind(f, FindPhone, func(v string) bool {
		p, err := MobilePhone(v)
		return err == nil && p == v
	})
}

func FuzzFindCode(f *testing.F) {
	fuzzFind(f, FindCode, func(v string) bool {
		c, err := Code(v)
		return err == nil && c == v
	})
}

func FuzzFindMerchantNo(f *testing.F) {
	fuzzFind(f, FindMerchantNo, func(v string) bool {
		m, err := MerchantNo(v)
		// 0086 and a mobile is a phone with its country code, not a merchant number.
		return err == nil && m == v && !(strings.HasPrefix(v, "0086") && isMobile(v[4:]))
	})
}
