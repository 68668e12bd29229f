package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/merchantbot/merchantbot/backend/sandbox"
)

// TestHTTPStatuses checks the wire format a client of another language sees.
func TestHTTPStatuses(t *testing.T) {
	e := newSandbox(t)
	srv := httptest.NewServer(sandbox.Handler(e.sb))
	defer srv.Close()

	submit := `{"merchant_no":"822100050110001","card_number":"` + card + `","holder_name":"张三","bank_name":"中国工商银行","card_type":"DC"}`
	tests := []struct {
		name         string
		method, path string
		header       map[string]string
		body         string
		status       int
		code         string // error code, "" for success
		replayed     bool
	}{
		{"healthz", "GET", "/healthz", nil, "", 200, "", false},
		{"merchant", "GET", "/v1/merchants/" + zhangSan, nil, "", 200, "", false},
		{"unknown merchant", "GET", "/v1/merchants/1", nil, "", 404, "unknown_merchant", false},
		{"verify", "POST", "/v1/merchants/" + zhangSan + "/verify", nil, `{"phone":"13800000001"}`, 200, "", false},
		{"verify mismatch", "POST", "/v1/merchants/" + zhangSan + "/verify", nil, `{"phone":"13800000009"}`, 422, "phone_mismatch", false},
		{"verify malformed", "POST", "/v1/merchants/" + zhangSan + "/verify", nil, `{"phone":`, 400, "invalid_request", false},
		{"check before send", "POST", "/v1/merchants/" + zhangSan + "/codes/check", nil, `{"code":"100001"}`, 410, "code_expired", false},
		{"send code", "POST", "/v1/merchants/" + zhangSan + "/codes", nil, "", 204, "", false},
		{"send again", "POST", "/v1/merchants/" + zhangSan + "/codes", nil, "", 429, "code_too_soon", false},
		{"wrong code", "POST", "/v1/merchants/" + zhangSan + "/codes/check", nil, `{"code":"999999"}`, 422, "wrong_code", false},
		{"right code", "POST", "/v1/merchants/" + zhangSan + "/codes/check", nil, `{"code":"100001"}`, 204, "", false},
		{"submit without key", "POST", "/v1/applications", nil, submit, 400, "invalid_request", false},
		{"submit malformed", "POST", "/v1/applications", map[string]string{"Idempotency-Key": "k"}, `{"card_number":"` + card + `",`, 400, "invalid_request", false},
		{"submit", "POST", "/v1/applications", map[string]string{"Idempotency-Key": "k"}, submit, 201, "", false},
		{"submit replay", "POST", "/v1/applications", map[string]string{"Idempotency-Key": "k"}, submit, 200, "", true},
		{"submit another", "POST", "/v1/applications", map[string]string{"Idempotency-Key": "k2"}, submit, 409, "change_pending", false},
		{"applications", "GET", "/v1/merchants/" + zhangSan + "/applications", nil, "", 200, "", false},
		{"wrong method", "DELETE", "/v1/merchants/" + zhangSan, nil, "", 405, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, raw)
			}
			if strings.Contains(string(raw), middle) {
				t.Errorf("response holds the card: %s", raw)
			}
			if got := resp.Header.Get("Idempotent-Replayed") == "true"; got != tt.replayed {
				t.Errorf("Idempotent-Replayed = %v, want %v", got, tt.replayed)
			}
			if tt.status == 204 || tt.status == 405 {
				return
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			var body struct{ Code, Message string }
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("not JSON: %s", raw)
			}
			if body.Code != tt.code || (tt.code != "" && body.Message == "") {
				t.Errorf("body = %s, want code %q and a message", raw, tt.code)
			}
		})
	}
}

func TestHTTPAPIKey(t *testing.T) {
	e := newSandbox(t)
	srv := httptest.NewServer(sandbox.Handler(e.sb, sandbox.RequireAPIKey("s3cret")))
	defer srv.Close()
	tests := []struct {
		path, auth string
		status     int
	}{
		{"/healthz", "", 200},
		{"/v1/merchants/" + zhangSan, "", 401},
		{"/v1/merchants/" + zhangSan, "Bearer wrong", 401},
		{"/v1/merchants/" + zhangSan, "s3cret", 401},
		{"/v1/merchants/" + zhangSan, "Bearer s3cret", 200},
		{"/v1/merchants/" + zhangSan + "/applications", "", 401},
		{"/v1/merchants/" + zhangSan + "/applications", "Bearer s3cret", 200},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s with %q: %d, want %d", tt.path, tt.auth, resp.StatusCode, tt.status)
		}
		if tt.status == 401 && (resp.Header.Get("WWW-Authenticate") == "" || !strings.Contains(string(raw), `"unauthorized"`)) {
			t.Errorf("401 without challenge or code: %v %s", resp.Header, raw)
		}
	}
}
