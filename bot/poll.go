package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	tg "github.com/go-telegram/bot"

	"github.com/merchantbot/merchantbot/bot/sender"
)

// pollLimit is how many updates one getUpdates returns at most.
const pollLimit = 100

// Poll receives updates by long polling until ctx ends. Each batch is
// stored in the chats' queues (one Redis round trip) and confirmed to
// Telegram by the next getUpdates at once, whatever the chats' turns are
// doing: a slow or failing chat never holds up the fetching of the others.
// A batch that cannot be stored (Redis out of reach) is not confirmed and is
// fetched again. go-telegram/bot's own loop confirms an update as soon as
// it is fetched, before it is stored anywhere.
func (b *Bot) Poll(ctx context.Context, grace time.Duration) error {
	if err := b.deleteWebhook(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting: nothing was fetched, nothing to drain
		}
		return err
	}
	var offset int64
	fails := 0
	for ctx.Err() == nil {
		asked := time.Now()
		raws, last, err := b.getUpdates(ctx, offset, b.pollTimeout, pollLimit)
		if err == nil && len(raws) > 0 {
			err = b.intake(ctx, "polling", raws)
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			fails++
			if fatal := b.pollFailed(ctx, err, fails); fatal != nil {
				return fatal
			}
			continue
		}
		fails = 0
		if last >= offset {
			offset = last + 1
		}
		if len(raws) == 0 && time.Since(asked) < b.pollTimeout/4 {
			// A server that answers a long poll at once with nothing (a
			// proxy, an emulator) must not be asked again in a tight loop.
			sleep(ctx, time.Second)
		}
	}
	if offset > 0 {
		// Confirm the last batch stored; timeout 0 answers at once, and
		// whatever it returns stays with Telegram for the next process.
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, _, err := b.getUpdates(cctx, offset, 0, 1); err != nil {
			b.log.Warn("confirm stored updates", "offset", offset, "err", hideToken(err.Error(), b.token))
		}
	}
	gctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := b.Drain(gctx); err != nil {
		b.log.Warn("stopped with turns unfinished; they are applied again by the next process", "err", err)
	}
	return nil
}

// pollFailed waits as the error asks; an error that waiting cannot fix is
// returned.
func (b *Bot) pollFailed(ctx context.Context, err error, fails int) error {
	var apiErr *pollError
	wait := min(b.retryMin<<min(fails-1, 10), b.retryMax)
	wait = wait/2 + rand.N(wait/2+1)
	if errors.As(err, &apiErr) {
		switch apiErr.Code {
		case http.StatusUnauthorized, http.StatusNotFound:
			// The token was revoked: nothing will ever come again.
			b.tokenRefused("getUpdates", tg.ErrorUnauthorized)
			return fmt.Errorf("%w (getUpdates: %s)", ErrTokenRejected, hideToken(err.Error(), b.token))
		case http.StatusTooManyRequests:
			wait = max(time.Duration(apiErr.RetryAfter)*time.Second, wait)
		case http.StatusConflict:
			// Another process polls with this token, or a webhook is set.
			wait = max(wait, time.Second/2+rand.N(time.Second))
		}
	}
	b.log.Warn("getUpdates failed", "attempt", fails, "wait", wait, "err", hideToken(err.Error(), b.token))
	sleep(ctx, wait)
	return nil
}

func (b *Bot) deleteWebhook(ctx context.Context) error {
	err := b.send.Do(ctx, 0, sender.Unlimited, func(ctx context.Context) error {
		_, err := b.api.DeleteWebhook(ctx, &tg.DeleteWebhookParams{})
		return err
	})
	if err != nil {
		return fmt.Errorf("delete webhook: %s", hideToken(err.Error(), b.token))
	}
	return nil
}

// pollError is an error answer of getUpdates.
type pollError struct {
	Code        int
	Description string
	RetryAfter  int
}

func (e *pollError) Error() string {
	return fmt.Sprintf("telegram answered %d: %s", e.Code, e.Description)
}

// getUpdates makes one getUpdates call. The library has no public one; its
// loop confirms updates before they are handled.
// It returns the updates as received and the highest update id among them.
func (b *Bot) getUpdates(ctx context.Context, offset int64, timeout time.Duration, limit int) ([]json.RawMessage, int64, error) {
	body, err := json.Marshal(map[string]any{
		"offset":          offset,
		"timeout":         int(timeout / time.Second),
		"limit":           limit,
		"allowed_updates": allowedUpdates(),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("encode getUpdates: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, timeout+15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, b.serverURL+"/bot"+b.token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, 0, errors.New("build getUpdates request") // its error would quote the token
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which holds the token
		}
		return nil, 0, fmt.Errorf("getUpdates: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("read getUpdates: %w", err)
	}
	var env struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		ErrorCode   int               `json:"error_code"`
		Description string            `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, 0, fmt.Errorf("getUpdates answered HTTP %d, not the Bot API envelope", resp.StatusCode)
	}
	if !env.OK {
		return nil, 0, &pollError{Code: env.ErrorCode, Description: env.Description, RetryAfter: env.Parameters.RetryAfter}
	}
	var last int64
	for _, r := range env.Result {
		var id struct {
			ID int64 `json:"update_id"`
		}
		if json.Unmarshal(r, &id) != nil || id.ID == 0 {
			return nil, 0, fmt.Errorf("getUpdates: an update without update_id")
		}
		last = max(last, id.ID)
	}
	return env.Result, last, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
