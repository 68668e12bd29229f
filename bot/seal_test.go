package bot

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs/store"
)

// The intake writes an update's envelope by hand; the turn that opens the
// entry (another replica, a retry) must read what seal would have written.
func TestSealUpdateOpensAsTheEnvelope(t *testing.T) {
	cipher, err := store.NewCipher(store.RandomKey())
	require.NoError(t, err)
	b := &Bot{cipher: cipher}
	raw := json.RawMessage("{\n  \"update_id\": 42,\n  \"message\": {\"message_id\": 7, \"date\": 1, \"chat\": {\"id\": 5, \"type\": \"private\"}, \"text\": \"\\u4f60\\u597d {}\"}\n}")
	payload, err := sealUpdate(cipher, raw, false)
	require.NoError(t, err)
	assert.NotContains(t, string(payload), "update_id", "sealed")

	env, u, err := b.open(payload)
	require.NoError(t, err)
	assert.JSONEq(t, string(raw), string(env.Update))
	require.NotNil(t, u)
	assert.Equal(t, int64(42), u.ID)
	assert.Equal(t, int64(5), u.chat)
	assert.Equal(t, "你好 {}", u.Message.Text)
	assert.False(t, env.Answered)
	assert.False(t, u.answered, "an entry without the mark (as every entry written before it) is answered by its turn")

	viaSeal, err := seal(cipher, envelope{Update: raw})
	require.NoError(t, err)
	want, _, err := b.open(viaSeal)
	require.NoError(t, err)
	assert.JSONEq(t, string(want.Update), string(env.Update))
}

// An update whose button the webhook answered in its response says so in
// its queue entry, for the turn that opens it elsewhere or later.
func TestSealUpdateKeepsTheAnswer(t *testing.T) {
	cipher, err := store.NewCipher(store.RandomKey())
	require.NoError(t, err)
	b := &Bot{cipher: cipher}
	raw := json.RawMessage(`{"update_id":43,"callback_query":{"id":"q1","from":{"id":5,"is_bot":false,"first_name":"M"},
		"message":{"message_id":7,"date":1,"chat":{"id":5,"type":"private"}},"data":"x"}}`)
	payload, err := sealUpdate(cipher, raw, true)
	require.NoError(t, err)
	env, u, err := b.open(payload)
	require.NoError(t, err)
	assert.True(t, env.Answered)
	require.NotNil(t, u)
	assert.True(t, u.answered)
	assert.Equal(t, "q1", u.CallbackQuery.ID)

	viaSeal, err := seal(cipher, envelope{Update: raw, Answered: true})
	require.NoError(t, err)
	want, _, err := b.open(viaSeal)
	require.NoError(t, err)
	assert.Equal(t, want.Answered, env.Answered)
}
