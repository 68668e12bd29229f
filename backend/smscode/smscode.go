// Package smscode is the bot's own SMS verification codes, for an acquirer
// that sends none itself (WeChat Pay): it implements backend.Codes.
//
// A code is 6 digits from crypto/rand, sent through a Provider (Tencent
// Cloud SMS, the operator's own gateway, or the console for demos). Redis
// holds only an HMAC of it, under a key the caller gives, so that a dump of
// Redis does not let anyone try the 10^6 codes offline; the code is bound to
// the merchant number. The limits are backend's (backend/codelimits.go), the
// same the sandbox plays: a code lives backend.CodeTTL, a new one comes no
// sooner than backend.CodeResendAfter and at most backend.MaxCodesPerHour
// times an hour, and backend.MaxCodeAttempts wrong codes burn the code and
// pause new ones for backend.CodeLockout.
//
// Every operation is one Lua script over the merchant's two keys, in one
// hash slot ({<merchant no>}), so two replicas cannot race:
//
//	<prefix>sms:{<no>}:code    "<expiry ms>:<hex HMAC>", expiring with the code
//	<prefix>sms:{<no>}:limits  hash: sent, sends, wrong, lastwrong, locked, pending
//
// A send is reserved (limits checked and counted), then handed to the
// provider, then committed (the new code's HMAC stored). When the provider
// fails, the reservation is undone: a failed send does not use up a resend,
// and the code sent before, if any, still works.
package smscode

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http/httptrace"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// Provider delivers a code by SMS to phone (11 digits, mainland mobile).
// Its errors must not hold the phone or the code; Codes masks any number
// left in them anyway. A failure after the request may have reached the
// provider wraps ErrUnanswered.
type Provider interface {
	Send(ctx context.Context, phone, code string) error
}

// ErrUnanswered is a provider's failure that came after its request may
// have reached the provider: a timeout, a connection cut before the answer,
// an answer that cannot be read, a gateway's 504. The text may be on its way
// to the merchant, so Codes.Send keeps the code as sent (stored, and counted
// against the limits) rather than refuse a code that then arrives.
var ErrUnanswered = errors.New("the provider's answer was lost")

// unanswered is err, for a request the provider may have acted on.
func unanswered(err error) error { return fmt.Errorf("%w: %w", ErrUnanswered, err) }

// traced returns ctx with an HTTP trace, and a report of whether a request
// made with it was written out whole: until then (a dial that hangs or is
// refused, a deadline that ran out first) the provider has nothing to act
// on, and a failure is a send that did not happen.
func traced(ctx context.Context) (context.Context, func() bool) {
	var wrote atomic.Bool
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	}), wrote.Load
}

// MinKeySize is the shortest HMAC key New takes.
const MinKeySize = 32

// keep is how long a merchant's limits outlive their last change: the
// hourly windows and the lockout are over by then.
const keep = time.Hour + backend.CodeLockout

// Codes sends and checks SMS codes, keeping their state in Redis.
type Codes struct {
	rdb      redis.UniversalClient
	prefix   string
	key      []byte
	oldKeys  [][]byte // keys replaced by key: codes they hashed still check
	provider Provider
	now      func() time.Time
	log      *slog.Logger
}

var _ backend.Codes = (*Codes)(nil)

// Option configures Codes.
type Option func(*Codes)

// WithClock sets the clock the limits are counted by (default time.Now).
// Replicas compare their clocks through Redis: keep them in sync (NTP), as
// the signed events already need.
func WithClock(now func() time.Time) Option { return func(c *Codes) { c.now = now } }

// WithOldKeys sets the keys key replaced, so that a code sent just before a
// key rotation (or by a replica not yet rotated) still checks. Each is at
// least MinKeySize bytes.
func WithOldKeys(keys ...[]byte) Option { return func(c *Codes) { c.oldKeys = keys } }

// WithLogger sets where failed sends are logged (default: nowhere). No log
// line holds a phone in full or a code.
func WithLogger(log *slog.Logger) Option { return func(c *Codes) { c.log = log } }

// New returns codes kept under prefix in rdb, hashed with key (at least
// MinKeySize bytes, secret, the same on every replica), sent through p.
func New(rdb redis.UniversalClient, prefix string, key []byte, p Provider, opts ...Option) (*Codes, error) {
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("smscode: the code key is %d bytes, want at least %d", len(key), MinKeySize)
	}
	if p == nil {
		return nil, errors.New("smscode: no provider")
	}
	c := &Codes{rdb: rdb, prefix: prefix, key: key, provider: p, now: time.Now,
		log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(c)
	}
	for i, k := range c.oldKeys {
		if len(k) < MinKeySize {
			return nil, fmt.Errorf("smscode: old code key %d is %d bytes, want at least %d", i+1, len(k), MinKeySize)
		}
	}
	return c, nil
}

