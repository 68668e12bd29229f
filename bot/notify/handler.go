package notify

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/merchantbot/merchantbot/backend"
)

// maxEventBody bounds an event request; an event is well under 1 KiB.
const maxEventBody = 64 << 10

// Handler serves POST /backend/events: a status event signed with secret
// (backend.Verify). It answers 401 to a bad signature or a stale timestamp,
// 400 to a body that is no status event, 200 once the event is queued in
// the merchant's chat (or was before: events are de-duplicated by id), and
// 503 when it could not be stored, so the acquirer sends it again.
func (n *Notifier) Handler(secret []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeStatus(w, http.StatusMethodNotAllowed, "method_not_allowed")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBody))
		if err != nil {
			writeStatus(w, http.StatusRequestEntityTooLarge, "too_large")
			return
		}
		err = backend.Verify(secret, r.Header.Get(backend.HeaderEventTimestamp),
			r.Header.Get(backend.HeaderEventSignature), body, n.now())
		if err != nil {
			// Logged without the body: it is not ours until it verifies.
			n.log.Warn("status event refused", "reason", err, "remote", r.RemoteAddr)
			writeStatus(w, http.StatusUnauthorized, "unauthorized")
			return
		}
		var ev backend.Event
		if err := json.Unmarshal(body, &ev); err != nil || !ev.Valid() {
			writeStatus(w, http.StatusBadRequest, "invalid_event")
			return
		}
		ctx := r.Context()
		seen, err := n.rdb.Exists(ctx, n.eventKey(ev.ID)).Result()
		if err != nil {
			n.log.Error("status event: check seen", "event", ev.ID, "err", err)
			writeStatus(w, http.StatusServiceUnavailable, "unavailable")
			return
		}
		if seen > 0 {
			writeStatus(w, http.StatusOK, "duplicate")
			return
		}
		out, err := n.Apply(ctx, ev)
		if err != nil {
			n.log.Error("status event not stored", "event", ev.ID, "err", err)
			writeStatus(w, http.StatusServiceUnavailable, "unavailable")
			return
		}
		// The event is handled; the marker only spares a repeat the work.
		if err := n.rdb.Set(ctx, n.eventKey(ev.ID), 1, remember).Err(); err != nil && !errors.Is(err, ctx.Err()) {
			n.log.Warn("status event: mark seen", "event", ev.ID, "err", err)
		}
		n.log.Info("status event", "event", ev.ID, "outcome", out)
		writeStatus(w, http.StatusOK, "ok")
	})
}

func writeStatus(w http.ResponseWriter, status int, word string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"status":"`+word+`"}`+"\n")
}
