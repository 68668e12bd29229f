// Package miniapp serves the card form: a Telegram Mini App page the
// merchant opens from the card question (the web_app button the bot adds
// with bot.WithMiniApp), so that the card number goes from their keyboard
// to this server and never through the chat. The page is embedded (web/),
// needs no build step and loads nothing from elsewhere. A submission is
// checked as Telegram documents launch data (Verify), bound to the
// merchant's private chat at the card question, used once, and then put in
// that chat's queue (Chats.PostForm), where the dialog takes it as if the
// fields were typed.
package miniapp

import (
	"context"
	"crypto/ecdh"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/dialogs/parse"
	"github.com/merchantbot/merchantbot/locales"
)

//go:embed web
var web embed.FS

// Path is where the handler is mounted (bot.MiniAppPath).
const Path = "/miniapp/"

// Chats is the merchant chats the form writes to: bot.Writer.
type Chats interface {
	// ChatState reads the chat's dialog as last committed.
	ChatState(ctx context.Context, chat int64) (*dialogs.State, error)
	// PostForm puts the form into the chat's queue, once per once.
	PostForm(ctx context.Context, chat int64, once string, f dialogs.Form, lang string) (bool, error)
}

// Used marks launch data as used: Spend reports false when key was spent
// already (within ttl); Spent only looks; Unspend gives it back (the form
// could not be queued, so the merchant may send it again).
type Used interface {
	Spend(ctx context.Context, key string, ttl time.Duration) (bool, error)
	Spent(ctx context.Context, key string) (bool, error)
	Unspend(ctx context.Context, key string) error
}

// Handler serves the page and its API under Path.
type Handler struct {
	token string
	key   *ecdh.PrivateKey // the form is sealed to it (seal.go)
	chats Chats
	used  Used
	bins  *cardbin.Table
	log   *slog.Logger
	now   func() time.Time
	mux   *http.ServeMux
}

// Option configures a Handler.
type Option func(*Handler)

// WithLogger sets the logger. Nothing the merchant typed is logged: the
// chat, the outcome and its reason.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithClock sets the clock auth_date is checked on (tests).
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// New returns the handler for the bot whose token signs the launch data.
func New(token string, chats Chats, used Used, bins *cardbin.Table, opts ...Option) (*Handler, error) {
	key, err := formKey(token)
	if err != nil {
		return nil, err
	}
	h := &Handler{token: token, key: key, chats: chats, used: used, bins: bins,
		log: slog.New(slog.DiscardHandler), now: time.Now, mux: http.NewServeMux()}
	for _, o := range opts {
		o(h)
	}
	static, _ := fs.Sub(web, "web") // the directory is embedded: it is there
	files := http.FileServerFS(static)
	h.mux.Handle("GET "+Path, http.StripPrefix(Path, files))
	h.mux.HandleFunc("POST "+Path+"api/session", h.session)
	h.mux.HandleFunc("POST "+Path+"api/bin", h.bin)
	h.mux.HandleFunc("POST "+Path+"api/submit", h.submit)
	return h, nil
}

// CSP allows the page nothing but its own origin: no inline script or
// style, no third-party script (Telegram's telegram-web-app.js included:
// the page speaks the Mini App events itself), no form posts elsewhere.
// Telegram's web clients show Mini Apps in a frame of web.telegram.org;
// the apps open them in a web view, which frame-ancestors does not touch.
const CSP = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self' https://web.telegram.org"

// ServeHTTP serves every answer with the security headers: the form and
// its answers are never cached, never sent as a referrer, never sniffed.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// maxBody bounds a request body: launch data and four short fields.
const maxBody = 8 << 10

// Reasons the API gives for a refusal; the page says each in the
// merchant's language.
const (
	reasonForged   = "forged"      // 401: not signed for this bot
	reasonStale    = "stale"       // 401: too old, or from the future
	reasonOther    = "other_chat"  // 403: no dialog of this user's private chat, or not opened from it
	reasonNotNow   = "not_at_card" // 403: the chat is not at the card question
	reasonReplayed = "replayed"    // 409: this launch data was used already
	reasonInvalid  = "invalid"     // 400: a field the form cannot send
	reasonDown     = "unavailable" // 503: Redis away; nothing taken, try again
)

