package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSimMerchantAnswersTheQuestionAsked(t *testing.T) {
	m := &simMerchant{no: "822900000000007", phone: "13900000007"}
	btn := func(label, data string) models.InlineKeyboardButton {
		return models.InlineKeyboardButton{Text: label, CallbackData: data}
	}
	cases := []struct {
		name string
		ev   botEvent
		want simAction
		done bool
	}{
		{"menu", botEvent{msgID: 3, text: "Hello!", buttons: []models.InlineKeyboardButton{
			btn("Check review status", "m:status"), btn("Change settlement card", "m:change")}},
			simAction{kind: "button", data: "m:change", msg: 3}, false},
		{"checklist: done, not why or not yet", botEvent{msgID: 4, text: "Before you change the card", buttons: []models.InlineKeyboardButton{
			btn("Why?", "ck:why"), btn("Not yet", "ck:no"), btn("✅ Done", "ck:ok.0")}},
			simAction{kind: "button", data: "ck:ok.0", msg: 4}, false},
		{"bank: yes, not another", botEvent{msgID: 5, text: "The card belongs to ICBC. Is that right?", buttons: []models.InlineKeyboardButton{
			btn("No, another bank", "bank:no"), btn("Yes", "bank:yes")}},
			simAction{kind: "button", data: "bank:yes", msg: 5}, false},
		{"summary: confirm, not edit", botEvent{msgID: 6, text: "Please check your application:\nHolder: 张三", buttons: []models.InlineKeyboardButton{
			btn("Edit card", "sum:edit.card"), btn("✅ Confirm", "sum:confirm"), btn("Cancel", "sum:cancel")}},
			simAction{kind: "button", data: "sum:confirm", msg: 6}, false},
		{"merchant number", botEvent{text: "Please type your 15-digit merchant number (商户号)."},
			simAction{kind: "text", text: "822900000000007"}, false},
		{"contact", botEvent{text: "Now share your phone number with the button below"},
			simAction{kind: "contact", text: "+8613900000007"}, false},
		{"card", botEvent{text: "Please type the number of the new settlement card (16–19 digits)."},
			simAction{kind: "text", text: loadCard}, false},
		{"holder", botEvent{text: "Card 622202*********0128 noted.\n\nPlease type the card holder's name exactly as registered"},
			simAction{kind: "text", text: loadHolder}, false},
		{"holder offered as a button", botEvent{msgID: 8, text: "Whose name is on the card?", buttons: []models.InlineKeyboardButton{btn("张三", "holder:reg")}},
			simAction{kind: "button", data: "holder:reg", msg: 8}, false},
		{"branch", botEvent{text: "Please type the branch where the account was opened (开户支行)"},
			simAction{kind: "text", text: loadBranch}, false},
		{"reserved phone", botEvent{text: "Please type the mobile number the bank has on file for this card"},
			simAction{kind: "text", text: loadReservedPhone}, false},
		{"code, resend not pressed", botEvent{text: "I sent a 6-digit code by SMS to the phone on file. Please type it here.",
			buttons: []models.InlineKeyboardButton{btn("Resend code", "code:resend")}},
			simAction{kind: "text", text: loadCode}, false},
		{"submitted", botEvent{text: "🎉 Submitted! Application CC202611250001"}, simAction{}, true},
		{"a note asks nothing", botEvent{text: "🔒 I deleted your message with the card number"}, simAction{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, done := m.next(c.ev)
			assert.Equal(t, c.want, got)
			assert.Equal(t, c.done, done)
		})
	}
}

func TestUpdateChat(t *testing.T) {
	assert.Equal(t, int64(42), updateChat([]byte(`{"update_id":1,"message":{"chat":{"id":42}}}`)))
	assert.Equal(t, int64(-7), updateChat([]byte(`{"update_id":1,"callback_query":{"message":{"chat":{"id":-7}}}}`)))
	assert.Equal(t, int64(0), updateChat([]byte(`{"update_id":1}`)))
	assert.Equal(t, int64(0), updateChat([]byte(`not json`)))
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	assert.Equal(t, time.Duration(50), percentile(d, 50))
	assert.Equal(t, time.Duration(99), percentile(d, 99))
	assert.Equal(t, time.Duration(0), percentile(nil, 99))
}

func TestNormaliseTextHidesDigits(t *testing.T) {
	assert.Equal(t, "Card #*********# noted, merchant #", normaliseText("Card 622202*********0128 noted, merchant 822900000000001"))
}

func TestLoadtestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-mode", "x"}, {"-transport", "x"}, {"-merchants", "0"}, {"-replicas", "2", "-transport", "polling"},
		{"-redis", "redis://10.1.2.3:6379/0"},
	} {
		err := runLoadtest(context.Background(), args, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{})
		require.Error(t, err, "%v", args)
	}
}

// TestLoadtestSmall runs the tool end to end with a few merchants: serve and
// the floor bot as child processes, a private redis-server, both transports
// and two replicas. It checks that every merchant finished the whole change,
// in order and once, and that the report has its figures; it asserts no
// timing. The variants run in parallel: until serve reads SEND_RATE_CHAT, its
// default of one message a second per chat makes each take ~30 s of waiting.
func TestLoadtestSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts processes")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server on PATH")
	}
	bin := buildTools(t)
	for name, args := range map[string][]string{
		"webhook":  {"-merchants", "3", "-transport", "webhook"},
		"polling":  {"-merchants", "2", "-transport", "polling", "-floor=false"},
		"replicas": {"-merchants", "2", "-replicas", "2", "-floor=false"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var out, errs bytes.Buffer
			cmd := exec.Command(bin, append([]string{"-timeout", "90s"}, args...)...)
			cmd.Stdout, cmd.Stderr = &out, &errs
			require.NoError(t, cmd.Run(), "%v\n%s\n%s", args, out.String(), errs.String())
			report := out.String()
			m := regexp.MustCompile(`merchants completed\s+(\d+)/(\d+)`).FindStringSubmatch(report)
			require.Len(t, m, 3, report)
			assert.Equal(t, m[2], m[1], "every merchant submitted: %s", report)
			for _, figure := range []string{"updates/s", "latency p99 ms", "peak RSS MB", "Redis round trips/update", "Redis bytes/active dialog"} {
				assert.Contains(t, report, figure)
			}
			assert.Contains(t, report, "0 transcripts differ from the majority", report)
			assert.Contains(t, report, "0 of "+m[2]+" opening bursts answered out of order or twice", report)
			assert.NotRegexp(t, regexp.MustCompile(`6222021234567890128|13912345678`), report+errs.String(), "no card data in the report")
		})
	}
}

// buildTools builds merchantbot-load and merchantbot into one directory,
// where the load tool finds the bot without -bot, and returns the load tool.
func buildTools(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", dir+string(filepath.Separator), ".", "../merchantbot").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return filepath.Join(dir, "merchantbot-load")
}

func TestFindBot(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "merchantbot-load")
	_, _, err := findBot(context.Background(), filepath.Join(dir, "nothing"), self, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-bot", "the error names the flag")

	notExec := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(notExec, []byte("x"), 0o644))
	_, _, err = findBot(context.Background(), notExec, self, io.Discard)
	require.ErrorContains(t, err, "not an executable")

	beside := filepath.Join(dir, "merchantbot")
	require.NoError(t, os.WriteFile(beside, []byte("#!/bin/sh\n"), 0o755))
	got, cleanup, err := findBot(context.Background(), "", self, io.Discard)
	require.NoError(t, err)
	defer cleanup()
	assert.Equal(t, beside, got, "merchantbot beside the load tool is taken")
}
