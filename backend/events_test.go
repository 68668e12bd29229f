package backend_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/merchantbot/merchantbot/backend"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"event_id":"CC1:approved"}`)
	now := time.Unix(1_800_000_000, 0)
	ts, sig := backend.Sign(secret, now, body)

	tests := []struct {
		name    string
		secret  []byte
		ts, sig string
		body    []byte
		at      time.Time
		want    error
	}{
		{"signed now", secret, ts, sig, body, now, nil},
		{"4m59s old", secret, ts, sig, body, now.Add(backend.MaxEventAge - time.Second), nil},
		{"5m1s old", secret, ts, sig, body, now.Add(backend.MaxEventAge + time.Second), backend.ErrStaleEvent},
		{"5m1s in the future", secret, ts, sig, body, now.Add(-backend.MaxEventAge - time.Second), backend.ErrStaleEvent},
		{"other body", secret, ts, sig, []byte(`{"event_id":"CC1:rejected"}`), now, backend.ErrBadSignature},
		{"other secret", []byte("other"), ts, sig, body, now, backend.ErrBadSignature},
		{"no secret", nil, ts, sig, body, now, backend.ErrBadSignature},
		{"timestamp moved", secret, "1800000001", sig, body, now, backend.ErrBadSignature},
		{"no timestamp", secret, "", sig, body, now, backend.ErrStaleEvent},
		{"no signature", secret, ts, "", body, now, backend.ErrBadSignature},
		{"no v1 prefix", secret, ts, sig[3:], body, now, backend.ErrBadSignature},
		{"not hex", secret, ts, "v1=zz", body, now, backend.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := backend.Verify(tt.secret, tt.ts, tt.sig, tt.body, tt.at)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestClientApplication(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != "/v1/applications/CC%2F1" {
			t.Errorf("path %s", r.URL.EscapedPath())
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"CC/1","merchant_no":"1","status":"rejected","reason":"credit_card",
			"history":[{"status":"submitted","at":"2025-01-15T02:00:00Z"},{"status":"rejected","at":"2025-01-15T02:02:00Z"}]}`))
	}))
	defer srv.Close()
	r, err := newClient(t, srv.URL).Application(t.Context(), "CC/1")
	if err != nil || r.Status != backend.StatusRejected || r.Reason != backend.ReasonCreditCard || len(r.History) != 2 {
		t.Fatalf("Application = %+v, %v", r, err)
	}
	if _, err := newClient(t, srv.URL).Application(t.Context(), ".."); !errors.Is(err, backend.ErrInvalidRequest) {
		t.Fatalf("dots: %v", err)
	}
}

func TestClientApplicationUnknown(t *testing.T) {
	srv := stub(t, http.StatusNotFound, `{"code":"unknown_application","message":"no such application"}`)
	if _, err := newClient(t, srv.URL).Application(t.Context(), "CC1"); !errors.Is(err, backend.ErrUnknownApplication) {
		t.Fatalf("err = %v", err)
	}
}

func TestEventOfNamesApplicationAndStatus(t *testing.T) {
	r := backend.Receipt{ID: "CC1", MerchantNo: "m", Status: backend.StatusApproved, CardMasked: "622202******3210",
		UpdatedAt: time.Unix(1, 0)}
	ev := backend.EventOf(r)
	if ev.ID != "CC1:approved" || !ev.Valid() || ev.At != r.UpdatedAt || ev.CardMasked != r.CardMasked {
		t.Fatalf("EventOf = %+v", ev)
	}
	if (backend.Event{ID: "x", Application: "CC1", MerchantNo: "m", Status: "paused"}).Valid() {
		t.Fatal("an unknown status is valid")
	}
}
