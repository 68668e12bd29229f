package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/locales"
)

// TestSimMerchantAnswersTheQuestionAsked feeds the simulated merchant the
// bot's messages as the catalog renders them, in both languages: it answers
// by message id, so the same actions come out of English and Chinese, and a
// message it cannot read or has no answer for is an error naming it.
func TestSimMerchantAnswersTheQuestionAsked(t *testing.T) {
	rec, err := newRecogniser()
	require.NoError(t, err)
	cat, err := locales.Load()
	require.NoError(t, err)
	m := &simMerchant{no: "822900000000007", phone: "13900000007", rec: rec}
	for _, lang := range []string{locales.English, locales.Chinese} {
		say := func(id string, args map[string]any) string { return cat.Render(lang, id, args) }
		btn := func(id, data string, args map[string]any) models.InlineKeyboardButton {
			return models.InlineKeyboardButton{Text: say(id, args), CallbackData: data}
		}
		card := map[string]any{"Card": "622202*********0128"}
		cases := []struct {
			name string
			ev   botEvent
			want simAction
			done bool
			err  string
		}{
			{"menu", botEvent{msgID: 3, text: say("welcome", nil), buttons: []models.InlineKeyboardButton{
				btn("btn_status", "1|m:status|x", nil), btn("btn_change", "1|m:change|x", nil)}},
				simAction{kind: "button", data: "1|m:change|x", msg: 3}, false, ""},
			{"checklist: all true, not why or not yet", botEvent{msgID: 4,
				text:    say("checklist", nil) + "\n" + say("check_0", map[string]any{"Mark": "①"}) + "\n" + say("check_1", map[string]any{"Mark": "②"}),
				buttons: []models.InlineKeyboardButton{btn("btn_why", "why", nil), btn("btn_not_yet", "no", nil), btn("btn_checks_all", "ok", nil)}},
				simAction{kind: "button", data: "ok", msg: 4}, false, ""},
			{"bank: yes, not another", botEvent{msgID: 5, text: say("bank_confirm", map[string]any{"Bank": "ICBC"}), buttons: []models.InlineKeyboardButton{
				btn("btn_bank_other", "no", nil), btn("btn_bank_yes", "yes", nil)}},
				simAction{kind: "button", data: "yes", msg: 5}, false, ""},
			{"summary: confirm, not edit", botEvent{msgID: 6, text: say("summary", map[string]any{"MerchantNo": "822900000000007", "Card": "622202*********0128", "Type": "debit", "Holder": "张三", "Bank": "ICBC", "Branch": "x", "Phone": "139****5678"}),
				buttons: []models.InlineKeyboardButton{btn("btn_edit_card", "edit", nil), btn("btn_confirm", "confirm", nil), btn("btn_cancel", "cancel", nil)}},
				simAction{kind: "button", data: "confirm", msg: 6}, false, ""},
			{"merchant number", botEvent{text: say("ask_merchant_no", nil)}, simAction{kind: "text", text: "822900000000007"}, false, ""},
			{"contact", botEvent{text: say("ask_phone", nil)}, simAction{kind: "contact", text: "+8613900000007"}, false, ""},
			{"card", botEvent{text: say("ask_card", nil)}, simAction{kind: "text", text: loadCard}, false, ""},
			{"holder typed", botEvent{text: say("card_accepted", card) + "\n" + say("card_bank", map[string]any{"Bank": "ICBC"}) + "\n\n" + say("ask_holder", nil)},
				simAction{kind: "text", text: loadHolder}, false, ""},
			{"holder offered as a button", botEvent{msgID: 8, text: say("ask_holder", nil), buttons: []models.InlineKeyboardButton{
				btn("btn_holder_name", "holder:reg", map[string]any{"Name": "张三"})}},
				simAction{kind: "button", data: "holder:reg", msg: 8}, false, ""},
			{"branch", botEvent{text: say("ask_branch", nil)}, simAction{kind: "text", text: loadBranch}, false, ""},
			{"reserved phone", botEvent{text: say("ask_reserved_phone", nil)}, simAction{kind: "text", text: loadReservedPhone}, false, ""},
			{"code, resend not pressed", botEvent{text: say("code_sent", map[string]any{"Phone": "139****0007"}),
				buttons: []models.InlineKeyboardButton{btn("btn_resend", "resend", nil)}},
				simAction{kind: "text", text: loadCode}, false, ""},
			{"submitted", botEvent{text: say("submitted", map[string]any{"ID": "CC202611250001", "Card": "622202*********0128", "When": "2026-11-26 18:00"})}, simAction{}, true, ""},
			{"a note asks nothing", botEvent{text: say("message_deleted", nil)}, simAction{}, false, ""},
			{"a refusal is no question it can answer", botEvent{text: say("holder_mismatch", nil)}, simAction{}, false, "holder_mismatch"},
			{"text no message renders", botEvent{text: "Please type your favourite colour."}, simAction{}, false, "no message id renders"},
		}
		for _, c := range cases {
			t.Run(lang+"/"+c.name, func(t *testing.T) {
				got, done, err := m.next(c.ev)
				if c.err != "" {
					require.Error(t, err)
					assert.Contains(t, err.Error(), c.err, "the error names what the bot said")
					return
				}
				require.NoError(t, err)
				assert.Equal(t, c.want, got)
				assert.Equal(t, c.done, done)
			})
		}
	}
}

