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
	"sort"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/bot/sender"
)

// pollLimit is how many updates one getUpdates returns at most.
const pollLimit = 100

// Poll receives updates by long polling until ctx ends, then stops fetching,
// waits up to grace for the updates it has to be applied, and confirms to
// Telegram only those that were. go-telegram/bot's own loop confirms an
// update as soon as it is fetched and drops what it fetched on shutdown;
// here an update that is not finished stays with Telegram, which gives it to
// the next process (whose de-duplication skips it if it was applied after
// all).
//
// Telegram confirms by offset: every update below it. The offset sent is
// therefore the oldest update not finished; updates after it that are
// running or done are fetched again and skipped.
func (b *Bot) Poll(ctx context.Context, grace time.Duration) error {
	if err := b.deleteWebhook(ctx); err != nil {
		return err
	}
	t := newTracker()
	var confirmed int64
	fails := 0
	for ctx.Err() == nil {
		if t.inFlight() >= b.maxInFlight {
			t.waitChange(ctx, time.Second)
			continue
		}
		timeout := b.pollTimeout
		if t.inFlight() > 0 {
			timeout = 0 // answer at once: the running updates come back, and anything new
		}
		offset := t.offset()
		asked := time.Now()
		updates, err := b.getUpdates(ctx, offset, timeout, pollLimit)
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
		fails, confirmed = 0, offset
		fresh := 0
		for i := range updates {
			u := &updates[i]
			if !t.admit(u.ID) {
				continue // running or done already
			}
			fresh++
			id := u.ID
			b.queue.push(&job{u: newUpdate(u), retry: true, done: func(err error) {
				if err == nil {
					t.finish(id)
					return
				}
				t.abandon()
				b.log.Warn("update left unconfirmed", "update_id", id, "err", scrub(err.Error(), b.token))
			}})
		}
		switch {
		case fresh == 0 && t.inFlight() > 0:
			t.waitChange(ctx, 200*time.Millisecond)
		case len(updates) == 0 && timeout > 0 && time.Since(asked) < timeout/4:
			// A server that answers a long poll at once with nothing (a
			// proxy, an emulator) must not be asked again in a tight loop.
			sleep(ctx, time.Second)
		}
	}

	gctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	drainErr := b.Drain(gctx)
	if offset := t.offset(); offset > confirmed {
		// Confirm what finished; timeout 0 answers at once, and whatever
		// it returns stays unconfirmed.
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := b.getUpdates(cctx, offset, 0, 1); err != nil {
			b.log.Warn("confirm finished updates", "offset", offset, "err", scrub(err.Error(), b.token))
		}
	}
	if drainErr != nil {
		b.log.Warn("stopped with updates unfinished; Telegram will deliver them again", "err", drainErr)
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
			return fmt.Errorf("getUpdates: %w", err) // the token was revoked
		case http.StatusTooManyRequests:
			wait = max(time.Duration(apiErr.RetryAfter)*time.Second, wait)
		case http.StatusConflict:
			// Another process polls with this token, or a webhook is set.
			wait = max(wait, time.Second/2+rand.N(time.Second))
		}
	}
	b.log.Warn("getUpdates failed", "attempt", fails, "wait", wait, "err", scrub(err.Error(), b.token))
	sleep(ctx, wait)
	return nil
}

func (b *Bot) deleteWebhook(ctx context.Context) error {
	err := b.send.Do(ctx, 0, sender.Free, func(ctx context.Context) error {
		_, err := b.api.DeleteWebhook(ctx, &tg.DeleteWebhookParams{})
		return err
	})
	if err != nil {
		return fmt.Errorf("delete webhook: %s", scrub(err.Error(), b.token))
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
func (b *Bot) getUpdates(ctx context.Context, offset int64, timeout time.Duration, limit int) ([]models.Update, error) {
	body, err := json.Marshal(map[string]any{
		"offset":          offset,
		"timeout":         int(timeout / time.Second),
		"limit":           limit,
		"allowed_updates": allowedUpdates(),
	})
	if err != nil {
		return nil, fmt.Errorf("encode getUpdates: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, timeout+15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, b.serverURL+"/bot"+b.token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("build getUpdates request") // its error would quote the token
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which holds the token
		}
		return nil, fmt.Errorf("getUpdates: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read getUpdates: %w", err)
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
		return nil, fmt.Errorf("getUpdates answered HTTP %d, not the Bot API envelope", resp.StatusCode)
	}
	if !env.OK {
		return nil, &pollError{Code: env.ErrorCode, Description: env.Description, RetryAfter: env.Parameters.RetryAfter}
	}
	updates := make([]models.Update, 0, len(env.Result))
	for _, r := range env.Result {
		var u models.Update
		if err := json.Unmarshal(r, &u); err != nil {
			// One update we cannot read must not hold back the others: it
			// is kept with its id only and ignored by the pipeline.
			var id struct {
				ID int64 `json:"update_id"`
			}
			if json.Unmarshal(r, &id) != nil || id.ID == 0 {
				return nil, fmt.Errorf("getUpdates: an update without update_id")
			}
			b.log.Error("update does not decode", "update_id", id.ID, "err_type", fmt.Sprintf("%T", err))
			u = models.Update{ID: id.ID}
		}
		updates = append(updates, u)
	}
	return updates, nil
}

// tracker follows the updates fetched by long polling: which are running,
// which are done, and so the offset that confirms the done ones only.
type tracker struct {
	mu      sync.Mutex
	seen    int64   // the highest update id fetched
	open    []int64 // fetched and not finished, ascending
	changed chan struct{}
}

func newTracker() *tracker { return &tracker{changed: make(chan struct{})} }

// admit records id as running; false when it was fetched before.
func (t *tracker) admit(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id <= t.seen {
		return false
	}
	t.seen = id
	t.open = append(t.open, id)
	return true
}

// finish records id as done.
func (t *tracker) finish(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := sort.Search(len(t.open), func(i int) bool { return t.open[i] >= id })
	if i < len(t.open) && t.open[i] == id {
		t.open = append(t.open[:i], t.open[i+1:]...)
	}
	t.notifyLocked()
}

// abandon wakes the loop for an update given up (shutdown): it stays open,
// so it is never confirmed.
func (t *tracker) abandon() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.notifyLocked()
}

func (t *tracker) notifyLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// offset confirms every update before the oldest one not finished.
func (t *tracker) offset() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.open) > 0 {
		return t.open[0]
	}
	if t.seen == 0 {
		return 0
	}
	return t.seen + 1
}

func (t *tracker) inFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.open)
}

// waitChange waits until an update finishes, ctx ends or d passes.
func (t *tracker) waitChange(ctx context.Context, d time.Duration) {
	t.mu.Lock()
	ch := t.changed
	t.mu.Unlock()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ch:
	case <-ctx.Done():
	case <-timer.C:
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
