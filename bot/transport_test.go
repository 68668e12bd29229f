package bot

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWholeBodySendsContentLength(t *testing.T) {
	type seen struct {
		length   int64
		encoding []string
		body     string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.ContentLength, r.TransferEncoding, string(b)}
	}))
	defer srv.Close()
	client := &http.Client{Transport: wholeBody{next: http.DefaultTransport}}

	// A streamed body of unknown length, as go-telegram/bot's pipe is.
	pr, pw := io.Pipe()
	go func() {
		for _, part := range []string{"--b\r\n", "chat_id=1", "\r\n--b--"} {
			_, _ = pw.Write([]byte(part))
		}
		pw.Close()
	}()
	req, err := http.NewRequest(http.MethodPost, srv.URL, pr)
	require.NoError(t, err)
	require.Equal(t, int64(0), req.ContentLength, "unknown length")
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	s := <-got
	assert.Equal(t, int64(len("--b\r\nchat_id=1\r\n--b--")), s.length)
	assert.Empty(t, s.encoding, "not chunked")
	assert.Equal(t, "--b\r\nchat_id=1\r\n--b--", s.body)
	assert.Equal(t, int64(0), req.ContentLength, "the caller's request is unchanged")

	// Requests without a body pass as they are.
	resp, err = client.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	s = <-got
	assert.Equal(t, int64(0), s.length)
	assert.Equal(t, "", strings.TrimSpace(s.body))
}
