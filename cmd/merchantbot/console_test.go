package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

// runConsoleWith runs `merchantbot console args…` in-process on the given
// environment and stdin lines.
func runConsoleWith(t *testing.T, env map[string]string, args []string, lines ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e syncBuffer
	err = run(context.Background(), append([]string{"merchantbot", "console"}, args...), func(k string) string { return env[k] },
		strings.NewReader(strings.Join(lines, "\n")+"\n"), &o, &e)
	return o.String(), e.String(), err
}

func consoleEnv(extra map[string]string) map[string]string {
	env := map[string]string{"SANDBOX_CODE": "123456", "SANDBOX_RESEND_AFTER": "0s"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// TestConsoleTakesOverALockedChat: a console started while the chat's lock
// is still held (by a process killed mid-turn) runs the pipeline as serve
// does: its line waits in the queue until the dead holder's lease runs out
// (3 s), then is answered, nothing lost and nothing said twice.
func TestConsoleTakesOverALockedChat(t *testing.T) {
	rdb, prefix := redistest.New(t)
	key := strings.Repeat("cd", 32)
	ctx := context.Background()
	// The killed process's chat lock, as it left it: 3 s to live.
	require.NoError(t, rdb.Set(ctx, chatq.KeyOf(prefix, 77, "l"), "killed", chatq.DefaultLockTTL).Err())
	env := consoleEnv(map[string]string{"REDIS_URL": redistest.URL(), "REDIS_PREFIX": prefix, "DATA_KEY": key})
	out, _, err := runConsoleWith(t, env, []string{"-chat", "77"}, "/start")
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(out, "您好！我可以帮您更换"), out)
	assert.NotContains(t, out, "这个对话还在处理")
}

// TestConsoleReviewDelay: -review-delay shortens the sandbox's review, so a
// demo sees the application take effect at once.
func TestConsoleReviewDelay(t *testing.T) {
	lines, _ := consoleScript(t, "")
	lines = append(lines, "/status")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "审核中"},
		{[]string{"-review-delay", "0s"}, "已生效"},
	} {
		out, _, err := runConsoleWith(t, consoleEnv(nil), tt.args, lines...)
		require.NoError(t, err)
		require.Contains(t, out, "提交成功！")
		status := out[strings.LastIndex(out, "申请 CC"):]
		assert.Contains(t, status, tt.want, "%v", tt.args)
	}
}

// TestConsoleAcquirerOverHTTP: BACKEND_URL points the console at an
// acquirer API (here the sandbox served over HTTP), with BACKEND_API_KEY as
// the bearer token; the in-process sandbox is not used.
func TestConsoleAcquirerOverHTTP(t *testing.T) {
	const key = "console-test-key"
	var unauthorized atomic.Int64
	api := sandbox.Handler(sandbox.New(sandbox.WithCodes(func() string { return "654321" })), sandbox.RequireAPIKey(key))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+key {
			unauthorized.Add(1)
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"BACKEND_URL": srv.URL, "BACKEND_API_KEY": key}
	out, errs, err := runConsoleWith(t, env, nil, "/start", "1", "822100050110001", "13800000001", "654321")
	require.NoError(t, err)
	assert.Contains(t, out, "身份已确认", "the code the HTTP acquirer made was accepted")
	assert.NotContains(t, errs, "sandbox SMS", "no in-process sandbox")
	assert.NotContains(t, errs, key)
	assert.Zero(t, unauthorized.Load())
}

// TestConsoleConfig: the console's settings are checked like serve's.
func TestConsoleConfig(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"explicit sandbox", map[string]string{"BACKEND_URL": "sandbox"}, nil, ""},
		{"review delay with an acquirer", map[string]string{"BACKEND_URL": "http://127.0.0.1:1"}, []string{"-review-delay", "1s"}, "-review-delay: only for the sandbox"},
		{"negative review delay", nil, []string{"-review-delay", "-1s"}, "-review-delay"},
		{"bad backend url", map[string]string{"BACKEND_URL": "acquirer.local"}, nil, "BACKEND_URL"},
		{"api key with the sandbox", map[string]string{"BACKEND_API_KEY": "k"}, nil, "BACKEND_API_KEY"},
		{"sandbox code with an acquirer", map[string]string{"BACKEND_URL": "http://127.0.0.1:1", "SANDBOX_CODE": "123456"}, nil, "SANDBOX_CODE: only used with BACKEND_URL=sandbox"},
		{"stray argument", nil, []string{"extra"}, "console takes flags only"},
		{"data key short", map[string]string{"DATA_KEY": "c2hvcnQ="}, nil, "DATA_KEY: data key is 8 characters"},
		{"old data key short", map[string]string{"DATA_KEY_OLD": "c2hvcnQ="}, nil, "DATA_KEY_OLD: key 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runConsoleWith(t, tt.env, tt.args, "/start")
			if tt.want == "" {
				require.NoError(t, err)
				assert.Contains(t, out, "您好！")
				return
			}
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// A REDIS_PREFIX holding a brace would change the keys' hash tags: refused.
func TestConsoleRefusesABracedPrefix(t *testing.T) {
	env := consoleEnv(map[string]string{"REDIS_URL": redistest.URL(), "REDIS_PREFIX": "mb{x}:", "DATA_KEY": strings.Repeat("cd", 32)})
	_, _, err := runConsoleWith(t, env, nil, "/start")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "REDIS_PREFIX")
}

// TestTerminalRunsTheWebhookAnswer: the console's updates go through the
// webhook, whose answer may carry a Bot API method (a button's
// answerCallbackQuery); the terminal runs it as Telegram would, as a call
// of the bot's: a toast prints with the last message again.
func TestTerminalRunsTheWebhookAnswer(t *testing.T) {
	var out strings.Builder
	api := &terminalAPI{out: &out, chat: 5}
	api.print(1, []byte(`{"text":"Question?","reply_markup":{"inline_keyboard":[[{"text":"Yes","callback_data":"y"}]]}}`))
	out.Reset()
	ctx := context.Background()
	require.NoError(t, api.runAnswer(ctx, []byte(`{"method":"answerCallbackQuery","callback_query_id":"1","text":"Noted"}`)))
	assert.Equal(t, "Noted\n\nQuestion?\n  [1] Yes\n\n", out.String())
	out.Reset()
	for _, body := range []string{"", `{"method":"answerCallbackQuery","callback_query_id":"1"}`, "not json", `{"no":"method"}`} {
		require.NoError(t, api.runAnswer(ctx, []byte(body)), body)
	}
	assert.Empty(t, out.String(), "a silent answer, or none, prints nothing")
}
