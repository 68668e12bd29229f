package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/merchantbot/merchantbot/dialogs"
)

// ErrBadRecord means a stored state does not decode: it was written with
// another data key, changed by hand, or by an incompatible version.
var ErrBadRecord = errors.New("stored chat state does not decode")

// recordV1 starts every record so the layout can change later.
const recordV1 = 1

// A record is
//
//	version byte | uvarint len(state) | state JSON | sealed secrets JSON
//
// The sealed part is absent when the state has no secrets; it names the
// data key that sealed it (see Cipher), so a rotated DATA_KEY still opens it. It is binary
// rather than base64 inside JSON: a third smaller, and Redis stores bytes.
//
// The seal's associated data is the chat id and the state JSON, so sealed
// secrets cannot be moved to another chat, and the clear part of a record
// that holds secrets cannot be edited without the record failing to open.

// encodeState turns st into one record for chat.
func encodeState(c *Cipher, chat int64, st *dialogs.State) ([]byte, error) {
	plain, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode chat state: %w", err)
	}
	rec := make([]byte, 0, 1+binary.MaxVarintLen64+len(plain)+128)
	rec = append(rec, recordV1)
	rec = binary.AppendUvarint(rec, uint64(len(plain)))
	rec = append(rec, plain...)
	if st.Secrets.Empty() {
		return rec, nil
	}
	secrets, err := json.Marshal(st.Secrets)
	if err != nil {
		return nil, errors.New("encode chat secrets: marshal failed")
	}
	sealed, err := c.sealAD(secrets, sealedAD(chat, plain))
	clear(secrets)
	if err != nil {
		return nil, fmt.Errorf("encode chat secrets: %w", err)
	}
	return append(rec, sealed...), nil
}

// decodeState reverses encodeState. Its errors wrap ErrBadRecord and carry
// no stored bytes.
func decodeState(c *Cipher, chat int64, rec []byte) (*dialogs.State, error) {
	if len(rec) == 0 || rec[0] != recordV1 {
		return nil, fmt.Errorf("%w: unknown record version", ErrBadRecord)
	}
	n, size := binary.Uvarint(rec[1:])
	if size <= 0 || n > uint64(len(rec)-1-size) {
		return nil, fmt.Errorf("%w: bad state length", ErrBadRecord)
	}
	plain := rec[1+size : 1+size+int(n)]
	sealed := rec[1+size+int(n):]

	var st dialogs.State
	// json's messages can quote the input, so they are not passed on.
	if err := json.Unmarshal(plain, &st); err != nil {
		return nil, fmt.Errorf("%w: malformed state", ErrBadRecord)
	}
	if len(sealed) == 0 {
		return &st, nil
	}
	secrets, err := c.open(sealed, sealedAD(chat, plain))
	if err != nil {
		return nil, fmt.Errorf("%w: secrets do not open (wrong data key or tampered record)", ErrBadRecord)
	}
	defer clear(secrets)
	if err := json.Unmarshal(secrets, &st.Secrets); err != nil {
		return nil, fmt.Errorf("%w: malformed secrets", ErrBadRecord)
	}
	return &st, nil
}

func sealedAD(chat int64, plain []byte) []byte {
	ad := make([]byte, 0, 8+len(plain))
	ad = binary.BigEndian.AppendUint64(ad, uint64(chat))
	return append(ad, plain...)
}
