package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthURL(t *testing.T) {
	tests := []struct{ addr, path, want string }{
		{":8080", "/healthz", "http://127.0.0.1:8080/healthz"},
		{"0.0.0.0:9000", "/readyz", "http://127.0.0.1:9000/readyz"},
		{"[::]:8080", "/healthz", "http://127.0.0.1:8080/healthz"},
		{"10.1.2.3:8080", "/healthz", "http://10.1.2.3:8080/healthz"},
		{"[::1]:8080", "/healthz", "http://[::1]:8080/healthz"},
		{"localhost:8080", "/healthz", "http://localhost:8080/healthz"},
	}
	for _, tt := range tests {
		got, err := healthURL(tt.addr, tt.path)
		if err != nil || got != tt.want {
			t.Errorf("healthURL(%q, %q) = %q, %v; want %q", tt.addr, tt.path, got, err, tt.want)
		}
	}
	for _, bad := range [][2]string{{"8080", "/healthz"}, {"host:", "/healthz"}, {":8080", "healthz"}} {
		if _, err := healthURL(bad[0], bad[1]); err == nil {
			t.Errorf("healthURL(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestHealthcheckCommand(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	env := map[string]string{"HTTP_ADDR": ":" + port}
	check := func(args ...string) error {
		var out, errs bytes.Buffer
		return run(context.Background(), append([]string{"merchantbot", "healthcheck"}, args...),
			func(k string) string { return env[k] }, strings.NewReader(""), &out, &errs)
	}
	if err := check(); err != nil {
		t.Fatalf("healthy server: %v", err)
	}
	if err := check("-path", "/readyz"); err != nil {
		t.Fatalf("ready server: %v", err)
	}
	status = http.StatusServiceUnavailable
	if err := check("-path", "/readyz"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("unready server: %v", err)
	}
	srv.Close()
	if err := check(); err == nil {
		t.Fatal("a stopped server passed the health check")
	}
	if err := check("-addr", "nonsense"); err == nil {
		t.Fatal("a bad -addr passed")
	}
}