type request struct {
	InitData string `json:"init_data"`
	Lang     string `json:"lang,omitempty"`
	// bin:
	BIN    string `json:"bin,omitempty"`
	Length int    `json:"length,omitempty"`
	// submit: the fields, sealed to the server's key (seal.go)
	Form *sealed `json:"form,omitempty"`
}

// read decodes the request and verifies its launch data; false: answered.
func (h *Handler) read(w http.ResponseWriter, r *http.Request, what string) (request, Launch, bool) {
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.Decode(new(json.RawMessage)) != io.EOF {
		h.refuse(w, what, 0, http.StatusBadRequest, reasonInvalid)
		return req, Launch{}, false
	}
	l, err := Verify(req.InitData, h.token, h.now())
	switch {
	case errors.Is(err, ErrStale):
		h.refuse(w, what, l.UserID, http.StatusUnauthorized, reasonStale)
		return req, l, false
	case err != nil:
		h.refuse(w, what, 0, http.StatusUnauthorized, reasonForged)
		return req, l, false
	case l.ChatType != "" && l.ChatType != "sender" && l.ChatType != "private":
		h.refuse(w, what, l.UserID, http.StatusForbidden, reasonOther)
		return req, l, false
	}
	return req, l, true
}

// atCard reads the launching user's private chat (its id is the user's)
// and answers 403 unless its dialog is at the card question; down reports
// a 503 instead, the state out of reach (nothing decided: the page says to
// try again).
func (h *Handler) atCard(ctx context.Context, w http.ResponseWriter, what string, l Launch) (st *dialogs.State, ok, down bool) {
	st, err := h.chats.ChatState(ctx, l.UserID)
	switch {
	case err != nil:
		h.log.Warn("card form: read chat state", "chat_id", l.UserID, "err", err)
		h.refuse(w, what, l.UserID, http.StatusServiceUnavailable, reasonDown)
		return nil, false, true
	case !st.Bound || st.Step == "":
		h.refuse(w, what, l.UserID, http.StatusForbidden, reasonOther)
		return nil, false, false
	case !dialogs.FormOpen(st):
		h.refuse(w, what, l.UserID, http.StatusForbidden, reasonNotNow)
		return nil, false, false
	}
	return st, true, false
}

// session answers the page as it opens: whether this launch may fill the
// form (a launch sent already is told so, as its submission would be), and
// the holder name the merchant record offers.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) {
	_, l, ok := h.read(w, r, "session")
	if !ok {
		return
	}
	spent, err := h.used.Spent(r.Context(), usedKey(l))
	switch {
	case err != nil:
		h.log.Warn("card form: read launch mark", "chat_id", l.UserID, "err", err)
		h.refuse(w, "session", l.UserID, http.StatusServiceUnavailable, reasonDown)
		return
	case spent:
		h.refuse(w, "session", l.UserID, http.StatusConflict, reasonReplayed)
		return
	}
	st, ok, _ := h.atCard(r.Context(), w, "session", l)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"holder": st.MerchantName, "key": publicKey(h.key)})
}

// bin tells the bank of a card's first digits (6 to 10: a BIN, never the
// number) to a verified launch.
func (h *Handler) bin(w http.ResponseWriter, r *http.Request) {
	req, _, ok := h.read(w, r, "bin")
	if !ok {
		return
	}
	// Length 0: not yet known (fewer than 16 digits typed).
	req.BIN = parse.Digits(req.BIN)
	if len(req.BIN) < 6 || len(req.BIN) > 10 || !parse.AllDigits(req.BIN) || req.Length != 0 && (req.Length < 16 || req.Length > 19) {
		h.refuse(w, "bin", 0, http.StatusBadRequest, reasonInvalid)
		return
	}
	probe := req.BIN
	if req.Length > 0 {
		probe += strings.Repeat("0", req.Length-len(req.BIN)) // Lookup tells lengths apart
	}
	c, known := h.bins.Lookup(probe)
	if !known {
		writeJSON(w, http.StatusOK, map[string]any{"known": false})
		return
	}
	bank := c.BankName
	if locales.Normalize(req.Lang) == locales.English {
		if b, ok := h.bins.BankByCode(c.BankCode); ok && b.NameEN != "" {
			bank = b.NameEN
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"known": true, "bank": bank, "debit": cardbin.IsDebit(c.Type), "length": c.Length})
}

