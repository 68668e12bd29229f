package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/merchantbot/merchantbot/backend"
)

// Pusher delivers status events to a receiver's URL, signed with
// backend.Sign, one at a time in the order they happened. An event is
// retried with backoff until the receiver acknowledges it with a 2xx, a
// bounded number of times: after that it is dropped and logged, as an
// acquirer would, and the receiver's poller finds the change.
type Pusher struct {
	url      string
	secret   []byte
	http     *http.Client
	log      *slog.Logger
	now      func() time.Time
	attempts int
	backoff  time.Duration
	maxWait  time.Duration

	mu      sync.Mutex
	pending []backend.Event
	wake    chan struct{}
}

// PushOption configures a Pusher.
type PushOption func(*Pusher)

// PushAttempts bounds the tries per event (default 8).
func PushAttempts(n int) PushOption { return func(p *Pusher) { p.attempts = max(n, 1) } }

// PushBackoff sets the wait after the first failure, doubled after each
// further one up to maxWait (default 1 s up to 1 min: 8 tries span about
// 2 minutes).
func PushBackoff(first, maxWait time.Duration) PushOption {
	return func(p *Pusher) { p.backoff, p.maxWait = first, max(first, maxWait) }
}

// PushLogger sets the logger.
func PushLogger(l *slog.Logger) PushOption { return func(p *Pusher) { p.log = l } }

// PushClock sets the clock the signatures are dated by.
func PushClock(now func() time.Time) PushOption { return func(p *Pusher) { p.now = now } }

// PushHTTPClient sets the HTTP client (default: 10 s timeout).
func PushHTTPClient(c *http.Client) PushOption { return func(p *Pusher) { p.http = c } }

// NewPusher returns a Pusher to url, signing with secret. Run delivers.
func NewPusher(url string, secret []byte, opts ...PushOption) *Pusher {
	p := &Pusher{
		url:      url,
		secret:   secret,
		http:     &http.Client{Timeout: 10 * time.Second},
		log:      slog.New(slog.DiscardHandler),
		now:      time.Now,
		attempts: 8,
		backoff:  time.Second,
		maxWait:  time.Minute,
		wake:     make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Push queues r's status change; it never blocks (use it with WithEvents).
func (p *Pusher) Push(r backend.Receipt) {
	p.mu.Lock()
	p.pending = append(p.pending, backend.EventOf(r))
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run delivers queued events until ctx is done.
func (p *Pusher) Run(ctx context.Context) {
	for {
		p.mu.Lock()
		var ev backend.Event
		have := len(p.pending) > 0
		if have {
			ev = p.pending[0]
			p.pending = p.pending[1:]
		}
		p.mu.Unlock()
		if !have {
			select {
			case <-ctx.Done():
				return
			case <-p.wake:
				continue
			}
		}
		p.deliver(ctx, ev)
	}
}

// deliver tries ev until acknowledged, refused for good, or out of tries.
func (p *Pusher) deliver(ctx context.Context, ev backend.Event) {
	body, err := json.Marshal(ev)
	if err != nil {
		p.log.Error("encode event", "event", ev.ID, "err", err)
		return
	}
	wait := p.backoff
	for attempt := 1; ; attempt++ {
		status, err := p.post(ctx, body)
		switch {
		case err == nil && status >= 200 && status < 300:
			p.log.Info("event delivered", "event", ev.ID, "attempt", attempt)
			return
		case err == nil && status >= 400 && status < 500 && status != http.StatusTooManyRequests &&
			status != http.StatusRequestTimeout && status != http.StatusUnauthorized:
			// A 401 is retried: the receiver's clock or secret may be
			// fixed meanwhile. Other 4xx will not change.
			p.log.Warn("event refused", "event", ev.ID, "status", status)
			return
		}
		if attempt >= p.attempts {
			p.log.Warn("event dropped after retries; the receiver's poller will find the change",
				"event", ev.ID, "attempts", attempt, "status", status, "err", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, p.maxWait)
	}
}

func (p *Pusher) post(ctx context.Context, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	ts, sig := backend.Sign(p.secret, p.now(), body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(backend.HeaderEventTimestamp, ts)
	req.Header.Set(backend.HeaderEventSignature, sig)
	resp, err := p.http.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return resp.StatusCode, nil
}
