package store_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
)

func cipherOf(t testing.TB, key []byte, old ...[]byte) *store.Cipher {
	t.Helper()
	c, err := store.NewCipher(key, old...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCipherRotation(t *testing.T) {
	oldKey, newKey := store.RandomKey(), store.RandomKey()
	before := cipherOf(t, oldKey)
	after := cipherOf(t, newKey, oldKey)
	plain := []byte("6222021234567890123")

	sealedOld, err := before.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := after.Open(sealedOld); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("the rotated cipher does not open what the old key sealed: %q, %v", got, err)
	}
	sealedNew, err := after.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := before.Open(sealedNew); err == nil {
		t.Fatal("the rotated cipher sealed with the old key")
	}
	if got, err := cipherOf(t, newKey).Open(sealedNew); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("once the old key is dropped, the new one alone does not open: %v", err)
	}
	if _, err := cipherOf(t, newKey).Open(sealedOld); err == nil {
		t.Fatal("a value of the dropped key still opens")
	}
	if before.KeyID() == after.KeyID() || after.KeyID() != cipherOf(t, newKey).KeyID() || len(after.KeyID()) != 8 {
		t.Fatalf("key ids: before %s, after %s", before.KeyID(), after.KeyID())
	}
	if bytes.Contains(sealedNew, newKey[:4]) {
		t.Fatal("the key id is the key's first bytes")
	}
}

func TestCipherOpensValuesSealedBeforeKeyIDs(t *testing.T) {
	key := store.RandomKey()
	plain := []byte("13812345678")
	legacy := legacySeal(t, key, plain, nil)
	got, err := cipherOf(t, store.RandomKey(), key).Open(legacy)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open of a value without key id: %q, %v", got, err)
	}
}

func TestNewCipherRejectsABadOldKey(t *testing.T) {
	if _, err := store.NewCipher(store.RandomKey(), make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte old key was accepted")
	}
}

// legacySeal seals as the store did before key ids: nonce | ciphertext.
func legacySeal(t testing.TB, key, plain, ad []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, plain, ad)
}

// legacyRecord is a record as the store wrote it before key ids.
func legacyRecord(t testing.TB, key []byte, chat int64, st *dialogs.State) []byte {
	t.Helper()
	plain, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := json.Marshal(st.Secrets)
	if err != nil {
		t.Fatal(err)
	}
	ad := binary.BigEndian.AppendUint64(nil, uint64(chat))
	ad = append(ad, plain...)
	rec := binary.AppendUvarint([]byte{1}, uint64(len(plain)))
	rec = append(rec, plain...)
	return append(rec, legacySeal(t, key, secrets, ad)...)
}

// TestKeyRotationWipesNothing rotates DATA_KEY under sealed drafts: one
// written by the old key with key ids, one written before key ids existed.
// With the new key and the old one both open, both decode, and a record
// sealed again (as every commit does) opens with the new key alone, so the
// old key can then be dropped.
func TestKeyRotationWipesNothing(t *testing.T) {
	oldKey, newKey := store.RandomKey(), store.RandomKey()

	draft := fullDraft()
	draft.Secrets.CardNumber = "6222021234567890123"
	withKeyID, err := store.EncodeState(cipherOf(t, oldKey), 51, draft)
	if err != nil {
		t.Fatal(err)
	}
	recs := map[int64][]byte{51: withKeyID, 52: legacyRecord(t, oldKey, 52, draft)}

	rotated := cipherOf(t, newKey, oldKey)
	newOnly := cipherOf(t, newKey)
	for _, chat := range []int64{51, 52} {
		st, err := store.DecodeState(rotated, chat, recs[chat])
		if err != nil {
			t.Fatalf("chat %d after rotation: %v", chat, err)
		}
		if st.Secrets != draft.Secrets || st.Step != draft.Step {
			t.Fatalf("chat %d after rotation: state %+v", chat, st)
		}
		resealed, err := store.EncodeState(rotated, chat, st)
		if err != nil {
			t.Fatal(err)
		}
		st, err = store.DecodeState(newOnly, chat, resealed)
		if err != nil || st.Secrets != draft.Secrets {
			t.Fatalf("chat %d with the new key alone, after a commit: %+v, %v", chat, st, err)
		}
	}
	// Without the old key, a draft not yet re-sealed does not open: the
	// rotation checks above would pass for the wrong reason otherwise.
	for _, chat := range []int64{51, 52} {
		if _, err := store.DecodeState(newOnly, chat, recs[chat]); !errors.Is(err, store.ErrBadRecord) {
			t.Fatalf("chat %d: an old-key draft opened without the old key: %v", chat, err)
		}
	}
}

// FuzzCipherOpen opens hostile sealed values with a rotated cipher: it
// never panics and opens only what one of its keys sealed, unchanged.
func FuzzCipherOpen(f *testing.F) {
	oldKey, newKey := bytes.Repeat([]byte{1}, store.KeySize), bytes.Repeat([]byte{2}, store.KeySize)
	c := cipherOf(f, newKey, oldKey)
	for _, seal := range []*store.Cipher{cipherOf(f, oldKey), c} {
		s, err := seal.Seal([]byte("6222021234567890123"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s)
	}
	f.Add(legacySeal(f, oldKey, []byte("13812345678"), nil))
	f.Add([]byte("K"))
	f.Add([]byte("K\x00\x00\x00\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, sealed []byte) {
		plain, err := c.Open(sealed)
		if err == nil && plain == nil {
			t.Fatal("Open succeeded with nothing")
		}
		if err != nil && plain != nil {
			t.Fatal("Open failed but returned data")
		}
	})
}

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"", "  ", strings.Repeat("ab", 32), strings.Repeat("A", 43), strings.Repeat("A", 44), "not a key", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := store.ParseKey(s)
		if err != nil {
			if key != nil {
				t.Fatal("error with a key")
			}
			if trimmed := strings.TrimSpace(s); len(trimmed) >= 8 && strings.Contains(err.Error(), trimmed) {
				t.Fatalf("error quotes the key: %v", err)
			}
			return
		}
		if len(key) != store.KeySize {
			t.Fatalf("ParseKey returned %d bytes", len(key))
		}
	})
}
