package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// botEvent is a message the bot sent or edited in a merchant's chat, as the
// merchant's client would see it, stamped when the fake Bot API answered.
type botEvent struct {
	at      time.Time
	msgID   int
	text    string
	buttons []models.InlineKeyboardButton
	edit    bool
}

// apiFront sits in front of the fake Bot API (internal/telegramtest) and watches
// its answers: every message the bot sends or edits in a merchant's chat goes
// to that merchant's channel, and every call is counted, refusals by code.
// Reading answers rather than requests keeps it independent of how the bot
// encodes its calls (multipart, form or JSON).
type apiFront struct {
	fake  *telegramtest.Server
	chats map[int64]chan botEvent // fixed before the run starts

	mu      sync.Mutex
	calls   map[string]int // by method
	refused map[int]int    // by error_code
	dropped atomic.Int64   // events a merchant's full channel could not take
}

func newAPIFront(fake *telegramtest.Server, chats []int64) *apiFront {
	f := &apiFront{
		fake:    fake,
		chats:   make(map[int64]chan botEvent, len(chats)),
		calls:   map[string]int{},
		refused: map[int]int{},
	}
	for _, c := range chats {
		f.chats[c] = make(chan botEvent, 256)
	}
	return f
}

// messageMethods answer with the Message the merchant now sees.
var messageMethods = map[string]bool{
	"sendmessage": true, "editmessagetext": true, "editmessagereplymarkup": true,
	"sendphoto": true, "senddocument": true, "copymessage": true, "editmessagecaption": true,
}

func (f *apiFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := strings.ToLower(path.Base(r.URL.Path))
	rec := &capture{ResponseWriter: w, code: http.StatusOK}
	f.fake.ServeHTTP(rec, r)
	at := time.Now()
	var env struct {
		OK        bool            `json:"ok"`
		ErrorCode int             `json:"error_code"`
		Result    json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(rec.body.Bytes(), &env); err != nil {
		env.ErrorCode = rec.code
	}
	f.mu.Lock()
	f.calls[method]++
	if !env.OK && method != "getupdates" { // a long poll ended by shutdown is no refusal
		f.refused[env.ErrorCode]++
	}
	f.mu.Unlock()
	if !env.OK || !messageMethods[method] || len(env.Result) == 0 || env.Result[0] != '{' {
		return
	}
	var m models.Message
	if err := json.Unmarshal(env.Result, &m); err != nil {
		return
	}
	ch := f.chats[m.Chat.ID]
	if ch == nil {
		return
	}
	ev := botEvent{at: at, msgID: m.ID, text: m.Text + m.Caption, edit: strings.HasPrefix(method, "edit")}
	if m.ReplyMarkup != nil {
		for _, row := range m.ReplyMarkup.InlineKeyboard {
			ev.buttons = append(ev.buttons, row...)
		}
	}
	select {
	case ch <- ev:
	default:
		f.dropped.Add(1)
	}
}

// counts returns copies of the call and refusal counters.
func (f *apiFront) counts() (calls map[string]int, refused map[int]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	calls, refused = make(map[string]int, len(f.calls)), make(map[int]int, len(f.refused))
	for k, v := range f.calls {
		calls[k] = v
	}
	for k, v := range f.refused {
		refused[k] = v
	}
	return calls, refused
}

// capture passes an answer through and keeps a copy of its body.
type capture struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (c *capture) WriteHeader(code int) {
	c.code = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(p []byte) (int, error) {
	c.body.Write(p)
	return c.ResponseWriter.Write(p)
}
