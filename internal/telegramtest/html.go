package telegramtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// ParseHTML reads text the way Telegram reads a message sent with parse_mode=HTML and returns
// what a client shows: the plain text and its entities (offsets in UTF-16 code units).
//
// It follows the Bot API server (tdlib's parse_html): only the tags Telegram supports are
// accepted, every tag must be closed in order, a bare "<" is an error, and only &lt; &gt; &amp;
// &quot; and numeric character references are decoded; any other "&" stays as it is. The error
// text is Telegram's, without the "Bad Request: can't parse entities: " prefix.
//
// Exported so that fuzz tests of our own escaping can check their output against it.
func ParseHTML(text string) (plain string, entities []models.MessageEntity, err error) {
	if !utf8.ValidString(text) {
		return "", nil, fmt.Errorf("strings must be encoded in UTF-8")
	}
	type open struct {
		tag      string
		argument string
		offset   int // UTF-16 offset in plain
		seq      int // order of opening
	}
	var (
		out      strings.Builder
		utf16    int
		nested   []open
		openedAt []int // per entity, its tag's seq
		opened   int
	)
	out.Grow(len(text))
	n := len(text)
	at := func(i int) byte {
		if i < n {
			return text[i]
		}
		return 0
	}
	for i := 0; i < n; i++ {
		c := text[i]
		if c == '&' {
			if r, next, ok := decodeHTMLEntity(text, i); ok {
				out.WriteRune(r)
				utf16 += utf16Len(r)
				i = next - 1
				continue
			}
		}
		if c != '<' {
			out.WriteByte(c)
			if c&0xC0 != 0x80 { // first byte of a character
				utf16++
				if c >= 0xF0 { // four bytes in UTF-8, a surrogate pair in UTF-16
					utf16++
				}
			}
			continue
		}

		begin := i
		i++
		if at(i) != '/' {
			for i < n && !isHTMLSpace(text[i]) && text[i] != '>' {
				i++
			}
			if i >= n {
				return "", nil, fmt.Errorf("Unclosed start tag at byte offset %d", begin)
			}
			tag := strings.ToLower(text[begin+1 : i])
			if !supportedTag(tag) {
				return "", nil, fmt.Errorf("Unsupported start tag \"%s\" at byte offset %d", tag, begin)
			}
			var argument string
			for at(i) != '>' {
				for i < n && isHTMLSpace(text[i]) {
					i++
				}
				if at(i) == '>' {
					break
				}
				if i >= n {
					return "", nil, fmt.Errorf("Unclosed start tag at byte offset %d", begin)
				}
				attrBegin := i
				for i < n && !isHTMLSpace(text[i]) && text[i] != '=' && text[i] != '>' {
					i++
				}
				attr := strings.ToLower(text[attrBegin:i])
				if attr == "" {
					return "", nil, fmt.Errorf("Empty attribute name in the tag \"%s\" at byte offset %d", tag, begin)
				}
				for i < n && isHTMLSpace(text[i]) {
					i++
				}
				if at(i) != '=' {
					if tag == "blockquote" && attr == "expandable" {
						argument = "expandable"
						continue
					}
					if i >= n {
						return "", nil, fmt.Errorf("Unclosed start tag \"%s\" at byte offset %d", tag, begin)
					}
					return "", nil, fmt.Errorf("Expected equal sign in declaration of an attribute of the tag \"%s\" at byte offset %d", tag, begin)
				}
				i++
				for i < n && isHTMLSpace(text[i]) {
					i++
				}
				if i >= n {
					return "", nil, fmt.Errorf("Unclosed start tag \"%s\" at byte offset %d", tag, begin)
				}
				var value strings.Builder
				if q := text[i]; q != '\'' && q != '"' {
					tokenBegin := i
					for i < n && (isAlnum(text[i]) || text[i] == '.' || text[i] == '-') {
						i++
					}
					value.WriteString(strings.ToLower(text[tokenBegin:i]))
					if c := at(i); !isHTMLSpace(c) && c != '>' {
						return "", nil, fmt.Errorf("Unexpected end of name token at byte offset %d", tokenBegin)
					}
				} else {
					i++
					for i < n && text[i] != q {
						if text[i] == '&' {
							if r, next, ok := decodeHTMLEntity(text, i); ok {
								value.WriteRune(r)
								i = next
								continue
							}
						}
						value.WriteByte(text[i])
						i++
					}
					if at(i) == q {
						i++
					}
					if i >= n {
						return "", nil, fmt.Errorf("Unclosed start tag at byte offset %d", begin)
					}
				}
				v := value.String()
				switch {
				case tag == "a" && attr == "href":
					argument = v
				case tag == "code" && attr == "class" && strings.HasPrefix(v, "language-"):
					argument = strings.TrimPrefix(v, "language-")
				case tag == "span" && attr == "class" && strings.HasPrefix(v, "tg-"):
					argument = strings.TrimPrefix(v, "tg-")
				case tag == "tg-emoji" && attr == "emoji-id":
					argument = v
				}
			}
			if tag == "span" && argument != "spoiler" {
				return "", nil, fmt.Errorf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", begin)
			}
			nested = append(nested, open{tag: tag, argument: argument, offset: utf16, seq: opened})
			opened++
			continue
		}

		// An end tag.
		if len(nested) == 0 {
			return "", nil, fmt.Errorf("Unexpected end tag at byte offset %d", begin)
		}
		for i < n && !isHTMLSpace(text[i]) && text[i] != '>' {
			i++
		}
		endTag := strings.ToLower(text[begin+2 : i])
		for i < n && isHTMLSpace(text[i]) {
			i++
		}
		if at(i) != '>' {
			return "", nil, fmt.Errorf("Unclosed end tag at byte offset %d", begin)
		}
		top := nested[len(nested)-1]
		if endTag != "" && endTag != top.tag {
			return "", nil, fmt.Errorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, top.tag, endTag)
		}
		nested = nested[:len(nested)-1]
		length := utf16 - top.offset
		if length == 0 {
			continue
		}
		// <pre><code class="language-x"> is one pre entity with a language, as in tdlib.
		if last := len(entities) - 1; top.tag == "pre" && last >= 0 && entities[last].Type == models.MessageEntityTypeCode &&
			entities[last].Offset == top.offset && entities[last].Length == length && entities[last].Language != "" {
			entities[last].Type = models.MessageEntityTypePre
			openedAt[last] = top.seq
			continue
		}
		entities = append(entities, entityFor(top.tag, top.argument, top.offset, length, out.String()))
		openedAt = append(openedAt, top.seq)
	}
	if len(nested) > 0 {
		return "", nil, fmt.Errorf("Can't find end tag corresponding to start tag \"%s\"", nested[len(nested)-1].tag)
	}
	// Outer entities first: by offset, then the longer, then the one opened first.
	order := make([]int, len(entities))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		x, y := entities[order[a]], entities[order[b]]
		if x.Offset != y.Offset {
			return x.Offset < y.Offset
		}
		if x.Length != y.Length {
			return x.Length > y.Length
		}
		return openedAt[order[a]] < openedAt[order[b]]
	})
	sorted := make([]models.MessageEntity, len(entities))
	for i, j := range order {
		sorted[i] = entities[j]
	}
	if len(sorted) == 0 {
		sorted = nil
	}
	return out.String(), sorted, nil
}

