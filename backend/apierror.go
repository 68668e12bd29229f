package backend

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error codes of the API's JSON error body {"code": ..., "message": ...}.
// openapi.yaml lists the same codes.
const (
	CodeUnknownMerchant = "unknown_merchant"
	CodeUnknownApp      = "unknown_application"
	CodePhoneMismatch   = "phone_mismatch"
	CodeWrongCode       = "wrong_code"
	CodeCodeExpired     = "code_expired"
	CodeCodeTooSoon     = "code_too_soon"
	CodeTooManyRequests = "too_many_requests"
	CodeChangePending   = "change_pending"
	CodeInvalidRequest  = "invalid_request"
	CodeUnauthorized    = "unauthorized"
	CodeUnavailable     = "unavailable"
	CodeInternal        = "internal"
)

// apiErrors is the one table between sentinels, codes and HTTP statuses: the
// server writes with it (ErrorCode) and the client reads with it (APIError).
var apiErrors = []struct {
	err    error
	code   string
	status int
}{
	{ErrUnknownMerchant, CodeUnknownMerchant, http.StatusNotFound},
	{ErrUnknownApplication, CodeUnknownApp, http.StatusNotFound},
	{ErrPhoneMismatch, CodePhoneMismatch, http.StatusUnprocessableEntity},
	{ErrWrongCode, CodeWrongCode, http.StatusUnprocessableEntity},
	{ErrCodeExpired, CodeCodeExpired, http.StatusGone},
	{ErrCodeTooSoon, CodeCodeTooSoon, http.StatusTooManyRequests},
	{ErrTooManyRequests, CodeTooManyRequests, http.StatusTooManyRequests},
	{ErrChangePending, CodeChangePending, http.StatusConflict},
	{ErrInvalidRequest, CodeInvalidRequest, http.StatusBadRequest},
	{ErrUnauthorized, CodeUnauthorized, http.StatusUnauthorized},
	{ErrUnavailable, CodeUnavailable, http.StatusServiceUnavailable},
}

// ErrorCode says how the API reports err: its code and HTTP status. An error
// that is none of the sentinels is CodeInternal, 500.
func ErrorCode(err error) (code string, status int) {
	for _, e := range apiErrors {
		if errors.Is(err, e.err) {
			return e.code, e.status
		}
	}
	return CodeInternal, http.StatusInternalServerError
}

// APIError is an error response of the API. It unwraps to the sentinel of its
// code (ErrPhoneMismatch for "phone_mismatch"), to ErrUnavailable for a 5xx,
// 429 or 408 with an unknown code, and to nothing otherwise.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// RetryAfter is, for code_too_soon, the seconds until a new code may
	// be asked for.
	RetryAfter int `json:"retry_after,omitempty"`
}

// TooSoonError is ErrCodeTooSoon with the wait until a new code may be
// asked for.
type TooSoonError struct{ Wait time.Duration }

func (e *TooSoonError) Error() string { return ErrCodeTooSoon.Error() }
func (e *TooSoonError) Unwrap() error { return ErrCodeTooSoon }

// RetryAfter is how long err says to wait (a TooSoonError, or an APIError
// carrying retry_after); false when it does not say.
func RetryAfter(err error) (time.Duration, bool) {
	var ts *TooSoonError
	if errors.As(err, &ts) {
		return ts.Wait, true
	}
	var api *APIError
	if errors.As(err, &api) && api.RetryAfter > 0 {
		return time.Duration(api.RetryAfter) * time.Second, true
	}
	return 0, false
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s (HTTP %d)", e.Code, e.Status)
	}
	return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// Unwrap lets errors.Is(err, ErrWrongCode) and friends work on API errors.
func (e *APIError) Unwrap() error {
	for _, x := range apiErrors {
		if x.code == e.Code {
			return x.err
		}
	}
	// A proxy's or gateway's failure, a throttle or a timeout in front of the
	// API: worth trying again later.
	if e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout {
		return ErrUnavailable
	}
	return nil
}
