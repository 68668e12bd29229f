package smscode_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/smscode"
	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

const (
	no    = "822100050110001"
	phone = "13800000001"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// phoneBox is a provider that keeps what it was asked to send, and fails
// while fail is set; with lost set, it sends and then fails with lost (an
// answer that never came back).
type phoneBox struct {
	mu    sync.Mutex
	sent  []string // codes, in order
	fail  error
	lost  error
	phone string
}

func (p *phoneBox) Send(_ context.Context, phone, code string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	if p.lost != nil {
		p.sent = append(p.sent, code)
		return p.lost
	}
	p.sent = append(p.sent, code)
	p.phone = phone
	return nil
}

func (p *phoneBox) last(t *testing.T) string {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	require.NotEmpty(t, p.sent, "no code was sent")
	return p.sent[len(p.sent)-1]
}

func (p *phoneBox) count() int { p.mu.Lock(); defer p.mu.Unlock(); return len(p.sent) }

type env struct {
	codes  *smscode.Codes
	box    *phoneBox
	clock  *clock
	rdb    *redis.Client
	prefix string
	key    []byte
	logs   *bytes.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	rdb, prefix := redistest.New(t)
	e := &env{box: &phoneBox{}, clock: &clock{t: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)},
		rdb: rdb, prefix: prefix, key: []byte(rand.Text() + rand.Text()), logs: &bytes.Buffer{}}
	e.codes = e.replica(t)
	return e
}

// replica is another Codes over the same Redis, key and clock.
func (e *env) replica(t *testing.T) *smscode.Codes {
	t.Helper()
	c, err := smscode.New(e.rdb, e.prefix, e.key, e.box, smscode.WithClock(e.clock.now),
		smscode.WithLogger(slog.New(slog.NewTextHandler(&lockedWriter{w: e.logs}, nil))))
	require.NoError(t, err)
	return c
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func wrong(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestNewRefusesAShortKey(t *testing.T) {
	_, err := smscode.New(redistest.Client(t), "x:", make([]byte, 31), &phoneBox{})
	require.ErrorContains(t, err, "want at least 32")
}

func TestSendAndCheck(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	require.NoError(t, e.codes.Send(ctx, no, "+86 138 0000 0001"))
	code := e.box.last(t)
	assert.Regexp(t, `^[0-9]{6}$`, code)
	assert.Equal(t, phone, e.box.phone, "the provider gets the 11 digits")

	ttl, err := e.rdb.PTTL(ctx, e.prefix+"sms:{"+no+"}:code").Result()
	require.NoError(t, err)
	assert.InDelta(t, backend.CodeTTL.Seconds(), ttl.Seconds(), 2, "the code's key lives as long as the code")
	ttl, err = e.rdb.PTTL(ctx, e.prefix+"sms:{"+no+"}:limits").Result()
	require.NoError(t, err)
	assert.InDelta(t, (75 * time.Minute).Seconds(), ttl.Seconds(), 2, "the limits outlive their hour and the lockout, then go")

	dump, err := redistest.Dump(ctx, e.rdb, e.prefix)
	require.NoError(t, err)
	require.NotEmpty(t, dump)
	assert.Empty(t, leaktest.Leaks("phone "+phone+" code "+code, dump...), "Redis holds neither the phone nor the code")
	assert.NotContains(t, strings.Join(dump, "\n"), code)

	assert.ErrorIs(t, e.codes.Check(ctx, no, wrong(code)), backend.ErrWrongCode)
	assert.ErrorIs(t, e.codes.Check(ctx, "822100050110002", code), backend.ErrCodeExpired, "a code is bound to its merchant")
	require.NoError(t, e.codes.Check(ctx, no, toFullWidth(code)), "typed full-width")
	assert.ErrorIs(t, e.codes.Check(ctx, no, code), backend.ErrCodeExpired, "a right code is used up")
	assert.Empty(t, leaktest.Leaks("phone "+phone+" code "+code, e.logs.String()))
	assert.Contains(t, e.logs.String(), "138****0001", "the send is logged, masked")
}

func toFullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r - '0' + '０')
	}
	return b.String()
}

// TestAnotherKeyCannotCheck: the HMAC depends on the key: a Redis dump
// without it tells nothing.
func TestAnotherKeyCannotCheck(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	require.NoError(t, e.codes.Send(ctx, no, phone))
	other, err := smscode.New(e.rdb, e.prefix, []byte(rand.Text()+rand.Text()), e.box, smscode.WithClock(e.clock.now))
	require.NoError(t, err)
	assert.ErrorIs(t, other.Check(ctx, no, e.box.last(t)), backend.ErrWrongCode)
}

