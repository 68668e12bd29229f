package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/go-telegram/bot/models"
)

// queuedUpdate is an update waiting to be confirmed, kept as the JSON that goes on the wire.
type queuedUpdate struct {
	id   int64
	kind string
	raw  []byte
}

const maxUpdatesLimit = 100

// errRequestCanceled ends a long poll whose client went away; nobody reads the answer.
var errRequestCanceled = &apiError{code: http.StatusInternalServerError, desc: "Internal Server Error: request canceled"}

// getUpdates long-polls like Telegram: offset confirms every update with a smaller id (a
// negative offset keeps only the last -offset updates), timeout is in seconds, and a newer
// getUpdates ends an older one still waiting with 409.
func (s *Server) getUpdates(ctx context.Context, p Params) (any, *apiError) {
	offset, _ := p.Int64("offset")
	limit, ok := p.Int("limit")
	if !ok || limit <= 0 || limit > maxUpdatesLimit {
		limit = maxUpdatesLimit
	}
	timeout, _ := p.Int64("timeout")
	var allowed []string
	if p.Has("allowed_updates") {
		if err := p.JSON("allowed_updates", &allowed); err != nil {
			return nil, badRequest("can't parse allowed updates JSON object")
		}
	}

	s.mu.Lock()
	if s.webhook.active() {
		s.mu.Unlock()
		return nil, errWebhookActive
	}
	if p.Has("allowed_updates") {
		s.setAllowedLocked(allowed)
	}
	s.confirmLocked(offset)
	if s.poller != nil {
		close(s.poller)
	}
	me := make(chan struct{})
	s.poller = me
	s.notifyChangedLocked()
	s.mu.Unlock()

	var expired <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(time.Duration(timeout) * time.Second)
		defer timer.Stop()
		expired = timer.C
	}
	for {
		s.mu.Lock()
		if s.poller != me {
			s.mu.Unlock()
			return nil, errOtherPoller
		}
		if s.webhook.active() {
			s.poller = nil
			s.mu.Unlock()
			return nil, errWebhookActive
		}
		if s.pendingLocked() > 0 || expired == nil {
			batch := s.batchLocked(limit)
			s.poller = nil
			s.mu.Unlock()
			return batch, nil
		}
		wake := s.updatesChanged
		s.mu.Unlock()

		select {
		case <-wake:
		case <-expired:
			expired = nil // one more pass returns whatever is there, usually nothing
		case <-me:
		case <-ctx.Done():
			s.endPoll(me)
			return nil, errRequestCanceled
		case <-s.closing:
			s.endPoll(me)
			return nil, errClosing
		}
	}
}

func (s *Server) endPoll(me chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.poller == me {
		s.poller = nil
	}
}

func (s *Server) pendingLocked() int { return len(s.queue) - s.queueHead }

// batchLocked encodes up to limit pending updates as a JSON array without copying them apart.
func (s *Server) batchLocked(limit int) json.RawMessage {
	end := min(len(s.queue), s.queueHead+limit)
	size := 2
	for _, u := range s.queue[s.queueHead:end] {
		size += len(u.raw) + 1
	}
	buf := make([]byte, 0, size)
	buf = append(buf, '[')
	for i, u := range s.queue[s.queueHead:end] {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, u.raw...)
	}
	return append(buf, ']')
}

func (s *Server) confirmLocked(offset int64) {
	before := s.queueHead
	switch {
	case offset > 0:
		for s.queueHead < len(s.queue) && s.queue[s.queueHead].id < offset {
			s.queue[s.queueHead] = queuedUpdate{}
			s.queueHead++
		}
	case offset < 0:
		for s.pendingLocked() > int(-offset) {
			s.queue[s.queueHead] = queuedUpdate{}
			s.queueHead++
		}
	}
	if s.queueHead == before {
		return
	}
	s.compactLocked()
	s.notifyChangedLocked()
}

// compactLocked drops confirmed updates once they are half the queue: amortised O(1) per update.
func (s *Server) compactLocked() {
	if s.queueHead == 0 || s.queueHead*2 < len(s.queue) {
		return
	}
	n := copy(s.queue, s.queue[s.queueHead:])
	clear(s.queue[n:])
	s.queue = s.queue[:n]
	s.queueHead = 0
}

func (s *Server) dropPendingLocked() {
	clear(s.queue)
	s.queue = s.queue[:0]
	s.queueHead = 0
	s.notifyChangedLocked()
}

// setAllowedLocked records allowed_updates; an empty list means Telegram's default set.
func (s *Server) setAllowedLocked(kinds []string) {
	if len(kinds) == 0 {
		s.allowed = nil
		return
	}
	s.allowed = make(map[string]bool, len(kinds))
	for _, k := range kinds {
		s.allowed[k] = true
	}
}

func (s *Server) allowedLocked(kind string) bool {
	if s.allowed == nil {
		switch kind {
		case "chat_member", "message_reaction", "message_reaction_count":
			return false
		}
		return true
	}
	return s.allowed[kind]
}

