package handoff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot"
	"github.com/merchantbot/merchantbot/bot/handoff"
	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
	"github.com/merchantbot/merchantbot/locales"
)

// testRedis is the test Redis and a key prefix of this test's own
// (dialogs/store/redistest).
func testRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	return redistest.New(t)
}

// wire is the test's outbox and poster: calls are sent in order, one at a
// time, over HTTP to the fake Bot API (so the wire format is real), and their
// answers go to the desk's result and failure handlers as the lead's sender
// will do.
type wire struct {
	t     testing.TB
	url   string
	http  *http.Client
	desk  func() *handoff.Desk // the desk that handles results (any replica)
	mu    sync.Mutex
	queue []queued
	busy  bool
	once  map[string]bool
	wake  chan struct{}
	posts []post
	lost  []string // calls refused and not handled
	// refuse counts, per method, the next Enqueues holding such a call
	// that fail (an outbox that cannot be written).
	refuse map[string]int
}

// refuseNext makes the next Enqueue holding a call of method fail.
func (w *wire) refuseNext(method string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.refuse[method]++
}

type queued struct {
	chat int64
	call outbox.Call
}

type post struct {
	Chat        int64
	Once, Event string
	Arg         string
}

func newWire(t testing.TB, srv *telegramtest.Server) *wire {
	w := &wire{t: t, url: srv.URL() + "/bot" + srv.Token() + "/", http: &http.Client{Timeout: 5 * time.Second},
		once: map[string]bool{}, wake: make(chan struct{}, 1), refuse: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

func (w *wire) Enqueue(_ context.Context, chat int64, once string, calls ...outbox.Call) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range calls {
		if w.refuse[c.Method] > 0 {
			w.refuse[c.Method]--
			return false, errors.New("outbox not written")
		}
	}
	if once != "" {
		if w.once[once] {
			return false, nil
		}
		w.once[once] = true
	}
	for _, c := range calls {
		w.queue = append(w.queue, queued{chat: chat, call: c})
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true, nil
}

func (w *wire) Post(_ context.Context, chat int64, once, event, arg string) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if once != "" {
		if w.once[once] {
			return false, nil
		}
		w.once[once] = true
	}
	w.posts = append(w.posts, post{Chat: chat, Once: once, Event: event, Arg: arg})
	return true, nil
}

func (w *wire) Posts() []post {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]post(nil), w.posts...)
}

func (w *wire) Lost() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.lost...)
}

func (w *wire) run(ctx context.Context) {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.busy = false
			w.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
				continue
			}
		}
		q := w.queue[0]
		w.queue = w.queue[1:]
		w.busy = true
		w.mu.Unlock()
		w.send(ctx, q)
	}
}

