package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// webhookConnections is Telegram's default max_connections for a webhook.
const webhookConnections = 40

// webhookRelay plays Telegram's webhook delivery for the bots under test. The
// fake Bot API posts updates one at a time and waits for each answer, which
// would make one slow update hold up every chat; Telegram instead keeps up to
// max_connections requests open. The relay takes each update from the fake at
// once and delivers it over webhookConnections connections: a chat's updates
// in order, one at a time, on the connection its id hashes to, each to the next
// target in turn (a load balancer in front of the replicas); an update that
// is not answered 2xx is delivered again, to the next target. A Bot API
// method in a 2xx answer's body (a button's answerCallbackQuery) is handed
// to the fake, which runs it as Telegram would, before the lane goes on.
type webhookRelay struct {
	fake    *telegramtest.Server
	targets []string
	client  *http.Client
	lanes   []chan relayed
	next    atomic.Uint64

	delivered      atomic.Int64
	redelivery     atomic.Int64
	inAnswers      atomic.Int64 // Bot API methods the bots put in their answers (not requests)
	answersRefused atomic.Int64 // those the fake refused (Telegram would tell nobody)

	wg sync.WaitGroup
}

type relayed struct {
	body   []byte
	secret string
}

func newWebhookRelay(ctx context.Context, fake *telegramtest.Server, targets []string) *webhookRelay {
	r := &webhookRelay{
		fake:    fake,
		targets: targets,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: webhookConnections, MaxConnsPerHost: webhookConnections,
		}},
		lanes: make([]chan relayed, webhookConnections),
	}
	for i := range r.lanes {
		r.lanes[i] = make(chan relayed, 4096)
		r.wg.Add(1)
		go r.deliver(ctx, r.lanes[i])
	}
	return r
}

func (r *webhookRelay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	lane := r.lanes[uint64(updateChat(body))%uint64(len(r.lanes))]
	select {
	case lane <- relayed{body: body, secret: req.Header.Get("X-Telegram-Bot-Api-Secret-Token")}:
		w.WriteHeader(http.StatusOK)
	case <-req.Context().Done():
	}
}

func (r *webhookRelay) deliver(ctx context.Context, lane chan relayed) {
	defer r.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-lane:
			for backoff := 10 * time.Millisecond; ; backoff = min(2*backoff, 500*time.Millisecond) {
				if r.post(ctx, u) {
					r.delivered.Add(1)
					break
				}
				if ctx.Err() != nil {
					return
				}
				r.redelivery.Add(1)
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
			}
		}
	}
}

func (r *webhookRelay) post(ctx context.Context, u relayed) bool {
	target := r.targets[(r.next.Add(1)-1)%uint64(len(r.targets))]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(u.body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", u.secret)
	resp, err := r.client.Do(req)
	if err != nil {
		return false
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return false
	}
	if len(answer) > 0 {
		method, err := r.fake.RunResponse(ctx, resp.Header.Get("Content-Type"), answer)
		if method != "" {
			r.inAnswers.Add(1)
		}
		if err != nil {
			r.answersRefused.Add(1)
		}
	}
	return true
}

// updateChat is the chat an update belongs to, 0 when it has none.
func updateChat(raw []byte) int64 {
	var u struct {
		Message *struct {
			Chat struct{ ID int64 } `json:"chat"`
		} `json:"message"`
		CallbackQuery *struct {
			Message *struct {
				Chat struct{ ID int64 } `json:"chat"`
			} `json:"message"`
		} `json:"callback_query"`
	}
	if json.Unmarshal(raw, &u) != nil {
		return 0
	}
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil:
		return u.CallbackQuery.Message.Chat.ID
	}
	return 0
}
