package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeStartsThroughBotAPIHiccups: serve keeps asking getMe while the
// Bot API answers 5xx, then serves; stopped while it still asks, it exits
// cleanly.
func TestServeStartsThroughBotAPIHiccups(t *testing.T) {
	t.Run("5xx at start", func(t *testing.T) {
		d := newDeployment(t, false)
		d.fake.FailNext("getMe", http.StatusBadGateway, "", 0, 2)
		r := d.start()
		assert.Equal(t, 3, d.fake.CallCount("getMe"))
		assert.Contains(t, r.logs.String(), "getMe failed, retrying")
	})
	t.Run("stopped while retrying", func(t *testing.T) {
		d := newDeployment(t, false)
		d.fake.FailNext("getMe", http.StatusServiceUnavailable, "", 0, 1_000_000)
		env := map[string]string{"HTTP_ADDR": freeAddr(t)}
		for k, v := range d.env {
			env[k] = v
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"merchantbot", "serve"}, func(k string) string { return env[k] },
				strings.NewReader(""), &syncBuffer{}, &syncBuffer{})
		}()
		wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer wcancel()
		_, err := d.fake.WaitCalls(wctx, "getMe", 2)
		require.NoError(t, err)
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "a stop during start is not a failure")
		case <-wctx.Done():
			t.Fatal("serve kept retrying getMe after it was stopped")
		}
	})
}
