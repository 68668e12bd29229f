package bot

import (
	"context"
	"net/http"

	"github.com/go-telegram/bot/models"
)

// handler applies one update. An error means it was not applied for a
// passing reason (Redis unreachable, the chat's lock held too long, shutdown)
// and must be received again: long polling retries it and leaves it
// unconfirmed, a webhook answers 500 so that Telegram delivers it again.
type handler func(ctx context.Context, u *update) error

// middleware wraps a handler.
type middleware func(next handler) handler

// allowedUpdates are the update kinds the bot asks Telegram for.
func allowedUpdates() []string {
	return []string{
		models.AllowedUpdateMessage,
		models.AllowedUpdateEditedMessage, // a card number typed in by editing is removed too
		models.AllowedUpdateCallbackQuery,
		models.AllowedUpdateMyChatMember,
	}
}

// routes is the whole update pipeline. Commands (/start [change_card],
// /help, /status, /support, /cancel, /back, /language; see commands.go) and
// button data (m:, lang:, ck:, cs:, luhn:, keep, bank:, sum:, cx:, sup:,
// code:, sub:) are the dialog's to route: the adapter passes them on as
// dialogs.Input, signing button data on the way out (callback.go).
func (b *Bot) routes() handler {
	dialog := chain(b.applyDialog,
		b.recoverPanic,   // a panic is logged with the update id; the merchant hears their progress is safe
		b.answerCallback, // every callback query is answered exactly once; forged button data stops here
		b.privateOnly,    // updates from groups and channels never reach the dialog
	)
	byKind := map[string]handler{
		models.AllowedUpdateMessage:       dialog,
		models.AllowedUpdateEditedMessage: dialog,
		models.AllowedUpdateCallbackQuery: dialog,
		models.AllowedUpdateMyChatMember:  chain(b.memberChanged, b.recoverPanic), // block / unblock
	}
	return func(ctx context.Context, u *update) error {
		if h, ok := byKind[u.kind]; ok {
			return h(ctx, u)
		}
		return nil // nothing else is asked for; an odd one is dropped
	}
}

// Handler serves HTTP_ADDR: health, readiness and, when webhookPath is set,
// the webhook that only requests carrying secret reach.
func (b *Bot) Handler(webhookPath, secret string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", b.healthz)
	mux.Handle("GET /readyz", newReadiness(b.ready, b.log))
	if webhookPath != "" {
		mux.Handle(webhookPath, b.webhook(secret))
	}
	return mux
}

// chain wraps h in mws, the first outermost.
func chain(h handler, mws ...middleware) handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}
