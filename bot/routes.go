package bot

import (
	"net/http"

	"github.com/go-telegram/bot/models"
)

// allowedUpdates are the update kinds the bot asks Telegram for.
func allowedUpdates() []string {
	return []string{
		models.AllowedUpdateMessage,
		models.AllowedUpdateEditedMessage, // a card number typed in by editing is removed too
		models.AllowedUpdateCallbackQuery,
		models.AllowedUpdateMyChatMember,
	}
}

// The whole update pipeline, on one screen:
//
//	receive   Poll (poll.go) or the webhook (webhook.go), each acknowledging
//	          an update only once intake (intake.go) stored it, sealed, in
//	          its chat's queue; a card number's deletion is queued with it;
//	          the webhook answers a merchant's button in its 200's body
//	apply     applyQueue (pipeline.go), per chat under its lock, in update_id
//	          order: open → applyUpdate / applyEvent (apply.go)
//	            my_chat_member    → block / unblock the chat's outbox
//	            groups, channels  → ignored
//	            callback query    → forged data answered and dropped; else a
//	                                dialogs.InButton (callback.go verifies);
//	                                one answered by the webhook is not
//	                                answered again (a toast becomes a message)
//	            message / edit    → dialogs.Input (input.go)
//	          → dialogs.Engine → replyCalls (render.go) → Commit: state,
//	          applied id and outbox calls in one transaction; a panic is
//	          tried again, then dead-lettered with "your progress is safe"
//	send      sendOutbox (send.go), per chat under its outbox lock, in
//	          order, through bot/sender's budgets; marked sent one by one
//	recover   sweep (pipeline.go) takes up chats another replica left
//	form      the card form (bot/miniapp, with WithMiniApp): a checked
//	          submission is queued by Writer.PostForm in the chat's queue,
//	          sealed, and applied in turn by applyForm (apply.go) as a
//	          dialogs.InForm
//
// Commands (/start [change_card], /help, /status, /support, /cancel,
// /back, /language; see commands.go) and button data are the dialog's to
// route: the adapter passes them on as dialogs.Input, signing button data
// on the way out (callback.go).
//
// Button data is "kind:arg", signed (callback.go). Every kind but ho: is
// the dialog's, routed by dialogs: the engine's own (m: the menu, lang:,
// rs: resubmit a rejected application, rate: the support rating) and each
// step's, declared in its definition (dialogs/step_<name>.go, its buttons);
// ho: is the desk's card buttons in the group (claim, back), which
// bot/handoff takes.

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
