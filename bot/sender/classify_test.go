package sender

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/go-telegram/bot"
)

func TestClassify(t *testing.T) {
	tooMany := &bot.TooManyRequestsError{Message: "too many requests, Too Many Requests: retry after 7", RetryAfter: 7}
	for _, tc := range []struct {
		name string
		err  error
		want outcome
		wait time.Duration
	}{
		{"429", tooMany, retryAfter, 7 * time.Second},
		{"429 wrapped by the caller", fmt.Errorf("send reply: %w", tooMany), retryAfter, 7 * time.Second},
		{"403", fmt.Errorf("%w, %s", bot.ErrorForbidden, "Forbidden: bot was blocked by the user"), blocked, 0},
		{"400", fmt.Errorf("%w, %s", bot.ErrorBadRequest, "Bad Request: chat not found"), giveUp, 0},
		{"401", fmt.Errorf("%w, %s", bot.ErrorUnauthorized, "Unauthorized"), giveUp, 0},
		{"migrated group", &bot.MigrateError{Message: "bad request", MigrateToChatID: -100}, giveUp, 0},
		{"500", errors.New("error response from telegram for method sendMessage, 500 Internal Server Error"), backoff, 0},
		{"502", errors.New("error response from telegram for method sendMessage, 502 Bad Gateway"), backoff, 0},
		{"418", errors.New("error response from telegram for method sendMessage, 418 I'm a teapot"), giveUp, 0},
		{"connection refused", fmt.Errorf("error do request for method sendMessage, %w",
			&url.Error{Op: "Post", URL: "x", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}), backoff, 0},
		{"client timeout", fmt.Errorf("error do request for method sendMessage, %w",
			&url.Error{Op: "Post", URL: "x", Err: context.DeadlineExceeded}), backoff, 0},
		{"truncated body", fmt.Errorf("error read response body for method sendMessage, %w", io.ErrUnexpectedEOF), backoff, 0},
		{"not ours", errors.New("build keyboard: too many buttons"), giveUp, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, wait := classify(tc.err)
			if got != tc.want || wait != tc.wait {
				t.Errorf("classify(%v) = %v, %v; want %v, %v", tc.err, got, wait, tc.want, tc.wait)
			}
		})
	}
}

func TestBackoffGrowsToCap(t *testing.T) {
	for _, tc := range []struct {
		jitter   func(int64) int64
		name     string
		attempts []time.Duration
	}{
		{func(int64) int64 { return 0 }, "least jitter", []time.Duration{50, 100, 200, 400, 400, 400}},
		{func(n int64) int64 { return n - 1 }, "most jitter", []time.Duration{100, 200, 400, 800, 800, 800}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Sender{backoffBase: 100 * time.Millisecond, backoffMax: 800 * time.Millisecond, jitter: tc.jitter}
			for i, want := range tc.attempts {
				if got := s.backoff(i + 1); got != want*time.Millisecond {
					t.Errorf("backoff(%d) = %v, want %v", i+1, got, want*time.Millisecond)
				}
			}
			if got := s.backoff(1000); got > 800*time.Millisecond {
				t.Errorf("backoff(1000) = %v, beyond the cap", got)
			}
		})
	}
}
