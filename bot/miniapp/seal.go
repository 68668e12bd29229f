package miniapp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// The form's fields travel sealed to this server, not only inside TLS: a
// proxy or load balancer that terminates TLS, or logs request bodies, never
// reads the card number. The page makes an ephemeral P-256 key, agrees a
// secret with the server's key (sent with the session), derives an
// AES-256-GCM key from it with HKDF-SHA256 (no salt, info formInfo) and
// seals the fields as JSON, with the launch data as additional data, so a
// sealed form opens only with the launch it was made for. Every replica
// derives the same server key from the bot token.

// formInfo is the HKDF info of the form's key.
const formInfo = "merchantbot card form v1"

// formKey derives the server's P-256 key from the bot token.
func formKey(token string) (*ecdh.PrivateKey, error) {
	for i := byte(0); i < 16; i++ {
		mac := hmac.New(sha256.New, []byte(token))
		mac.Write([]byte("merchantbot miniapp form key"))
		mac.Write([]byte{i})
		// A scalar beyond the curve's order (odds about 2^-32) is refused:
		// the next one is taken.
		if k, err := ecdh.P256().NewPrivateKey(mac.Sum(nil)); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("miniapp: no form key derives from the token")
}

// publicKey is the key the page seals to, base64url (uncompressed point).
func publicKey(k *ecdh.PrivateKey) string {
	return base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes())
}

// sealed is a form as the page sends it.
type sealed struct {
	EPK   string `json:"epk"`   // the page's ephemeral public key, base64url
	Nonce string `json:"nonce"` // 12 bytes, base64url
	Data  string `json:"data"`  // AES-GCM ciphertext and tag, base64url
}

// fields are the form's inputs, once opened.
type fields struct {
	Card   string `json:"card"`
	Holder string `json:"holder"`
	Branch string `json:"branch"`
	Phone  string `json:"phone"`
}

var errSealed = errors.New("sealed form does not open")

// open opens s, made for the launch data initData.
func open(k *ecdh.PrivateKey, s sealed, initData string) (fields, error) {
	var f fields
	dec := base64.RawURLEncoding
	epk, err1 := dec.DecodeString(s.EPK)
	nonce, err2 := dec.DecodeString(s.Nonce)
	data, err3 := dec.DecodeString(s.Data)
	if err := errors.Join(err1, err2, err3); err != nil || len(nonce) != 12 {
		return f, errSealed
	}
	pub, err := ecdh.P256().NewPublicKey(epk)
	if err != nil {
		return f, errSealed
	}
	secret, err := k.ECDH(pub)
	if err != nil {
		return f, errSealed
	}
	key, err := hkdf.Key(sha256.New, secret, nil, formInfo, 32)
	if err != nil {
		return f, fmt.Errorf("derive form key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return f, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return f, err
	}
	plain, err := gcm.Open(nil, nonce, data, []byte(initData))
	if err != nil {
		return f, errSealed
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, &f); err != nil {
		return f, errSealed
	}
	return f, nil
}

// Seal seals a form's fields for the server whose bot token is token, as
// the page does: for tests and tools that play the page.
func Seal(token, initData, card, holder, branch, phone string) (map[string]any, error) {
	k, err := formKey(token)
	if err != nil {
		return nil, err
	}
	eph, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	secret, err := eph.ECDH(k.PublicKey())
	if err != nil {
		return nil, err
	}
	key, err := hkdf.Key(sha256.New, secret, nil, formInfo, 32)
	if err != nil {
		return nil, err
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	copy(nonce, key[:12]) // a fresh key per seal: the nonce need not be random
	plain, _ := json.Marshal(fields{Card: card, Holder: holder, Branch: branch, Phone: phone})
	enc := base64.RawURLEncoding
	return map[string]any{
		"epk":   enc.EncodeToString(eph.PublicKey().Bytes()),
		"nonce": enc.EncodeToString(nonce),
		"data":  enc.EncodeToString(gcm.Seal(nil, nonce, plain, []byte(initData))),
	}, nil
}
