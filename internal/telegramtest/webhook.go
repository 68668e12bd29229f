package telegramtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

type webhookState struct {
	url              string
	secret           string
	targets          []string // SetWebhookTargets: round-robin over these instead of url
	next             int
	lastErrorDate    int64
	lastErrorMessage string
}

func (w *webhookState) active() bool { return w.url != "" || len(w.targets) > 0 }

// Delivery is one attempt to POST an update to the webhook.
type Delivery struct {
	UpdateID int64
	URL      string
	Status   int    // HTTP status, 0 when the request failed
	Err      string // why the attempt counts as failed; "" on a 2xx
	At       time.Time
}

const maxSecretTokenLen = 256

func (s *Server) setWebhook(_ context.Context, p Params) (any, *apiError) {
	target := p.String("url")
	if target == "" {
		return s.deleteWebhook(context.Background(), p)
	}
	// Telegram insists on HTTPS; tests serve plain HTTP, so any absolute http(s) URL is fine.
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, badRequest("bad webhook: invalid webhook URL specified")
	}
	secret := p.String("secret_token")
	if len(secret) > maxSecretTokenLen || !validSecret(secret) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	var allowed []string
	if p.Has("allowed_updates") {
		if err := p.JSON("allowed_updates", &allowed); err != nil {
			return nil, badRequest("can't parse allowed updates JSON object")
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	description := "Webhook was set"
	if s.webhook.url == target && s.webhook.secret == secret {
		description = "Webhook is already set"
	}
	s.webhook.url, s.webhook.secret = target, secret
	if p.Has("allowed_updates") {
		s.setAllowedLocked(allowed)
	}
	if p.Bool("drop_pending_updates") {
		s.dropPendingLocked()
	}
	s.notifyUpdatesLocked()
	return okResult{value: true, description: description}, nil
}

func validSecret(secret string) bool {
	for _, c := range []byte(secret) {
		if !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func (s *Server) deleteWebhook(_ context.Context, p Params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	description := "Webhook was deleted"
	if !s.webhook.active() {
		description = "Webhook is already deleted"
	}
	s.webhook.url, s.webhook.secret, s.webhook.targets = "", "", nil
	if p.Bool("drop_pending_updates") {
		s.dropPendingLocked()
	}
	s.notifyUpdatesLocked()
	return okResult{value: true, description: description}, nil
}

// SetWebhookTargets makes the server deliver updates round-robin to urls (one attempt each in
// turn, a retry included), as a load balancer in front of several replicas would. It overrides
// the url of setWebhook, keeps its secret_token, and lasts until deleteWebhook or a call with no
// urls.
func (s *Server) SetWebhookTargets(urls ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook.targets = append([]string(nil), urls...)
	s.webhook.next = 0
	s.notifyUpdatesLocked()
}

// Deliveries lists webhook delivery attempts in order (not recorded under WithoutCallLog).
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// deliverWebhooks posts the oldest pending update while a webhook is set, one at a time, and
// only moves on after a 2xx: a failed update is retried after a backoff, so the bot may see it
// again, and it holds back the updates after it, as on Telegram.
func (s *Server) deliverWebhooks(ctx context.Context) {
	defer close(s.deliveryDone)
	var backoff time.Duration
	for {
		s.mu.Lock()
		target, secret, update, ok := s.nextDeliveryLocked()
		wake := s.updatesChanged
		s.mu.Unlock()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-wake:
				continue
			}
		}

		status, answer, err := s.post(ctx, target, secret, update.raw)
		if ctx.Err() != nil {
			return
		}
		if err == nil && status >= 200 && status <= 299 {
			// As Telegram does, before the next update: the bot is not told the outcome.
			_, _ = s.RunResponse(ctx, answer.contentType, answer.body)
		}
		d := Delivery{UpdateID: update.id, URL: target, Status: status, At: s.now()}
		switch {
		case err != nil:
			d.Err = err.Error()
		case status < 200 || status > 299:
			d.Err = fmt.Sprintf("Wrong response from the webhook: %d %s", status, http.StatusText(status))
		}

		s.mu.Lock()
		if d.Err == "" {
			if s.pendingLocked() > 0 && s.queue[s.queueHead].id == update.id {
				s.queue[s.queueHead] = queuedUpdate{}
				s.queueHead++
				s.compactLocked()
			}
			backoff = 0
		} else {
			s.webhook.lastErrorDate, s.webhook.lastErrorMessage = d.At.Unix(), d.Err
			backoff = min(max(2*backoff, s.backoffMin), s.backoffMax)
		}
		if s.logCalls {
			s.deliveries = append(s.deliveries, d)
		}
		s.notifyChangedLocked()
		s.mu.Unlock()

		if d.Err != "" {
			s.log.LogAttrs(ctx, slog.LevelDebug, "webhook delivery failed",
				slog.Int64("update_id", update.id), slog.String("url", target), slog.String("error", d.Err))
			timer := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
		}
	}
}

func (s *Server) nextDeliveryLocked() (target, secret string, update queuedUpdate, ok bool) {
	if !s.webhook.active() || s.pendingLocked() == 0 {
		return "", "", queuedUpdate{}, false
	}
	target = s.webhook.url
	if n := len(s.webhook.targets); n > 0 {
		target = s.webhook.targets[s.webhook.next%n]
		s.webhook.next++
	}
	return target, s.webhook.secret, s.queue[s.queueHead], true
}

// webhookAnswer is the body of a webhook's response.
type webhookAnswer struct {
	contentType string
	body        []byte
}

func (s *Server) post(ctx context.Context, target, secret string, body []byte) (int, webhookAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, webhookAnswer{}, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := s.webhookClient.Do(req)
	if err != nil {
		return 0, webhookAnswer{}, fmt.Errorf("post update: %w", err)
	}
	defer resp.Body.Close()
	answer := webhookAnswer{contentType: resp.Header.Get("Content-Type")}
	answer.body, _ = io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, answer, nil
}

// RunResponse runs the Bot API method a webhook's 2xx response carries in body ("method" beside
// the method's parameters, as application/json, x-www-form-urlencoded or multipart/form-data)
// as Telegram does: through the same handlers as a request, its effects recorded alike
// (CallbackAnswers, Sent, ...), but counted apart (Responses, ResponseCount; not CallCount),
// and its outcome told to nobody. It returns the method run ("" when body carries none) and,
// for a harness to count, why it was refused (nil: it succeeded). The fake's own webhook
// delivery calls it; a harness that relays updates to the bot itself (cmd/merchantbot-load)
// calls it with the body of the bot's response.
func (s *Server) RunResponse(ctx context.Context, contentType string, body []byte) (string, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return "", nil
	}
	p := Params{}
	if err := readBody(p, body, contentType); err != nil || p.String("method") == "" {
		return "", nil // Telegram ignores a body it cannot read
	}
	method := p.String("method")
	delete(p, "method")
	if _, apiErr := s.execute(ctx, method, p, nil, true); apiErr != nil {
		s.log.LogAttrs(ctx, slog.LevelDebug, "method of a webhook response failed",
			slog.String("method", method), slog.String("error", apiErr.desc))
		return method, fmt.Errorf("%s: %d %s", method, apiErr.code, apiErr.desc)
	}
	return method, nil
}