func (w *wire) send(ctx context.Context, q queued) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url+q.call.Method, bytes.NewReader(q.call.Params))
	if err != nil {
		w.fail(q, err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.http.Do(req)
	if err != nil {
		w.fail(q, err.Error())
		return
	}
	defer resp.Body.Close()
	var env struct {
		OK          bool            `json:"ok"`
		Result      json.RawMessage `json:"result"`
		Description string          `json:"description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		w.fail(q, err.Error())
		return
	}
	tagged := strings.HasPrefix(q.call.Tag, handoff.TagPrefix)
	if env.OK {
		if tagged {
			if err := w.desk().HandleResult(ctx, q.chat, q.call, env.Result); err != nil {
				w.fail(q, "result handler: "+err.Error())
			}
		}
		return
	}
	if tagged {
		handled, err := w.desk().HandleFailed(ctx, q.chat, q.call, errors.New(env.Description))
		if err != nil {
			w.fail(q, "failure handler: "+err.Error())
		}
		if handled {
			return
		}
	}
	if !q.call.Optional {
		w.fail(q, env.Description)
	}
}

func (w *wire) fail(q queued, why string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lost = append(w.lost, q.call.Method+": "+why)
}

// settle waits until every queued call was sent.
func (w *wire) settle(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.mu.Lock()
		idle := len(w.queue) == 0 && !w.busy
		w.mu.Unlock()
		if idle {
			return
		}
		require.True(t, time.Now().Before(deadline), "outbox did not drain")
		time.Sleep(2 * time.Millisecond)
	}
}

const group = int64(-1001234567890)

var (
	alice = models.User{ID: 501, FirstName: "Alice", Username: "alice_agent"}
	bob   = models.User{ID: 502, FirstName: "Bob", Username: "bob_agent"}
	eve   = models.User{ID: 503, FirstName: "Eve", Username: "eve_outsider"}
)

// fixture is a support group on the fake Bot API with two agents, a real
// Redis and a wire.
type fixture struct {
	t      *testing.T
	srv    *telegramtest.Server
	rdb    *redis.Client
	prefix string
	wire   *wire
	clock  *clock
	mu     sync.Mutex
	desks  []*handoff.Desk
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := telegramtest.New()
	t.Cleanup(srv.Close)
	srv.SetForum(group, true)
	srv.SetChatMember(group, srv.BotUser(), models.ChatMemberTypeAdministrator, true)
	srv.SetChatMember(group, alice, models.ChatMemberTypeAdministrator, false)
	srv.SetChatMember(group, bob, models.ChatMemberTypeAdministrator, false)
	srv.SetChatMember(group, eve, models.ChatMemberTypeMember, false) // a member, not an agent
	rdb, prefix := testRedis(t)
	f := &fixture{t: t, srv: srv, rdb: rdb, prefix: prefix, clock: &clock{now: time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)}}
	f.wire = newWire(t, srv)
	f.wire.desk = f.lastDesk
	return f
}

// desk starts a replica: its own Bot API client, the shared Redis and wire.
func (f *fixture) desk(opts ...handoff.Option) *handoff.Desk {
	f.t.Helper()
	api, err := tg.New(f.srv.Token(), tg.WithServerURL(f.srv.URL()), tg.WithSkipGetMe())
	require.NoError(f.t, err)
	catalog, err := locales.Load()
	require.NoError(f.t, err)
	all := append([]handoff.Option{handoff.WithPrefix(f.prefix), handoff.WithClock(f.clock.Now),
		handoff.WithGroupLanguage(locales.English), handoff.WithButtons(bot.NewButtonCodec([]byte("desk test key")))}, opts...)
	d := handoff.New(api, f.wire, f.wire, f.rdb, group, catalog, all...)
	require.NoError(f.t, d.Check(context.Background()))
	f.mu.Lock()
	f.desks = append(f.desks, d)
	f.mu.Unlock()
	return d
}

func (f *fixture) lastDesk() *handoff.Desk {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.desks[len(f.desks)-1]
}

func info(no, name, lang, step string) dialogs.HandOffInfo {
	return dialogs.HandOffInfo{MerchantNo: no, MerchantName: name, Lang: lang, Step: step}
}

// message finds message id in chat as the fake holds it now.
func (f *fixture) message(chat int64, id int) *models.Message {
	f.t.Helper()
	for _, m := range f.srv.Transcript(chat) {
		if m.ID == id {
			msg := m.APIMessage
			return &msg
		}
	}
	f.t.Fatalf("no message %d in chat %d", id, chat)
	return nil
}

// merchantSays sends a merchant message and relays it as the dialog's Relay
// effect makes the adapter do.
func (f *fixture) merchantSays(d *handoff.Desk, chat int64, m telegramtest.UserMessage) int {
	f.t.Helper()
	_, id := f.srv.Send(chat, chat, m)
	require.NoError(f.t, d.Relay(context.Background(), chat, f.message(chat, id), false))
	return id
}

func (f *fixture) merchantEdits(d *handoff.Desk, chat int64, id int, text string) {
	f.t.Helper()
	_, err := f.srv.Edit(chat, id, text)
	require.NoError(f.t, err)
	require.NoError(f.t, d.Relay(context.Background(), chat, f.message(chat, id), true))
}

// agentSays sends an agent's message in a topic and hands the update to the desk.
func (f *fixture) agentSays(d *handoff.Desk, agent models.User, thread int, m telegramtest.UserMessage) int {
	f.t.Helper()
	f.srv.SetUser(agent)
	m.Thread = thread
	_, id := f.srv.Send(group, agent.ID, m)
	require.NoError(f.t, d.HandleGroup(context.Background(), &models.Update{Message: f.message(group, id)}))
	return id
}

func (f *fixture) agentEdits(d *handoff.Desk, id int, text string) {
	f.t.Helper()
	_, err := f.srv.Edit(group, id, text)
	require.NoError(f.t, err)
	require.NoError(f.t, d.HandleGroup(context.Background(), &models.Update{EditedMessage: f.message(group, id)}))
}

// press presses a button of the card in thread as agent.
func (f *fixture) press(d *handoff.Desk, agent models.User, thread int, label string) {
	f.t.Helper()
	for _, m := range f.srv.Sent(group) {
		if m.ThreadID != thread {
			continue
		}
		if b, ok := m.Button(label); ok {
			id := f.srv.PressButton(group, agent.ID, m.ID, b.CallbackData)
			msg := m.APIMessage
			q := &models.CallbackQuery{ID: strconv.FormatInt(id, 10), From: agent, Data: b.CallbackData,
				Message: models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &msg}}
			require.NoError(f.t, d.HandleGroup(context.Background(), &models.Update{CallbackQuery: q}))
			return
		}
	}
	f.t.Fatalf("no button %q in thread %d", label, thread)
}

// pressData presses a button carrying data (forged, or of an old card) on
// message m of the group, as agent.
func (f *fixture) pressData(d *handoff.Desk, agent models.User, m telegramtest.Message, data string) {
	f.t.Helper()
	id := f.srv.PressButton(group, agent.ID, m.ID, data)
	msg := m.APIMessage
	q := &models.CallbackQuery{ID: strconv.FormatInt(id, 10), From: agent, Data: data,
		Message: models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &msg}}
	require.NoError(f.t, d.HandleGroup(context.Background(), &models.Update{CallbackQuery: q}))
}

// openZhang opens a hand-off of m1 (Zhang San Store, from the card step,
// in English) on d and returns its topic's thread once the card is in it.
func (f *fixture) openZhang(t *testing.T, d *handoff.Desk) int {
	t.Helper()
	require.NoError(t, d.Open(context.Background(), m1, info("822100050110001", "Zhang San Store", locales.English, dialogs.StepCard)))
	f.wire.settle(t)
	return f.topic(m1, "Zhang San Store").ThreadID
}

// topic is the merchant's topic thread as the fake holds it.
func (f *fixture) topic(chat int64, name string) telegramtest.Topic {
	f.t.Helper()
	for _, tp := range f.srv.Topics(group) {
		if strings.HasPrefix(tp.Name, name) {
			return tp
		}
	}
	f.t.Fatalf("no topic named %q; have %+v", name, f.srv.Topics(group))
	return telegramtest.Topic{}
}

// inThread lists the group's messages in thread, oldest first.
func (f *fixture) inThread(thread int) []telegramtest.Message {
	var out []telegramtest.Message
	for _, m := range f.srv.Sent(group) {
		if m.ThreadID == thread {
			out = append(out, m)
		}
	}
	return out
}

func describe(ms []telegramtest.Message) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "[%d %s %q %q]", m.ID, m.Kind, m.Text, m.Caption)
	}
	return b.String()
}
