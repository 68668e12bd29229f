package bot

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
	"github.com/merchantbot/merchantbot/locales"
)

// startBot is a Bot against fake that retries getMe quickly.
func startBot(t *testing.T, fake *telegramtest.Server, token string, opts ...Option) *Bot {
	t.Helper()
	catalog, err := locales.Load()
	require.NoError(t, err)
	opts = append([]Option{WithServerURL(fake.URL()), WithStartRetry(time.Millisecond, 10*time.Millisecond, time.Minute)}, opts...)
	b, err := New(token, nil, catalog, chatq.New(nil), nil, nopSender{}, opts...)
	require.NoError(t, err)
	return b
}

// flakyTransport fails the first `failures` requests as a dropped
// connection would.
type flakyTransport struct {
	failures atomic.Int64
	requests atomic.Int64
}

func (f *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.requests.Add(1)
	if f.failures.Add(-1) >= 0 {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, syscall.ECONNRESET
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestStartRetriesGetMe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	t.Run("5xx passes", func(t *testing.T) {
		fake := telegramtest.New()
		defer fake.Close()
		fake.FailNext("getMe", http.StatusBadGateway, "", 0, 3)
		fake.FailNext("getMe", http.StatusInternalServerError, "", 0, 1)
		b := startBot(t, fake, fake.Token())
		require.NoError(t, b.Start(ctx))
		assert.Equal(t, fake.BotUser().Username, b.Username())
		assert.Equal(t, 5, fake.CallCount("getMe"))
	})
	t.Run("429 passes", func(t *testing.T) {
		fake := telegramtest.New()
		defer fake.Close()
		fake.FailNext("getMe", http.StatusTooManyRequests, "", 1, 1)
		b := startBot(t, fake, fake.Token())
		require.NoError(t, b.Start(ctx))
		assert.Equal(t, 2, fake.CallCount("getMe"))
	})
	t.Run("network passes", func(t *testing.T) {
		fake := telegramtest.New()
		defer fake.Close()
		tr := &flakyTransport{}
		tr.failures.Store(2)
		b := startBot(t, fake, fake.Token(), WithHTTPClient(&http.Client{Transport: tr}))
		require.NoError(t, b.Start(ctx))
		assert.Equal(t, 1, fake.CallCount("getMe"))
		assert.GreaterOrEqual(t, tr.requests.Load(), int64(3))
	})
	t.Run("patience ends", func(t *testing.T) {
		fake := telegramtest.New()
		defer fake.Close()
		fake.FailNext("getMe", http.StatusServiceUnavailable, "", 0, 1_000_000)
		b := startBot(t, fake, fake.Token(), WithStartRetry(time.Millisecond, 5*time.Millisecond, 100*time.Millisecond))
		err := b.Start(ctx)
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrTokenRejected)
		assert.Contains(t, err.Error(), "cannot reach the Bot API")
		assert.Contains(t, err.Error(), "503")
		assert.Greater(t, fake.CallCount("getMe"), 1)
	})
	t.Run("shutdown while retrying", func(t *testing.T) {
		fake := telegramtest.New()
		defer fake.Close()
		fake.FailNext("getMe", http.StatusBadGateway, "", 0, 1_000_000)
		b := startBot(t, fake, fake.Token())
		sctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- b.Start(sctx) }()
		_, err := fake.WaitCalls(ctx, "getMe", 2)
		require.NoError(t, err)
		stop()
		select {
		case err := <-done:
			require.ErrorIs(t, err, context.Canceled)
		case <-ctx.Done():
			t.Fatal("Start kept retrying after its context ended")
		}
	})
}

func TestStartStopsAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tests := []struct {
		name     string
		code     int
		rejected bool
	}{
		{"401", http.StatusUnauthorized, true},
		{"404", http.StatusNotFound, true},
		{"400", http.StatusBadRequest, false},
		{"403", http.StatusForbidden, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := telegramtest.New()
			defer fake.Close()
			fake.FailNext("getMe", tt.code, "", 0, 1_000_000)
			b := startBot(t, fake, fake.Token())
			err := b.Start(ctx)
			require.Error(t, err)
			assert.Equal(t, tt.rejected, errors.Is(err, ErrTokenRejected), err)
			assert.Equal(t, 1, fake.CallCount("getMe"))
			assert.NotContains(t, err.Error(), fake.Token())
		})
	}
	t.Run("a token the server does not know", func(t *testing.T) {
		fake := telegramtest.New()
		defer fake.Close()
		tr := &flakyTransport{}
		b := startBot(t, fake, "42:wrongTokenForThisServer", WithHTTPClient(&http.Client{Transport: tr}))
		err := b.Start(ctx)
		require.ErrorIs(t, err, ErrTokenRejected)
		assert.Equal(t, int64(1), tr.requests.Load())
		assert.NotContains(t, err.Error(), "wrongTokenForThisServer")
	})
}

// TestWatchToken: in webhook mode a revoked token is found by the periodic
// getMe; a passing failure is not taken for one.
func TestWatchToken(t *testing.T) {
	fake := telegramtest.New()
	defer fake.Close()
	b := startBot(t, fake, fake.Token())
	fake.FailNext("getMe", http.StatusBadGateway, "", 0, 1)
	fake.FailNext("getMe", http.StatusUnauthorized, "", 0, 1_000_000)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := b.WatchToken(ctx, 10*time.Millisecond)
	require.ErrorIs(t, err, ErrTokenRejected)
	assert.GreaterOrEqual(t, fake.CallCount("getMe"), 2, "the 502 was not taken for a revoked token")
	assert.NotContains(t, err.Error(), fake.Token())
	select {
	case <-b.TokenRejected():
	default:
		t.Fatal("TokenRejected still open")
	}
}
