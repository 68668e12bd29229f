package backend_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
)

type recordedCall struct {
	op  string
	err error
}

type callRecorder struct {
	mu    sync.Mutex
	calls []recordedCall
}

func (r *callRecorder) AcquirerCall(op string, took time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, recordedCall{op, err})
}

func TestObserverSeesEveryCallByOperation(t *testing.T) {
	srv := httptest.NewServer(sandbox.Handler(sandbox.New()))
	defer srv.Close()
	rec := &callRecorder{}
	errs := calls(context.Background(), newClient(t, srv.URL, backend.WithObserver(rec)))

	var ops []string
	for _, c := range rec.calls {
		ops = append(ops, c.op)
		if strings.Contains(c.op, zhangSan) {
			t.Errorf("operation %q carries the merchant number", c.op)
		}
	}
	want := []string{backend.OpVerifyMerchant, backend.OpMerchant, backend.OpSendCode,
		backend.OpCheckCode, backend.OpSubmit, backend.OpApplications}
	if !slices.Equal(ops, want) {
		t.Fatalf("operations = %q, want %q", ops, want)
	}
	// The observer gets the error the caller got, unwrapped the same way.
	if !errors.Is(rec.calls[3].err, backend.ErrWrongCode) || !errors.Is(errs["CheckCode"], backend.ErrWrongCode) {
		t.Fatalf("check code: observer saw %v, caller got %v", rec.calls[3].err, errs["CheckCode"])
	}
}

func TestObserverSeesUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer srv.Close()
	rec := &callRecorder{}
	c := newClient(t, srv.URL, backend.WithObserver(rec))
	if _, err := c.Merchant(context.Background(), zhangSan); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("Merchant: %v", err)
	}
	if len(rec.calls) != 1 || rec.calls[0].op != backend.OpMerchant || !errors.Is(rec.calls[0].err, backend.ErrUnavailable) {
		t.Fatalf("observer saw %+v", rec.calls)
	}
}
