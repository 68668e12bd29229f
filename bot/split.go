package bot

import (
	"strings"
	"unicode/utf8"
)

// maxMessageText is Telegram's limit on a message's text after entity
// parsing, in UTF-16 code units.
const maxMessageText = 4096

// utf16Len counts s in UTF-16 code units, as Telegram measures text.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += runeUTF16(r)
	}
	return n
}

func runeUTF16(r rune) int {
	if r >= 0x10000 {
		return 2 // a surrogate pair: most emoji
	}
	return 1
}

// splitText cuts plain text into messages of at most limit UTF-16 code units,
// at line boundaries where it can and never inside a character. Blank pieces
// are dropped: Telegram refuses empty messages.
func splitText(text string, limit int) []string {
	var (
		out []string
		cur strings.Builder
		n   int // cur's length in UTF-16 code units
	)
	flush := func() {
		if strings.TrimSpace(cur.String()) != "" {
			out = append(out, strings.TrimRight(cur.String(), "\n"))
		}
		cur.Reset()
		n = 0
	}
	for line := range strings.SplitAfterSeq(text, "\n") {
		ln := utf16Len(line)
		if n+ln > limit {
			flush()
		}
		for ln > limit { // one line longer than a message: cut it
			head := cutUTF16(line, limit)
			cur.WriteString(head)
			flush()
			line = line[len(head):]
			ln = utf16Len(line)
		}
		cur.WriteString(line)
		n += ln
	}
	flush()
	return out
}

// cutUTF16 returns the longest prefix of s of at most limit UTF-16 code
// units, preferring to end after a space.
func cutUTF16(s string, limit int) string {
	n, end, lastSpace := 0, 0, -1
	for end < len(s) {
		r, size := utf8.DecodeRuneInString(s[end:])
		w := runeUTF16(r)
		if n+w > limit {
			break
		}
		n += w
		end += size
		if r == ' ' {
			lastSpace = end
		}
	}
	switch {
	case end == 0: // limit below one character: never loop forever
		_, size := utf8.DecodeRuneInString(s)
		return s[:size]
	case lastSpace > end/2:
		return s[:lastSpace]
	}
	return s[:end]
}
