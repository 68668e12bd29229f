package sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
)

func TestApplicationWalksEveryStatus(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r, err := e.api.Submit(ctx, "k", app(zhangSan, "张三", "DC"))
		if err != nil {
			t.Fatal(err)
		}
		var seen []backend.Status
		for range 5 {
			got, err := e.api.Application(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.MerchantNo != zhangSan || got.CardMasked != "622202******3210" {
				t.Fatalf("application = %+v", got)
			}
			seen = append(seen, got.Status)
			e.clock.Advance(delay / 2)
		}
		want := []backend.Status{backend.StatusSubmitted, backend.StatusReview, backend.StatusApproved,
			backend.StatusApproved, backend.StatusEffective}
		if len(seen) != len(want) {
			t.Fatalf("seen %v", seen)
		}
		for i := range want {
			if seen[i] != want[i] {
				t.Fatalf("statuses %v, want %v", seen, want)
			}
		}
		got, _ := e.api.Application(ctx, r.ID)
		if len(got.History) != 4 || got.History[3].Status != backend.StatusEffective || !got.History[3].At.Equal(r.ReviewBy.Add(delay)) {
			t.Fatalf("history %+v", got.History)
		}
		_, err = e.api.Application(ctx, "CC209901010001")
		wantErr(t, err, backend.ErrUnknownApplication)
	})
}

func TestTooSoonRejectionSaysWhen(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r, err := e.api.Submit(ctx, "k", app(wangWu, "王五", "DC"))
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(delay)
		got, _ := e.api.Application(ctx, r.ID)
		if got.Status != backend.StatusRejected || got.Reason != backend.ReasonTooSoon || got.ReasonText == "" {
			t.Fatalf("got %+v", got)
		}
		// wangWu changed 10 days before start (demo.go): 20 days are left.
		if want := start.Add(-10 * 24 * time.Hour).Add(sandbox.MinChangeInterval); !got.ChangeAllowedFrom.Equal(want) {
			t.Fatalf("change allowed from %v, want %v", got.ChangeAllowedFrom, want)
		}
	})
}

// receiver is an events endpoint that verifies like the bot and can fail.
type receiver struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	fail   int // answer 503 to this many requests first
	got    []backend.Event
	tries  int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.tries++
	if err := backend.Verify(rc.secret, r.Header.Get(backend.HeaderEventTimestamp),
		r.Header.Get(backend.HeaderEventSignature), body, time.Now()); err != nil {
		rc.t.Errorf("pushed event does not verify: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if rc.fail > 0 {
		rc.fail--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var ev backend.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		rc.t.Errorf("event: %v", err)
	}
	rc.got = append(rc.got, ev)
}

func (rc *receiver) events() []backend.Event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]backend.Event(nil), rc.got...)
}

func TestPusherDeliversEveryChangeSignedInOrder(t *testing.T) {
	secret := []byte("events-secret")
	rc := &receiver{t: t, secret: secret, fail: 2}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	p := sandbox.NewPusher(srv.URL, secret, sandbox.PushBackoff(time.Millisecond, 5*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)

	e := newSandbox(t, sandbox.WithEvents(p.Push))
	r, err := e.sb.Submit(ctx, "k", app(zhangSan, "张三", "DC"))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	e.sb.Tick()

	want := []string{r.ID + ":submitted", r.ID + ":under_review", r.ID + ":approved", r.ID + ":effective"}
	deadline := time.Now().Add(10 * time.Second)
	for len(rc.events()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	got := rc.events()
	if len(got) != len(want) {
		t.Fatalf("delivered %d events: %+v", len(got), got)
	}
	for i, ev := range got {
		if ev.ID != want[i] || ev.Application != r.ID || ev.MerchantNo != zhangSan || !ev.Valid() {
			t.Fatalf("event %d = %+v, want id %s", i, ev, want[i])
		}
	}
}

func TestPusherGivesUpAfterItsAttempts(t *testing.T) {
	secret := []byte("events-secret")
	rc := &receiver{t: t, secret: secret, fail: 1000}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	p := sandbox.NewPusher(srv.URL, secret, sandbox.PushAttempts(3), sandbox.PushBackoff(time.Millisecond, time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	p.Push(backend.Receipt{ID: "CC1", MerchantNo: zhangSan, Status: backend.StatusSubmitted})
	p.Push(backend.Receipt{ID: "CC2", MerchantNo: zhangSan, Status: backend.StatusSubmitted})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		rc.mu.Lock()
		n := rc.tries
		rc.mu.Unlock()
		if n >= 6 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // a seventh try, if any, would land now
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.tries != 6 {
		t.Fatalf("tries = %d, want 3 per event", rc.tries)
	}
}
