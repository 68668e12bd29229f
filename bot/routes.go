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
//	          its chat's queue; a card number's deletion is queued with it
//	apply     applyQueue (pipeline.go), per chat under its lock, in update_id
//	          order: open → applyUpdate / applyEvent (apply.go)
//	            my_chat_member    → block / unblock the chat's outbox
//	            groups, channels  → ignored
//	            callback query    → forged data answered and dropped; else a
//	                                dialogs.InButton (callback.go verifies)
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
// Button data is "kind:arg", signed (callback.go). The kinds, all routed
// by dialogs but for ho:, which the desk (bot/handoff) takes in the group:
//
//	m:      the menu: change, status, support, lang, stuck
//	lang:   a language chosen: zh-Hans, en
//	cs:     consent to the card change: yes, no
//	ck:     the checklist: all, list, why, no, no.<item>
//	holder: registered (the merchant's registered name is the holder)
//	luhn:   a card number failing its check digit: yes (keep it), no
//	bank:   the bank: yes (the one found), other, pick.<code>, sure.<code>
//	code:   resend (the verification code)
//	sum:    the summary: confirm, cancel, edit.<field>
//	sub:    retry (a submission the backend did not take)
//	cx:     /cancel confirmed: yes, no
//	sup:    back (from the support desk to the bot)
//	rate:   the support rating, 1 to 5
//	rs:     resubmit a rejected application: rs:<application>
//	ho:     the desk's card buttons in the group: claim, back (:<chat>:<since>)

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