// Field bounds: what the form's inputs take.
const (
	maxNameRunes  = 60
	maxPhoneBytes = 20
)

// submit takes the filled form: verified, bound to the chat at the card
// question, used once, then queued. The answer never repeats a field.
func (h *Handler) submit(w http.ResponseWriter, r *http.Request) {
	req, l, ok := h.read(w, r, "submit")
	if !ok {
		return
	}
	if req.Form == nil {
		h.refuse(w, "submit", l.UserID, http.StatusBadRequest, reasonInvalid)
		return
	}
	in, err := open(h.key, *req.Form, req.InitData)
	if err != nil {
		h.refuse(w, "submit", l.UserID, http.StatusBadRequest, reasonInvalid)
		return
	}
	// Read as the chat reads a typed card (parse.FindCard: spaces, dashes,
	// dots, slashes and full-width digits are the merchant's way of writing
	// the same number); a number that is no card shape goes on as digits,
	// for the card step to say what is wrong with it.
	card := parse.Digits(in.Card)
	if found, n := parse.FindCard(in.Card); n == 1 {
		card = found
	}
	if len(card) < 12 || len(card) > 19 || !parse.AllDigits(card) ||
		utf8.RuneCountInString(in.Holder) > maxNameRunes || utf8.RuneCountInString(in.Branch) > maxNameRunes ||
		len(in.Phone) > maxPhoneBytes || !utf8.ValidString(in.Holder+in.Branch+in.Phone) {
		h.refuse(w, "submit", l.UserID, http.StatusBadRequest, reasonInvalid)
		return
	}
	// Used before the chat is looked at: launch data that was accepted once
	// is a replay, whatever the chat did since.
	key := usedKey(l)
	ctx := r.Context()
	first, err := h.used.Spend(ctx, key, MaxAge+MaxSkew)
	switch {
	case err != nil:
		h.log.Warn("card form: mark launch used", "chat_id", l.UserID, "err", err)
		h.refuse(w, "submit", l.UserID, http.StatusServiceUnavailable, reasonDown)
		return
	case !first:
		h.refuse(w, "submit", l.UserID, http.StatusConflict, reasonReplayed)
		return
	}
	if _, ok, down := h.atCard(ctx, w, "submit", l); !ok {
		if down {
			// Nothing was taken, and the page says to try again: the launch
			// is given back for that.
			if err := h.used.Unspend(context.WithoutCancel(ctx), key); err != nil {
				h.log.Warn("card form: give the launch back", "chat_id", l.UserID, "err", err)
			}
		}
		return // otherwise the launch stays used: the form is opened again from the chat
	}
	f := dialogs.Form{Card: card, Holder: strings.TrimSpace(in.Holder), Branch: strings.TrimSpace(in.Branch),
		ReservedPhone: strings.TrimSpace(in.Phone)}
	added, err := h.chats.PostForm(ctx, l.UserID, "miniapp:"+key, f, l.LanguageCode)
	switch {
	case err != nil:
		h.log.Warn("card form not queued", "chat_id", l.UserID, "err", err)
		if err := h.used.Unspend(context.WithoutCancel(ctx), key); err != nil {
			h.log.Warn("card form: give the launch back", "chat_id", l.UserID, "err", err)
		}
		h.refuse(w, "submit", l.UserID, http.StatusServiceUnavailable, reasonDown)
		return
	case !added:
		h.refuse(w, "submit", l.UserID, http.StatusConflict, reasonReplayed)
		return
	}
	h.log.Info("card form queued", "chat_id", l.UserID)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

// usedKey names a launch among the used ones: the hash of its signature.
func usedKey(l Launch) string {
	sum := sha256.Sum256([]byte(l.Hash))
	return hex.EncodeToString(sum[:])
}

// refuse answers a refusal with its reason, and logs it (never the body).
func (h *Handler) refuse(w http.ResponseWriter, what string, chat int64, status int, reason string) {
	if chat != 0 {
		h.log.Info("card form refused", "request", what, "status", status, "reason", reason, "chat_id", chat)
	} else {
		h.log.Info("card form refused", "request", what, "status", status, "reason", reason)
	}
	writeJSON(w, status, map[string]any{"error": reason})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
