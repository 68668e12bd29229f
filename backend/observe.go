package backend

import (
	"net/http"
	"strings"
	"time"
)

// Operations of the API, as an Observer names them: a fixed set, never a
// path (paths hold merchant numbers).
const (
	OpVerifyMerchant = "verify_merchant"
	OpMerchant       = "merchant"
	OpSendCode       = "send_code"
	OpCheckCode      = "check_code"
	OpSubmit         = "submit"
	OpApplications   = "applications"
	OpOther          = "other"
)

// Observer learns of every call the Client makes: which operation, how long
// it took and how it ended (nil, or the error the caller gets). It is how
// metrics count acquirer errors and latency without the client knowing
// about Prometheus; it must be safe for concurrent use and quick.
type Observer interface {
	AcquirerCall(op string, took time.Duration, err error)
}

// WithObserver reports every call to o.
func WithObserver(o Observer) ClientOption { return func(c *Client) { c.observer = o } }

// observe reports one call that began at start and ended with *err.
func (c *Client) observe(method, path string, start time.Time, err *error) {
	if c.observer == nil {
		return
	}
	c.observer.AcquirerCall(opOf(method, path), time.Since(start), *err)
}

// opOf names the operation of a call from its method and path template.
func opOf(method, path string) string {
	switch {
	case method == http.MethodPost && path == "/v1/applications":
		return OpSubmit
	case !strings.HasPrefix(path, "/v1/merchants/"):
		return OpOther
	case method == http.MethodPost && strings.HasSuffix(path, "/verify"):
		return OpVerifyMerchant
	case method == http.MethodPost && strings.HasSuffix(path, "/codes/check"):
		return OpCheckCode
	case method == http.MethodPost && strings.HasSuffix(path, "/codes"):
		return OpSendCode
	case method == http.MethodGet && strings.HasSuffix(path, "/applications"):
		return OpApplications
	case method == http.MethodGet && strings.Count(path, "/") == 3:
		return OpMerchant
	}
	return OpOther
}
