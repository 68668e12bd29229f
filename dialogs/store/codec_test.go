package store_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
)

// TestFullDraftFitsBudget holds the design's bar: ≤ 1 KiB per active dialog.
func TestFullDraftFitsBudget(t *testing.T) {
	rec, err := store.EncodeState(newCipher(t), -1001234567890, fullDraft())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("full draft record: %d bytes", len(rec))
	if len(rec) > 1024 {
		t.Fatalf("full draft record is %d bytes, budget 1024", len(rec))
	}
}

// TestRecordHoldsNoSecretInClear: the record a chat's state is written as
// (to Redis by the pipeline) shows the clear part of the state and none of
// its secrets.
func TestRecordHoldsNoSecretInClear(t *testing.T) {
	st := fullDraft()
	st.Secrets.CardNumber = "6222021234567890123"
	st.Secrets.ReservedPhone = "13812345678"
	st.Secrets.Answers = ""
	st.Secrets.Answers.Set("added_step", "6222029876543210987") // a secret field of a step added in its own file
	rec, err := store.EncodeState(newCipher(t), 42, st)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(rec, []byte(st.MerchantNo)) {
		t.Fatal("the record misses the clear part of the state: the test reads the wrong bytes")
	}
	for _, secret := range []string{"6222021234567890123", "4567890123", "13812345678", st.Secrets.PendingCard, "6222029876543210987"} {
		if bytes.Contains(rec, []byte(secret)) {
			t.Fatalf("the record holds %q in clear", secret)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	c := newCipher(t)
	for name, st := range map[string]*dialogs.State{
		"full draft": fullDraft(),
		"no secrets": {Step: "menu", Lang: "en", MerchantNo: "898310048161234", Bound: true},
		"empty":      {},
	} {
		t.Run(name, func(t *testing.T) {
			rec, err := store.EncodeState(c, 42, st)
			if err != nil {
				t.Fatal(err)
			}
			got, err := store.DecodeState(c, 42, rec)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, st) {
				t.Fatalf("round trip\n got %+v\nwant %+v", got, st)
			}
		})
	}
}

func TestCodecRejects(t *testing.T) {
	c := newCipher(t)
	rec, err := store.EncodeState(c, 42, fullDraft())
	if err != nil {
		t.Fatal(err)
	}
	stateStart := bytes.Index(rec, []byte(`"st"`))
	tests := map[string]struct {
		c    *store.Cipher
		chat int64
		rec  []byte
	}{
		"another key":         {newCipher(t), 42, rec},
		"another chat":        {c, 43, rec},
		"clear part changed":  {c, 42, flip(rec, stateStart+1)},
		"sealed part changed": {c, 42, flip(rec, len(rec)-20)},
		"truncated":           {c, 42, rec[:len(rec)-1]},
		"cut in the state":    {c, 42, rec[:stateStart+3]},
		"empty":               {c, 42, nil},
		"unknown version":     {c, 42, flip(rec, 0)},
		"huge length":         {c, 42, []byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f, '{', '}'}},
		"bad varint":          {c, 42, []byte{1, 0xff}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			st, err := store.DecodeState(tt.c, tt.chat, tt.rec)
			if !errors.Is(err, store.ErrBadRecord) || st != nil {
				t.Fatalf("DecodeState = %+v, %v; want ErrBadRecord", st, err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 1
	return b
}

func FuzzDecodeState(f *testing.F) {
	c, err := store.NewCipher(bytes.Repeat([]byte{7}, store.KeySize))
	if err != nil {
		f.Fatal(err)
	}
	for _, st := range []*dialogs.State{fullDraft(), {Step: "menu"}} {
		rec, err := store.EncodeState(c, 42, st)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(rec)
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		st, err := store.DecodeState(c, 42, rec)
		if (st == nil) == (err == nil) {
			t.Fatalf("DecodeState = %v, %v", st, err)
		}
	})
}
