// Package store keeps each chat's dialogs.State, in memory (console, tests)
// or in Redis (serve). Both store the same encoded record: the state as JSON
// with its Secrets sealed by AES-256-GCM, so card numbers and phones are never
// written in clear text.
package store

import (
	"crypto/rand"
	"time"
)

// Defaults shared by both stores.
const (
	DefaultPrefix  = "mb:"
	DefaultLockTTL = 15 * time.Second
	// appliedKeep update ids per chat are remembered for appliedTTL after
	// the chat's last commit, to drop Telegram's redeliveries.
	appliedKeep = 64
	appliedTTL  = 24 * time.Hour
)

// Option configures a store.
type Option func(*config)

type config struct {
	prefix  string
	lockTTL time.Duration
	now     func() time.Time
}

func newConfig(opts []Option) config {
	cfg := config{prefix: DefaultPrefix, lockTTL: DefaultLockTTL, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// WithPrefix sets the prefix of every Redis key (default "mb:").
func WithPrefix(p string) Option { return func(c *config) { c.prefix = p } }

// WithLockTTL sets how long a chat lock lives if its holder neither commits
// nor releases it (default 15s). Durations under a millisecond are ignored.
func WithLockTTL(d time.Duration) Option {
	return func(c *config) {
		if d >= time.Millisecond {
			c.lockTTL = d
		}
	}
}

// WithClock sets the clock that Memory's TTLs follow. Redis keeps every TTL
// on the server, so it ignores the clock.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// newToken names one lock holder.
func newToken() string { return rand.Text() }
