package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServePprofLoopbackOnly(t *testing.T) {
	discard := slog.New(slog.DiscardHandler)
	for _, addr := range []string{":6060", "0.0.0.0:6060", "10.0.0.1:6060", "example.com:6060", "6060"} {
		err := servePprof(context.Background(), func(string) string { return addr }, discard)
		require.Error(t, err, addr)
		assert.Contains(t, err.Error(), "PPROF_ADDR", addr)
	}
	require.NoError(t, servePprof(context.Background(), func(string) string { return "" }, discard), "unset: off")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs bytes.Buffer
	require.NoError(t, servePprof(ctx, func(string) string { return "127.0.0.1:0" }, slog.New(slog.NewJSONHandler(&logs, nil))))
	var line struct{ Addr string }
	require.NoError(t, json.Unmarshal(logs.Bytes(), &line))
	resp, err := http.Get("http://" + line.Addr + "/debug/pprof/heap?debug=1")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "heap profile")
}
