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
	err := b.send.Do(ctx, 0, sender.Unlimited, func(ctx context.Context) error {
		_, err := b.api.SetWebhook(ctx, p)
		return err
	})
	if b.tokenRefused("setWebhook", err) {
		return b.TokenErr()
	}
	if err != nil {
		return fmt.Errorf("set webhook: %s", hideToken(err.Error(), b.token))
	}
	return nil
}

// webhook receives updates from Telegram. A request without the secret is
// refused with 401 before its body is read. An update is answered 200 once
// it is stored in its chat's queue (not when applied: a slow chat must not
// hold Telegram's connection), 500 when Redis could not take it, so that
// Telegram delivers it again; a redelivery is recognised and not applied
// twice. A button of a merchant's private chat is answered in the 200's
// body (answerCallbackQuery), sparing the bot a request; its turn answers
// it no more (a toast it would have shown becomes a message).
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
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdateBody))
		if err != nil {
			// It came from Telegram (the secret says so) but can never be
			// read: asking for it again would hold back every later update.
			// (A body that is not an update is dropped the same way by the
			// intake, which decodes it once.)
			b.log.Error("webhook update cannot be read")
			w.WriteHeader(http.StatusOK)
			return
		}
		answers, err := b.intakeAnswering(r.Context(), "webhook", []json.RawMessage{body})
		if err != nil {
			b.log.Warn("webhook update not stored; Telegram will deliver it again", "err", hideToken(err.Error(), b.token))
			http.Error(w, "not stored", http.StatusInternalServerError)
			return
		}
		if len(answers) == 1 {
			// The button's answer rides on the response: the spinner stops at
			// once, with no request of the bot's. Telegram does not say
			// whether it took it; if it did not, the client stops the spinner
			// on its own, and nothing else waits for the answer.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(answerBody(answers[0]))
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// answerBody is answerCallbackQuery as a webhook response's body: the
// method's parameters and its name.
func answerBody(queryID string) []byte {
	body, _ := json.Marshal(struct {
		Method          string `json:"method"`
		CallbackQueryID string `json:"callback_query_id"`
	}{"answerCallbackQuery", queryID})
	return body
}
