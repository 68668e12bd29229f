package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

// buildBinary builds merchantbot once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "merchantbot")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

func runConsoleBinary(t *testing.T, bin string, env []string, lines ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, "console")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	require.NoError(t, cmd.Run(), "console failed: %s", e.String())
	return o.String(), e.String()
}

// The console path (consoleScript): the phone is typed and proven by an
// SMS code, which also confirms the summary a few minutes later (no second
// code).

// TestConsoleBinary pipes whole conversations through the built binary:
// the README's first command on embedded defaults, then the same chat split
// across two processes sharing Redis.
func TestConsoleBinary(t *testing.T) {
	bin := buildBinary(t)
	script, atBranch := consoleScript(t, dialogs.StepBranch)
	require.Positive(t, atBranch, "the console walk asks the branch")
	fast := []string{"SANDBOX_CODE=123456", "SANDBOX_RESEND_AFTER=0s", "REDIS_URL=", "DATA_KEY=", "LOG_LEVEL="}

	t.Run("embedded defaults", func(t *testing.T) {
		out, errs := runConsoleBinary(t, bin, fast, script...)
		assert.Contains(t, out, "提交成功！申请编号 CC")
		assert.Contains(t, out, "622202*********0128")
		assert.Contains(t, out, "  [1] 更换结算卡", "buttons print as '  [N] label'")
		assert.NotContains(t, out+errs, "6222021234567890128", "the card number is never printed in full")
		assert.Contains(t, errs, "DATA_KEY is not set")
		assert.Contains(t, errs, "in-process sandbox acquirer", "the console says it plays the acquirer")
		assert.Contains(t, errs, "[sandbox SMS to 138****0001] verification code 123456")
	})

	t.Run("redis needs a data key", func(t *testing.T) {
		cmd := exec.Command(bin, "console")
		cmd.Env = append(os.Environ(), append(append([]string{}, fast...), "REDIS_URL="+redistest.URL())...)
		cmd.Stdin = strings.NewReader("/start\n")
		out, err := cmd.CombinedOutput()
		require.Error(t, err)
		assert.Contains(t, string(out), "DATA_KEY: required with REDIS_URL")
	})

	t.Run("restart with redis", func(t *testing.T) {
		chatID := rand.Int64N(1 << 40)
		chat := fmt.Sprint(chatID)
		rdb, prefix := redistest.New(t)
		key := "DATA_KEY=" + strings.Repeat("ab", 32)
		env := append(append([]string{}, fast...), "REDIS_URL="+redistest.URL(), "REDIS_PREFIX="+prefix, key)
		cmd := func(lines ...string) string {
			c := exec.Command(bin, "console", "-chat", chat)
			c.Env = append(os.Environ(), env...)
			c.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
			out, err := c.Output()
			require.NoError(t, err)
			return string(out)
		}
		first := cmd(script[:atBranch]...)
		assert.Contains(t, first, "请输入开户支行名称")
		raw, err := rdb.Get(context.Background(), chatq.KeyOf(prefix, chatID, "s")).Bytes()
		require.NoError(t, err)
		assert.NotContains(t, string(raw), "1234567890128", "Redis holds the card number only encrypted")

		second := cmd(script[atBranch:]...)
		assert.True(t, strings.HasPrefix(second, "欢迎回来，我们从原来的步骤继续。\n\n请输入开户支行名称"),
			"a new process shows the question the dialog stopped at:\n%s", second)
		assert.Contains(t, second, "开户支行：上海张江支行")
		assert.Contains(t, second, "提交成功！")
	})
}
