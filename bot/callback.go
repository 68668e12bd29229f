package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
)

// maxCallbackData is Telegram's limit on callback_data, in bytes.
const maxCallbackData = 64

// macLen is how many bytes of the HMAC a button carries: 64 bits, 11
// characters. A forger gets one guess per button press, through Telegram.
const macLen = 8

var errCallbackTooLong = errors.New("callback data longer than 64 bytes")

// callbackCodec signs the data of every inline button as "<seq>|<data>|<mac>":
// seq (base 36) is the dialog's State.Seq the button was rendered at, so a
// button from an earlier step is recognised by the dialog as stale; the MAC
// covers the chat as well, so data typed by hand, replayed from another chat or
// left by an older key is recognised as forged before the dialog sees it.
type callbackCodec struct {
	key []byte
	// old keys still verify buttons sent before a DATA_KEY rotation; no
	// key id fits in 64 bytes, so each is tried.
	old [][]byte
}

// newCallbackCodec derives the signing key from secret (DATA_KEY or the bot
// token), so the key itself is never used for two purposes, and the
// verifying keys from old (DATA_KEY_OLD).
func newCallbackCodec(secret []byte, old ...[]byte) callbackCodec {
	c := callbackCodec{key: callbackKey(secret)}
	for _, o := range old {
		c.old = append(c.old, callbackKey(o))
	}
	return c
}

func callbackKey(secret []byte) []byte {
	m := hmac.New(sha256.New, []byte("merchantbot callback data v1"))
	m.Write(secret)
	return m.Sum(nil)
}

// encode signs data for a button of chat rendered at seq.
func (c callbackCodec) encode(chat int64, seq int, data string) (string, error) {
	payload := strconv.FormatInt(int64(seq), 36) + "|" + data
	s := payload + "|" + c.mac(chat, payload)
	if len(s) > maxCallbackData {
		return "", errCallbackTooLong
	}
	return s, nil
}

// decode checks s and returns the seq and data it carries; ok is false for
// anything we did not sign for this chat.
func (c callbackCodec) decode(chat int64, s string) (seq int, data string, ok bool) {
	i := strings.LastIndexByte(s, '|')
	if i < 0 || len(s) > maxCallbackData {
		return 0, "", false
	}
	payload, mac := s[:i], s[i+1:]
	signed := hmac.Equal([]byte(mac), []byte(c.mac(chat, payload)))
	for _, k := range c.old {
		signed = signed || hmac.Equal([]byte(mac), []byte(macWith(k, chat, payload)))
	}
	if !signed {
		return 0, "", false
	}
	if seq, ok = callbackSeq(payload); !ok {
		return 0, "", false
	}
	_, data, _ = strings.Cut(payload, "|")
	return seq, data, true
}

// callbackSeq reads the seq a button's data (or its signed payload) begins
// with, without checking the signature: decode checks it.
func callbackSeq(s string) (int, bool) {
	seqText, _, found := strings.Cut(s, "|")
	if !found {
		return 0, false
	}
	n, err := strconv.ParseInt(seqText, 36, 32)
	if err != nil || n < 0 {
		return 0, false
	}
	return int(n), true
}

func (c callbackCodec) mac(chat int64, payload string) string { return macWith(c.key, chat, payload) }

func macWith(key []byte, chat int64, payload string) string {
	m := hmac.New(sha256.New, key)
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(chat))
	m.Write(id[:])
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:macLen])
}

// ButtonCodec signs and checks button data the way the merchant's buttons
// are signed, for a part of the bot built beside it (the support desk's
// group buttons: bot/handoff takes it at construction). Made from the same
// secret (DATA_KEY, and DATA_KEY_OLD for buttons sent before a rotation).
type ButtonCodec struct{ c callbackCodec }

// NewButtonCodec returns the codec of secret, still verifying with old.
func NewButtonCodec(secret []byte, old ...[]byte) ButtonCodec {
	return ButtonCodec{c: newCallbackCodec(secret, old...)}
}

// Sign signs data for a button in chat; it fails when the result would be
// longer than Telegram's 64 bytes.
func (b ButtonCodec) Sign(chat int64, data string) (string, error) { return b.c.encode(chat, 0, data) }

// Verify returns the data of signed if it was signed for chat, with this
// secret or an old one.
func (b ButtonCodec) Verify(chat int64, signed string) (string, bool) {
	_, data, ok := b.c.decode(chat, signed)
	return data, ok
}
