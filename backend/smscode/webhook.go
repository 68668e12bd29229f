package smscode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/merchantbot/merchantbot/backend"
)

// Headers of a webhook request. The signature is backend.Sign's, as on the
// acquirer's events: "v1=" and the hex HMAC-SHA256, under the shared
// secret, of "<timestamp>.<body>"; the gateway checks it (backend.Verify in
// Go) and refuses a timestamp more than backend.MaxEventAge away.
const (
	HeaderTimestamp = "X-Merchantbot-Timestamp"
	HeaderSignature = "X-Merchantbot-Signature"
)

// WebhookMessage is the body the operator's gateway receives.
type WebhookMessage struct {
	Phone    string `json:"phone"`              // 11 digits, mainland mobile
	Code     string `json:"code"`               // 6 digits
	Template string `json:"template,omitempty"` // the template the gateway should use, when configured
}

// Webhook sends codes to the operator's own SMS gateway: a signed JSON POST
// (WebhookMessage); any 2xx answer means sent. The request carries the phone
// and the code: the URL should be https (NewWebhook refuses http unless
// allowed, for tests and a gateway on the same host).
type Webhook struct {
	url      string
	secret   []byte
	template string
	client   *http.Client
	now      func() time.Time
}

// WebhookConfig configures a Webhook.
type WebhookConfig struct {
	URL       string
	Secret    []byte // at least 32 bytes
	Template  string // optional
	AllowHTTP bool   // accept an http:// URL (tests, a gateway on localhost)
	Timeout   time.Duration
	Client    *http.Client     // default: a client with Timeout (10 s)
	Now       func() time.Time // default time.Now
}

// NewWebhook returns the webhook provider of cfg.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errors.New("sms webhook: want an absolute https URL")
	}
	if u.Scheme == "http" && !cfg.AllowHTTP {
		return nil, errors.New("sms webhook: the URL must be https (the request carries the phone and the code)")
	}
	if len(cfg.Secret) < MinKeySize {
		return nil, fmt.Errorf("sms webhook: the secret is %d bytes, want at least %d", len(cfg.Secret), MinKeySize)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Webhook{url: cfg.URL, secret: cfg.Secret, template: cfg.Template, client: cfg.Client, now: cfg.Now}, nil
}

// Send posts the code to the gateway. Its errors say the status, never the
// answer's body (a gateway may echo the request).
func (w *Webhook) Send(ctx context.Context, phone, code string) error {
	body, err := json.Marshal(WebhookMessage{Phone: phone, Code: code, Template: w.template})
	if err != nil {
		return errors.New("sms webhook: encode")
	}
	ctx, wrote := traced(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return errors.New("sms webhook: build the request")
	}
	ts, sig := backend.Sign(w.secret, w.now(), body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, sig)
	resp, err := w.client.Do(req)
	if err != nil {
		switch ue := (*url.Error)(nil); {
		case ctx.Err() != nil:
			err = fmt.Errorf("sms webhook: %w", ctx.Err())
		case errors.As(err, &ue):
			err = fmt.Errorf("sms webhook: %s", ue.Err) // without the URL's query, which may hold a token
		default:
			err = errors.New("sms webhook: request failed")
		}
		if wrote() {
			return unanswered(err) // the gateway has the request: it may have sent the code
		}
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusGatewayTimeout {
		// A proxy gave up waiting for the gateway, which may have sent it.
		return unanswered(fmt.Errorf("sms webhook: the gateway answered HTTP %d", resp.StatusCode))
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sms webhook: the gateway answered HTTP %d", resp.StatusCode)
	}
	return nil
}
