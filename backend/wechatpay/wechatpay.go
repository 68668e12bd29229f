// Package wechatpay is the acquirer adapter for WeChat Pay's service
// providers (服务商): a sub-merchant's settlement-account change
// (modify-settlement), its review (application), the account in effect
// (settlement) and the bank, region and branch lists (capitallhh), on
// github.com/wechatpay-apiv3/wechatpay-go for signing, verifying answers
// and encrypting the card number and the holder's name.
//
// WeChat Pay does not know the merchants' phones nor send codes: the
// operator's Directory and the bot's own Codes do. WeChat Pay has no
// idempotency key: the Backend keeps one record per submission key in
// Redis (content HMAC only, never the card or the name) and, after a lost
// answer, looks before it sends again (docs/ACQUIRERS.md).
package wechatpay

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/cipher/decryptors"
	"github.com/wechatpay-apiv3/wechatpay-go/core/cipher/encryptors"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"

	"github.com/merchantbot/merchantbot/backend"
)

// DefaultBaseURL is WeChat Pay's API.
const DefaultBaseURL = "https://api.mch.weixin.qq.com"

// ErrBadSignature is a 2xx answer whose WeChat Pay signature does not
// verify (or whose signature headers are missing or stale): its content is
// not believed. It is logged (never its body) and counted (BadSignatures,
// and the Observer sees it), and the caller gets it wrapped with
// backend.ErrUnavailable.
var ErrBadSignature = errors.New("wechatpay: answer signature does not verify")

// Config is what the Backend needs. Exactly one of PublicKey (with
// PublicKeyID: the recommended public-key mode) and PlatformCerts (the older
// platform-certificate mode) is set.
type Config struct {
	MchID      string          // the service provider's mchid
	CertSerial string          // the merchant API certificate's serial number
	PrivateKey *rsa.PrivateKey // the merchant API certificate's private key (apiclient_key.pem)

	PublicKeyID string         // PUB_KEY_ID_…
	PublicKey   *rsa.PublicKey // WeChat Pay's public key

	PlatformCerts []*x509.Certificate // WeChat Pay's platform certificates (older mode)

	BaseURL    string       // default DefaultBaseURL
	HTTPClient *http.Client // default one with a 10 s timeout

	Redis  redis.UniversalClient
	Prefix string // key prefix in Redis

	Directory backend.Directory
	Codes     backend.Codes

	Clock    func() time.Time // default time.Now
	Observer backend.Observer // every call to WeChat Pay; nil: none
	Logger   *slog.Logger     // default slog.Default()

	// ListTTL is how long the bank, region and branch lists are cached
	// (default a day: WeChat Pay says they are snapshots to cache).
	ListTTL time.Duration
	// ReviewEstimate is the ReviewBy shown after a submission: WeChat Pay
	// promises no review time, so this is the operator's estimate
	// (default 3 days).
	ReviewEstimate time.Duration
}

// Backend is WeChat Pay as merchantbot's acquirer: it satisfies
// dialogs.Backend, the poller's Application, the support desk's Backend and
// backend.Branches.
type Backend struct {
	client  *core.Client
	base    string
	rdb     redis.UniversalClient
	prefix  string
	dir     backend.Directory
	codes   backend.Codes
	now     func() time.Time
	obs     backend.Observer
	log     *slog.Logger
	ttl     time.Duration
	review  time.Duration
	hmacKey []byte

	badSignatures atomic.Int64
}

var _ backend.Branches = (*Backend)(nil)

