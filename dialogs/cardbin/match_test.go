package cardbin

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMatchBank(t *testing.T) {
	table := loadTable(t)
	tests := []struct {
		in   string
		code string // "" when no bank is matched
	}{
		// standard names, short names, legal names, English
		{"中国工商银行", "ICBC"},
		{"工行", "ICBC"},
		{"工商银行", "ICBC"},
		{"ICBC", "ICBC"},
		{"icbc", "ICBC"},
		{"ＩＣＢＣ", "ICBC"},
		{"中国工商银行股份有限公司", "ICBC"},
		{"Industrial and Commercial Bank of China Limited", "ICBC"},
		{"建行", "CCB"},
		{"CCB", "CCB"},
		{"中国建设银行股份有限公司", "CCB"},
		{"中行", "BOC"},
		{"中国银行", "BOC"},
		{"Bank of China", "BOC"},
		{"BOC", "BOC"},
		{"中國銀行", "BOC"},
		{"农行", "ABC"},
		{"ABC", "ABC"},
		{"招行", "CMB"},
		{"招商银行", "CMB"},
		{"招商銀行", "CMB"},
		{"China Merchants Bank Co., Ltd.", "CMB"},
		{"CMB", "CMB"},
		{"交行", "COMM"},
		{"交通银行", "COMM"},
		{"BOCOM", "COMM"},
		{"邮储", "PSBC"},
		{"邮储银行", "PSBC"},
		{"中国邮政储蓄银行股份有限公司", "PSBC"},
		{"PSBC", "PSBC"},
		{"CITIC", "CITIC"},
		{"中信银行", "CITIC"},
		{"CEB", "CEB"},
		{"光大银行", "CEB"},
		{"CMBC", "CMBC"},
		{"民生银行", "CMBC"},
		{"CIB", "CIB"},
		{"兴业银行", "CIB"},
		{"SPDB", "SPDB"},
		{"浦发银行", "SPDB"},
		{"上海浦东发展银行股份有限公司", "SPDB"},
		{"HXB", "HXBANK"},
		{"华夏银行", "HXBANK"},
		{"GDB", "GDB"},
		{"广发银行", "GDB"},
		{"广东发展银行", "GDB"},
		{"PAB", "SPABANK"},
		{"平安银行", "SPABANK"},
		{"平安银行股份有限公司", "SPABANK"},
		{"Ping An Bank", "SPABANK"},
		{"The Bank of East Asia", "HKBEA"},
		{"东亚银行有限公司", "HKBEA"},
		{"花旗银行", "CITI"},
		{"花旗银行(中国)有限公司", "CITI"},
		{"北京农商银行", "BJRCB"},
		{"北京农村商业银行股份有限公司", "BJRCB"},
		{"威海银行", "WHCCB"},  // renamed from 威海市商业银行
		{"郑州银行", "ZZBANK"}, // its own name wins over 郑州商业银行's variant
		// with words around it, or a branch
		{"开户行是工行", "ICBC"},
		{"是建行的", "CCB"},
		{"建行卡", "CCB"},
		{"中国银行上海分行", "BOC"},
		{"工行上海市张江支行", "ICBC"},
		{" 招商 银行 ", "CMB"},
		// not banks
		{"是的", ""},
		{"是", ""},
		{"对", ""},
		{"yes", ""},
		{"ok", ""},
		{"correct", ""},
		{"xx", ""},
		{"-1", ""},
		{"13800000001", ""},
		{"6222021234567890128", ""},
		{"", ""},
		{"银行", ""},
		{"不是工行", ""},
		{"工行还是建行", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, ok, closest := table.MatchBank(tt.in)
			if tt.code == "" {
				assert.False(t, ok, "matched %v", b)
				assert.Equal(t, Bank{}, b)
				return
			}
			require.True(t, ok, "closest %v", closest)
			assert.Equal(t, tt.code, b.Code)
			assert.Empty(t, closest)
			want, _ := table.BankByCode(tt.code)
			assert.Equal(t, want, b)
		})
	}
}

func TestMatchBankSuggestsNearMisses(t *testing.T) {
	table := loadTable(t)
	tests := []struct {
		in   string
		want []string // codes closest must hold; nil: the text is a match
	}{
		{"中国工行银行", []string{"ICBC"}},
		{"招啇银行", []string{"CMB"}},
		{"icbv", []string{"ICBC"}},
		{"Bank of Chna", []string{"BOC"}},
		{"不是工行", []string{"ICBC"}},
		{"工行还是建行", []string{"ICBC", "CCB"}},
		{"洛阳银行", nil}, // two codes of one bank are one bank: a match, tested below
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, ok, closest := table.MatchBank(tt.in)
			if tt.want == nil {
				assert.True(t, ok)
				return
			}
			require.False(t, ok, "matched %v", b)
			require.GreaterOrEqual(t, len(closest), len(tt.want), "%v", closest)
			assert.LessOrEqual(t, len(closest), 3)
			for _, code := range tt.want {
				assert.Contains(t, codesOf(closest), code)
			}
		})
	}
}

