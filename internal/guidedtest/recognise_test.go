package guidedtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/locales"
)

// A text read again comes from the memo: the same ids, and a caller that
// appends to what it got changes nothing the next caller gets.
func TestMessageReadAgainFromTheMemo(t *testing.T) {
	rec, err := NewRecogniser()
	require.NoError(t, err)
	cat, _ := locales.Load()
	text := cat.Render("en", "card_accepted", map[string]any{"Card": "622202*********0128"}) + "\n" + cat.Render("en", "card_bank", map[string]any{"Bank": "ICBC"})
	first, err := rec.Message(text)
	require.NoError(t, err)
	require.Equal(t, []string{"card_accepted", "card_bank"}, first)
	_, memo := rec.messages.Load(text)
	require.True(t, memo, "kept for the next reader")
	_ = append(first, "changed")
	again, err := rec.Message(text)
	require.NoError(t, err)
	assert.Equal(t, []string{"card_accepted", "card_bank"}, again)

	_, err = rec.Message("nothing the bot says")
	require.Error(t, err)
	_, memo = rec.messages.Load("nothing the bot says")
	assert.False(t, memo, "an error is not kept: it is said each time")
}