// TestOldKeysStillCheck: after the key is rotated, a code hashed with the
// old key checks when the old key is given, and only then.
func TestOldKeysStillCheck(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	require.NoError(t, e.codes.Send(ctx, no, phone))
	code := e.box.last(t)
	newKey := []byte(rand.Text() + rand.Text())
	rotated, err := smscode.New(e.rdb, e.prefix, newKey, e.box, smscode.WithClock(e.clock.now), smscode.WithOldKeys(e.key))
	require.NoError(t, err)
	assert.ErrorIs(t, rotated.Check(ctx, no, wrong(code)), backend.ErrWrongCode)
	require.NoError(t, rotated.Check(ctx, no, code))
	_, err = smscode.New(e.rdb, e.prefix, newKey, e.box, smscode.WithOldKeys([]byte("short")))
	require.ErrorContains(t, err, "old code key 1")
}

func TestCodeExpires(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	require.NoError(t, e.codes.Send(ctx, no, phone))
	e.clock.advance(backend.CodeTTL - time.Second)
	assert.ErrorIs(t, e.codes.Check(ctx, no, wrong(e.box.last(t))), backend.ErrWrongCode, "still out a second before")
	e.clock.advance(time.Second)
	assert.ErrorIs(t, e.codes.Check(ctx, no, e.box.last(t)), backend.ErrCodeExpired)
	assert.ErrorIs(t, e.codes.Check(ctx, "822100050110009", "123456"), backend.ErrCodeExpired, "no code was ever sent")
}

func TestWrongCodesLock(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	require.NoError(t, e.codes.Send(ctx, no, phone))
	code := e.box.last(t)
	for i := range backend.MaxCodeAttempts - 1 {
		require.ErrorIs(t, e.codes.Check(ctx, no, wrong(code)), backend.ErrWrongCode, "try %d", i+1)
	}
	// A resend does not reset the count.
	e.clock.advance(backend.CodeResendAfter)
	require.NoError(t, e.codes.Send(ctx, no, phone))
	code = e.box.last(t)
	require.ErrorIs(t, e.codes.Check(ctx, no, "12345x"), backend.ErrWrongCode, "the last wrong try: not even a code")

	err := e.codes.Check(ctx, no, code)
	require.ErrorIs(t, err, backend.ErrCodeTooSoon, "the right code no longer works: codes are paused")
	wait, ok := backend.RetryAfter(err)
	require.True(t, ok)
	assert.Equal(t, backend.CodeLockout, wait)

	e.clock.advance(time.Minute)
	err = e.codes.Send(ctx, no, phone)
	wait, _ = backend.RetryAfter(err)
	require.ErrorIs(t, err, backend.ErrCodeTooSoon)
	assert.Equal(t, backend.CodeLockout-time.Minute, wait)
	assert.Equal(t, 2, e.box.count(), "no code sent while paused")

	e.clock.advance(backend.CodeLockout - time.Minute)
	require.NoError(t, e.codes.Send(ctx, no, phone))
	require.NoError(t, e.codes.Check(ctx, no, e.box.last(t)))
}

// TestWrongCountForgotten: wrong tries an hour apart do not add up, as in
// the sandbox.
func TestWrongCountForgotten(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for range 3 {
		require.NoError(t, e.codes.Send(ctx, no, phone))
		for range backend.MaxCodeAttempts - 1 {
			require.ErrorIs(t, e.codes.Check(ctx, no, wrong(e.box.last(t))), backend.ErrWrongCode)
		}
		e.clock.advance(time.Hour)
	}
	require.NoError(t, e.codes.Send(ctx, no, phone))
	require.NoError(t, e.codes.Check(ctx, no, e.box.last(t)))
}

