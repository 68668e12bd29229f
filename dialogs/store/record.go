// Package store is the sealed record of a chat's dialogs.State: the state
// as JSON with its Secrets sealed by AES-256-GCM (Cipher, with key
// rotation), so card numbers and phones are never written in clear text.
// The bot's chat record (bot/chatq) keeps it in Redis, or in memory for the
// console.
package store

import "github.com/merchantbot/merchantbot/dialogs"

// DefaultPrefix is the default prefix of every Redis key (REDIS_PREFIX).
const DefaultPrefix = "mb:"

// EncodeState is the record written for st in chat (bot/chatq commits it
// with the chat's queue and outbox in one Redis script).
func EncodeState(c *Cipher, chat int64, st *dialogs.State) ([]byte, error) {
	return encodeState(c, chat, st)
}

// DecodeState reverses EncodeState; its errors wrap ErrBadRecord.
func DecodeState(c *Cipher, chat int64, rec []byte) (*dialogs.State, error) {
	return decodeState(c, chat, rec)
}
