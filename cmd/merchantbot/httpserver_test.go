package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHTTPServerTimeouts: HTTP_ADDR is not held open by a client that
// sends its headers or body slowly, reads slowly or idles.
func TestHTTPServerTimeouts(t *testing.T) {
	h := http.NotFoundHandler()
	srv := httpServer(h)
	assert.NotNil(t, srv.Handler)
	for name, d := range map[string]int64{
		"ReadHeaderTimeout": int64(srv.ReadHeaderTimeout),
		"ReadTimeout":       int64(srv.ReadTimeout),
		"WriteTimeout":      int64(srv.WriteTimeout),
		"IdleTimeout":       int64(srv.IdleTimeout),
	} {
		assert.Positive(t, d, name)
	}
	assert.LessOrEqual(t, srv.ReadHeaderTimeout, srv.ReadTimeout, "the headers are read within the whole request's time")
}
