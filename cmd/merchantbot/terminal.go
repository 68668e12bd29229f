package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/merchantbot/merchantbot/bot/sender"
)

// terminalAPI is the Bot API of the console: the bot's calls, made over
// HTTP as to Telegram, are answered here. sendMessage prints its text and
// its buttons as "  [N] label" (a share-contact button is left out: the
// merchant types the phone), and so does editMessageText (the message shows
// again, changed); a button's answer with a text (a toast over the message
// on screen) prints that text and the last message again; the other calls
// (deletions, a keyboard removed) change nothing a terminal shows.
type terminalAPI struct {
	mu      sync.Mutex
	out     io.Writer
	chat    int64
	msgID   int64 // the private chat's message ids, shared with the merchant's
	buttons []terminalButton
	last    []byte // the last message printed, buttons included
}

type terminalButton struct {
	data    string
	message int64
}

// nextMessage is the id of the next message in the chat, either side's.
func (a *terminalAPI) nextMessage() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.msgID++
	return a.msgID
}

// button is the data and message of button n (1-based) of the last message.
func (a *terminalAPI) button(n int) (terminalButton, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n < 1 || n > len(a.buttons) {
		return terminalButton{}, false
	}
	return a.buttons[n-1], true
}

func (a *terminalAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		_ = r.Body.Close()
	}
	result := "true"
	switch method {
	case "getMe":
		result = `{"id":1,"is_bot":true,"first_name":"merchantbot","username":"merchantbot_console"}`
	case "sendMessage":
		id := a.send(body)
		result = fmt.Sprintf(`{"message_id":%d,"date":0,"chat":{"id":%d,"type":"private"}}`, id, a.chat)
	case "editMessageText":
		var m struct {
			ID int64 `json:"message_id"`
		}
		_ = json.Unmarshal(body, &m)
		a.print(m.ID, body)
		result = fmt.Sprintf(`{"message_id":%d,"date":0,"chat":{"id":%d,"type":"private"}}`, m.ID, a.chat)
	case "answerCallbackQuery":
		var m struct {
			Text string `json:"text"`
		}
		_ = json.Unmarshal(body, &m)
		if m.Text != "" {
			a.mu.Lock()
			_, _ = fmt.Fprintf(a.out, "%s\n\n%s", m.Text, a.last)
			a.mu.Unlock()
		}
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(`{"ok":true,"result":` + result + `}`)),
		Request:    r,
	}, nil
}

func (a *terminalAPI) send(body []byte) int64 {
	id := a.nextMessage()
	a.print(id, body)
	return id
}

// print shows message id, as the Bot API call body describes it.
func (a *terminalAPI) print(id int64, body []byte) {
	var m struct {
		Text   string `json:"text"`
		Markup struct {
			Inline [][]struct {
				Text string `json:"text"`
				Data string `json:"callback_data"`
			} `json:"inline_keyboard"`
		} `json:"reply_markup"`
	}
	_ = json.Unmarshal(body, &m)
	var b bytes.Buffer
	b.WriteString(html.UnescapeString(m.Text) + "\n")
	a.mu.Lock()
	defer a.mu.Unlock()
	a.buttons = a.buttons[:0]
	for _, row := range m.Markup.Inline {
		for _, btn := range row {
			a.buttons = append(a.buttons, terminalButton{data: btn.Data, message: id})
			fmt.Fprintf(&b, "  [%d] %s\n", len(a.buttons), btn.Text)
		}
	}
	b.WriteString("\n")
	a.last = b.Bytes()
	_, _ = a.out.Write(a.last)
}

// runAnswer runs the Bot API method a webhook answer's JSON body carries
// (nothing when it carries none), as a call of the bot's.
func (a *terminalAPI) runAnswer(ctx context.Context, body []byte) error {
	var params map[string]json.RawMessage
	if len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, &params) != nil {
		return nil
	}
	var method string
	if json.Unmarshal(params["method"], &method) != nil || method == "" {
		return nil
	}
	delete(params, "method")
	call, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("webhook answer: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://terminal/bot/"+method, bytes.NewReader(call))
	if err != nil {
		return fmt.Errorf("webhook answer: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("webhook answer: %w", err)
	}
	return resp.Body.Close()
}

// terminalSender makes every call at once: one merchant at a terminal
// needs no send budget, and a terminal never blocks the bot.
type terminalSender struct{}

func (terminalSender) Do(ctx context.Context, _ int64, _ sender.Kind, call func(context.Context) error) error {
	return call(ctx)
}

func (terminalSender) DoN(ctx context.Context, _ int64, _ sender.Kind, _ int, call func(context.Context) error) error {
	return call(ctx)
}

func (terminalSender) Block(context.Context, int64) error   { return nil }
func (terminalSender) Unblock(context.Context, int64) error { return nil }
