package miniapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Launch data (initData) as Telegram documents it
// (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):
// a query string whose hash field is
//
//	hex(HMAC_SHA256(key: HMAC_SHA256(key: "WebAppData", msg: bot_token),
//	                msg: data_check_string))
//
// where data_check_string is every other field as key=value, sorted by key,
// joined with "\n".

// MaxAge is how old launch data may be when the form is submitted: the
// form is opened from the chat and filled in minutes; an hour leaves room
// for a merchant who looks for their card, and bounds how long a copy of
// the launch data could be used by anyone who got hold of it.
const MaxAge = time.Hour

// MaxSkew is how far in the future auth_date may be (clocks disagree a
// little); further, the launch data is refused as stale.
const MaxSkew = 30 * time.Second

// maxInitData bounds the launch data read (Telegram's is well under 2 KiB).
const maxInitData = 4096

// Errors of Verify.
var (
	ErrForged = errors.New("launch data not signed with this bot's token")
	ErrStale  = errors.New("launch data too old, or dated in the future")
)

// Launch is the launch data, verified.
type Launch struct {
	UserID       int64
	LanguageCode string
	ChatType     string // "" when Telegram did not say (inline keyboard buttons)
	AuthDate     time.Time
	// Hash is the launch data's signature: unique to it, it names the
	// launch when a submission is marked used.
	Hash string
}

type launchUser struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	LanguageCode string `json:"language_code"`
}

// Verify checks raw launch data against token at now: its hash (compared
// in constant time), its auth_date within MaxAge before now (and MaxSkew
// after), and a user who is a person. Nothing of it is trusted before the
// hash is.
func Verify(raw, token string, now time.Time) (Launch, error) {
	var l Launch
	if raw == "" || len(raw) > maxInitData {
		return l, ErrForged
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return l, ErrForged
	}
	hash := values.Get("hash")
	got, err := hex.DecodeString(hash)
	if err != nil || len(got) != sha256.Size || len(values["hash"]) != 1 {
		return l, ErrForged
	}
	keys := make([]string, 0, len(values))
	for k, v := range values {
		if len(v) != 1 {
			return l, ErrForged // Telegram sends each field once
		}
		if k != "hash" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + "=" + values.Get(k)
	}
	if !hmac.Equal(got, Sign(strings.Join(lines, "\n"), token)) {
		return l, ErrForged
	}
	secs, err := strconv.ParseInt(values.Get("auth_date"), 10, 64)
	if err != nil {
		return l, ErrStale
	}
	l.AuthDate = time.Unix(secs, 0)
	if age := now.Sub(l.AuthDate); age > MaxAge || age < -MaxSkew {
		return l, ErrStale
	}
	var u launchUser
	if err := json.Unmarshal([]byte(values.Get("user")), &u); err != nil || u.ID <= 0 || u.IsBot {
		return l, ErrForged // signed, but not a person opening the form from a chat
	}
	// The hash as its bytes spell it, whatever case the request wrote it in:
	// a launch is marked used by it (one launch, one key).
	l.UserID, l.LanguageCode, l.ChatType, l.Hash = u.ID, u.LanguageCode, values.Get("chat_type"), hex.EncodeToString(got)
	return l, nil
}

// Sign is the hash Telegram gives data_check_string for token.
func Sign(dataCheckString, token string) []byte {
	secret := hmac.New(sha256.New, []byte("WebAppData"))
	secret.Write([]byte(token))
	mac := hmac.New(sha256.New, secret.Sum(nil))
	mac.Write([]byte(dataCheckString))
	return mac.Sum(nil)
}

// SignLaunch makes launch data for token from fields (user as JSON,
// auth_date, query_id, ...), signed as Telegram signs it: what a test, or
// a tool that plays Telegram, opens the form with.
func SignLaunch(fields url.Values, token string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != "hash" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + "=" + fields.Get(k)
	}
	signed := url.Values{}
	for _, k := range keys {
		signed.Set(k, fields.Get(k))
	}
	signed.Set("hash", hex.EncodeToString(Sign(strings.Join(lines, "\n"), token)))
	return signed.Encode()
}
