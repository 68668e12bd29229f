package sender

import "sync/atomic"

// Stats counts what a Sender did since it was made. Every Do ends in exactly one of Sent,
// Blocked or Failed.
type Stats struct {
	Sent           int64 // calls that succeeded
	Retried        int64 // calls made again after a 429, 5xx or network error
	RateLimited429 int64 // 429 answers received
	Blocked        int64 // 403 answers: chat recorded as blocked
	Failed         int64 // Do calls that gave up (API error, attempts exhausted, context, Redis)
	Throttled      int64 // Budgeted attempts that had to wait for a budget or a cooldown
}

type counters struct {
	sent, retried, rateLimited429, blocked, failed, throttled atomic.Int64
}

// Stats returns a snapshot of the counters.
func (s *Sender) Stats() Stats {
	return Stats{
		Sent:           s.stats.sent.Load(),
		Retried:        s.stats.retried.Load(),
		RateLimited429: s.stats.rateLimited429.Load(),
		Blocked:        s.stats.blocked.Load(),
		Failed:         s.stats.failed.Load(),
		Throttled:      s.stats.throttled.Load(),
	}
}
