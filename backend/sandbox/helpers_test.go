package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
)

// api is the method set both the in-process sandbox and the HTTP client offer
// (dialogs.Backend); every behaviour test runs against both.
type api interface {
	VerifyMerchant(ctx context.Context, no, phone string) (backend.Merchant, error)
	Merchant(ctx context.Context, no string) (backend.Merchant, error)
	SendCode(ctx context.Context, no string) error
	CheckCode(ctx context.Context, no, code string) error
	Submit(ctx context.Context, key string, app backend.Application) (backend.Receipt, error)
	Applications(ctx context.Context, no string) ([]backend.Receipt, error)
	Application(ctx context.Context, id string) (backend.Receipt, error)
}

var (
	_ api = (*sandbox.Sandbox)(nil)
	_ api = (*backend.Client)(nil)
)

// start is 10:00 on 2025-01-15 in China.
var start = time.Date(2025, 1, 15, 2, 0, 0, 0, time.UTC)

const (
	zhangSan = "822100050110001"
	company  = "822100050110002"
	ayguli   = "822100050110003"
	wangWu   = "822100050110004"

	// card is the test card number; middle is what the mask hides.
	card   = "6222029876543210"
	middle = "987654"
	delay  = 2 * time.Minute
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sms collects the codes the sandbox "sends".
type sms struct {
	mu   sync.Mutex
	sent []string // "138****0001 123456"
}

func (s *sms) sink(phone, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, phone+" "+code)
}

func (s *sms) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sent...)
}

// env is one sandbox, its clock and SMS, and the api under test.
type env struct {
	api   api
	sb    *sandbox.Sandbox
	clock *fakeClock
	sms   *sms
}

// counter hands out codes 100001, 100002, ...
func counter() func() string {
	var mu sync.Mutex
	n := 100000
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprint(n)
	}
}

func newSandbox(t *testing.T, opts ...sandbox.Option) *env {
	t.Helper()
	e := &env{clock: &fakeClock{t: start}, sms: &sms{}}
	base := []sandbox.Option{
		sandbox.WithClock(e.clock.Now),
		sandbox.WithReviewDelay(delay),
		sandbox.WithCodes(counter()),
		sandbox.WithCodeSink(e.sms.sink),
	}
	e.sb = sandbox.New(append(base, opts...)...)
	e.api = e.sb
	return e
}

// both runs fn against the sandbox in-process and through backend.Client over
// HTTP.
func both(t *testing.T, fn func(t *testing.T, e *env), opts ...sandbox.Option) {
	t.Helper()
	t.Run("inprocess", func(t *testing.T) {
		fn(t, newSandbox(t, opts...))
	})
	t.Run("http", func(t *testing.T) {
		e := newSandbox(t, opts...)
		e.api = httpClient(t, e.sb)
		fn(t, e)
	})
}

// httpClient serves sb over HTTP for the test and returns a client of it.
func httpClient(t *testing.T, sb *sandbox.Sandbox) *backend.Client {
	t.Helper()
	srv := httptest.NewServer(sandbox.Handler(sb))
	t.Cleanup(srv.Close)
	c, err := backend.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func app(no, holder, cardType string) backend.Application {
	return backend.Application{
		MerchantNo:    no,
		CardNumber:    card,
		HolderName:    holder,
		BankCode:      "ICBC",
		BankName:      "中国工商银行",
		Branch:        "上海分行营业部",
		ReservedPhone: "13900000000",
		CardType:      cardType,
	}
}

func wantErr(t *testing.T, got, want error) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Fatalf("err = %v, want nil", got)
		}
		return
	}
	if !errors.Is(got, want) {
		t.Fatalf("err = %v, want %v", got, want)
	}
}
