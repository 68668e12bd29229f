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
	d.m[string(payload)] = u
}

func (d *decodedUpdates) take(payload []byte) *update {
	d.mu.Lock()
	defer d.mu.Unlock()
	u := d.m[string(payload)]
	if u != nil {
		delete(d.m, string(payload))
	}
	return u
}
