package sender

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/go-telegram/bot"
)

// ErrBlocked means Telegram answered 403: the merchant blocked the bot, or the bot was removed
// from the group. The returned error also wraps the library's bot.ErrorForbidden.
var ErrBlocked = errors.New("chat blocked the bot")

// outcome is what Do does after a failed call.
type outcome int

const (
	giveUp     outcome = iota // 400, 401, 404, 409, unknown errors: retrying will not help
	retryAfter                // 429: wait what Telegram asked, then retry
	backoff                   // 5xx, network: retry with exponential backoff
	blocked                   // 403: record and stop
)

// serverError matches the library's error for status codes it has no sentinel for.
var serverError = regexp.MustCompile(`error response from telegram for method \S+, (\d{3}) `)

// classify decides what to do about err. For retryAfter it also returns the wait Telegram asked
// for, zero when the response had none. Do checks its own context first, so a deadline seen here
// is the HTTP client's timeout: a transient failure like any other network error.
func classify(err error) (outcome, time.Duration) {
	var tooMany *bot.TooManyRequestsError
	if errors.As(err, &tooMany) {
		return retryAfter, time.Duration(tooMany.RetryAfter) * time.Second
	}
	if errors.Is(err, bot.ErrorForbidden) {
		return blocked, 0
	}
	if errors.Is(err, bot.ErrorBadRequest) || errors.Is(err, bot.ErrorUnauthorized) ||
		errors.Is(err, bot.ErrorNotFound) || errors.Is(err, bot.ErrorConflict) {
		return giveUp, 0
	}
	var migrate *bot.MigrateError
	if errors.As(err, &migrate) {
		return giveUp, 0
	}
	if m := serverError.FindStringSubmatch(err.Error()); m != nil {
		if code, _ := strconv.Atoi(m[1]); code >= 500 {
			return backoff, 0
		}
		return giveUp, 0
	}
	var (
		urlErr *url.Error
		netErr net.Error
		syntax *json.SyntaxError
	)
	switch {
	case errors.As(err, &urlErr), errors.As(err, &netErr),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return backoff, 0
	case errors.As(err, &syntax) && undecodableBody.MatchString(err.Error()):
		// A proxy in front of the Bot API answers an overloaded 502/504 with an HTML page.
		return backoff, 0
	}
	return giveUp, 0
}

// undecodableBody matches the library's error for a response that is not JSON. That error quotes
// the whole body, which may echo the request (message text), so redact cuts it off.
var undecodableBody = regexp.MustCompile(`(error decode response body for method \S+?), .*`)

// SendError is what Do returns when a call failed. Its text names the chat and the library's
// error with any echoed response body removed, so it never carries message text.
type SendError struct {
	ChatID   int64
	Attempts int
	Err      error
}

func (e *SendError) Error() string {
	return fmt.Sprintf("send to chat %d (attempt %d): %s", e.ChatID, e.Attempts, redact(e.Err))
}

func (e *SendError) Unwrap() error { return e.Err }

func redact(err error) string {
	return undecodableBody.ReplaceAllString(err.Error(), "${1}: response is not JSON")
}

// RetryLater is a 429 whose retry_after is longer than the Sender may wait (WithMaxWait).
type RetryLater struct {
	After time.Duration
	Err   error
}

func (e *RetryLater) Error() string {
	return fmt.Sprintf("telegram asks to wait %s: %s", e.After, redact(e.Err))
}

func (e *RetryLater) Unwrap() error { return e.Err }