func supportedTag(tag string) bool {
	switch tag {
	case "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
		"span", "tg-spoiler", "tg-emoji", "code", "pre", "blockquote":
		return true
	}
	return false
}

func entityFor(tag, argument string, offset, length int, plain string) models.MessageEntity {
	e := models.MessageEntity{Offset: offset, Length: length}
	switch tag {
	case "b", "strong":
		e.Type = models.MessageEntityTypeBold
	case "i", "em":
		e.Type = models.MessageEntityTypeItalic
	case "u", "ins":
		e.Type = models.MessageEntityTypeUnderline
	case "s", "strike", "del":
		e.Type = models.MessageEntityTypeStrikethrough
	case "span", "tg-spoiler":
		e.Type = models.MessageEntityTypeSpoiler
	case "tg-emoji":
		e.Type = models.MessageEntityTypeCustomEmoji
		e.CustomEmojiID = argument
	case "code":
		e.Type = models.MessageEntityTypeCode
		e.Language = argument
	case "pre":
		e.Type = models.MessageEntityTypePre
		e.Language = argument
	case "blockquote":
		e.Type = models.MessageEntityTypeBlockquote
		if argument == "expandable" {
			e.Type = models.MessageEntityTypeExpandableBlockquote
		}
	case "a":
		e.Type = models.MessageEntityTypeTextLink
		e.URL = argument
		if e.URL == "" {
			e.URL = utf16Slice(plain, offset, length)
		}
	}
	return e
}

// decodeHTMLEntity decodes the character reference starting at text[i] == '&'. Like Telegram it
// knows only lt, gt, amp and quot, and takes them with or without the closing ';'.
func decodeHTMLEntity(text string, i int) (r rune, next int, ok bool) {
	n := len(text)
	end := i + 1
	if end < n && text[end] == '#' {
		end++
		var code int64
		digits := 0
		if end < n && (text[end] == 'x' || text[end] == 'X') {
			end++
			for end < n && isHexDigit(text[end]) {
				v, _ := strconv.ParseInt(text[end:end+1], 16, 64)
				code = code*16 + v
				end++
				digits++
				if code >= utf8.MaxRune {
					return 0, 0, false
				}
			}
		} else {
			for end < n && text[end] >= '0' && text[end] <= '9' {
				code = code*10 + int64(text[end]-'0')
				end++
				digits++
				if code >= utf8.MaxRune {
					return 0, 0, false
				}
			}
		}
		if digits == 0 || code == 0 || (code >= 0xD800 && code <= 0xDFFF) {
			return 0, 0, false
		}
		r = rune(code)
	} else {
		for end < n && isAlpha(text[end]) {
			end++
		}
		switch text[i+1 : end] {
		case "lt":
			r = '<'
		case "gt":
			r = '>'
		case "amp":
			r = '&'
		case "quot":
			r = '"'
		default:
			return 0, 0, false
		}
	}
	if end < n && text[end] == ';' {
		end++
	}
	return r, end, true
}

func utf16Len(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// utf16Slice returns the characters of s between UTF-16 offsets [offset, offset+length).
func utf16Slice(s string, offset, length int) string {
	var b strings.Builder
	pos := 0
	for _, r := range s {
		if pos >= offset+length {
			break
		}
		if pos >= offset {
			b.WriteRune(r)
		}
		pos += utf16Len(r)
	}
	return b.String()
}

func utf16Count(s string) int {
	n := 0
	for _, r := range s {
		n += utf16Len(r)
	}
	return n
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func isAlnum(c byte) bool { return isAlpha(c) || (c >= '0' && c <= '9') }

func isHexDigit(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
