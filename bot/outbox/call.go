// Package outbox is the durable way out of the bot: every Bot API call that
// talks to a merchant or the support group (replies, deletes, edits, button
// answers, notifications, support relays) is written to its chat's outbox in
// Redis first, in the same commit as whatever caused it, and sent from there
// in order by one sender at a time per chat. What was sent is marked sent;
// a crash, a restart or a Bot API outage delays a call, never loses it.
package outbox

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"

	gojson "github.com/goccy/go-json"
)

// Priority orders calls that compete for the global send budget: a
// merchant's own replies go before notifications, and group traffic never
// holds up either.
type Priority int

const (
	// Reply is an answer to something the merchant just did.
	Reply Priority = iota
	// Notification is something the bot says on its own (status changes,
	// reminders, expiry).
	Notification
	// Group is traffic to the support group (context cards, relays).
	Group
)

// Call is one Bot API call waiting in a chat's outbox: the method and its
// JSON body exactly as it will be sent.
type Call struct {
	Method string          `json:"m"`
	Params json.RawMessage `json:"p"`
	// Priority decides who goes first when the global budget is short.
	Priority Priority `json:"q,omitempty"`
	// Tag names the call for a result handler registered with the sender
	// (for example the hand-off's map of copied message ids); "" for none.
	Tag string `json:"t,omitempty"`
	// Optional calls are dropped quietly when Telegram refuses them (a
	// delete of a message that is already gone).
	Optional bool `json:"o,omitempty"`
	// Else is sent instead when Telegram refuses this call for good (an edit
	// of a message that can no longer be edited is sent as a new message;
	// a card number that cannot be deleted is pointed out).
	Else *Call `json:"e,omitempty"`
	// Then is sent after this call succeeded, and only then: what the bot
	// says about the call's outcome (the card number message is gone)
	// waits until the outcome is known.
	Then *Call `json:"n,omitempty"`
	// Quiet calls (reminders) are not sent in the quiet hours: one that
	// comes up in them (held up by an outage) is dropped, and the dialog is
	// told to remind again in the morning.
	Quiet bool `json:"qh,omitempty"`
	// Nonce makes each call stored in an outbox unique (Stored): the sender
	// marks calls sent by comparing them with the outbox's head, so a mark
	// repeated after its reply was lost must not find a later twin there (a
	// second "this button is no longer valid") and take it for sent.
	Nonce string `json:"u,omitempty"`
}

// Stored is c with a Nonce of its own, as it is written to an outbox.
func Stored(c Call) Call {
	c.Nonce = strconv.FormatUint(rand.Uint64(), 36)
	return c
}

// MustCall is NewCall for params that always marshal (the callers' own
// param structs): a failure is a bug, and it panics.
func MustCall(method string, params any, priority Priority) Call {
	c, err := NewCall(method, params, priority)
	if err != nil {
		panic("outbox: " + method + " params do not encode: " + err.Error())
	}
	return c
}

// NewCall builds a Call whose body is params marshalled as JSON.
func NewCall(method string, params any, priority Priority) (Call, error) {
	raw, err := Marshal(params)
	if err != nil {
		return Call{}, err
	}
	return Call{Method: method, Params: raw, Priority: priority}, nil
}

// Marshal encodes params and calls for the outbox with goccy/go-json, which
// writes what encoding/json writes (bot's FuzzOutboxMarshalMatchesStd holds it
// to that, byte for byte, for the bot's parameter structs and the calls
// made of them) in about
// half the time: every reply of every turn goes through it.
func Marshal(v any) ([]byte, error) { return gojson.Marshal(v) }
