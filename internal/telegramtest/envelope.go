package telegramtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is a Bot API failure: error_code, description and, for 429, retry_after.
type apiError struct {
	code       int
	desc       string
	retryAfter int
}

func badRequest(desc string) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: "Bad Request: " + desc}
}

func forbidden(desc string) *apiError {
	return &apiError{code: http.StatusForbidden, desc: "Forbidden: " + desc}
}

func tooManyRequests(retryAfter int) *apiError {
	return &apiError{
		code:       http.StatusTooManyRequests,
		desc:       "Too Many Requests: retry after " + strconv.Itoa(retryAfter),
		retryAfter: retryAfter,
	}
}

var (
	errUnauthorized   = &apiError{code: http.StatusUnauthorized, desc: "Unauthorized"}
	errNotFound       = &apiError{code: http.StatusNotFound, desc: "Not Found"}
	errMethodNotFound = &apiError{code: http.StatusNotFound, desc: "Not Found: method not found"}
	errWebhookActive  = &apiError{code: http.StatusConflict,
		desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	errOtherPoller = &apiError{code: http.StatusConflict,
		desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
	errClosing = &apiError{code: http.StatusInternalServerError, desc: "Internal Server Error: server is closing"}
)

// defaultDescription is what Telegram says for code when a test does not say otherwise.
func defaultDescription(code, retryAfter int) string {
	switch code {
	case http.StatusBadRequest:
		return "Bad Request"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden: bot was blocked by the user"
	case http.StatusNotFound:
		return "Not Found"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusTooManyRequests:
		return fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
	}
	if text := http.StatusText(code); text != "" {
		return text
	}
	return "Error"
}

// okResult is a successful answer; description is set by the few methods Telegram adds one to.
type okResult struct {
	value       any
	description string
}

type envelope struct {
	OK          bool            `json:"ok"`
	Result      any             `json:"result,omitempty"`
	Description string          `json:"description,omitempty"`
	ErrorCode   int             `json:"error_code,omitempty"`
	Parameters  *responseParams `json:"parameters,omitempty"`
}

type responseParams struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

func writeOK(w http.ResponseWriter, result any) {
	env := envelope{OK: true, Result: result}
	if r, ok := result.(okResult); ok {
		env.Result, env.Description = r.value, r.description
	}
	writeEnvelope(w, http.StatusOK, env)
}

func writeError(w http.ResponseWriter, e *apiError) {
	env := envelope{ErrorCode: e.code, Description: e.desc}
	if e.retryAfter > 0 {
		env.Parameters = &responseParams{RetryAfter: e.retryAfter}
	}
	writeEnvelope(w, e.code, env)
}

func writeEnvelope(w http.ResponseWriter, status int, env envelope) {
	body, err := json.Marshal(env)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error: encode result"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
