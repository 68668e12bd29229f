package bot

import "testing"

func TestCallbackOldKeyStillVerifiesAfterRotation(t *testing.T) {
	before := newCallbackCodec([]byte("old data key"))
	after := newCallbackCodec([]byte("new data key"), []byte("old data key"))
	sent, err := before.encode(42, 7, "cs:yes")
	if err != nil {
		t.Fatal(err)
	}
	if seq, data, ok := after.decode(42, sent); !ok || seq != 7 || data != "cs:yes" {
		t.Fatalf("a button sent before the rotation: %d %q %v", seq, data, ok)
	}
	fresh, err := after.encode(42, 8, "cs:yes")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := before.decode(42, fresh); ok {
		t.Fatal("the rotated codec still signs with the old key")
	}
	if _, _, ok := newCallbackCodec([]byte("new data key")).decode(42, sent); ok {
		t.Fatal("an old button verifies once the old key is dropped")
	}
	if _, _, ok := after.decode(43, sent); ok {
		t.Fatal("an old-key button verifies in another chat")
	}
}
