package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheckTimeout bounds the whole check: a process that cannot answer
// within it is as good as down to an orchestrator.
const healthcheckTimeout = 3 * time.Second

// runHealthcheck asks the server on this host whether it is up: GET
// http://127.0.0.1:<port of HTTP_ADDR>/healthz, nil on 200. It is the
// Dockerfile's HEALTHCHECK, since the distroless image has no shell or curl.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "host:port to check (default: HTTP_ADDR, or :8080)")
	path := fs.String("path", "/healthz", "path to GET: /healthz (the process) or /readyz (Redis too)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck takes no arguments, got %q", fs.Arg(0))
	}
	target := *addr
	if target == "" {
		target = getenv("HTTP_ADDR")
	}
	if target == "" {
		target = ":8080"
	}
	url, err := healthURL(target, *path)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck %s: %s", url, resp.Status)
	}
	fmt.Fprintf(stdout, "ok %s\n", url)
	return nil
}

// healthURL is the URL of path on the server listening at addr: a server
// bound to every interface (":8080", "0.0.0.0:8080", "[::]:8080") is asked
// on the loopback.
func healthURL(addr, path string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", fmt.Errorf("HTTP_ADDR: %q is not host:port (e.g. :8080)", addr)
	}
	if len(path) == 0 || path[0] != '/' {
		return "", errors.New("-path: want a path starting with /")
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}
