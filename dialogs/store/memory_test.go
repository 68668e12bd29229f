package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/dialogs/store/storetest"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (dialogs.Store, storetest.Controls) {
		clock := &fakeClock{now: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)}
		m := store.NewMemory(newCipher(t), store.WithClock(clock.Now))
		return m, &memoryControls{m: m, clock: clock}
	})
}

type memoryControls struct {
	m     *store.Memory
	clock *fakeClock
}

func (c *memoryControls) Advance(d time.Duration) { c.clock.Advance(d) }
func (c *memoryControls) LockTTL() time.Duration  { return store.DefaultLockTTL }
func (c *memoryControls) OtherKey() dialogs.Store {
	other, err := store.NewCipher(store.RandomKey())
	if err != nil {
		panic(err)
	}
	return c.m.WithCipher(other)
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newCipher(t testing.TB) *store.Cipher {
	t.Helper()
	c, err := store.NewCipher(store.RandomKey())
	if err != nil {
		t.Fatal(err)
	}
	return c
}
