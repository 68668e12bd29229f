package bot

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// budgetTimer stands in for time.After in /readyz: the test says when the
// wait is over.
type budgetTimer struct {
	fire    chan time.Time
	waiting atomic.Int64 // probes that started waiting
}

func newBudgetTimer() *budgetTimer { return &budgetTimer{fire: make(chan time.Time)} }

func (b *budgetTimer) after(time.Duration) <-chan time.Time {
	b.waiting.Add(1)
	return b.fire
}

func probe(t *testing.T, rd *readiness) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	rd.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return w
}

// TestReadyzAnswersWhileCheckHangs: a check that never returns, not even
// when its context ends, does not hold /readyz past its wait; concurrent
// probes share the one stuck check.
func TestReadyzAnswersWhileCheckHangs(t *testing.T) {
	release := make(chan struct{})
	var checks atomic.Int64
	rd := newReadiness(func(context.Context) error {
		checks.Add(1)
		<-release // ignores its context, like a ping to a frozen Redis
		return nil
	}, slog.New(slog.DiscardHandler))
	timer := newBudgetTimer()
	rd.after = timer.after

	const probes = 3
	answers := make(chan *httptest.ResponseRecorder, probes)
	for range probes {
		go func() { answers <- probe(t, rd) }()
	}
	require.Eventually(t, func() bool { return timer.waiting.Load() == probes }, 10*time.Second, time.Millisecond)
	close(timer.fire) // the wait is over for every probe
	for range probes {
		select {
		case w := <-answers:
			assert.Equal(t, http.StatusServiceUnavailable, w.Code)
		case <-time.After(10 * time.Second):
			t.Fatal("/readyz did not answer when its wait was over")
		}
	}
	assert.Equal(t, int64(1), checks.Load(), "one check at a time")

	close(release)
	require.Eventually(t, func() bool {
		rd.mu.Lock()
		defer rd.mu.Unlock()
		return rd.running == nil
	}, 10*time.Second, time.Millisecond)
	rd.after = func(time.Duration) <-chan time.Time { return nil } // never: the check answers
	assert.Equal(t, http.StatusOK, probe(t, rd).Code)
	assert.Equal(t, int64(2), checks.Load(), "a check that ended is not reused")
}

func TestReadyzCheck(t *testing.T) {
	never := func(time.Duration) <-chan time.Time { return nil }
	tests := []struct {
		name  string
		check func(context.Context) error
		code  int
		body  string
	}{
		{"no check", nil, http.StatusOK, "ready\n"},
		{"passes", func(context.Context) error { return nil }, http.StatusOK, "ready\n"},
		{"fails", func(context.Context) error { return errors.New("redis: connection refused") }, http.StatusServiceUnavailable, "not ready\n"},
		{"the check's context ends within the wait", func(ctx context.Context) error {
			deadline, ok := ctx.Deadline()
			if !ok || time.Until(deadline) > readyWait {
				return nil
			}
			<-ctx.Done()
			return ctx.Err()
		}, http.StatusServiceUnavailable, "not ready\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd := newReadiness(tt.check, slog.New(slog.DiscardHandler))
			rd.after = never
			w := probe(t, rd)
			assert.Equal(t, tt.code, w.Code)
			assert.Equal(t, tt.body, w.Body.String())
		})
	}
}

// TestReadyzFrozenRedis: the real readiness check of serve (a go-redis
// ping) against a Redis that accepts connections and never answers, as a
// SIGSTOPped one does. go-redis does not give up when the context ends;
// /readyz answers anyway once its wait is over.
func TestReadyzFrozenRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		conns []net.Conn
		got   bytes.Buffer
	)
	reached := make(chan struct{}) // the client is waiting on the frozen Redis
	var once sync.Once
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				buf := make([]byte, 512)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					mu.Lock()
					got.Write(buf[:n])
					once.Do(func() { close(reached) })
					mu.Unlock()
				}
			}()
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: ln.Addr().String()}) // serve's defaults
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		rdb.Close()
	})

	rd := newReadiness(func(ctx context.Context) error { return rdb.Ping(ctx).Err() }, slog.New(slog.DiscardHandler))
	fire := make(chan time.Time)
	rd.after = func(time.Duration) <-chan time.Time { return fire }
	answer := make(chan *httptest.ResponseRecorder, 1)
	go func() { answer <- probe(t, rd) }()
	select {
	case <-reached:
	case <-time.After(10 * time.Second):
		t.Fatal("the ping never reached the frozen Redis")
	}
	close(fire)
	select {
	case w := <-answer:
		assert.Equal(t, http.StatusServiceUnavailable, w.Code)
		body, _ := io.ReadAll(w.Body)
		assert.Equal(t, "not ready\n", string(body))
	case <-time.After(10 * time.Second):
		t.Fatal("/readyz waited for the frozen Redis")
	}
}
