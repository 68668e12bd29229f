package bot

import (
	"sync"
	"sync/atomic"
)

// decodedMax bounds the updates kept decoded: those applied elsewhere (a
// chat held by another replica) are never taken, and the lot is dropped
// when it fills.
const decodedMax = 4096

// decodedUpdates keeps the updates intake decoded, by their sealed payload,
// for the turn that applies them in this process: the turn takes the
// decoded update instead of unsealing and decoding the queue entry again
// (each update is decoded once on the way in; a chat taken up by another
// replica, a retry after a failure, or an event still opens the entry).
type decodedUpdates struct {
	mu     sync.Mutex
	m      map[string]*update
	opened atomic.Int64 // entries the turn had to open (tests)
}

func (d *decodedUpdates) put(payload []byte, u *update) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil || len(d.m) >= decodedMax {
		d.m = make(map[string]*update, 64)
	}
	d.m[decodedKey(payload)] = u
}

func (d *decodedUpdates) take(payload []byte) *update {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := decodedKey(payload)
	u := d.m[key]
	if u != nil {
		delete(d.m, key)
	}
	return u
}

// decodedKey names a sealed payload by its head (key id and random nonce)
// and its tail (the AEAD tag, which depends on every byte sealed): unique
// per entry, without hashing and copying the whole payload (~0.5 KiB) twice
// per update.
func decodedKey(payload []byte) string {
	const head, tail = 32, 16
	if len(payload) <= head+tail {
		return string(payload)
	}
	var k [head + tail]byte
	copy(k[:head], payload)
	copy(k[head:], payload[len(payload)-tail:])
	return string(k[:])
}
