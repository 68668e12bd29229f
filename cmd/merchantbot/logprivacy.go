package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/merchantbot/merchantbot/dialogs/store"
)

// Logs carry no personal data: the ids that point at a person are replaced
// by a keyed hash, so one chat's lines can still be followed (the same chat
// hashes alike on every replica and after restarts) but nobody can turn the
// hash back into the chat without the key; and any free text is scrubbed of
// what looks like a card number, an ID number, a mobile phone or a bot token,
// in case a caller or a library put one into a message or an error.

// idKeys are the attribute keys whose values are a person's id.
var idKeys = map[string]bool{
	"chat": true, "chat_id": true, "user": true, "user_id": true, "from": true, "from_id": true,
	"from_chat_id": true, "sender": true, "sender_id": true, "merchant": true, "merchant_no": true,
}

// logIDKey is the key of the id hash: derived from DATA_KEY (so replicas
// agree), or random for this run when DATA_KEY is unset or malformed (the
// console; serve refuses to start without a good DATA_KEY anyway).
func logIDKey(getenv func(string) string) []byte {
	secret, err := store.ParseKey(getenv("DATA_KEY"))
	if err != nil {
		secret = store.RandomKey()
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("merchantbot log ids v1"))
	return m.Sum(nil)
}

// privateLogAttrs is a slog.HandlerOptions.ReplaceAttr that hashes ids
// (idKeys) and scrubs strings and errors.
func privateLogAttrs(key []byte) func(groups []string, a slog.Attr) slog.Attr {
	hash := func(v string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(v))
		return "h:" + hex.EncodeToString(m.Sum(nil)[:6])
	}
	return func(groups []string, a slog.Attr) slog.Attr {
		if groups == nil && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
			return a
		}
		v := a.Value
		if idKeys[strings.ToLower(a.Key)] {
			switch v.Kind() {
			case slog.KindInt64:
				return slog.String(a.Key, hash(strconv.FormatInt(v.Int64(), 10)))
			case slog.KindUint64:
				return slog.String(a.Key, hash(strconv.FormatUint(v.Uint64(), 10)))
			case slog.KindString:
				if v.String() == "" {
					return a
				}
				return slog.String(a.Key, hash(v.String()))
			case slog.KindAny:
				return slog.String(a.Key, hash(v.String()))
			}
			return a
		}
		switch v.Kind() {
		case slog.KindString:
			if s := scrub(v.String()); s != v.String() {
				return slog.String(a.Key, s)
			}
		case slog.KindAny:
			if err, ok := v.Any().(error); ok {
				return slog.String(a.Key, scrub(err.Error()))
			}
			if s, ok := v.Any().(string); ok {
				return slog.String(a.Key, scrub(s))
			}
		}
		return a
	}
}

// botToken is a Telegram bot token, as it appears in Bot API URLs.
var botToken = regexp.MustCompile(`[0-9]{5,}:[A-Za-z0-9_-]{30,}`)

// scrub replaces bot tokens and long digit runs in s.
func scrub(s string) string {
	if botToken.MatchString(s) {
		s = botToken.ReplaceAllString(s, "[token]")
	}
	return scrubDigits(s)
}

// minPersonalDigits is the shortest digit run that is taken for personal
// data: a mainland mobile has 11 digits, cards 16-19, ID numbers 18. Update
// ids, message ids, amounts and dates are shorter; a run glued to a letter
// (an application id like CC202611270001) is an identifier and kept.
const minPersonalDigits = 11

// scrubDigits replaces every run of at least minPersonalDigits digits
// (ASCII or full-width, single spaces or dashes between them allowed) that
// does not follow a letter.
func scrubDigits(s string) string {
	if !mayHoldDigitRun(s) {
		return s // most log text: no allocation
	}
	rs := []rune(s)
	var b strings.Builder
	changed := false
	for i := 0; i < len(rs); {
		if !isDigit(rs[i]) {
			b.WriteRune(rs[i])
			i++
			continue
		}
		if i > 0 && (unicode.IsLetter(rs[i-1]) || rs[i-1] == '_') {
			j := i // an identifier's digits: kept whole
			for j < len(rs) && isDigit(rs[j]) {
				j++
			}
			b.WriteString(string(rs[i:j]))
			i = j
			continue
		}
		j, digits := i, 0
		for j < len(rs) {
			if isDigit(rs[j]) {
				digits++
				j++
				continue
			}
			if (rs[j] == ' ' || rs[j] == '-' || rs[j] == '\u3000') && j+1 < len(rs) && isDigit(rs[j+1]) {
				j++
				continue
			}
			break
		}
		if digits >= minPersonalDigits {
			b.WriteString("[redacted]")
			changed = true
		} else {
			b.WriteString(string(rs[i:j]))
		}
		i = j
	}
	if !changed {
		return s
	}
	return b.String()
}

// mayHoldDigitRun reports whether s has at least minPersonalDigits digits
// at all, counting a full-width digit by its last byte.
func mayHoldDigitRun(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' || c >= 0x90 && c <= 0x99 && i >= 2 && s[i-2] == 0xef && s[i-1] == 0xbc {
			n++
		}
	}
	return n >= minPersonalDigits
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' || r >= '０' && r <= '９' }
