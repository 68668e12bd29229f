package store

import "github.com/merchantbot/merchantbot/dialogs"

// EncodeState is the record a store writes for st in chat, for a caller
// that commits the state in a Redis script of its own (bot/chatq commits
// state, queue and outbox together).
func EncodeState(c *Cipher, chat int64, st *dialogs.State) ([]byte, error) {
	return encodeState(c, chat, st)
}

// DecodeState reverses EncodeState; its errors wrap ErrBadRecord.
func DecodeState(c *Cipher, chat int64, rec []byte) (*dialogs.State, error) {
	return decodeState(c, chat, rec)
}
