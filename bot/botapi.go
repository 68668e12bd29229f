package bot

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

	tg "github.com/go-telegram/bot"
)

var okPrefix = []byte(`{"ok":true,"result":`)

// callTimeout bounds one Bot API request of the outbox.
const callTimeout = 10 * time.Second

// callJSON makes one Bot API call with a JSON body, as the outbox stores it,
// and returns the result. go-telegram/bot streams every request as multipart
// through a pipe (many small writes per call); a JSON body is one write with
// a Content-Length. Errors wrap the library's sentinels (tg.ErrorForbidden,
// tg.ErrorBadRequest, *tg.TooManyRequestsError, ...) so that bot/sender
// classifies them as it does the library's own, and never quote the token
// or the request body. Without wantResult an accepted call's result is
// neither checked nor returned (most calls' results are not read: only
// tagged ones', bot.sent).
func (b *Bot) callJSON(ctx context.Context, method string, body []byte, wantResult bool) (json.RawMessage, error) {
	// One request is bounded, so that a hung connection frees its sender;
	// the outbox lease is renewed meanwhile (lease.go in bot/chatq).
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.serverURL+"/bot"+b.token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build %s request", method) // its error would quote the token
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = method // without the token
		}
		return nil, fmt.Errorf("error do request for method %s, %w", method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s answer: %w", method, err)
	}
	// Most answers are `{"ok":true,"result":…}`: taking the result as it
	// stands scans the body once (json.Valid), where decoding the envelope
	// scans it twice; anything else goes the long way.
	if rest, ok := bytes.CutPrefix(raw, okPrefix); ok {
		if !wantResult {
			return nil, nil
		}
		rest = bytes.TrimRight(rest, " \t\r\n")
		if n := len(rest) - 1; n > 0 && rest[n] == '}' && json.Valid(rest[:n]) {
			return json.RawMessage(rest[:n]), nil
		}
	}
	var env struct {
		OK          bool            `json:"ok"`
		Result      json.RawMessage `json:"result"`
		ErrorCode   int             `json:"error_code"`
		Description string          `json:"description"`
		Parameters  struct {
			RetryAfter      int   `json:"retry_after"`
			MigrateToChatID int64 `json:"migrate_to_chat_id"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		if resp.StatusCode >= 500 {
			return nil, fmt.Errorf("error response from telegram for method %s, %d not the Bot API envelope", method, resp.StatusCode)
		}
		return nil, fmt.Errorf("%w, %s answered HTTP %d without the Bot API envelope", tg.ErrorBadRequest, method, resp.StatusCode)
	}
	if env.OK {
		return env.Result, nil
	}
	switch code := env.ErrorCode; {
	case code == http.StatusForbidden:
		return nil, fmt.Errorf("%w, %s", tg.ErrorForbidden, env.Description)
	case code == http.StatusTooManyRequests:
		b.metrics.TooManyRequests()
		return nil, &tg.TooManyRequestsError{Message: env.Description, RetryAfter: env.Parameters.RetryAfter}
	case code == http.StatusUnauthorized:
		return nil, fmt.Errorf("%w, %s", tg.ErrorUnauthorized, env.Description)
	case code == http.StatusNotFound:
		return nil, fmt.Errorf("%w, %s", tg.ErrorNotFound, env.Description)
	case code == http.StatusConflict:
		return nil, fmt.Errorf("%w, %s", tg.ErrorConflict, env.Description)
	case code >= 500:
		return nil, fmt.Errorf("error response from telegram for method %s, %d %s", method, code, env.Description)
	}
	return nil, fmt.Errorf("%w, %s", tg.ErrorBadRequest, env.Description)
}
