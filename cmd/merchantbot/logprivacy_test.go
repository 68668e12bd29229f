package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
)

func TestScrubDigits(t *testing.T) {
	tests := []struct{ in, want string }{
		{"card 6222021234567890123 refused", "card [redacted] refused"},
		{"card 6222 0212 3456 7890 123", "card [redacted]"},
		{"card ６２２２０２１２３４５６７８９０", "card [redacted]"},
		{"phone 138-0013-8000.", "phone [redacted]."},
		{"id 110101199003071234", "id [redacted]"},
		{"update 987654321 took 12ms", "update 987654321 took 12ms"},
		{"application CC202611270001 approved", "application CC202611270001 approved"},
		{"at 2026-11-27 10:00", "at 2026-11-27 10:00"},
		{"", ""},
		{"\xff13800138000", "\xff[redacted]"},
		{"card 6228.4800.0012.3456.782 refused", "card [redacted] refused"},
		{"card ６２２８ ４８００-0012．3456／782", "card [redacted]"},
		{"code 480 913 or 48-09-13", "code [redacted] or [redacted]"},
		{"phone *13800138000, code 480913*", "phone *[redacted], code [redacted]*"},
		{"phone +86 138-0013-8000", "phone [redacted]"},
		{"id 11010519491231002X", "id [redacted]"},
		{"masked 622202*********0128", "masked 622202*********0128"},
		{"dial tcp 127.0.0.1:6379: connection refused", "dial tcp 127.0.0.1:6379: connection refused"},
		{"listening on [::]:8080", "listening on [::]:8080"},
		{"retry after 5 s, amount 1200 yuan", "retry after 5 s, amount 1200 yuan"},
	}
	for _, tt := range tests {
		if got := scrubDigits(tt.in); got != tt.want {
			t.Errorf("scrubDigits(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLogsCarryNoPersonalData logs through newLogger what careless code
// might log, then searches the output.
func TestLogsCarryNoPersonalData(t *testing.T) {
	env := map[string]string{"LOG_LEVEL": "debug", "DATA_KEY": strings.Repeat("ab", 32)}
	var buf bytes.Buffer
	log, err := newLogger(func(k string) string { return env[k] }, &buf, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	const (
		chat     = int64(5550001234)
		group    = int64(-1001234567890)
		card     = "6222021234567890123"
		phone    = "13800138000"
		token    = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
		merchant = "822100050110001"
	)
	log.Debug("turn", "chat_id", chat, "update_id", 987654321, "step", "card")
	log.Info("relay", "chat", group, "user_id", uint64(chat), "merchant", merchant)
	log.Warn("send failed", "chat_id", chat, "err", fmt.Errorf("post https://api.telegram.org/bot%s/sendMessage: timeout", token))
	log.Error("backend said "+card, "detail", "phone "+phone, "err", errors.New("card "+card))
	log.WithGroup("handoff").Info("topic", "chat_id", fmt.Sprint(chat), "note", "call "+phone)
	log.Warn("relay", "text", "card 6222.0212.3456.7890.123, phone *138 0013 8000, code 480 913*",
		"err", errors.New("backend said (480913)"))

	out := buf.String()
	for _, in := range []string{"card " + card, "phone " + phone, "card 6222.0212.3456.7890.123, phone *138 0013 8000, code 480 913*"} {
		if leaks := leaktest.Leaks(in, out); len(leaks) > 0 {
			t.Errorf("log holds %q of %q:\n%s", leaks, in, out)
		}
	}
	for _, secret := range []string{fmt.Sprint(chat), fmt.Sprint(group), "1234567890", card, phone, token, "AAHdqTcv", merchant, "480913"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q:\n%s", secret, out)
		}
	}
	for _, kept := range []string{`"update_id":987654321`, `"step":"card"`, "[token]", "[redacted]"} {
		if !strings.Contains(out, kept) {
			t.Errorf("log lacks %s:\n%s", kept, out)
		}
	}
	// One chat hashes alike everywhere (int, uint, string, in a group), so
	// its lines can be followed.
	h := hashOf(t, out, `"chat_id":"`)
	if strings.Count(out, h) != 4 {
		t.Errorf("chat %d hashes to %s, seen %d times, want 4:\n%s", chat, h, strings.Count(out, h), out)
	}

	// Another DATA_KEY hashes the same chat differently: the hash is keyed.
	env["DATA_KEY"] = strings.Repeat("cd", 32)
	var other bytes.Buffer
	log2, _ := newLogger(func(k string) string { return env[k] }, &other, slog.LevelInfo)
	log2.Info("turn", "chat_id", chat)
	if strings.Contains(other.String(), h) {
		t.Error("the chat hash does not depend on the key")
	}
}

func hashOf(t *testing.T, out, prefix string) string {
	t.Helper()
	i := strings.Index(out, prefix)
	if i < 0 {
		t.Fatalf("no %s in\n%s", prefix, out)
	}
	rest := out[i+len(prefix):]
	return rest[:strings.IndexByte(rest, '"')]
}