// New builds a Backend from cfg.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	switch {
	case cfg.MchID == "":
		return nil, errors.New("wechatpay: no mchid")
	case cfg.CertSerial == "":
		return nil, errors.New("wechatpay: no API certificate serial")
	case cfg.PrivateKey == nil:
		return nil, errors.New("wechatpay: no API certificate private key")
	case (cfg.PublicKey != nil) == (len(cfg.PlatformCerts) > 0):
		return nil, errors.New("wechatpay: give either WeChat Pay's public key or its platform certificates, not both or neither")
	case cfg.PublicKey != nil && cfg.PublicKeyID == "":
		return nil, errors.New("wechatpay: no public key id")
	case cfg.Redis == nil || cfg.Directory == nil || cfg.Codes == nil:
		return nil, errors.New("wechatpay: Redis, Directory and Codes are required")
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, errors.New("wechatpay: base URL must be http(s)://host[/path]")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: backend.DefaultTimeout}
	}
	opts := []core.ClientOption{option.WithHTTPClient(hc)}
	if cfg.PublicKey != nil {
		opts = append(opts, option.WithWechatPayPublicKeyAuthCipher(cfg.MchID, cfg.CertSerial, cfg.PrivateKey, cfg.PublicKeyID, cfg.PublicKey))
	} else {
		opts = append(opts,
			option.WithMerchantCredential(cfg.MchID, cfg.CertSerial, cfg.PrivateKey),
			option.WithWechatPayCertificate(cfg.PlatformCerts),
			option.WithWechatPayCipher(
				encryptors.NewWechatPayEncryptor(core.NewCertificateMapWithList(cfg.PlatformCerts)),
				decryptors.NewWechatPayDecryptor(cfg.PrivateKey)))
	}
	client, err := core.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: client: %w", err)
	}
	b := &Backend{
		client: client, base: strings.TrimRight(u.String(), "/"),
		rdb: cfg.Redis, prefix: cfg.Prefix, dir: cfg.Directory, codes: cfg.Codes,
		now: cfg.Clock, obs: cfg.Observer, log: cfg.Logger, ttl: cfg.ListTTL, review: cfg.ReviewEstimate,
		hmacKey: contentKey(cfg.PrivateKey),
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	if b.ttl <= 0 {
		b.ttl = 24 * time.Hour
	}
	if b.review <= 0 {
		b.review = 72 * time.Hour
	}
	return b, nil
}

// BadSignatures is how many answers were refused because their signature
// did not verify, since the Backend was built.
func (b *Backend) BadSignatures() int64 { return b.badSignatures.Load() }

// Error is WeChat Pay's error answer, or a failure to get one. Its text
// holds the operation, the HTTP status, WeChat Pay's code and its message
// with every digit hidden: never the body or the headers.
type Error struct {
	Op      string
	Status  int    // 0 when no answer came
	Code    string // PARAM_ERROR, SIGN_ERROR, FREQUENCY_LIMITED, …
	Message string // digits hidden, at most 200 bytes
	// Lost: the request may have reached WeChat Pay and been acted on
	// (no answer, a 5xx, an answer that cannot be believed).
	Lost bool
	err  error
}

