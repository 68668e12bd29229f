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
	"unicode/utf8"

	"github.com/merchantbot/merchantbot/dialogs/parse"
	"github.com/merchantbot/merchantbot/dialogs/store"
)

// Logs carry no personal data: the ids that point at a person are replaced
// by a keyed hash, so one chat's lines can still be followed (the same chat
// hashes alike on every replica and after restarts) but nobody can turn the
// hash back into the chat without the key; and any free text is scrubbed of
// what looks like a card number, an ID number, a mobile phone, a code or a bot token,
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
	secret, err := dataKey(getenv)
	if err != nil || secret == nil {
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
			if s := redact(v.String()); s != v.String() {
				return slog.String(a.Key, s)
			}
		case slog.KindAny:
			if err, ok := v.Any().(error); ok {
				return slog.String(a.Key, redact(err.Error()))
			}
			if s, ok := v.Any().(string); ok {
				return slog.String(a.Key, redact(s))
			}
		}
		return a
	}
}

// botToken is a Telegram bot token, as it appears in Bot API URLs.
var botToken = regexp.MustCompile(`[0-9]{5,}:[A-Za-z0-9_-]{30,}`)

// redact replaces bot tokens and sensitive numbers in s.
func redact(s string) string {
	if botToken.MatchString(s) {
		s = botToken.ReplaceAllString(s, "[token]")
	}
	return scrubDigits(s)
}

// scrubDigits replaces with [redacted] every card, ID, phone and code
// number in s, found by the one detector (parse.Sensitive: any separators,
// full-width digits, stars beside them), except where the digits are not a
// person's: an identifier's (glued to a letter or _, like the application
// id CC202611270001) and, for a code-sized number, an address's (an IPv4
// address, or a port after one: 127.0.0.1:6379). Update ids, amounts and
// dates are no sensitive numbers in the first place.
func scrubDigits(s string) string {
	spans := parse.Sensitive(s)
	if len(spans) == 0 {
		return s // most log text: no allocation
	}
	var b strings.Builder
	at, changed := 0, false
	for _, sp := range spans {
		if identifier(s, sp.Start) || sp.Kind == parse.KindCode && address(s, sp) {
			continue
		}
		b.WriteString(s[at:sp.Start])
		b.WriteString("[redacted]")
		at, changed = sp.End, true
	}
	if !changed {
		return s
	}
	b.WriteString(s[at:])
	return b.String()
}

// identifier reports digits at start that follow a letter or an underscore.
func identifier(s string, start int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:start])
	return r == '_' || unicode.IsLetter(r)
}

// ipv4 is an IPv4 address, as the detector reads a dotted run.
var ipv4 = regexp.MustCompile(`^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$`)

// address reports a code-sized number that is an IPv4 address or the port
// after an address (a digit or an IPv6 bracket before the colon).
func address(s string, sp parse.Span) bool {
	if ipv4.MatchString(s[sp.Start:sp.End]) {
		return true
	}
	before := s[:sp.Start]
	if !strings.HasSuffix(before, ":") {
		return false
	}
	before = before[:len(before)-1]
	return strings.HasSuffix(before, "]") || before != "" && before[len(before)-1] >= '0' && before[len(before)-1] <= '9'
}
