package bot

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/bot/sender"
)

// secretHeader carries the secret_token given to setWebhook.
const secretHeader = "X-Telegram-Bot-Api-Secret-Token"

// maxUpdateBody bounds a webhook request body; updates are a few KiB.
const maxUpdateBody = 1 << 20

// SetWebhook asks Telegram to POST updates to url with secret in the
// secret header. Every replica may call it: the settings are the same.
func (b *Bot) SetWebhook(ctx context.Context, url, secret string) error {
	p := &tg.SetWebhookParams{URL: url, SecretToken: secret, AllowedUpdates: allowedUpdates()}
	err := b.send.Do(ctx, 0, sender.Free, func(ctx context.Context) error {
		_, err := b.api.SetWebhook(ctx, p)
		return err
	})
	if err != nil {
		return fmt.Errorf("set webhook: %s", scrub(err.Error(), b.token))
	}
	return nil
}

// webhook receives updates from Telegram. A request without the secret is
// refused with 401 before its body is read. An update is answered only once
// it was applied: 200 then, 500 when it was not (Telegram delivers it again;
// the dialog's de-duplication keeps a redelivery from being applied twice).
// go-telegram/bot's own handler answers 200 to anyone and drops the update
// silently, which is why the adapter has its own.
func (b *Bot) webhook(secret string) http.Handler {
	want := sha256.Sum256([]byte(secret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// Hashing first makes the comparison constant-time whatever the
		// lengths.
		got := sha256.Sum256([]byte(r.Header.Get(secretHeader)))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			b.log.Warn("webhook request without the right secret", "remote", r.RemoteAddr)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var u models.Update
		body := http.MaxBytesReader(w, r.Body, maxUpdateBody)
		if err := json.NewDecoder(body).Decode(&u); err != nil {
			// It came from Telegram (the secret says so) but can never be
			// read: asking for it again would hold back every later update.
			b.log.Error("webhook update does not decode", "err_type", fmt.Sprintf("%T", err))
			_, _ = io.Copy(io.Discard, body)
			w.WriteHeader(http.StatusOK)
			return
		}
		if err := b.apply(&u); err != nil {
			b.log.Warn("webhook update not applied; Telegram will deliver it again", "update_id", u.ID,
				"err", scrub(err.Error(), b.token))
			http.Error(w, "not applied", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// apply queues u behind its chat's earlier updates and waits until it ran.
func (b *Bot) apply(u *models.Update) error {
	done := make(chan error, 1)
	b.queue.push(&job{u: newUpdate(u), done: func(err error) { done <- err }})
	return <-done
}