func TestResendLimits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	require.NoError(t, e.codes.Send(ctx, no, phone))
	first := e.box.last(t)
	e.clock.advance(10 * time.Second)
	err := e.codes.Send(ctx, no, phone)
	require.ErrorIs(t, err, backend.ErrCodeTooSoon)
	wait, _ := backend.RetryAfter(err)
	assert.Equal(t, backend.CodeResendAfter-10*time.Second, wait)

	e.clock.advance(backend.CodeResendAfter - 10*time.Second)
	require.NoError(t, e.codes.Send(ctx, no, phone))
	assert.ErrorIs(t, e.codes.Check(ctx, no, first), backend.ErrWrongCode, "a new code replaces the old one")

	for e.box.count() < backend.MaxCodesPerHour {
		e.clock.advance(backend.CodeResendAfter)
		require.NoError(t, e.codes.Send(ctx, no, phone))
	}
	e.clock.advance(backend.CodeResendAfter)
	err = e.codes.Send(ctx, no, phone)
	require.ErrorIs(t, err, backend.ErrCodeTooSoon, "the hourly cap")
	wait, _ = backend.RetryAfter(err)
	assert.Equal(t, time.Hour-time.Duration(backend.MaxCodesPerHour)*backend.CodeResendAfter, wait)
	e.clock.advance(wait)
	require.NoError(t, e.codes.Send(ctx, no, phone), "an hour after the first")
	assert.Equal(t, backend.MaxCodesPerHour+1, e.box.count())
}

func TestProviderFailureUsesNoResend(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	require.NoError(t, e.codes.Send(ctx, no, phone))
	good := e.box.last(t)
	e.clock.advance(backend.CodeResendAfter)

	e.box.fail = fmt.Errorf("gateway: cannot deliver to %s (code 481516 refused)", phone)
	for range 2 * backend.MaxCodesPerHour {
		err := e.codes.Send(ctx, no, phone)
		require.Error(t, err)
		assert.NotErrorIs(t, err, backend.ErrCodeTooSoon)
		assert.Empty(t, leaktest.Leaks(phone+" 481516", err.Error()), "the provider's error is masked: %v", err)
	}
	assert.Empty(t, leaktest.Leaks(phone+" 481516", e.logs.String()), "logs: %s", e.logs)
	assert.Contains(t, e.logs.String(), "sms code not sent")

	e.box.fail = nil
	require.NoError(t, e.codes.Check(ctx, no, good), "the code sent before still works")
	require.NoError(t, e.codes.Send(ctx, no, phone), "no resend was used up")
	for e.box.count() < backend.MaxCodesPerHour {
		e.clock.advance(backend.CodeResendAfter)
		require.NoError(t, e.codes.Send(ctx, no, phone), "the hourly cap counts only codes sent")
	}
}

// TestUnansweredSendIsKept: a provider whose answer is lost (a timeout) may
// have sent the code: it is kept as sent, so the code that arrives works,
// and it counts against the resend wait like any code sent.
func TestUnansweredSendIsKept(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.box.lost = fmt.Errorf("%w: gateway timeout for %s", smscode.ErrUnanswered, phone)
	require.NoError(t, e.codes.Send(ctx, no, phone), "taken as sent")
	code := e.box.last(t)
	assert.Contains(t, e.logs.String(), "sms provider did not answer")
	assert.Empty(t, leaktest.Leaks(phone+" "+code, e.logs.String()), "logs: %s", e.logs)

	var soon *backend.TooSoonError
	require.ErrorAs(t, e.codes.Send(ctx, no, phone), &soon, "the resend wait counts it")
	require.NoError(t, e.codes.Check(ctx, no, code), "the code that arrived works")
}

// TestReplicasDoNotRace: two replicas asked at once send one code; ten
// wrong guesses at once are counted, and stop at the limit.
func TestReplicasDoNotRace(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	other := e.replica(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.codes
			if i%2 == 1 {
				c = other
			}
			errs[i] = c.Send(ctx, no, phone)
		}()
	}
	wg.Wait()
	var ok int
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.ErrorIs(t, err, backend.ErrCodeTooSoon)
		}
	}
	assert.Equal(t, 1, ok)
	assert.Equal(t, 1, e.box.count())

	code := e.box.last(t)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.codes
			if i%2 == 1 {
				c = other
			}
			errs[i] = c.Check(ctx, no, wrong(code))
		}()
	}
	wg.Wait()
	var wrongs, paused int
	for _, err := range errs {
		switch {
		case errors.Is(err, backend.ErrWrongCode):
			wrongs++
		case errors.Is(err, backend.ErrCodeTooSoon):
			paused++
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	assert.Equal(t, backend.MaxCodeAttempts, wrongs, "exactly the allowed wrong tries were judged")
	assert.Equal(t, len(errs)-backend.MaxCodeAttempts, paused)
	require.ErrorIs(t, e.codes.Check(ctx, no, code), backend.ErrCodeTooSoon)
}

func TestBadInputs(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	err := e.codes.Send(ctx, no, "+1 415 555 0100")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "415")
	require.Error(t, e.codes.Send(ctx, "12", phone))
	assert.Zero(t, e.box.count())
}
