package backend_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
)

const (
	zhangSan = "822100050110001"
	card     = "6222029876543210"
	middle   = "987654" // what the mask hides
)

var start = time.Date(2025, 1, 15, 2, 0, 0, 0, time.UTC)

func application(no string) backend.Application {
	return backend.Application{
		MerchantNo: no, CardNumber: card, HolderName: "张三",
		BankCode: "ICBC", BankName: "中国工商银行", Branch: "上海分行营业部",
		ReservedPhone: "13900000000", CardType: "DC",
	}
}

// calls runs every Client method once and returns the errors by method.
func calls(ctx context.Context, c *backend.Client) map[string]error {
	errs := map[string]error{}
	_, errs["VerifyMerchant"] = c.VerifyMerchant(ctx, zhangSan, "13800000001")
	_, errs["Merchant"] = c.Merchant(ctx, zhangSan)
	errs["SendCode"] = c.SendCode(ctx, zhangSan)
	errs["CheckCode"] = c.CheckCode(ctx, zhangSan, "123456")
	_, errs["Submit"] = c.Submit(ctx, "k", application(zhangSan))
	_, errs["Applications"] = c.Applications(ctx, zhangSan)
	return errs
}

func newClient(t *testing.T, url string, opts ...backend.ClientOption) *backend.Client {
	t.Helper()
	c, err := backend.NewClient(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewClient(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://localhost:8081", true},
		{"https://acquirer.example/api/", true},
		{"ftp://acquirer.example", false},
		{"acquirer.example", false},
		{"http://", false},
		{"http://host/?x=1", false},
		{"://bad", false},
		{"", false},
	}
	for _, tt := range tests {
		_, err := backend.NewClient(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("NewClient(%q) err = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
	_, err := backend.NewClient("ftp://user:hunter2@host")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the URL's password: %v", err)
	}
}

// stub answers every request with status and body.
func stub(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(body, "{") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestClientErrorCodes maps every error code of the API back to its sentinel,
// for every method.
func TestClientErrorCodes(t *testing.T) {
	tests := []struct {
		status int
		code   string
		want   error
	}{
		{404, "unknown_merchant", backend.ErrUnknownMerchant},
		{422, "phone_mismatch", backend.ErrPhoneMismatch},
		{422, "wrong_code", backend.ErrWrongCode},
		{410, "code_expired", backend.ErrCodeExpired},
		{429, "code_too_soon", backend.ErrCodeTooSoon},
		{429, "too_many_requests", backend.ErrTooManyRequests},
		{409, "change_pending", backend.ErrChangePending},
		{400, "invalid_request", backend.ErrInvalidRequest},
		{401, "unauthorized", backend.ErrUnauthorized},
		{503, "unavailable", backend.ErrUnavailable},
		{500, "internal", backend.ErrUnavailable},
		{502, "", backend.ErrUnavailable},
		{429, "", backend.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status, tt.code), func(t *testing.T) {
			body := fmt.Sprintf(`{"code":%q,"message":"boom"}`, tt.code)
			if tt.code == "" {
				body = "<html>Bad Gateway</html>"
			}
			c := newClient(t, stub(t, tt.status, body).URL)
			for method, err := range calls(context.Background(), c) {
				if !errors.Is(err, tt.want) {
					t.Errorf("%s: err = %v, want %v", method, err, tt.want)
				}
				var apiErr *backend.APIError
				if !errors.As(err, &apiErr) || apiErr.Status != tt.status || apiErr.Code != tt.code {
					t.Errorf("%s: APIError = %+v", method, apiErr)
				}
			}
		})
	}
}

func TestClientUnknownCode(t *testing.T) {
	c := newClient(t, stub(t, 418, `{"code":"teapot","message":"short and stout"}`).URL)
	_, err := c.Merchant(context.Background(), zhangSan)
	var apiErr *backend.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "teapot" || errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
}

func TestClientUnavailable(t *testing.T) {
	ctx := context.Background()
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		for method, err := range calls(ctx, newClient(t, srv.URL)) {
			if !errors.Is(err, backend.ErrUnavailable) {
				t.Errorf("%s: err = %v", method, err)
			}
		}
	})
	t.Run("malformed 200", func(t *testing.T) {
		c := newClient(t, stub(t, 200, `{"id":`).URL)
		_, err := c.Submit(ctx, "k", application(zhangSan))
		if !errors.Is(err, backend.ErrUnavailable) {
			t.Errorf("err = %v", err)
		}
	})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	t.Run("context deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		err := newClient(t, slow.URL).SendCode(ctx, zhangSan)
		if !errors.Is(err, backend.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("http client timeout", func(t *testing.T) {
		c := newClient(t, slow.URL, backend.WithHTTPClient(&http.Client{Timeout: 20 * time.Millisecond}))
		if err := c.SendCode(ctx, zhangSan); !errors.Is(err, backend.ErrUnavailable) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestClientRedactsServerMessage(t *testing.T) {
	// A server may quote a card grouped or in full-width digits, a phone
	// or a code: no digit of its message reaches our error.
	msg := "card " + card + " / 6222 0298 7654 3210 / ６２２２０２ / phone 13912345678 code 123456 refused"
	c := newClient(t, stub(t, 400, `{"code":"invalid_request","message":"`+msg+`"}`).URL)
	_, err := c.Submit(context.Background(), "k", application(zhangSan))
	_, quoted, _ := strings.Cut(err.Error(), "(HTTP 400): ")
	if !errors.Is(err, backend.ErrInvalidRequest) || strings.ContainsAny(quoted, "0123456789０１２３４５６７８９") ||
		!strings.Contains(err.Error(), "card ################ / #### #### #### ####") {
		t.Fatalf("err = %v", err)
	}
}

func TestClientAPIKeyAndPrefix(t *testing.T) {
	sb := sandbox.New()
	mux := http.NewServeMux()
	mux.Handle("/acquirer/", http.StripPrefix("/acquirer", sandbox.Handler(sb, sandbox.RequireAPIKey("s3cret"))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := context.Background()
	for method, err := range calls(ctx, newClient(t, srv.URL+"/acquirer/")) {
		if !errors.Is(err, backend.ErrUnauthorized) {
			t.Errorf("without key, %s: err = %v", method, err)
		}
	}
	c := newClient(t, srv.URL+"/acquirer", backend.WithAPIKey("s3cret"))
	if _, err := c.Merchant(ctx, zhangSan); err != nil {
		t.Fatal(err)
	}
}

// TestClientNeverQuotesAPIKey: a server that echoes the bearer token in its
// error does not get it into the client's errors, which are logged.
func TestClientNeverQuotesAPIKey(t *testing.T) {
	const key = "sk_live_ZqxWpLrTok" // no digits, which the client hides anyway
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"code":"unauthorized %[1]s","message":"token %[1]s is not valid"}`,
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	defer srv.Close()
	ctx := context.Background()
	for method, err := range calls(ctx, newClient(t, srv.URL, backend.WithAPIKey(key))) {
		if err == nil {
			t.Fatalf("%s: no error", method)
		}
		if strings.Contains(err.Error(), key) || strings.Contains(fmt.Sprintf("%+v", err), key) {
			t.Errorf("%s: the API key is in the error %q", method, err)
		}
	}
}

func TestClientSubmitNeedsKey(t *testing.T) {
	hit := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit = true }))
	defer srv.Close()
	_, err := newClient(t, srv.URL).Submit(context.Background(), "", application(zhangSan))
	if !errors.Is(err, backend.ErrInvalidRequest) || hit {
		t.Fatalf("err = %v, request sent = %v", err, hit)
	}
}

// TestClientMatchesSandbox: what comes over HTTP equals what the sandbox
// returns in-process, and replays with the key return the first receipt.
func TestClientMatchesSandbox(t *testing.T) {
	now := start
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sb := sandbox.New(sandbox.WithClock(clock))
	srv := httptest.NewServer(sandbox.Handler(sb))
	defer srv.Close()
	c := newClient(t, srv.URL)
	ctx := context.Background()

	first, err := c.Submit(ctx, "key-1", application(zhangSan))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	replay, err := c.Submit(ctx, "key-1", application(zhangSan))
	if err != nil || replay.ID != first.ID || replay.Status != backend.StatusEffective {
		t.Fatalf("replay = %+v, %v", replay, err)
	}
	overHTTP, err := c.Applications(ctx, zhangSan)
	if err != nil {
		t.Fatal(err)
	}
	inProcess, _ := sb.Applications(ctx, zhangSan)
	if !reflect.DeepEqual(overHTTP, inProcess) || len(overHTTP) != 1 {
		t.Fatalf("over HTTP %+v\nin process %+v", overHTTP, inProcess)
	}
	m1, _ := c.Merchant(ctx, zhangSan)
	m2, _ := sb.Merchant(ctx, zhangSan)
	if m1 != m2 || m1.CardMasked != "622202******3210" {
		t.Fatalf("merchant over HTTP %+v, in process %+v", m1, m2)
	}
}

// recorder keeps every request and response that crosses the wire.
type recorder struct {
	mu        sync.Mutex
	exchanges []exchange
}

type exchange struct {
	method, url           string
	reqHeader, respHeader http.Header
	reqBody, respBody     string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	x := exchange{method: req.Method, url: req.URL.String(), reqHeader: req.Header.Clone(), reqBody: string(reqBody)}
	if err == nil {
		respBody, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(respBody))
		x.respHeader, x.respBody = resp.Header.Clone(), string(respBody)
	}
	r.mu.Lock()
	r.exchanges = append(r.exchanges, x)
	r.mu.Unlock()
	return resp, err
}

// TestCardNumberCrossesOnce walks the whole flow, errors included, and checks
// that the full card number is in the body of POST /v1/applications and
// nowhere else: not in a URL, a header, another body, a response or an error.
func TestCardNumberCrossesOnce(t *testing.T) {
	var codes []string
	sb := sandbox.New(sandbox.WithCodes(func() string { return "424242" }),
		sandbox.WithCodeSink(func(_, code string) { codes = append(codes, code) }))
	srv := httptest.NewServer(sandbox.Handler(sb))
	defer srv.Close()
	rec := &recorder{}
	c := newClient(t, srv.URL, backend.WithHTTPClient(&http.Client{Transport: rec}))
	ctx := context.Background()

	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	_, err := c.VerifyMerchant(ctx, zhangSan, "13800000001")
	keep(err)
	_, err = c.VerifyMerchant(ctx, zhangSan, "13800000009")
	keep(err)
	keep(c.SendCode(ctx, zhangSan))
	keep(c.SendCode(ctx, zhangSan))
	keep(c.CheckCode(ctx, zhangSan, "000000"))
	keep(c.CheckCode(ctx, zhangSan, "424242"))
	_, err = c.Submit(ctx, "key-1", application(zhangSan))
	keep(err)
	_, err = c.Submit(ctx, "key-1", application(zhangSan)) // replay
	keep(err)
	_, err = c.Submit(ctx, "key-2", application(zhangSan)) // change_pending
	keep(err)
	_, err = c.Submit(ctx, "key-3", application("822100050119999")) // unknown merchant
	keep(err)
	bad := application(zhangSan)
	bad.CardNumber = card + "0000" // 20 digits: refused, and the refusal must not quote it
	_, err = c.Submit(ctx, "key-4", bad)
	keep(err)
	_, err = c.Merchant(ctx, zhangSan)
	keep(err)
	_, err = c.Applications(ctx, zhangSan)
	keep(err)

	if len(errs) != 6 {
		t.Errorf("errors = %d (%v), want 6", len(errs), errs)
	}
	for _, err := range errs {
		if strings.Contains(err.Error(), middle) {
			t.Errorf("error holds the card: %v", err)
		}
	}
	carried := 0
	for _, x := range rec.exchanges {
		submit := x.method == http.MethodPost && strings.HasSuffix(x.url, "/v1/applications")
		if strings.Contains(x.reqBody, card) {
			if !submit {
				t.Errorf("%s %s body holds the card", x.method, x.url)
			}
			carried++
		}
		for where, s := range map[string]string{
			"url": x.url, "request header": fmt.Sprint(x.reqHeader),
			"response header": fmt.Sprint(x.respHeader), "response body": x.respBody,
		} {
			if strings.Contains(s, middle) {
				t.Errorf("%s %s: %s holds the card: %s", x.method, x.url, where, s)
			}
		}
		if !submit && strings.Contains(x.reqBody, middle) {
			t.Errorf("%s %s body holds part of the card", x.method, x.url)
		}
	}
	if carried != 5 { // key-1 twice, key-2, key-3, key-4
		t.Errorf("submit bodies carrying the card = %d, want 5", carried)
	}
	if len(rec.exchanges) != 13 {
		t.Errorf("requests = %d, want 13", len(rec.exchanges))
	}
	if len(codes) != 1 {
		t.Errorf("codes sent = %v", codes)
	}
}

func TestClientHeaders(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(201)
		io.WriteString(w, `{"id":"CC202501150001","status":"review"}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, backend.WithAPIKey("s3cret"))
	r, err := c.Submit(context.Background(), "key-1", application(zhangSan))
	if err != nil || r.ID != "CC202501150001" {
		t.Fatalf("%+v, %v", r, err)
	}
	for k, want := range map[string]string{
		"Idempotency-Key": "key-1",
		"Authorization":   "Bearer s3cret",
		"Content-Type":    "application/json",
		"Accept":          "application/json",
	} {
		if got.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, got.Get(k), want)
		}
	}
}

// TestPing asks the acquirer's liveness probe and reports a failure.
func TestPing(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer up.Close()
	c, err := backend.NewClient(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("Ping of a live acquirer: %v", err)
	}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"code":"unavailable","message":"down"}`, http.StatusServiceUnavailable)
	}))
	defer down.Close()
	c, err = backend.NewClient(down.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()); err == nil {
		t.Fatal("Ping of an acquirer answering 503 succeeded")
	}
}
