package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// response is the Bot API envelope as a client reads it.
type response struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func newServer(t *testing.T, opts ...telegramtest.Option) *telegramtest.Server {
	t.Helper()
	srv := telegramtest.New(opts...)
	t.Cleanup(srv.Close)
	return srv
}

func newBot(t *testing.T, srv *telegramtest.Server, opts ...bot.Option) *bot.Bot {
	t.Helper()
	opts = append([]bot.Option{bot.WithServerURL(srv.URL()), bot.WithErrorsHandler(func(error) {})}, opts...)
	b, err := bot.New(srv.Token(), opts...)
	require.NoError(t, err)
	return b
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// postJSON calls method with a JSON body, as our own getUpdates loop does.
func postJSON(t testing.TB, ctx context.Context, srv *telegramtest.Server, method string, params any) response {
	t.Helper()
	body, err := json.Marshal(params)
	require.NoError(t, err)
	return do(t, ctx, srv.URL()+"/bot"+srv.Token()+"/"+method, "application/json", bytes.NewReader(body))
}

func postForm(t testing.TB, ctx context.Context, srv *telegramtest.Server, method string, form url.Values) response {
	t.Helper()
	return do(t, ctx, srv.URL()+"/bot"+srv.Token()+"/"+method, "application/x-www-form-urlencoded",
		strings.NewReader(form.Encode()))
}

func do(t testing.TB, ctx context.Context, u, contentType string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var r response
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	if r.OK {
		require.Equal(t, http.StatusOK, resp.StatusCode)
	} else {
		require.Equal(t, r.ErrorCode, resp.StatusCode, "HTTP status matches error_code")
	}
	return r
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
