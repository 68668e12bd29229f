package sandbox_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/merchantbot/merchantbot/backend/sandbox"
)

// FuzzHandler throws arbitrary requests at the sandbox API: it never panics,
// never answers 500, and never echoes a card number it was sent.
func FuzzHandler(f *testing.F) {
	for _, seed := range []struct{ method, path, body string }{
		{"POST", "/v1/applications", `{"merchant_no":"822100050110001","card_number":"6222029876543210","holder_name":"张三","bank_name":"b","branch":"x","reserved_phone":"13900000000"}`},
		{"POST", "/v1/merchants/822100050110001/verify", `{"phone":"13800000001"}`},
		{"POST", "/v1/merchants/822100050110001/codes", ``},
		{"POST", "/v1/merchants/822100050110001/codes/check", `{"code":"123456"}`},
		{"GET", "/v1/merchants/822100050110001/applications", ``},
		{"GET", "/v1/merchants/%2e%2e", ``},
		{"POST", "/v1/applications", `{"card_number":6222029876543210}`},
		{"POST", "/v1/applications", `[` + strings.Repeat(`{"a":`, 1000)},
		{"PUT", "/healthz", "\xff"},
	} {
		f.Add(seed.method, seed.path, []byte(seed.body), "k1")
	}
	h := sandbox.Handler(sandbox.New())
	f.Fuzz(func(t *testing.T, method, path string, body []byte, key string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, "http://sandbox"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Idempotency-Key", key)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
		}
		if bytes.Contains(w.Body.Bytes(), []byte("6222029876543210")) {
			t.Fatalf("%s %s echoed the card number: %s", method, path, w.Body)
		}
	})
}
