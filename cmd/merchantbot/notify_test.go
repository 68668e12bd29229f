package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/notify"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

func TestLoadNotifyConfig(t *testing.T) {
	tests := []struct {
		env      map[string]string
		interval time.Duration
		rate     float64
		err      string
	}{
		{env: nil, interval: 5 * time.Minute, rate: 5},
		{env: map[string]string{"BACKEND_POLL_INTERVAL": "1m", "BACKEND_POLL_RATE": "0.5"}, interval: time.Minute, rate: 0.5},
		{env: map[string]string{"BACKEND_POLL_RATE": "0"}, interval: 5 * time.Minute, rate: 0},
		{env: map[string]string{"BACKEND_POLL_INTERVAL": "5ms"}, err: "BACKEND_POLL_INTERVAL"},
		{env: map[string]string{"BACKEND_POLL_INTERVAL": "often"}, err: "BACKEND_POLL_INTERVAL"},
		{env: map[string]string{"BACKEND_POLL_RATE": "-1"}, err: "BACKEND_POLL_RATE"},
		{env: map[string]string{"BACKEND_POLL_RATE": "NaN"}, err: "BACKEND_POLL_RATE"},
	}
	for _, tt := range tests {
		c, err := loadNotifyConfig(func(k string) string { return tt.env[k] })
		if tt.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
				t.Errorf("%v: err = %v, want one naming %s", tt.env, err, tt.err)
			}
			continue
		}
		if err != nil || c.pollInterval != tt.interval || c.pollRate != tt.rate {
			t.Errorf("%v: %+v, %v", tt.env, c, err)
		}
	}
}

// postRecorder is the chat pipeline's Post as far as this test needs it.
type postRecorder struct {
	mu    sync.Mutex
	posts []string
}

func (p *postRecorder) Post(_ context.Context, chat int64, once, event, _ string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posts = append(p.posts, fmt.Sprintf("%d %s %s", chat, once, event))
	return true, nil
}

func (p *postRecorder) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.posts...)
}

// TestStartNotificationsServesSignedEvents wires the handler as serve does
// and sends it one forged and one signed event.
func TestStartNotificationsServesSignedEvents(t *testing.T) {
	rdb, prefix := redistest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, rdb.Set(ctx, chatq.MerchantKeyOf(prefix, chatq.ShardOf(42), "822100050110001"), "42", 0).Err())
	post := &postRecorder{}
	const secret = "a-secret-of-16-chars"
	n := notify.New(rdb, prefix, post, notify.WithLogger(slog.New(slog.DiscardHandler)), notify.WithFirstPoll(time.Minute))
	h := startNotifications(ctx, notifyConfig{pollInterval: time.Minute, pollRate: 1}, secret, n, sandbox.New())
	srv := httptest.NewServer(h)
	defer srv.Close()

	body := []byte(`{"event_id":"CC1:approved","application_id":"CC1","merchant_no":"822100050110001","status":"approved","at":"2026-11-25T02:02:00Z"}`)
	send := func(key string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		ts, sig := backend.Sign([]byte(key), time.Now(), body)
		req.Header.Set(backend.HeaderEventTimestamp, ts)
		req.Header.Set(backend.HeaderEventSignature, sig)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, send("not-the-secret-at-all"))
	assert.Empty(t, post.all())
	assert.Equal(t, http.StatusOK, send(secret))
	assert.Equal(t, []string{"42 st:CC1:approved status"}, post.all())
}
