// Package dialogs is the settlement-card change conversation, free of
// Telegram: it takes an Input, keeps a State, and answers with Replies (message
// ids and arguments, buttons) and Effects (things the adapter must do).
package dialogs

import (
	"context"
	"maps"
	"time"

	"github.com/merchantbot/merchantbot/backend"
)

// InputKind says what the merchant sent.
type InputKind int

const (
	InText    InputKind = iota + 1 // a text message
	InCommand                      // /start, /help, ... (Text holds the name, Arg the payload)
	InButton                       // a button press (Data, Seq)
	InContact                      // a shared contact
	InMedia                        // a photo, sticker, voice, document, ...
	InOther                        // anything else (location, poll, ...)
	// InEdit is a message the merchant edited (Text holds the new text). The
	// dialog does not re-read it as an answer; it only takes a card number
	// out of the chat. An edit that holds none gets no reply.
	InEdit
	// InEvent is something that happened outside the chat, applied in order
	// with the merchant's own updates through the chat's queue: Text holds
	// the event's name (the Event* constants), Arg its data.
	InEvent
	// InForm is the card form (Form), filled outside the chat where a Reply
	// offered it (Reply.Form): its fields answer the card step and the
	// steps after it as if typed, one after the other.
	InForm
)

// Events the adapter posts into a chat's queue (Input.Kind InEvent).
const (
	EventHandBack = "handback" // a support agent handed the chat back
	// EventStatus: an application of the chat's merchant changed status.
	// Arg is the backend.Event as JSON.
	EventStatus = "status"
	// EventWake: the time WakeAt gave has come. The dialog decides on its
	// clock what is due (a reminder, an expiry, or nothing any more), so a
	// late or doubled wake does no harm.
	EventWake = "wake"
	// EventRemindLater: the adapter could not send a reminder before the
	// quiet hours began (Reply.Quiet) and dropped it: the dialog owes the
	// merchant that reminder again, in the morning.
	EventRemindLater = "remind_later"
	// EventResume: a terminal came back to the chat (the console started
	// again on its Redis): the dialog says where the merchant was and asks
	// that question again, so its buttons work.
	EventResume = "resume"
)

// Input is one thing the merchant did.
type Input struct {
	Kind      InputKind
	Text      string   // text, a media caption, or the command name without the slash
	Arg       string   // command payload (/start change_card)
	Data      string   // button data as the dialog wrote it
	Seq       int      // the State.Seq the pressed button was rendered at
	Contact   *Contact // for InContact
	MessageID int      // the merchant's message, for DeleteMessage
	// LanguageCode is the client's language (Telegram language_code); it picks
	// the language on first contact only.
	LanguageCode string
	// Returning: the update itself shows the chat talked with the bot before
	// (a message that is not the chat's first, a button the bot sent). With
	// a zero State it means what the chat had is lost (see lost.go).
	Returning bool
	// NoContact: the client has no share-contact button (the console), so
	// the phone on file is asked to be typed.
	NoContact bool
	// Form is the card form's fields, for InForm.
	Form *Form
}

// Form is what the card form sends: the card number and, optionally, the
// answers of the steps after it. Card and ReservedPhone are card data: never
// logged, kept only in State.Secrets.
type Form struct {
	Card          string
	Holder        string
	Branch        string
	ReservedPhone string
}

// Contact is a shared phone contact. OwnedBySender is true only when the
// contact's user id equals the sender's (the adapter checks it).
type Contact struct {
	Phone         string
	OwnedBySender bool
}

// Arg holds a message's template arguments. A value that is a Text is
// rendered in the reply's language before it is put in.
type Arg = map[string]any

// Text is one localizable text: a message id and its arguments.
type Text struct {
	Key  MsgID
	Args Arg
}

// Reply is one message to the merchant: Key rendered with Args, then each of
// Lines on a line of its own, then the buttons.
type Reply struct {
	Key     MsgID
	Args    Arg
	Lines   []Text
	Buttons [][]Button
	// Edit asks the adapter to edit the message whose button was pressed
	// instead of sending a new one, where it can.
	Edit bool
	// Form: the question may also be answered with the card form (Input
	// InForm). An adapter that has a form offers it beside this reply; one
	// that has none says nothing of it.
	Form bool
	// Quiet: not to be sent in the quiet hours (a reminder). An adapter
	// whose send of it comes in them (it was held up by an outage) drops it
	// and posts EventRemindLater.
	Quiet bool
	// Alone: the reply's message is edited in place later by its own
	// buttons (Edit), so nothing else may share it: an adapter that joins
	// short replies into one message leaves this one on its own.
	Alone bool
}

