package miniapp_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/miniapp"
)

const token = "123456:AAtest_token-value"

// TestVerifyAsTelegramDocuments: the hash is HMAC-SHA256 of the sorted
// key=value lines under HMAC-SHA256("WebAppData", token), computed here
// independently of the package.
func TestVerifyAsTelegramDocuments(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	lines := "auth_date=1800000000\nquery_id=AAHq\nuser={\"id\":42,\"first_name\":\"M\",\"language_code\":\"en\"}"
	secret := hmac.New(sha256.New, []byte("WebAppData"))
	secret.Write([]byte(token))
	mac := hmac.New(sha256.New, secret.Sum(nil))
	mac.Write([]byte(lines))
	raw := url.Values{"auth_date": {"1800000000"}, "query_id": {"AAHq"},
		"user": {`{"id":42,"first_name":"M","language_code":"en"}`}, "hash": {hex.EncodeToString(mac.Sum(nil))}}.Encode()

	l, err := miniapp.Verify(raw, token, now)
	require.NoError(t, err)
	assert.Equal(t, int64(42), l.UserID)
	assert.Equal(t, "en", l.LanguageCode)
	assert.Equal(t, raw, miniapp.SignLaunch(mustQuery(t, raw), token), "SignLaunch signs as Telegram does")

	_, err = miniapp.Verify(raw, "123456:another", now)
	assert.ErrorIs(t, err, miniapp.ErrForged, "another token")
	_, err = miniapp.Verify(strings.Replace(raw, "AAHq", "AAHr", 1), token, now)
	assert.ErrorIs(t, err, miniapp.ErrForged, "a field changed")
	_, err = miniapp.Verify(raw+"&query_id=AAHq", token, now)
	assert.ErrorIs(t, err, miniapp.ErrForged, "a field given twice")
	_, err = miniapp.Verify(raw+"&extra=1", token, now)
	assert.ErrorIs(t, err, miniapp.ErrForged, "a field added")
	_, err = miniapp.Verify(raw, token, now.Add(miniapp.MaxAge+time.Second))
	assert.ErrorIs(t, err, miniapp.ErrStale)
	_, err = miniapp.Verify(raw, token, now.Add(miniapp.MaxAge))
	assert.NoError(t, err, "an hour old is still fresh")
	_, err = miniapp.Verify(raw, token, now.Add(-miniapp.MaxSkew-time.Second))
	assert.ErrorIs(t, err, miniapp.ErrStale, "dated in the future")

	bot := miniapp.SignLaunch(url.Values{"auth_date": {"1800000000"}, "user": {`{"id":43,"is_bot":true}`}}, token)
	_, err = miniapp.Verify(bot, token, now)
	assert.ErrorIs(t, err, miniapp.ErrForged, "a bot fills no form")
	nouser := miniapp.SignLaunch(url.Values{"auth_date": {"1800000000"}}, token)
	_, err = miniapp.Verify(nouser, token, now)
	assert.ErrorIs(t, err, miniapp.ErrForged, "no user")
	for _, junk := range []string{"", "hash=zz", "%zz", strings.Repeat("a", 5000)} {
		_, err = miniapp.Verify(junk, token, now)
		assert.ErrorIs(t, err, miniapp.ErrForged, "%.20q", junk)
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	v, err := url.ParseQuery(raw)
	require.NoError(t, err)
	return v
}

// FuzzVerify: no launch data panics the check, and nothing unsigned passes.
func FuzzVerify(f *testing.F) {
	f.Add(miniapp.SignLaunch(url.Values{"auth_date": {"1800000000"}, "user": {`{"id":1}`}}, token))
	f.Add("hash=00&user=%7B%7D")
	f.Fuzz(func(t *testing.T, raw string) {
		l, err := miniapp.Verify(raw, "1:other", time.Unix(1_800_000_000, 0))
		if err == nil {
			t.Fatalf("launch data passed under a token nobody signed with: %+v", l)
		}
	})
}
