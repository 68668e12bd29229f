package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
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

// Cipher seals and opens secrets with AES-256-GCM.
type Cipher struct {
	aead cipher.AEAD
}

// NewCipher returns a Cipher for a KeySize-byte key.
func NewCipher(key []byte) (*Cipher, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("data key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new cipher: %w", err)
	}
	return &Cipher{aead: aead}, nil
}

// Seal encrypts plain; the result starts with its random nonce.
func (c *Cipher) Seal(plain []byte) ([]byte, error) {
	return c.seal(plain, nil)
}

// Open reverses Seal. It fails when the key differs or a byte was changed.
func (c *Cipher) Open(sealed []byte) ([]byte, error) {
	return c.open(sealed, nil)
}

// seal binds the ciphertext to ad, which must be given again to open it.
func (c *Cipher) seal(plain, ad []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	out := make([]byte, n, n+len(plain)+c.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return c.aead.Seal(out, out, plain, ad), nil
}

func (c *Cipher) open(sealed, ad []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(sealed) < n+c.aead.Overhead() {
		return nil, errors.New("open: sealed data too short")
	}
	plain, err := c.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, errors.New("open: wrong key or tampered data")
	}
	return plain, nil
}
