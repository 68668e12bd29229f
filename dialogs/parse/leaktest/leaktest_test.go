package leaktest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestOracleSeesWhatIsLeft: the oracle names the secrets of a text left
// as it was, in every written form, and none of an ordinary sentence.
func TestOracleSeesWhatIsLeft(t *testing.T) {
	for in, want := range map[string][]string{
		"6228.4800.0012.3456.782":           {"6228480000123456782"},
		"６２２８ ４８００-0012．3456／782":           {"6228480000123456782"},
		"+86 138-0000-0001":                 {"13800000001"},
		"*13800000001":                      {"13800000001"},
		"123456*":                           {"123456"},
		"(123456)":                          {"123456"},
		"123 456":                           {"123456"},
		"12-34-56":                          {"123456"},
		"11010519491231002X":                {"11010519491231002"},
		"622202******1234 and 139****5678":  nil,
		"on 2026-11-27 at 10:05":            nil,
		"amount 1200 yuan, ¥35000, 1200.50": nil,
		"3 shops":                           nil,
	} {
		got := Leaks(in, in)
		if want == nil {
			assert.Empty(t, got, in)
			continue
		}
		assert.Subset(t, got, want, in)
	}
	// Masked, nothing is left; a digit string read across separators is.
	assert.Empty(t, Leaks("card 6228.4800.0012.3456.782", "card 622848*********6782"))
	assert.Equal(t, []string{"6228480000123456782"}, Leaks("6228480000123456782", "6228 4800 0012 3456 782"))
	assert.True(t, HasCard("6228.4800.0012.3456.782"))
	assert.False(t, HasCard("822100050110001"))
}