func TestMatchBankJunkHasNoSuggestions(t *testing.T) {
	table := loadTable(t)
	for _, in := range []string{"是的", "是", "对", "yes", "ok", "correct", "xx", "-1", "13800000001", "", "  ", "👍", "\xff\xfe"} {
		_, ok, closest := table.MatchBank(in)
		assert.False(t, ok, in)
		assert.Empty(t, closest, in)
	}
}

func TestSameBankUnderTwoCodes(t *testing.T) {
	table := loadTable(t)
	// 洛阳银行 is both BOL and LYBANK in the source table: one bank, one code everywhere.
	bol, ok := table.BankByCode("BOL")
	require.True(t, ok)
	ly, ok := table.BankByCode("LYBANK")
	require.True(t, ok)
	assert.Equal(t, bol, ly)
	matched, ok, _ := table.MatchBank("洛阳银行")
	require.True(t, ok)
	assert.Equal(t, bol, matched)
	for _, cards := range table.bins {
		for _, c := range cards {
			if c.BankName == "洛阳银行" {
				assert.Equal(t, bol.Code, c.BankCode, c.BIN)
			}
		}
	}
	// 东亚银行有限公司 and 东亚银行: the short name is shown.
	bea, ok := table.BankByCode("BEAHK")
	require.True(t, ok)
	assert.Equal(t, "东亚银行", bea.Name)
}

func TestBankByCode(t *testing.T) {
	table := loadTable(t)
	b, ok := table.BankByCode("ICBC")
	require.True(t, ok)
	assert.Equal(t, Bank{Code: "ICBC", Name: "中国工商银行", NameEN: "Industrial and Commercial Bank of China"}, b)
	b, ok = table.BankByCode("AEON")
	require.True(t, ok)
	assert.Empty(t, b.NameEN, "no English name in the table: the caller shows the Chinese one")
	for _, code := range []string{"", "icbc", "NOPE"} {
		_, ok := table.BankByCode(code)
		assert.False(t, ok, code)
	}
}

func TestEveryBankMatchesItsOwnNames(t *testing.T) {
	table := loadTable(t)
	for _, b := range table.Banks() {
		for _, name := range []string{b.Name, b.NameEN} {
			if name == "" {
				continue
			}
			got, ok, closest := table.MatchBank(name)
			if assert.True(t, ok, "%s %q: closest %v", b.Code, name, closest) {
				assert.Equal(t, b.Code, got.Code, name)
			}
		}
	}
}

func FuzzMatchBank(f *testing.F) {
	table := loadTable(f)
	for _, s := range []string{"工行", "中国工商银行股份有限公司", "Bank of China", "是的", "xx", "-1", "13800000001",
		"开户行是工行", "中国银行上海分行", "中國銀行", "ＩＣＢＣ", "招啇银行", "\xff", "银行银行银行"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, ok, closest := table.MatchBank(s)
		switch {
		case ok && (len(closest) > 0 || b.Code == ""):
			t.Fatalf("%q → %v, %v", s, b, closest)
		case !ok && b != Bank{}:
			t.Fatalf("%q → %v without ok", s, b)
		case len(closest) > 3:
			t.Fatalf("%q → %d suggestions", s, len(closest))
		}
		for _, c := range append(closest, b) {
			if want, known := table.BankByCode(c.Code); c.Code != "" && (!known || want != c) {
				t.Fatalf("%q → unknown bank %v", s, c)
			}
		}
	})
}

func codesOf(banks []Bank) []string {
	codes := make([]string, 0, len(banks))
	for _, b := range banks {
		codes = append(codes, b.Code)
	}
	return codes
}

func TestMatchBankAmbiguousNameSuggestsEveryBank(t *testing.T) {
	// No name of the embedded table is shared by two banks; a future row might be.
	a, b := Bank{Code: "AAA", Name: "甲银行"}, Bank{Code: "BBB", Name: "乙银行"}
	table := &Table{
		byCode: map[string]Bank{"AAA": a, "BBB": b},
		weight: map[string]int{"AAA": 1, "BBB": 5},
		names:  indexNames([]Bank{a, b}, []alias{{"AAA", "同名银行"}, {"BBB", "同名银行"}}),
	}
	got, ok, closest := table.MatchBank("同名银行")
	assert.False(t, ok, "%v", got)
	assert.Equal(t, []Bank{b, a}, closest, "the bank with more cards first")
	got, ok, closest = table.MatchBank("同名银行北京分行")
	assert.False(t, ok, "%v", got)
	assert.Equal(t, []Bank{b, a}, closest)
	got, ok, _ = table.MatchBank("甲银行")
	assert.True(t, ok)
	assert.Equal(t, a, got)
}
