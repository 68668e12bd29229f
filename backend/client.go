package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds a call when the caller brings no *http.Client.
const DefaultTimeout = 10 * time.Second

// maxResponse bounds what the client reads of a response.
const maxResponse = 1 << 20

// Client talks to the acquirer API (openapi.yaml) over HTTP. Its errors unwrap
// to the sentinels of this package: API error codes to their sentinel, network
// failures, timeouts and 5xx to ErrUnavailable. They never carry card data.
type Client struct {
	base     string // scheme://host/path without the trailing slash
	http     *http.Client
	apiKey   string
	observer Observer // nil: calls are not reported
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithHTTPClient sets the HTTP client, its timeout included (the default one
// has DefaultTimeout).
func WithHTTPClient(hc *http.Client) ClientOption {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithAPIKey sends "Authorization: Bearer key" with every call.
func WithAPIKey(key string) ClientOption { return func(c *Client) { c.apiKey = key } }

// NewClient returns a client of the API at baseURL (http or https, with an
// optional path prefix).
func NewClient(baseURL string, opts ...ClientOption) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, errors.New("backend URL: not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("backend URL %s: scheme must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("backend URL %s: no host", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("backend URL %s: no query or fragment allowed", u.Redacted())
	}
	c := &Client{
		base: strings.TrimRight(u.String(), "/"),
		http: &http.Client{Timeout: DefaultTimeout},
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// VerifyMerchant checks that phone is the one on file for merchant no.
func (c *Client) VerifyMerchant(ctx context.Context, no, phone string) (Merchant, error) {
	var m Merchant
	p, err := merchantPath(no, "/verify")
	if err == nil {
		err = c.do(ctx, http.MethodPost, p, nil, map[string]string{"phone": phone}, &m)
	}
	if err != nil {
		return Merchant{}, fmt.Errorf("verify merchant: %w", err)
	}
	return m, nil
}

// Merchant returns merchant no.
func (c *Client) Merchant(ctx context.Context, no string) (Merchant, error) {
	var m Merchant
	p, err := merchantPath(no, "")
	if err == nil {
		err = c.do(ctx, http.MethodGet, p, nil, nil, &m)
	}
	if err != nil {
		return Merchant{}, fmt.Errorf("get merchant: %w", err)
	}
	return m, nil
}

// SendCode has the acquirer send an SMS code to the phone on file of merchant no.
func (c *Client) SendCode(ctx context.Context, no string) error {
	p, err := merchantPath(no, "/codes")
	if err == nil {
		err = c.do(ctx, http.MethodPost, p, nil, nil, nil)
	}
	if err != nil {
		return fmt.Errorf("send code: %w", err)
	}
	return nil
}

// CheckCode checks a code sent by SendCode.
func (c *Client) CheckCode(ctx context.Context, no, code string) error {
	p, err := merchantPath(no, "/codes/check")
	if err == nil {
		err = c.do(ctx, http.MethodPost, p, nil, map[string]string{"code": code}, nil)
	}
	if err != nil {
		return fmt.Errorf("check code: %w", err)
	}
	return nil
}

// Submit sends an application for review; the same key returns the same
// receipt instead of a second application, so a call that failed with
// ErrUnavailable is safe to repeat with its key. The request body is the only
// place the full card number goes.
func (c *Client) Submit(ctx context.Context, key string, app Application) (Receipt, error) {
	if strings.TrimSpace(key) == "" {
		return Receipt{}, fmt.Errorf("submit: %w: no idempotency key", ErrInvalidRequest)
	}
	var r Receipt
	hdr := http.Header{"Idempotency-Key": {key}}
	if err := c.do(ctx, http.MethodPost, "/v1/applications", hdr, app, &r); err != nil {
		return Receipt{}, fmt.Errorf("submit: %w", err)
	}
	return r, nil
}

// Applications lists merchant no's applications, newest first.
func (c *Client) Applications(ctx context.Context, no string) ([]Receipt, error) {
	var body struct {
		Applications []Receipt `json:"applications"`
	}
	p, err := merchantPath(no, "/applications")
	if err == nil {
		err = c.do(ctx, http.MethodGet, p, nil, nil, &body)
	}
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	if body.Applications == nil {
		body.Applications = []Receipt{}
	}
	return body.Applications, nil
}

// Application returns the application id as it stands now. The poller
// reconciles open applications with it.
func (c *Client) Application(ctx context.Context, id string) (Receipt, error) {
	var r Receipt
	err := ErrInvalidRequest
	if strings.Trim(id, ".") != "" {
		err = c.do(ctx, http.MethodGet, "/v1/applications/"+url.PathEscape(id), nil, nil, &r)
	}
	if err != nil {
		return Receipt{}, fmt.Errorf("get application: %w", err)
	}
	return r, nil
}

// Ping checks that the acquirer answers its liveness probe (GET /healthz),
// for the bot's readiness.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.do(ctx, http.MethodGet, "/healthz", nil, nil, nil); err != nil {
		return fmt.Errorf("acquirer health: %w", err)
	}
	return nil
}

// merchantPath is /v1/merchants/{no}+suffix. A number made only of dots would
// be cleaned out of the path by the server, so it is refused here.
func merchantPath(no, suffix string) (string, error) {
	if strings.Trim(no, ".") == "" {
		return "", ErrUnknownMerchant
	}
	return "/v1/merchants/" + url.PathEscape(no) + suffix, nil
}

// do makes one call: in (if not nil) as the JSON body, the 2xx JSON response
// into out (if not nil), anything else into an error.
func (c *Client) do(ctx context.Context, method, path string, hdr http.Header, in, out any) (err error) {
	defer c.observe(method, path, time.Now(), &err)
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "merchantbot")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%w: read response: %w", ErrUnavailable, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return responseError(resp.StatusCode, raw, c.apiKey)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%w: malformed response (HTTP %d)", ErrUnavailable, resp.StatusCode)
	}
	return nil
}

// responseError turns a non-2xx response into an *APIError. A body that is
// not the API's error JSON (a proxy's page) keeps only the status. A server
// that quotes the API key back ("invalid token …") does not get it into our
// errors, hence logs.
func responseError(status int, raw []byte, apiKey string) error {
	e := &APIError{Status: status}
	if json.Unmarshal(raw, e) != nil {
		e.Code, e.Message = "", ""
	}
	if apiKey != "" {
		e.Message = strings.ReplaceAll(e.Message, apiKey, "[api key]")
		e.Code = strings.ReplaceAll(e.Code, apiKey, "[api key]")
	}
	// The code is the API's word for the error ("phone_mismatch"): a digit
	// in it is a server quoting something, not a code of ours.
	e.Code = redactCardNumbers(e.Code)
	if len(e.Code) > 64 {
		e.Code = strings.ToValidUTF8(e.Code[:64], "")
	}
	e.Message = redactCardNumbers(e.Message)
	if len(e.Message) > 200 {
		e.Message = strings.ToValidUTF8(e.Message[:200], "")
	}
	return e
}

// redactCardNumbers hides every digit of a server's message: the client's
// errors go to logs, which never hold a card number, a phone or a code, and
// a server may quote any of them, grouped or in full-width digits.
func redactCardNumbers(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= '０' && r <= '９' {
			return '#'
		}
		return r
	}, s)
}
