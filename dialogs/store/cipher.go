package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a data key: AES-256.
const KeySize = 32

// ParseKey reads a data key (DATA_KEY) written as base64 (standard or URL
// alphabet, padded or not) or as 64 hex characters. Its errors describe the
// shape of s but never include s.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("data key is empty")
	}
	// 64 hex characters would also be valid base64 (of 48 bytes), so hex
	// is tried first and the two readings never compete.
	if len(s) == 2*KeySize {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	encodings := []*base64.Encoding{
		base64.StdEncoding, base64.URLEncoding,
		base64.RawStdEncoding, base64.RawURLEncoding,
	}
	for _, enc := range encodings {
		key, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("data key is %d characters of base64 for %d bytes; %s", len(s), len(key), keyShape)
		}
		return key, nil
	}
	return nil, fmt.Errorf("data key is %d characters of neither base64 nor hex; %s", len(s), keyShape)
}

const keyShape = "want 32 bytes as 44 base64 characters (43 unpadded) or 64 hex characters"

// RandomKey returns a fresh data key, for a run whose state does not outlive
// the process (the console).
func RandomKey() []byte {
	key := make([]byte, KeySize)
	_, _ = rand.Read(key) // never fails: crypto/rand crashes the program instead
	return key
}

// Cipher seals and opens secrets with AES-256-GCM. It seals with one key and
// opens what that key or any older one sealed, so that DATA_KEY can be
// rotated without wiping a draft: every sealed value names its key.
//
// A sealed value is
//
//	keyedMark | key id (4 bytes) | nonce | ciphertext+tag
//
// The key id is a hash of the key, not the key. Values sealed before key ids
// existed (nonce | ciphertext+tag) still open: each key is tried in turn.
type Cipher struct {
	seal  sealKey   // the current key
	keys  []sealKey // the current key, then the old ones
	index map[[keyIDLen]byte]int
}

type sealKey struct {
	id   [keyIDLen]byte
	aead cipher.AEAD
}

const (
	keyIDLen  = 4
	keyedMark = 'K'
	keyedHead = 1 + keyIDLen
)

// NewCipher returns a Cipher that seals with key and opens what key or one
// of old sealed. Every key is KeySize bytes; repeated keys are ignored.
func NewCipher(key []byte, old ...[]byte) (*Cipher, error) {
	c := &Cipher{index: map[[keyIDLen]byte]int{}}
	for i, k := range append([][]byte{key}, old...) {
		if len(k) != KeySize {
			if i == 0 {
				return nil, fmt.Errorf("data key is %d bytes, want %d", len(k), KeySize)
			}
			return nil, fmt.Errorf("old data key %d is %d bytes, want %d", i, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("new cipher: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("new cipher: %w", err)
		}
		sk := sealKey{id: keyID(k), aead: aead}
		if _, dup := c.index[sk.id]; dup {
			continue
		}
		c.index[sk.id] = len(c.keys)
		c.keys = append(c.keys, sk)
	}
	c.seal = c.keys[0]
	return c, nil
}

// keyID names a key without revealing it.
func keyID(key []byte) [keyIDLen]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("merchantbot data key id v1"))
	var id [keyIDLen]byte
	copy(id[:], m.Sum(nil))
	return id
}

// KeyID is the id of the key c seals with, in hex: safe to log, and what an
// operator compares before and after a rotation.
func (c *Cipher) KeyID() string { return hex.EncodeToString(c.seal.id[:]) }

// Seal encrypts plain with the current key; the result names the key and
// carries its random nonce.
func (c *Cipher) Seal(plain []byte) ([]byte, error) {
	return c.sealAD(plain, nil)
}

// Open reverses Seal, with the current key or an old one. It fails when no
// key of c sealed it or a byte was changed.
func (c *Cipher) Open(sealed []byte) ([]byte, error) {
	return c.open(sealed, nil)
}

// sealAD binds the ciphertext to ad, which must be given again to open it.
func (c *Cipher) sealAD(plain, ad []byte) ([]byte, error) {
	k := c.seal
	n := k.aead.NonceSize()
	out := make([]byte, keyedHead+n, keyedHead+n+len(plain)+k.aead.Overhead())
	out[0] = keyedMark
	copy(out[1:keyedHead], k.id[:])
	nonce := out[keyedHead:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return k.aead.Seal(out, nonce, plain, ad), nil
}

var errOpen = errors.New("open: wrong key or tampered data")

func (c *Cipher) open(sealed, ad []byte) ([]byte, error) {
	if len(sealed) >= keyedHead && sealed[0] == keyedMark {
		if i, ok := c.index[[keyIDLen]byte(sealed[1:keyedHead])]; ok {
			if plain, err := openWith(c.keys[i].aead, sealed[keyedHead:], ad); err == nil {
				return plain, nil
			}
		}
	}
	// Sealed before key ids, or by a key whose id is not ours (then every
	// try fails, as it should). A keyed value's head never authenticates
	// as a nonce, so this cannot open a tampered keyed value.
	for _, k := range c.keys {
		if plain, err := openWith(k.aead, sealed, ad); err == nil {
			return plain, nil
		}
	}
	if len(sealed) < c.seal.aead.NonceSize()+c.seal.aead.Overhead() {
		return nil, errors.New("open: sealed data too short")
	}
	return nil, errOpen
}

func openWith(aead cipher.AEAD, sealed, ad []byte) ([]byte, error) {
	n := aead.NonceSize()
	if len(sealed) < n+aead.Overhead() {
		return nil, errOpen
	}
	return aead.Open(nil, sealed[:n], sealed[n:], ad)
}