func (c *Codes) keys(no string) []string {
	base := c.prefix + "sms:{" + no + "}:"
	return []string{base + "limits", base + "code"}
}

// mac is the code's HMAC under the current key, bound to the merchant.
func (c *Codes) mac(no, code string) string { return mac(c.key, no, code) }

// macs are the code's HMACs under every key, comma separated.
func (c *Codes) macs(no, code string) string {
	s := mac(c.key, no, code)
	for _, k := range c.oldKeys {
		s += "," + mac(k, no, code)
	}
	return s
}

func mac(key []byte, no, code string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("merchantbot sms code v1\x00"))
	m.Write([]byte(no))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// reserveScript counts a send if the limits allow it: it returns 0 and
// records the send (pending, ARGV[5]), or the wait in ms.
var reserveScript = redis.NewScript(`
local now, resend, hour, cap, token, keep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local f = redis.call('HMGET', KEYS[1], 'locked', 'sends', 'sent')
local wait = 0
local locked = tonumber(f[1] or '0')
if locked > now then wait = locked - now end
local sends, oldest = {}, nil
if f[2] then
  for t in string.gmatch(f[2], '[^,]+') do
    local v = tonumber(t)
    if v and now - v < hour then
      table.insert(sends, t)
      if not oldest or v < oldest then oldest = v end
    end
  end
end
if #sends >= cap then wait = math.max(wait, oldest + hour - now) end
local sent = tonumber(f[3] or '0')
if sent > 0 and now - sent < resend then wait = math.max(wait, resend - (now - sent)) end
if wait > 0 then return wait end
table.insert(sends, ARGV[1])
redis.call('HSET', KEYS[1], 'sends', table.concat(sends, ','), 'sent', ARGV[1], 'prev_sent', f[3] or '0', 'pending', token)
redis.call('PEXPIRE', KEYS[1], keep)
return 0
`)

// commitScript stores the code of the pending send ARGV[1]: returns 1, or 0
// when a later send took its place.
var commitScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'pending') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('HDEL', KEYS[1], 'pending', 'prev_sent')
return 1
`)

// rollbackScript undoes the pending send ARGV[1] made at ARGV[2].
var rollbackScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'pending', 'sends', 'prev_sent')
if f[1] ~= ARGV[1] then return 0 end
local sends, dropped = {}, false
for t in string.gmatch(f[2] or '', '[^,]+') do
  if not dropped and t == ARGV[2] then dropped = true else table.insert(sends, t) end
end
redis.call('HSET', KEYS[1], 'sends', table.concat(sends, ','), 'sent', f[3] or '0')
redis.call('HDEL', KEYS[1], 'pending', 'prev_sent')
return 1
`)

// checkScript checks the HMACs ARGV[2] (comma separated: one per key, the
// current and the old ones) against the code out, comparing in constant
// time (every byte of every one, whatever differs). It returns {outcome, n}:
// "locked" and the wait in ms, "expired", "ok", or "wrong" and the tries
// left (0: the code is burnt and new ones paused).
var checkScript = redis.NewScript(`
local now, given, hour, max, lockout, keep = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local f = redis.call('HMGET', KEYS[1], 'locked', 'wrong', 'lastwrong')
local locked = tonumber(f[1] or '0')
if locked > now then return {'locked', locked - now} end
local v = redis.call('GET', KEYS[2])
if not v then return {'expired', 0} end
local sep = string.find(v, ':', 1, true)
local exp, want = tonumber(string.sub(v, 1, sep - 1)), string.sub(v, sep + 1)
if exp <= now then
  redis.call('DEL', KEYS[2])
  return {'expired', 0}
end
local match = false
for g in string.gmatch(given, '[^,]+') do
  local diff = 0
  if #want ~= #g then diff = 1 end
  for i = 1, #want do
    diff = bit.bor(diff, bit.bxor(string.byte(want, i), string.byte(g, i) or 0))
  end
  match = match or diff == 0
end
if match then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'wrong', 0)
  redis.call('PEXPIRE', KEYS[1], keep)
  return {'ok', 0}
end
local wrong = tonumber(f[2] or '0')
if now - tonumber(f[3] or '0') >= hour then wrong = 0 end
wrong = wrong + 1
if wrong >= max then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'wrong', 0, 'lastwrong', now, 'locked', now + lockout)
  redis.call('PEXPIRE', KEYS[1], keep)
  return {'wrong', 0}
end
redis.call('HSET', KEYS[1], 'wrong', wrong, 'lastwrong', now)
redis.call('PEXPIRE', KEYS[1], keep)
return {'wrong', max - wrong}
`)

