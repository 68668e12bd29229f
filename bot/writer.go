package bot

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
)

// Writer adds work to the chats' queues from outside a turn: an event into
// a merchant chat's queue (Post) and calls into a chat's outbox (Enqueue).
// It is built first and given to whoever writes (the desk, the notifier)
// and to the Bot (WithWriter), so none of them calls back into another.
// The Bot given a Writer is rung when work is added, so that a worker or
// sender of this replica takes it up at once; without a Bot (or before it
// is made) the work waits for the sweep. One Bot per Writer.
type Writer struct {
	q      ChatStore
	cipher *store.Cipher
	bell   atomic.Pointer[doorbell]
}

// doorbell is how the Bot given the Writer is told of new work.
type doorbell struct {
	takeOver time.Duration    // how long a chat posted here is left to this replica
	apply    func(chat int64) // wakes the chat's worker
	send     func(chat int64) // wakes the chat's sender
}

// NewWriter returns a Writer over q whose queue entries are sealed with
// cipher, the same the Bot reads them with.
func NewWriter(q ChatStore, cipher *store.Cipher) *Writer {
	return &Writer{q: q, cipher: cipher}
}

// Post puts an event into a merchant chat's queue: the dialog receives it in
// order with the merchant's updates, under the chat's lock, as
// dialogs.Input{Kind: InEvent, Text: name, Arg: arg}. With once != "", it
// is posted only if nothing was posted under once in the last 30 days.
func (w *Writer) Post(ctx context.Context, chat int64, once, name, arg string) (bool, error) {
	payload, err := seal(w.cipher, envelope{Event: &event{Name: name, Arg: arg}})
	if err != nil {
		return false, err
	}
	return w.add(ctx, chat, once, payload)
}

// add puts a sealed entry after every update of chat's queue received so
// far, and rings the Bot.
func (w *Writer) add(ctx context.Context, chat int64, once string, payload []byte) (bool, error) {
	bell := w.bell.Load()
	takeOver := 2 * time.Second
	if bell != nil {
		takeOver = bell.takeOver
	}
	added, err := w.q.AddEvent(ctx, chat, once, payload, time.Now().Add(takeOver))
	if err != nil {
		return false, err
	}
	if added && bell != nil {
		bell.apply(chat)
	}
	return added, nil
}

// PostForm puts the card form a merchant submitted into their private
// chat's queue (chat is the merchant's user id): sealed as every entry, in
// order with the chat's updates, applied once, as dialogs.Input{Kind:
// InForm}. lang is the form's language_code. With once != "", it is added
// only if nothing was added under once in the last 30 days (false then).
func (w *Writer) PostForm(ctx context.Context, chat int64, once string, f dialogs.Form, lang string) (bool, error) {
	payload, err := seal(w.cipher, envelope{Form: &form{Card: f.Card, Holder: f.Holder, Branch: f.Branch,
		Phone: f.ReservedPhone, Lang: lang}})
	if err != nil {
		return false, err
	}
	return w.add(ctx, chat, once, payload)
}

// ChatState reads chat's dialog as the last commit left it (a zero State
// when there is none or it no longer opens).
func (w *Writer) ChatState(ctx context.Context, chat int64) (*dialogs.State, error) {
	rec, err := w.q.State(ctx, chat)
	if err != nil || rec == nil {
		return &dialogs.State{}, err
	}
	st, err := store.DecodeState(w.cipher, chat, rec)
	if err != nil {
		return &dialogs.State{}, nil // the pipeline resets it at the chat's next turn
	}
	return st, nil
}

// Enqueue appends calls to chat's outbox and wakes its sender. With once !=
// "", only if nothing was appended under once in the last 30 days.
func (w *Writer) Enqueue(ctx context.Context, chat int64, once string, calls ...outbox.Call) (bool, error) {
	added, err := w.q.Enqueue(ctx, chat, once, calls...)
	if err != nil {
		return false, err
	}
	if bell := w.bell.Load(); added && bell != nil {
		bell.send(chat)
	}
	return added, nil
}
