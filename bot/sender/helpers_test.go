package sender

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/go-telegram/bot"
)

// roomy limits never make a test wait unless it tightens one of them.
var roomy = Limits{
	Global:   redis_rate.PerSecond(1000),
	PerChat:  redis_rate.PerSecond(1000),
	PerGroup: redis_rate.PerSecond(1000),
}

// reply is one scripted answer of the fake Bot API. hangUp closes the connection instead.
type reply struct {
	status int
	body   string
	hangUp bool
}

func apiError(code int, description string) reply {
	return reply{status: code, body: fmt.Sprintf(`{"ok":false,"error_code":%d,"description":%q}`, code, description)}
}

func tooMany(retryAfter int) reply {
	return reply{status: http.StatusTooManyRequests, body: fmt.Sprintf(
		`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`,
		retryAfter, retryAfter)}
}

// fakeAPI is a Bot API that gives its scripted replies in order, then succeeds.
type fakeAPI struct {
	mu     sync.Mutex
	script []reply
	always *reply // when set, every request gets it
	echo   bool   // answer with an HTML page quoting the request's text, as a broken proxy might
	hits   atomic.Int64
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	f.mu.Lock()
	var next *reply
	switch {
	case f.always != nil:
		next = f.always
	case len(f.script) > 0:
		next = &f.script[0]
		f.script = f.script[1:]
	}
	f.mu.Unlock()

	switch {
	case f.echo:
		_ = r.ParseMultipartForm(1 << 20)
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "<html>502 Bad Gateway while sending %s</html>", r.FormValue("text"))
	case next == nil:
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/sendMessage") {
			fmt.Fprint(w, `{"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":1,"type":"private"}}}`)
		} else {
			fmt.Fprint(w, `{"ok":true,"result":true}`)
		}
	case next.hangUp:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(next.status)
		fmt.Fprint(w, next.body)
	}
}

// newBot starts api and returns the real library client pointed at it.
func newBot(t testing.TB, api http.Handler) *bot.Bot {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	b, err := bot.New("123:abc", bot.WithServerURL(srv.URL), bot.WithSkipGetMe())
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	return b
}

func sendText(b *bot.Bot, chatID int64, text string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chatID, Text: text})
		return err
	}
}

// fakeTime is a clock that only moves when the Sender sleeps, and records every sleep.
type fakeTime struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeTime() *fakeTime {
	// Whole milliseconds, as the cooldown is stored, so cooldown waits come out exact.
	return &fakeTime{now: time.UnixMilli(time.Now().UnixMilli())}
}

func (f *fakeTime) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeTime) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	return nil
}

func (f *fakeTime) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// recorder records every wait and then really waits: for the limiters, whose clock is Redis's.
type recorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
	then   func(ctx context.Context, d time.Duration) error
}

func (r *recorder) Sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.sleeps = append(r.sleeps, d)
	r.mu.Unlock()
	return r.then(ctx, d)
}

func (r *recorder) Sleeps() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.sleeps...)
}

// errStop ends a wait at once, to see that a call had to wait without waiting.
var errStop = errors.New("test: stop waiting")

func stopWaiting(context.Context, time.Duration) error { return errStop }
