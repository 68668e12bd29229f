package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/merchantbot/merchantbot/backend"
)

// TestSandboxPushesSignedEvents runs `merchantbot sandbox -events-url` and
// follows one application through every status at the receiving end.
func TestSandboxPushesSignedEvents(t *testing.T) {
	const secret = "shared-secret-of-the-test"
	var mu sync.Mutex
	var got []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := backend.Verify([]byte(secret), r.Header.Get(backend.HeaderEventTimestamp),
			r.Header.Get(backend.HeaderEventSignature), body, time.Now()); err != nil {
			t.Errorf("event does not verify: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev backend.Event
		_ = json.Unmarshal(body, &ev)
		mu.Lock()
		got = append(got, string(ev.Status))
		mu.Unlock()
	}))
	defer recv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	env := map[string]string{"BACKEND_EVENTS_SECRET": secret}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"merchantbot", "sandbox", "-addr", "127.0.0.1:0", "-review-delay", "200ms",
			"-events-url", recv.URL + "/backend/events"}, func(k string) string { return env[k] }, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("sandbox did not start: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	base := strings.TrimSpace(line[strings.Index(line, "http://"):])
	c, err := backend.NewClient(base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, "k", backend.Application{MerchantNo: "822100050110001", CardNumber: "6222020200112233",
		HolderName: "张三", BankName: "中国工商银行", Branch: "上海分行", ReservedPhone: "13800000001", CardType: "DC"}); err != nil {
		t.Fatal(err)
	}
	want := "submitted under_review approved effective"
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		s := strings.Join(got, " ")
		mu.Unlock()
		if s == want {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	if s := strings.Join(got, " "); s != want {
		t.Errorf("events %q, want %q", s, want)
	}
	mu.Unlock()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSandboxEventsURLNeedsSecret(t *testing.T) {
	err := run(context.Background(), []string{"merchantbot", "sandbox", "-events-url", "http://127.0.0.1:1/backend/events"},
		func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "BACKEND_EVENTS_SECRET") {
		t.Fatalf("err = %v", err)
	}
	err = run(context.Background(), []string{"merchantbot", "sandbox", "-events-url", "ftp://x"},
		func(k string) string { return map[string]string{"BACKEND_EVENTS_SECRET": "sixteen-chars-ok"}[k] }, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-events-url") {
		t.Fatalf("err = %v", err)
	}
}