func (e *Error) Error() string {
	s := "wechatpay " + e.Op
	if e.Status != 0 {
		s += fmt.Sprintf(": HTTP %d %s", e.Status, e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.err }

// call makes one call to WeChat Pay: body (if not nil) as JSON, a verified
// 2xx answer into out (if not nil), anything else into an *Error.
func (b *Backend) call(ctx context.Context, op, method, path string, query url.Values, body, out any) (err error) {
	start := time.Now()
	defer func() {
		if b.obs != nil {
			b.obs.AcquirerCall(op, time.Since(start), err)
		}
	}()
	res, err := b.client.Request(ctx, method, b.base+path, nil, query, body, "")
	if res != nil && res.Response != nil {
		defer res.Response.Body.Close()
	}
	if err != nil {
		return b.failure(op, res, err)
	}
	if out == nil {
		return nil
	}
	if err := core.UnMarshalResponse(res.Response, out); err != nil {
		return &Error{Op: op, Status: res.Response.StatusCode, Lost: true,
			err: fmt.Errorf("%w: malformed answer", backend.ErrUnavailable)}
	}
	return nil
}

// failure turns what core.Client.Request returned into an *Error.
func (b *Backend) failure(op string, res *core.APIResult, err error) error {
	var api *core.APIError
	if errors.As(err, &api) {
		e := &Error{Op: op, Status: api.StatusCode, Code: api.Code, Message: hideDigits(api.Message)}
		e.err, e.Lost = sentinel(op, e)
		if e.Status == http.StatusUnauthorized || e.Code == "SIGN_ERROR" {
			b.log.Error("WeChat Pay refused our signature: check WECHATPAY_MCHID, the certificate serial and the private key",
				"op", op, "status", e.Status, "code", e.Code, "request_id", api.Header.Get("Request-Id"))
		}
		if e.Status == http.StatusForbidden || e.Code == "NO_AUTH" {
			b.log.Warn("WeChat Pay: not a sub-merchant of this service provider: check the directory's sub_mchid",
				"op", op, "status", e.Status, "code", e.Code)
		}
		return e
	}
	if res != nil && res.Response != nil && res.Response.StatusCode >= 200 && res.Response.StatusCode <= 299 {
		// Checked the status, then the signature: the answer is not WeChat Pay's.
		b.badSignatures.Add(1)
		b.log.Error("WeChat Pay answer refused: its signature does not verify",
			"op", op, "status", res.Response.StatusCode, "request_id", res.Response.Header.Get("Request-Id"),
			"serial", res.Response.Header.Get("Wechatpay-Serial"))
		return &Error{Op: op, Status: res.Response.StatusCode, Lost: true,
			err: fmt.Errorf("%w: %w", ErrBadSignature, backend.ErrUnavailable)}
	}
	// No answer: a timeout, a reset connection, a cancelled context.
	cause := errors.Unwrap(err)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		cause = ue.Err
	}
	if cause == nil {
		cause = errors.New("no answer")
	}
	return &Error{Op: op, Lost: true, err: fmt.Errorf("%w: %w", backend.ErrUnavailable, cause)}
}

// sentinel maps an error answer onto the backend's errors, and says whether
// the request may have been acted on anyway (a 5xx).
func sentinel(op string, e *Error) (error, bool) {
	switch {
	case e.Status >= 500:
		return backend.ErrUnavailable, true
	case e.Code == "" || e.Status == http.StatusRequestTimeout:
		// Not WeChat Pay's own refusal (its errors carry a code; the SDK
		// checks no signature on them): a proxy or gateway on the way
		// answered, and the request may have reached WeChat Pay or not.
		return backend.ErrUnavailable, true
	case e.Code == "SIGN_ERROR" || e.Status == http.StatusUnauthorized:
		return backend.ErrUnauthorized, false
	case e.Code == "NO_AUTH" || e.Status == http.StatusForbidden:
		// A sub-merchant this service provider did not onboard: the
		// directory is wrong, the merchant cannot change anything here.
		return backend.ErrUnknownMerchant, false
	case e.Code == "FREQUENCY_LIMITED" || e.Status == http.StatusTooManyRequests:
		if op == opModify && dailyLimit(e.Message) {
			return backend.ErrTooManyRequests, false
		}
		return backend.ErrUnavailable, false
	case op == opModify && underReview(e.Message):
		return backend.ErrChangePending, false
	case e.Code == "NOT_FOUND" || e.Status == http.StatusNotFound:
		if op == opApplication {
			return backend.ErrUnknownApplication, false
		}
		return backend.ErrInvalidRequest, false
	}
	return backend.ErrInvalidRequest, false
}

// underReview recognises WeChat Pay's refusal of a change while another is
// 审核中 ("在此期间无法再次提交修改申请"). Its code is not published, so the
// words are read.
func underReview(msg string) bool {
	return strings.Contains(msg, "审核中") || strings.Contains(msg, "重复提交")
}

// dailyLimit recognises the 5-changes-a-day refusal among the rate limits.
func dailyLimit(msg string) bool {
	for _, w := range []string{"当日", "今日", "每天", "每日", "次数"} {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

// hideDigits hides every digit of WeChat Pay's message (it may quote a
// field) and keeps at most 200 bytes.
func hideDigits(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= '０' && r <= '９' {
			return '#'
		}
		return r
	}, s)
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "")
	}
	return s
}
