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
	payload, err := sealUpdate(cipher, raw)
	require.NoError(t, err)
	assert.NotContains(t, string(payload), "update_id", "sealed")

	env, u, err := b.open(payload)
	require.NoError(t, err)
	assert.JSONEq(t, string(raw), string(env.Update))
	require.NotNil(t, u)
	assert.Equal(t, int64(42), u.ID)
	assert.Equal(t, int64(5), u.chat)
	assert.Equal(t, "你好 {}", u.Message.Text)

	viaSeal, err := seal(cipher, envelope{Update: raw})
	require.NoError(t, err)
	want, _, err := b.open(viaSeal)
	require.NoError(t, err)
	assert.JSONEq(t, string(want.Update), string(env.Update))
}