// Send sends a new code for merchant no to phone (the phone on file, from
// the directory). It returns a *backend.TooSoonError (errors.Is
// backend.ErrCodeTooSoon) with the wait when the limits refuse a code now,
// and the provider's failure, masked, when the code could not be sent; then
// nothing is counted and an earlier code still works. A provider that did
// not answer (ErrUnanswered) may have sent it: that code is kept and
// counted as sent, and Send reports no error.
func (c *Codes) Send(ctx context.Context, no, phone string) error {
	no, err := parse.MerchantNo(no)
	if err != nil {
		return fmt.Errorf("smscode: send: merchant number: %w", err)
	}
	p, err := parse.MobilePhone(phone)
	if err != nil {
		return fmt.Errorf("smscode: send: the phone on file of merchant %s is not a mainland mobile number", no)
	}
	keys := c.keys(no)
	now := c.now().UnixMilli()
	at := strconv.FormatInt(now, 10)
	token := rand.Text()
	wait, err := reserveScript.Run(ctx, c.rdb, keys[:1], at, ms(backend.CodeResendAfter), ms(time.Hour),
		backend.MaxCodesPerHour, token, ms(keep)).Int64()
	if err != nil {
		return fmt.Errorf("smscode: send: %w", err)
	}
	if wait > 0 {
		return &backend.TooSoonError{Wait: time.Duration(wait) * time.Millisecond}
	}
	code, err := newCode()
	if err != nil {
		c.undo(ctx, keys, token, at)
		return fmt.Errorf("smscode: send: %w", err)
	}
	if err := c.provider.Send(ctx, p, code); err != nil {
		if !errors.Is(err, ErrUnanswered) {
			c.undo(ctx, keys, token, at)
			safe := &providerError{text: masked(err), err: err}
			c.log.Warn("sms code not sent", "merchant", no, "phone", parse.MaskPhone(p), "err", safe.text)
			return fmt.Errorf("smscode: send: %w", safe)
		}
		// The provider may have sent it: the code is kept, as sent, so that
		// it works if it arrives; if it does not, the merchant asks for
		// another once the resend wait is over.
		c.log.Warn("sms provider did not answer; the code is kept as sent", "merchant", no,
			"phone", parse.MaskPhone(p), "err", masked(err))
	}
	value := strconv.FormatInt(now+backend.CodeTTL.Milliseconds(), 10) + ":" + c.mac(no, code)
	// The code is out: store it even if the caller has given up waiting.
	if _, err := commitScript.Run(context.WithoutCancel(ctx), c.rdb, keys, token, value, ms(backend.CodeTTL)).Int(); err != nil {
		return fmt.Errorf("smscode: send: store the code: %w", err)
	}
	c.log.Info("sms code sent", "merchant", no, "phone", parse.MaskPhone(p))
	return nil
}

func (c *Codes) undo(ctx context.Context, keys []string, token, at string) {
	if err := rollbackScript.Run(context.WithoutCancel(ctx), c.rdb, keys[:1], token, at).Err(); err != nil {
		c.log.Error("sms code: a failed send stays counted", "err", err)
	}
}

// Check checks a code sent for merchant no. A right code is used up.
// backend.ErrWrongCode for a wrong one (the last allowed wrong one burns the
// code and pauses codes for backend.CodeLockout), backend.ErrCodeExpired when
// no code is out or it is too old, a *backend.TooSoonError while codes are
// paused.
func (c *Codes) Check(ctx context.Context, no, code string) error {
	no, err := parse.MerchantNo(no)
	if err != nil {
		return fmt.Errorf("smscode: check: merchant number: %w", err)
	}
	d, err := parse.Code(code)
	if err != nil {
		// Not 6 digits: no code of ours. It is counted as a wrong one.
		d = ""
	}
	res, err := checkScript.Run(ctx, c.rdb, c.keys(no), c.now().UnixMilli(), c.macs(no, d), ms(time.Hour),
		backend.MaxCodeAttempts, ms(backend.CodeLockout), ms(keep)).Slice()
	if err != nil {
		return fmt.Errorf("smscode: check: %w", err)
	}
	outcome, _ := res[0].(string)
	n, _ := res[1].(int64)
	switch outcome {
	case "ok":
		return nil
	case "wrong":
		return backend.ErrWrongCode
	case "expired":
		return backend.ErrCodeExpired
	case "locked":
		return &backend.TooSoonError{Wait: time.Duration(n) * time.Millisecond}
	}
	return fmt.Errorf("smscode: check: unexpected answer %q", outcome)
}

// newCode is 6 random digits.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("random code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// providerError is a provider's failure with every sensitive number in its
// text masked; the original stays reachable (errors.Is a context's error).
type providerError struct {
	text string
	err  error
}

func (e *providerError) Error() string { return e.text }
func (e *providerError) Unwrap() error { return e.err }

func masked(err error) string {
	text, _ := parse.Mask(err.Error())
	return text
}
