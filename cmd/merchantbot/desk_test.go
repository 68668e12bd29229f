package main

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

func TestSupportAgentsSetting(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "SUPPORT_AGENTS" {
				return v
			}
			return ""
		}
	}
	c, err := loadSupportConfig(env(" 12345678, 87654321 "))
	require.NoError(t, err)
	assert.Equal(t, []int64{12345678, 87654321}, c.agents)
	for _, bad := range []string{"abc", "123,", "-5", "12 34", "0"} {
		_, err := loadSupportConfig(env(bad))
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "SUPPORT_AGENTS", bad)
	}
}

// TestDeskResume: `merchantbot desk resume` lifts the support group's
// refusal recorded by the sender and asks a sweeping replica to send its
// outbox now.
func TestDeskResume(t *testing.T) {
	rdb, prefix := redistest.New(t)
	ctx := context.Background()
	const group = int64(-1001234567890)
	g := strconv.FormatInt(group, 10)
	require.NoError(t, rdb.Set(ctx, prefix+"rl:blocked:"+chatq.ChatTag(group)+g, 1, 0).Err())
	getenv := func(k string) string {
		return map[string]string{"REDIS_URL": redistest.URL(), "REDIS_PREFIX": prefix, "SUPPORT_CHAT_ID": g}[k]
	}
	var out, errOut bytes.Buffer
	require.NoError(t, run(ctx, []string{"merchantbot", "desk", "resume"}, getenv, nil, &out, &errOut))
	assert.Contains(t, out.String(), "cleared")
	n, err := rdb.Exists(ctx, prefix+"rl:blocked:"+chatq.ChatTag(group)+g).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "the refusal is lifted")
	_, err = rdb.ZScore(ctx, chatq.ReadyKeyOf(prefix, group), g).Result()
	assert.NoError(t, err, "the group's outbox is due now")

	err = run(ctx, []string{"merchantbot", "desk"}, getenv, nil, &out, &errOut)
	require.Error(t, err)
	err = run(ctx, []string{"merchantbot", "desk", "resume"}, func(string) string { return "" }, nil, &out, &errOut)
	require.ErrorContains(t, err, "SUPPORT_CHAT_ID")
}
