package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/locales"
)

// errNoUpdate is an update that cannot be read at all.
var errNoUpdate = errors.New("update does not decode")

// intake stores updates, as received, in their chats' queues in one Redis
// round trip, and only then may they be acknowledged to Telegram. A message
// that looks like a card number gets its deletion written to the outbox in
// the same transaction: it goes whatever becomes of the update (a state
// that does not decode, a panic, a dead letter). Updates of no chat (kinds
// the bot does not ask for) are acknowledged and dropped.
func (b *Bot) intake(ctx context.Context, source string, raws []json.RawMessage) error {
	_, err := b.queueUpdates(ctx, source, raws, false)
	return err
}

// intakeAnswering is intake for a caller that answers, in its reply to
// Telegram, the buttons of merchants' private chats (the webhook): it
// returns the callback query ids to answer once stored (a redelivery's
// included), and their queue entries say they are answered, so that their
// turns do not answer them again.
func (b *Bot) intakeAnswering(ctx context.Context, source string, raws []json.RawMessage) ([]string, error) {
	return b.queueUpdates(ctx, source, raws, true)
}

// answersInResponse reports a button pressed in a merchant's private chat:
// the dialog's, whose answer carries no state, unlike the support desk's
// toasts (bot/handoff), which it sends itself.
func (b *Bot) answersInResponse(u *update) bool {
	return u.CallbackQuery != nil && u.CallbackQuery.ID != "" && u.private &&
		!(b.desk != nil && u.chat == b.supportChat) &&
		!b.seqs.stale(u.chat, u.CallbackQuery.Data) // the turn answers it, with a toast
}

// queueUpdates is intake; answering: intakeAnswering.
func (b *Bot) queueUpdates(ctx context.Context, source string, raws []json.RawMessage, answering bool) ([]string, error) {
	var answers []string
	pending := make([]chatq.Pending, 0, len(raws))
	langs := make(map[int64]string, len(raws))
	for _, raw := range raws {
		var mu models.Update
		if err := unmarshalHot(raw, &mu); err != nil {
			b.log.Error("update does not decode; dropped", "err_type", fmt.Sprintf("%T", err))
			continue
		}
		u := newUpdate(&mu)
		if u.chat == 0 {
			b.log.Debug("update of no chat dropped", "update_id", u.ID, "kind", u.kind)
			continue
		}
		u.answered = answering && b.answersInResponse(u)
		payload, err := sealUpdate(b.cipher, raw, u.answered)
		if err != nil {
			return nil, err
		}
		if u.answered {
			answers = append(answers, u.CallbackQuery.ID)
		}
		b.decoded.put(payload, u)
		p := chatq.Pending{Chat: u.chat, ID: u.ID, Payload: payload, Unblock: wrote(u)}
		langs[u.chat] = locales.Normalize(u.lang())
		if id := intakeDeleted(u); id != 0 {
			p.Calls = []outbox.Call{b.deleteCall(u.chat, locales.Normalize(u.lang()), id)}
		}
		pending = append(pending, p)
	}
	if len(pending) == 0 {
		return nil, nil
	}
	var claim func() string
	if !b.stopping.Load() {
		claim = newToken // claim the chats at once, in the same round trip
	}
	since := time.Now()
	added, claims, err := b.q.AddUpdates(ctx, pending, since.Add(b.takeOver), claim)
	for i, p := range pending {
		if err != nil || !added[i] {
			b.decoded.take(p.Payload) // not queued by this call: nothing of it to apply
		}
	}
	if err != nil {
		b.deleteUnstored(pending)
		b.tellUnstored(pending, langs)
		return nil, err
	}
	b.outage.over(pending)
	// A chat claimed here is applied here at once; one held elsewhere (or by
	// this replica's own worker) is taken on by its holder, whose commit
	// hands it the next entry.
	for _, c := range claims {
		b.leases.HoldChat(c, since) // renewed while it waits for a worker slot
		b.handClaim(c)
	}
	for i, p := range pending {
		if !added[i] {
			b.log.Debug("update received again", "update_id", p.ID, "chat_id", p.Chat)
			b.metrics.UpdateDuplicate()
			continue
		}
		b.metrics.UpdateReceived(source)
		if len(p.Calls) > 0 {
			b.senders.kick(p.Chat)
		}
	}
	return answers, nil
}

// wrote reports an update of a merchant acting in their private chat (a
// message, an edit, a button): proof that they do not block the bot, even
// when no my_chat_member said they came back.
func wrote(u *update) bool {
	return u.private && u.from != nil && u.MyChatMember == nil
}

// deleteUnstored deletes, straight away and once, the card numbers of
// updates that could not be stored (Redis out of reach): the update comes
// again, but the number must not stay in the chat meanwhile.
func (b *Bot) deleteUnstored(pending []chatq.Pending) {
	for _, p := range pending {
		for _, c := range p.Calls {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if _, err := b.do(ctx, p.Chat, c, nil); err != nil {
				b.log.Warn("delete card message while Redis is out of reach", "chat_id", p.Chat,
					"err", hideToken(err.Error(), b.token))
			}
			cancel()
		}
	}
}
