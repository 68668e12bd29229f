package bot

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestUTF16Len(t *testing.T) {
	assert.Equal(t, 0, utf16Len(""))
	assert.Equal(t, 5, utf16Len("hello"))
	assert.Equal(t, 4, utf16Len("更换结算"))
	assert.Equal(t, 2, utf16Len("🎉"))  // outside the BMP: a surrogate pair
	assert.Equal(t, 3, utf16Len("✅🔒")) // U+2705 is one unit, U+1F512 two
	assert.Equal(t, 4096, utf16Len(strings.Repeat("🎉", 2048)))
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		limit int
		want  []string
	}{
		{"short", "one\ntwo", 10, []string{"one\ntwo"}},
		{"exactly the limit", "0123456789", 10, []string{"0123456789"}},
		{"on a line boundary", "aaaa\nbbbb\ncccc", 10, []string{"aaaa\nbbbb", "cccc"}},
		{"emoji count twice", "🎉🎉🎉\n🎉🎉🎉", 10, []string{"🎉🎉🎉", "🎉🎉🎉"}},
		{"a long line is cut at a space", "aaa bbb ccc ddd", 8, []string{"aaa bbb ", "ccc ddd"}},
		{"a long line without spaces is cut anywhere", "一二三四五六七八九十", 4, []string{"一二三四", "五六七八", "九十"}},
		{"never inside a surrogate pair", "a🎉🎉🎉", 4, []string{"a🎉", "🎉🎉"}},
		{"blank pieces are dropped", "aaaa\n\n\n\nbbbb", 5, []string{"aaaa", "bbbb"}},
		{"nothing", "", 10, nil},
		{"a limit below one character still ends", "🎉", 1, []string{"🎉"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, splitText(tt.text, tt.limit))
		})
	}
}

// TestSplitTextTelegramLimit splits a long summary-like text: every piece is
// within 4,096 UTF-16 units, valid UTF-8, and nothing is lost.
func TestSplitTextTelegramLimit(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 40000; i++ {
		b.WriteString("✅ 第 ")
		b.WriteString(strings.Repeat("🎉", i%7))
		b.WriteString(" 项：新卡为本人一类借记卡 — the new card is a Class I debit card\n")
	}
	b.WriteString(strings.Repeat("长", 5000)) // one line longer than a message
	text := b.String()
	parts := splitText(text, maxMessageText)
	assert.Greater(t, len(parts), 3)
	for _, p := range parts {
		assert.LessOrEqual(t, utf16Len(p), maxMessageText)
		assert.True(t, utf8.ValidString(p))
	}
	squash := func(s string) string { return strings.NewReplacer("\n", "", " ", "").Replace(s) }
	assert.Equal(t, squash(text), squash(strings.Join(parts, "")))
}