func (s *Server) allowedListLocked() []string {
	if s.allowed == nil {
		return nil
	}
	out := make([]string, 0, len(s.allowed))
	for k := range s.allowed {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// pushLocked queues the update encode builds for the next update id (or wantID when it is
// larger than every id so far). Like Telegram, it drops updates of a kind the bot did not ask
// for in allowed_updates; the id is used all the same.
func (s *Server) pushLocked(kind string, wantID int64, encode func(id int64) ([]byte, error)) (int64, error) {
	id := s.lastUpdateID + 1
	if wantID > s.lastUpdateID {
		id = wantID
	}
	raw, err := encode(id)
	if err != nil {
		return 0, err
	}
	s.lastUpdateID = id
	if s.allowedLocked(kind) {
		s.queue = append(s.queue, queuedUpdate{id: id, kind: kind, raw: raw})
	}
	s.notifyUpdatesLocked()
	return id, nil
}

// PushUpdate queues u for the bot and returns its update_id. A zero u.ID, or one not larger
// than every id pushed before, is replaced by the next id. It panics if u cannot be encoded,
// which only a malformed test value causes.
func (s *Server) PushUpdate(u models.Update) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.CallbackQuery != nil && u.CallbackQuery.ID != "" {
		s.queries[u.CallbackQuery.ID] = true
	}
	id, err := s.pushLocked(updateKind(&u), u.ID, func(id int64) ([]byte, error) {
		u.ID = id
		return json.Marshal(&u)
	})
	if err != nil {
		panic(fmt.Sprintf("telegramtest: encode update: %v", err))
	}
	return id
}

// PushRaw queues an update given as JSON, for cases the models cannot express (unknown fields,
// odd values). raw must be a JSON object; its update_id is kept when it is larger than every id
// so far, otherwise it is set to the next id. The update kind is its first other key in
// alphabetical order.
func (s *Server) PushRaw(raw []byte) (int64, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return 0, fmt.Errorf("telegramtest: raw update: %w", err)
	}
	if fields == nil {
		return 0, fmt.Errorf("telegramtest: raw update: not a JSON object")
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != "update_id" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	kind := ""
	if len(keys) > 0 {
		kind = keys[0]
	}
	var given int64
	idRaw, hasID := fields["update_id"]
	if hasID {
		_ = json.Unmarshal(idRaw, &given)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return 0, fmt.Errorf("telegramtest: raw update: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if cq, ok := fields["callback_query"]; ok {
		var q struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(cq, &q) == nil && q.ID != "" {
			s.queries[q.ID] = true
		}
	}
	return s.pushLocked(kind, given, func(id int64) ([]byte, error) {
		switch {
		case hasID && id == given:
			return compact.Bytes(), nil
		case hasID:
			fields["update_id"] = json.RawMessage(strconv.FormatInt(id, 10))
			return json.Marshal(fields)
		}
		body := compact.Bytes()
		out := []byte(`{"update_id":` + strconv.FormatInt(id, 10))
		if len(body) > 2 {
			out = append(out, ',')
		}
		return append(out, body[1:]...), nil
	})
}

// Pending is how many updates wait to be confirmed (by a later offset or a 2xx from the webhook).
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pendingLocked()
}

// updateKind names the field an update carries, as allowed_updates does.
func updateKind(u *models.Update) string {
	switch {
	case u.Message != nil:
		return models.AllowedUpdateMessage
	case u.EditedMessage != nil:
		return models.AllowedUpdateEditedMessage
	case u.ChannelPost != nil:
		return models.AllowedUpdateChannelPost
	case u.EditedChannelPost != nil:
		return models.AllowedUpdateEditedChannelPost
	case u.BusinessConnection != nil:
		return models.AllowedUpdateBusinessConnection
	case u.BusinessMessage != nil:
		return models.AllowedUpdateBusinessMessage
	case u.EditedBusinessMessage != nil:
		return models.AllowedUpdateEditedBusinessMessage
	case u.DeletedBusinessMessages != nil:
		return models.AllowedUpdateDeletedBusinessMessages
	case u.MessageReaction != nil:
		return models.AllowedUpdateMessageReaction
	case u.MessageReactionCount != nil:
		return models.AllowedUpdateMessageReactionCount
	case u.InlineQuery != nil:
		return models.AllowedUpdateInlineQuery
	case u.ChosenInlineResult != nil:
		return models.AllowedUpdateChosenInlineResult
	case u.CallbackQuery != nil:
		return models.AllowedUpdateCallbackQuery
	case u.ShippingQuery != nil:
		return models.AllowedUpdateShippingQuery
	case u.PreCheckoutQuery != nil:
		return models.AllowedUpdatePreCheckoutQuery
	case u.PurchasedPaidMedia != nil:
		return models.AllowedUpdatePurchasedPaidMedia
	case u.Poll != nil:
		return models.AllowedUpdatePoll
	case u.PollAnswer != nil:
		return models.AllowedUpdatePollAnswer
	case u.MyChatMember != nil:
		return models.AllowedUpdateMyChatMember
	case u.ChatMember != nil:
		return models.AllowedUpdateChatMember
	case u.ChatJoinRequest != nil:
		return models.AllowedUpdateChatJoinRequest
	case u.ChatBoost != nil:
		return models.AllowedUpdateChatBoost
	case u.RemovedChatBoost != nil:
		return models.AllowedUpdateRemovedChatBoost
	}
	return ""
}
