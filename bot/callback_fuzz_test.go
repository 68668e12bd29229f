package bot

import (
	"strings"
	"testing"
)

// FuzzCallbackDecode feeds the codec callback data as a hostile client
// would send it: it never panics, accepts nothing it did not sign for that
// chat (a random string does not carry a valid 64-bit MAC), and what it
// accepts round-trips.
func FuzzCallbackDecode(f *testing.F) {
	c := newCallbackCodec([]byte("new key"), []byte("old key"))
	old := newCallbackCodec([]byte("old key"))
	for _, seed := range []struct {
		codec callbackCodec
		seq   int
		data  string
	}{{c, 3, "cs:yes"}, {old, 0, "sum:edit.card"}, {c, 1 << 20, ""}, {c, 7, "a|b|c"}} {
		s, err := seed.codec.encode(42, seed.seq, seed.data)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(int64(42), s)
		f.Add(int64(43), s)
	}
	for _, s := range []string{"", "|", "||", "zz|x|", "-1|cs:yes|AAAAAAAAAAA", strings.Repeat("|", 64), "\xff|\xfe|\x00"} {
		f.Add(int64(42), s)
	}
	f.Fuzz(func(t *testing.T, chat int64, s string) {
		seq, data, ok := c.decode(chat, s)
		if !ok {
			return
		}
		if seq < 0 || len(s) > maxCallbackData {
			t.Fatalf("decode(%q) accepted seq %d", s, seq)
		}
		again, err := c.encode(chat, seq, data)
		if err != nil {
			t.Fatalf("accepted data does not encode again: %v", err)
		}
		if _, d2, ok2 := c.decode(chat, again); !ok2 || d2 != data {
			t.Fatalf("round trip of %q failed", s)
		}
	})
}