// Button is one button of a Reply. Data is what comes back in Input.Data:
// kind:arg, the kind one of buttonKinds (the engine's or the step's own).
type Button struct {
	Key  MsgID
	Args Arg
	Data string
	// RequestContact makes the adapter offer Telegram's share-contact button;
	// an adapter that cannot share contacts leaves the button out.
	RequestContact bool
}

// EffectKind is something the adapter must do besides talking.
type EffectKind int

const (
	// DeleteMessage removes the merchant's message MessageID (it carried a
	// card number). The adapter says so if it cannot.
	DeleteMessage EffectKind = iota + 1
	// HandOff asks the adapter to hand the chat to human support (Info).
	HandOff
	// Submitted tells the adapter an application (App) was sent for review:
	// its status is followed (polled) until it is final.
	Submitted
	// Relay asks the adapter to pass the merchant's message MessageID (a
	// new one or an edit) to the support agent: the chat is handed off and
	// the dialog does not read it.
	Relay
	// HandOffEnd says the merchant left support on their own.
	HandOffEnd
	// Rated carries the merchant's rating (1-5) of the help they had.
	Rated
)

// Effect is something the adapter must do besides talking.
type Effect struct {
	Kind      EffectKind
	MessageID int          // DeleteMessage, Relay: the merchant's message
	Step      string       // HandOff: the step the merchant left for support
	Info      *HandOffInfo // HandOff: what the support group is shown
	Rating    int          // Rated: 1-5
	App       string       // Submitted: the application number
}

// Outcome is the dialog's answer to one Input.
type Outcome struct {
	Lang string // language to render in ("zh-Hans" or "en")
	Seq  int    // State.Seq the buttons belong to
	// Stale is true when the input was a button of an earlier step, a
	// repeated tap or forged data: nothing changed. An adapter may show
	// the first reply as a toast on the button instead of a message.
	Stale   bool
	Replies []Reply
	Effects []Effect
	// HideKeyboard: the contact-sharing button an earlier question offered
	// (Button.RequestContact) is withdrawn: the chat left that question and
	// this outcome does not offer the button again. It goes with the first
	// reply that has no buttons, no Form and no Edit (an adapter may be
	// able to withdraw it with such a reply only); an outcome without one
	// leaves it to the next (State.ContactOffered).
	HideKeyboard bool
}

// Backend is what the dialog needs from the acquirer.
type Backend interface {
	// VerifyMerchant checks that phone is the one on file for merchant no.
	VerifyMerchant(ctx context.Context, no, phone string) (backend.Merchant, error)
	// Merchant returns a merchant bound earlier.
	Merchant(ctx context.Context, no string) (backend.Merchant, error)
	// SendCode sends an SMS code to the phone on file of merchant no.
	SendCode(ctx context.Context, no string) error
	// CheckCode checks a code sent by SendCode.
	CheckCode(ctx context.Context, no, code string) error
	// Submit sends an application for review; the same key returns the same
	// receipt instead of a second application.
	Submit(ctx context.Context, key string, app backend.Application) (backend.Receipt, error)
	// Applications lists merchant no's applications, newest first.
	Applications(ctx context.Context, no string) ([]backend.Receipt, error)
}

// MaxTurn bounds the backend calls of one turn: the pipeline's default
// (bot.WithMaxTurn).
const MaxTurn = 10 * time.Second

// Clock is injected wherever behaviour depends on time.
type Clock func() time.Time

// engineKinds are the kinds of Button.Data (the part before the colon) the
// engine reads before any step, and what reads each. The steps' own kinds
// are in their definitions (stepDef.buttons).
var engineKinds = map[string]string{
	"m":    "the menu and the way out of any step (engine.go: menuButton)",
	"lang": "the language chooser (engine.go)",
	"rs":   "resubmit a rejected application (rejection.go)",
	"rate": "rating the help after an agent handed back (support.go: rated)",
}

// buttonKinds lists every kind of Button.Data and what reads it: the
// engine's own and those each step declares. TestButtonKindsAreListed
// checks it against the buttons the code writes.
func buttonKinds(defs []stepDef) map[string]string {
	kinds := maps.Clone(engineKinds)
	for _, d := range defs {
		for _, k := range d.buttons {
			if kinds[k] != "" {
				kinds[k] += ", "
			}
			kinds[k] += "step " + d.name
		}
	}
	return kinds
}