// TestSimMerchantIDsExist: every id the simulated merchant reads by is in
// both locale files, so a renamed id fails here, not as a stalled load run;
// and it has a sample for every kind of answer the dialog asks for.
func TestSimMerchantIDsExist(t *testing.T) {
	for id, kind := range questions {
		assert.Contains(t, samples, kind, "%s asks for a %s", id, kind)
	}
	named := append(append([]string{finishedBy}, forwardButtons...), "btn_change", "btn_why")
	for id := range questions {
		named = append(named, id)
	}
	for _, set := range []map[string]bool{notes, holderQuestions, bindingDone} {
		for id := range set {
			named = append(named, id)
		}
	}
	for _, file := range []string{"en.toml", "zh-Hans.toml"} {
		ids, err := locales.IDs(locales.Files(), file)
		require.NoError(t, err)
		for _, id := range named {
			assert.Contains(t, ids, id, file)
		}
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
	variants := map[string][]string{
		"webhook":  {"-merchants", "3", "-transport", "webhook", "-durable-floor", "-contract-floor"},
		"polling":  {"-merchants", "2", "-transport", "polling", "-floor=false"},
		"replicas": {"-merchants", "2", "-replicas", "2", "-floor=false"},
	}
	// Two replicas on the 3-master test cluster (REDIS_CLUSTER_ADDRS; .ci/run
	// starts it), REDIS_URL as README gives it.
	if url := redistest.ClusterURL(); url != "" {
		variants["cluster"] = []string{"-merchants", "3", "-replicas", "2", "-floor=false", "-redis", url}
	} else if os.Getenv("CI") == "true" {
		t.Error("CI=true but REDIS_CLUSTER_ADDRS is not set: the load run on the cluster cannot run")
	}
	for name, args := range variants {
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
			if slices.Contains(args, "-durable-floor") {
				// The durable floor stores each update and commits each reply:
				// two round trips per update, every merchant through.
				durable, updates := floorRun(t, report, "the durable floor (")
				assert.Contains(t, durable, fmt.Sprintf("rpush %d,", 2*updates), "each update stored, each reply put in the outbox")
				assert.Contains(t, durable, fmt.Sprintf("exec %d,", updates), "each reply committed in a MULTI")
			}
			if slices.Contains(args, "-contract-floor") {
				// The contract floor also takes each applied update off its
				// queue, records its id and marks each reply sent: three
				// round trips per update.
				contract, updates := floorRun(t, report, "the contract floor (")
				for _, c := range []string{"zadd", "zremrangebyscore", "exec", "lpop"} {
					assert.Regexp(t, fmt.Sprintf(`\b%s %d\b`, c, updates), contract, "each update stored by id, taken off the queue in the MULTI, its reply marked")
				}
				assert.Regexp(t, fmt.Sprintf(`\bset %d\b`, 2*updates), contract, "the state and the applied id set in the MULTI")
			}
		})
	}
}

// floorRun is the part of report from the heading that starts with title,
// every merchant of it through, and its updates.
func floorRun(t *testing.T, report, title string) (string, int) {
	t.Helper()
	_, run, ok := strings.Cut(report, title)
	require.True(t, ok, report)
	m := regexp.MustCompile(`merchants completed\s+(\d+)/(\d+)`).FindStringSubmatch(run)
	require.Len(t, m, 3, run)
	assert.Equal(t, m[2], m[1], run)
	n := regexp.MustCompile(`\n\s+updates\s+(\d+)`).FindStringSubmatch(run)
	require.Len(t, n, 2, run)
	updates, _ := strconv.Atoi(n[1])
	return run, updates
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
