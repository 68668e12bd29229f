package bot

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// healthz answers while the process serves HTTP.
func (b *Bot) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyWait is how long /readyz waits for its check: the answer must reach
// the prober within its 2 s budget, so the check gets less than that.
const readyWait = 1500 * time.Millisecond

// readiness answers /readyz: 200 while the check (a Redis ping) passes, 503
// when it fails or has not answered within readyWait. The wait does not rely
// on the check honouring its context: go-redis, unless told
// ContextTimeoutEnabled, waits out its own read timeout and retries against a
// frozen Redis whatever the context says. So the check runs on its own
// goroutine, and one check at a time: while it is stuck, later probes wait
// for that same check instead of piling up goroutines and connections.
type readiness struct {
	check func(context.Context) error
	wait  time.Duration
	after func(time.Duration) <-chan time.Time // time.After; a test fires it
	log   *slog.Logger

	mu      sync.Mutex
	running *readyCheck // nil when no check runs
}

type readyCheck struct {
	done chan struct{} // closed when err is set
	err  error
}

func newReadiness(check func(context.Context) error, log *slog.Logger) *readiness {
	return &readiness{check: check, wait: readyWait, after: time.After, log: log}
}

// start returns the check that runs now, starting one if none does.
func (rd *readiness) start(ctx context.Context) *readyCheck {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.running != nil {
		return rd.running
	}
	c := &readyCheck{done: make(chan struct{})}
	rd.running = c
	// The check outlives a prober that hangs up: it is shared.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rd.wait)
	go func() {
		defer cancel()
		err := rd.check(ctx)
		rd.mu.Lock()
		rd.running = nil
		rd.mu.Unlock()
		c.err = err
		close(c.done)
	}()
	return c
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if rd.check != nil {
		var err error
		c := rd.start(r.Context())
		select {
		case <-c.done:
			err = c.err
		case <-rd.after(rd.wait):
			err = fmt.Errorf("readiness check still running after %s", rd.wait)
		case <-r.Context().Done():
			return // nobody is waiting for the answer
		}
		if err != nil {
			rd.log.Warn("not ready", "err", err)
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}
