package dialogs

import "testing"

func TestUnreadable(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"822100050110001", false},
		{"上海张江支行", false},
		{"第一行\n第二行\r\n\t缩进", false},
		{"6222\u200b0212\ufeff3456", false}, // zero-width characters pasted with a number: the parsers drop them
		{"王\u200e五", false},                 // a left-to-right mark, as some keyboards insert
		{"822100050110001\x00", true},
		{"张\x1b[2J三", true},
		{"\x7f", true},
		{"\u0085", true}, // a C1 control
		{"\u202e三张", true},
		{"a\u2066b", true},
		{"\xff\xfe\xfd", true},
	}
	for _, tt := range tests {
		if got := unreadable(tt.text); got != tt.want {
			t.Errorf("unreadable(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}
