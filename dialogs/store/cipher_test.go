package store_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/merchantbot/merchantbot/dialogs/store"
)

func TestParseKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xfb, 0xef, 0x3e}, 11)[:32] // base64 has + / - _ for it
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"base64 std", base64.StdEncoding.EncodeToString(key), ""},
		{"base64 url", base64.URLEncoding.EncodeToString(key), ""},
		{"base64 std raw", base64.RawStdEncoding.EncodeToString(key), ""},
		{"base64 url raw", base64.RawURLEncoding.EncodeToString(key), ""},
		{"hex lower", hex.EncodeToString(key), ""},
		{"hex upper", strings.ToUpper(hex.EncodeToString(key)), ""},
		{"spaces around", "  " + hex.EncodeToString(key) + "\n", ""},
		{"empty", "", "empty"},
		{"short base64", base64.StdEncoding.EncodeToString(key[:16]), "for 16 bytes; want 32 bytes"},
		{"long base64", base64.StdEncoding.EncodeToString(append(key, key...)), "for 64 bytes"},
		{"63 hex", hex.EncodeToString(key)[:63], "63 characters"},
		{"garbage", "not a key at all!", "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := store.ParseKey(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseKey: %v", err)
				}
				if !bytes.Equal(got, key) {
					t.Fatalf("ParseKey = %x, want %x", got, key)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseKey: err = %v, want one saying %q", err, tt.wantErr)
			}
			if trimmed := strings.TrimSpace(tt.in); len(trimmed) > 4 && strings.Contains(err.Error(), trimmed[:5]) {
				t.Fatalf("error %q echoes the key", err)
			}
		})
	}
}

func TestCipherSealOpen(t *testing.T) {
	c := newCipher(t)
	plain := []byte(`{"c":"6222021234567890123"}`)
	a, err := c.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one text are equal: the nonce is not random")
	}
	if bytes.Contains(a, plain) {
		t.Fatal("sealed data holds the plain text")
	}
	got, err := c.Open(a)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v; want %q", got, err, plain)
	}

	if _, err := newCipher(t).Open(a); err == nil {
		t.Fatal("Open with another key succeeded")
	}
	for i := range a {
		tampered := bytes.Clone(a)
		tampered[i] ^= 1
		if _, err := c.Open(tampered); err == nil {
			t.Fatalf("Open succeeded with byte %d changed", i)
		}
	}
	for _, short := range [][]byte{nil, a[:12], a[:27]} {
		if _, err := c.Open(short); err == nil {
			t.Fatalf("Open of %d bytes succeeded", len(short))
		}
	}
}

func TestNewCipherKeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33} {
		if _, err := store.NewCipher(make([]byte, n)); err == nil {
			t.Errorf("NewCipher(%d bytes) succeeded; only AES-256 keys are allowed", n)
		}
	}
}

func TestRandomKey(t *testing.T) {
	a, b := store.RandomKey(), store.RandomKey()
	if len(a) != store.KeySize || bytes.Equal(a, b) {
		t.Fatalf("RandomKey gave %x and %x", a, b)
	}
}
