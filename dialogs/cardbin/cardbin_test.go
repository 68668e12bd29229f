package cardbin

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loadTable(tb testing.TB) *Table {
	tb.Helper()
	t, err := Load()
	require.NoError(tb, err)
	return t
}

func TestLookup(t *testing.T) {
	table := loadTable(t)
	tests := []struct {
		name   string
		digits string
		want   Card
		ok     bool
	}{
		{"ICBC debit", "6222021234567890123",
			Card{BIN: "622202", BankCode: "ICBC", BankName: "中国工商银行", Type: "DC", Length: 19}, true},
		{"CCB debit", "6217001234567890123",
			Card{BIN: "621700", BankCode: "CCB", BankName: "中国建设银行", Type: "DC", Length: 19}, true},
		{"ICBC four-digit bin", "9558001234567890123",
			Card{BIN: "9558", BankCode: "ICBC", BankName: "中国工商银行", Type: "DC", Length: 19}, true},
		{"CCB credit", "6259651234567890",
			Card{BIN: "625965", BankCode: "CCB", BankName: "中国建设银行", Type: "CC", Length: 16}, true},
		{"ABC semi-credit", "4910212345678901",
			Card{BIN: "49102", BankCode: "ABC", BankName: "中国农业银行", Type: "SCC", Length: 16}, true},
		{"longer bin wins over 621260", "6212600011234567890",
			Card{BIN: "621260001", BankCode: "XFRCB", BankName: "", Type: "DC", Length: 19}, true},
		{"ten-digit bins differ in the last digit", "6229756115123456789",
			Card{BIN: "6229756115", BankCode: "BJRCB", BankName: "", Type: "DC", Length: 19}, true},
		{"shared bin, 16 digits is the credit card", "6212609876543210",
			Card{BIN: "621260", BankCode: "SPABANK", BankName: "", Type: "CC", Length: 16}, true},
		{"shared bin, 19 digits is the debit card", "6212609876543210123",
			Card{BIN: "621260", BankCode: "CSRCB", BankName: "", Type: "DC", Length: 19}, true},
		{"shared bin, length unknown takes the first row", "621260",
			Card{BIN: "621260", BankCode: "SPABANK", BankName: "", Type: "CC", Length: 16}, true},
		{"miss", "1111111111111111", Card{}, false},
		{"shorter than every bin", "62", Card{}, false},
		{"empty", "", Card{}, false},
		{"not digits", "６２２２０２１２３４", Card{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := table.Lookup(tt.digits)
			require.Equal(t, tt.ok, ok)
			if tt.want.BankName == "" && tt.ok {
				name, known := table.BankName(tt.want.BankCode)
				require.True(t, known)
				tt.want.BankName = name
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestEveryRowIsReachable(t *testing.T) {
	// Each row, looked up with a number of its own length, must come back: no row is shadowed.
	table := loadTable(t)
	for bin, cards := range table.bins {
		for _, c := range cards {
			digits := bin + strings.Repeat("0", c.Length-len(bin))
			got, ok := table.Lookup(digits)
			require.True(t, ok, bin)
			if got.BIN == bin {
				assert.Equal(t, c, got)
			} else {
				assert.Greater(t, len(got.BIN), len(bin), "a longer bin may win: %s vs %s", got.BIN, bin)
			}
		}
	}
}

func TestBanks(t *testing.T) {
	table := loadTable(t)
	banks := table.Banks()
	// name.csv has 275 codes (its README's "298" counts the blank lines between letter groups),
	// of which 10 repeat a bank under a second code.
	require.Len(t, banks, 265)
	codes := make([]string, 0, 7)
	for _, b := range banks[:7] {
		codes = append(codes, b.Code)
	}
	assert.Equal(t, []string{"ICBC", "CCB", "ABC", "BOC", "COMM", "PSBC", "CMB"}, codes)
	assert.Equal(t, Bank{Code: "COMM", Name: "交通银行", NameEN: "Bank of Communications"}, banks[4])
	for i := 8; i < len(banks); i++ {
		assert.Less(t, banks[i-1].Code, banks[i].Code)
	}

	banks[0].Name = "changed"
	assert.Equal(t, "中国工商银行", table.Banks()[0].Name, "Banks must return a copy")
}

func TestBankName(t *testing.T) {
	table := loadTable(t)
	name, ok := table.BankName("PSBC")
	assert.True(t, ok)
	assert.Equal(t, "中国邮政储蓄银行", name)
	_, ok = table.BankName("NOPE")
	assert.False(t, ok)
}

func TestIsDebit(t *testing.T) {
	assert.True(t, IsDebit("DC"))
	for _, typ := range []string{"CC", "SCC", "PC", "", "dc"} {
		assert.False(t, IsDebit(typ), typ)
	}
}

func TestLoadTwiceIsIndependent(t *testing.T) {
	a, b := loadTable(t), loadTable(t)
	assert.NotSame(t, a, b)
	assert.Equal(t, a.Banks(), b.Banks())
}

func TestConcurrentLookup(t *testing.T) {
	table := loadTable(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				c, ok := table.Lookup("6222021234567890123")
				assert.True(t, ok)
				assert.Equal(t, "ICBC", c.BankCode)
			}
		})
	}
	wg.Wait()
}

func TestLicenseTravelsWithData(t *testing.T) {
	license, err := data.ReadFile("data/LICENSE")
	require.NoError(t, err)
	assert.Contains(t, string(license), "MIT License")
	readme, err := data.ReadFile("data/README.md")
	require.NoError(t, err)
	assert.NotEmpty(t, readme)
}

func BenchmarkLookup(b *testing.B) {
	table := loadTable(b)
	numbers := []string{
		"6222021234567890123", // 6-digit bin
		"6212600011234567890", // 9-digit bin over a 6-digit one
		"6229756115123456789", // 10-digit bin
		"1111111111111111",    // miss: every length is tried
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		table.Lookup(numbers[i%len(numbers)])
	}
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}
