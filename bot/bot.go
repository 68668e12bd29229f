// Package bot puts the card-change dialog on Telegram: it receives updates
// by long polling or webhook, stores each in its chat's durable queue
// before acknowledging it, applies each chat's queue one update at a time,
// in update_id order, exactly once, and sends what the dialog answered
// from the chat's durable outbox (bot/chatq). Every outgoing call goes
// through bot/sender's budgets.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/bot/sender"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/locales"
)

// Engine is the conversation: dialogs.Engine. It keeps nothing between
// calls; the pipeline reads and commits the state around it.
type Engine interface {
	Handle(ctx context.Context, st *dialogs.State, in dialogs.Input) dialogs.Outcome
	// WakeAt is when st wants an event without the merchant (reminder,
	// expiry); zero for none.
	WakeAt(st *dialogs.State) time.Time
}

// Sender makes the Bot API calls: bot/sender.Sender.
type Sender interface {
	Do(ctx context.Context, chatID int64, kind sender.Kind, call func(ctx context.Context) error) error
	// DoN is Do for a call that posts n messages (copyMessages of n ids).
	DoN(ctx context.Context, chatID int64, kind sender.Kind, n int, call func(ctx context.Context) error) error
	Block(ctx context.Context, chatID int64) error
	Unblock(ctx context.Context, chatID int64) error
}

// prefetcher is a Sender whose next message's budget can be taken by the
// outbox's mark script (bot/sender.Sender: Prefetch, Prepaid).
type prefetcher interface {
	Prefetch(chatID int64) *sender.Prefetch
	Prepaid(chatID int64)
	Forfeit(chatID int64)
}

// Desk is the support desk in the forum supergroup: bot/handoff.Desk.
type Desk interface {
	// Apply carries out a turn's hand-off effects (open, relay, left, rated).
	Apply(ctx context.Context, chat int64, effects []dialogs.Effect, msg *models.Message, edited bool) error
	// HandleGroup takes every update from the support group.
	HandleGroup(ctx context.Context, u *models.Update) error
	// MerchantBlocked reports in the merchant's topic that they blocked the bot.
	MerchantBlocked(ctx context.Context, chat int64) error
	// HandleResult and HandleFailed follow the desk's tagged calls.
	HandleResult(ctx context.Context, chat int64, c outbox.Call, result json.RawMessage) error
	HandleFailed(ctx context.Context, chat int64, c outbox.Call, failure error) (bool, error)
}

// Metrics is what the pipeline reports: bot/metrics.Metrics.
type Metrics interface {
	UpdateReceived(source string)
	UpdateDuplicate()
	UpdateApplied(kind string, took time.Duration)
	UpdateRetried()
	UpdateDeadLettered()
	TelegramCall(priority, outcome string)
	TooManyRequests()
	SetOutboxDepth(n int)
	NotificationSent(status string)
	NotificationFailed(status string)
	HandOff()
	HandBack()
	SupportGroupBlocked(blocked bool)
}

// noMetrics reports nothing.
type noMetrics struct{}

func (noMetrics) UpdateReceived(string)               {}
func (noMetrics) UpdateDuplicate()                    {}
func (noMetrics) UpdateApplied(string, time.Duration) {}
func (noMetrics) UpdateRetried()                      {}
func (noMetrics) UpdateDeadLettered()                 {}
func (noMetrics) TelegramCall(string, string)         {}
func (noMetrics) TooManyRequests()                    {}
func (noMetrics) SetOutboxDepth(int)                  {}
func (noMetrics) NotificationSent(string)             {}
func (noMetrics) NotificationFailed(string)           {}
func (noMetrics) HandOff()                            {}
func (noMetrics) HandBack()                           {}
func (noMetrics) SupportGroupBlocked(bool)            {}

// api is the part of go-telegram/bot's client the adapter calls directly:
// the set-up calls. Everything said to a chat goes through the outbox.
type api interface {
	GetMe(ctx context.Context) (*models.User, error)
	SetMyCommands(ctx context.Context, params *tg.SetMyCommandsParams) (bool, error)
	SetWebhook(ctx context.Context, params *tg.SetWebhookParams) (bool, error)
	DeleteWebhook(ctx context.Context, params *tg.DeleteWebhookParams) (bool, error)
}

// Bot is the Telegram adapter. Make it with New, call Start, then Poll or
// serve Handler with a webhook set by SetWebhook; Drain on the way out.
type Bot struct {
	token     string
	serverURL string
	client    *http.Client
	api       api
	engine    Engine
	q         ChatStore
	cipher    *store.Cipher
	send      Sender
	render    *dialogs.Renderer
	catalog   *locales.Catalog
	codec     callbackCodec
	log       *slog.Logger
	ready     func(context.Context) error
	results   map[string]ResultHandler
	submitted func(ctx context.Context, app string) error
	desk      Desk
	metrics   Metrics
	deskTags  string  // the tag prefix of the desk's calls
	writer    *Writer // adds events and calls from outside a turn (Post, Enqueue)
	// crashAfterCommit, a test's crash hook, stops a worker right after a
	// commit as kill -9 would, with nothing sent and nothing released.
	crashAfterCommit func(chat int64) bool
	// crashMidBatch, a test's crash hook, stops a sender before the next
	// call of a batch, sent calls of it done and unmarked, as kill -9 would.
	crashMidBatch func(chat int64, done int) bool

	supportChat int64
	workerSlots int
	pollTimeout time.Duration
	retryMin    time.Duration
	retryMax    time.Duration
	maxAttempts int
	maxTurn     time.Duration
	takeOver    time.Duration
	sweepEvery  time.Duration
	callbackKey []byte
	callbackOld [][]byte

	leases   *chatq.Keeper   // renews the chat locks and outbox leases held here
	work     context.Context // workers and senders run under it; Drain ends it
	endWork  context.CancelFunc
	stopping atomic.Bool // no new entry is started
	workers  *scheduler  // apply chats' queues
	senders  *scheduler  // send chats' outboxes
	handed   handovers
	decoded  decodedUpdates // updates taken in here, decoded once (decoded.go)
	seqs     seenSeqs       // chats' button generations as last committed here (seqs.go)
	outage   outageNotices  // merchants told their update waits for Redis
	sweeping sync.Once
	// sweepToken holds this replica's sweep leases (chatq.Redis.Sweep).
	sweepToken string

	startRetryMin time.Duration
	startRetryMax time.Duration
	startPatience time.Duration

	mu       sync.Mutex
	username string

	tokenGone tokenWatch // Telegram refused the token (token.go)
	now       func() time.Time
	noContact bool   // WithoutContactButton
	miniApp   string // WithMiniApp: the HTTPS base the card form is served under; "": no form
}

// Option configures a Bot.
type Option func(*Bot)

// WithoutContactButton says the client has no share-contact button (the
// console): the dialog asks for the phone to be typed.
func WithoutContactButton() Option { return func(b *Bot) { b.noContact = true } }

// MiniAppPath is where, under the base given to WithMiniApp, the card
// form's page is served (bot/miniapp.Handler).
const MiniAppPath = "/miniapp/"

// WithMiniApp offers the card form at the card question: a web_app button
// opening base+MiniAppPath (MINIAPP_URL, HTTPS, served by bot/miniapp)
// with a line saying the number then never appears in the chat. Without
// it nothing mentions a form.
func WithMiniApp(base string) Option {
	return func(b *Bot) { b.miniApp = strings.TrimRight(base, "/") }
}

// WithClock sets the clock the sender reads the quiet hours on (tests).
func WithClock(now func() time.Time) Option { return func(b *Bot) { b.now = now } }

// WithServerURL points the Bot at another Bot API server (TELEGRAM_API_URL).
func WithServerURL(url string) Option {
	return func(b *Bot) { b.serverURL = strings.TrimRight(url, "/") }
}

// WithHTTPClient sets the client of every Bot API call. Its Timeout must
// leave room for long polls (the poll timeout plus a margin) or be zero.
func WithHTTPClient(c *http.Client) Option { return func(b *Bot) { b.client = c } }

// WithLogger sets the logger. Nothing the merchant typed is logged: only
// update ids, kinds, chat ids, steps and error types.
func WithLogger(l *slog.Logger) Option { return func(b *Bot) { b.log = l } }

// WithCallbackKey sets the secret button data is signed with (DATA_KEY)
// and the old ones buttons sent before a rotation still verify with
// (DATA_KEY_OLD); the default is derived from the bot token.
func WithCallbackKey(key []byte, old ...[]byte) Option {
	return func(b *Bot) { b.callbackKey, b.callbackOld = append([]byte(nil), key...), old }
}

// WithSupportChat sets the support group (SUPPORT_CHAT_ID) told about
// hand-offs; 0 tells nobody.
func WithSupportChat(id int64) Option { return func(b *Bot) { b.supportChat = id } }

// WithReadiness sets the check /readyz runs (a Redis ping).
func WithReadiness(check func(context.Context) error) Option {
	return func(b *Bot) { b.ready = check }
}

// WithWorkers bounds how many chats are applied, and how many outboxes
// sent, at once (default 128 each).
func WithWorkers(n int) Option {
	return func(b *Bot) {
		if n > 0 {
			b.workerSlots = n
		}
	}
}

// WithMaxAttempts sets how many times an entry that fails (a panic) is tried
// before it is dead-lettered (default 5).
func WithMaxAttempts(n int) Option {
	return func(b *Bot) {
		if n > 0 {
			b.maxAttempts = n
		}
	}
}

// WithSweep sets how often the ready set is read for chats another replica
// left (default 500ms), and how long a chat received here is left to this
// replica before others may take it up (default 2s).
func WithSweep(every, takeOver time.Duration) Option {
	return func(b *Bot) {
		if every > 0 {
			b.sweepEvery = every
		}
		if takeOver > 0 {
			b.takeOver = takeOver
		}
	}
}

// WithMaxTurn bounds one turn's backend calls (default dialogs.MaxTurn). The
// chat lock is renewed while the turn runs, so the bound is the merchant's
// patience, not the lock's lifetime.
func WithMaxTurn(d time.Duration) Option {
	return func(b *Bot) {
		if d > 0 {
			b.maxTurn = d
		}
	}
}

// WithDesk hands the Bot the support desk in the forum supergroup group,
// whose calls carry tags starting with tagPrefix. The desk is built before
// the Bot, over the same Writer (WithWriter) and client (NewClient).
func WithDesk(d Desk, group int64, tagPrefix string) Option {
	return func(b *Bot) { b.desk, b.supportChat, b.deskTags = d, group, tagPrefix }
}

// WithWriter sets the Writer the desk and the notifier write through, so
// that this Bot takes up at once what they add; by default the Bot makes
// its own over q and cipher.
func WithWriter(w *Writer) Option { return func(b *Bot) { b.writer = w } }

// WithMetrics reports the pipeline's work to m (bot/metrics).
func WithMetrics(m Metrics) Option {
	return func(b *Bot) {
		if m != nil {
			b.metrics = m
		}
	}
}

// WithSubmitted calls f with every application the dialog submits (the
// notifier follows it).
func WithSubmitted(f func(ctx context.Context, app string) error) Option {
	return func(b *Bot) { b.submitted = f }
}

// WithResultHandler hands the result of every sent call whose Tag starts
// with prefix to h.
func WithResultHandler(prefix string, h ResultHandler) Option {
	return func(b *Bot) { b.results[prefix] = h }
}

// WithPollTimeout sets the long-poll timeout of getUpdates (default 25s).
func WithPollTimeout(d time.Duration) Option {
	return func(b *Bot) {
		if d >= time.Second {
			b.pollTimeout = d
		}
	}
}

// WithRetry sets the backoff after a failure: of getUpdates, of an entry
// that failed (doubling from min), and the pause before an outbox that
// Telegram did not take is tried again (max) (default 100ms and 5s).
func WithRetry(min, max time.Duration) Option {
	return func(b *Bot) {
		if min > 0 && max >= min {
			b.retryMin, b.retryMax = min, max
		}
	}
}

// WithStartRetry sets how Start retries getMe while the Bot API fails for a
// reason that passes (a 5xx, a 429, the network): after min, doubling up to
// max, for at most patience in all (default 250ms, 8s, 1m). A token Telegram
// rejects ends Start at once.
func WithStartRetry(min, max, patience time.Duration) Option {
	return func(b *Bot) {
		if min > 0 && max >= min && patience > 0 {
			b.startRetryMin, b.startRetryMax, b.startPatience = min, max, patience
		}
	}
}

// New returns a Bot for token that applies merchant inputs with engine,
// keeps each chat's queue, state and outbox in q (the state sealed with
// cipher), renders replies from catalog and makes every call through send.
func New(token string, engine Engine, catalog *locales.Catalog, q ChatStore, cipher *store.Cipher, send Sender, opts ...Option) (*Bot, error) {
	b := configure(token, opts)
	b.engine, b.q, b.cipher, b.send, b.catalog = engine, q, cipher, send, catalog
	// Templates hold no HTML, so the whole rendered text is escaped once,
	// merchant input included; the Renderer must not escape it again.
	b.render = dialogs.NewRenderer(catalog, nil)
	if b.callbackKey == nil {
		b.callbackKey = []byte(token)
	}
	b.codec = newCallbackCodec(b.callbackKey, b.callbackOld...)
	client, err := b.newClient()
	if err != nil {
		return nil, err
	}
	b.api = client
	b.leases = chatq.NewKeeper(q)
	b.work, b.endWork = context.WithCancel(context.Background())
	b.workers = newScheduler(b.work, b.workerSlots, b.applyQueue)
	b.senders = newScheduler(b.work, b.workerSlots, b.sendOutbox)
	if b.writer == nil {
		b.writer = NewWriter(q, cipher)
	}
	b.writer.bell.Store(&doorbell{takeOver: b.takeOver, apply: b.workers.kick, send: b.senders.kick})
	return b, nil
}

// NewClient returns a Bot API client for token made as New makes the Bot's
// own (WithServerURL, WithHTTPClient, WithPollTimeout, WithLogger; other
// options are ignored), for the calls whose answer is needed at once (the
// support desk's check and topics). Everything said to a chat goes
// through the outbox.
func NewClient(token string, opts ...Option) (*tg.Bot, error) {
	return configure(token, opts).newClient()
}

// configure returns a Bot with the defaults and opts applied.
func configure(token string, opts []Option) *Bot {
	b := &Bot{
		token:         token,
		serverURL:     "https://api.telegram.org",
		log:           slog.New(slog.DiscardHandler),
		results:       map[string]ResultHandler{},
		metrics:       noMetrics{},
		workerSlots:   128,
		pollTimeout:   25 * time.Second,
		retryMin:      100 * time.Millisecond,
		retryMax:      5 * time.Second,
		maxAttempts:   5,
		maxTurn:       dialogs.MaxTurn,
		takeOver:      2 * time.Second,
		sweepEvery:    500 * time.Millisecond,
		sweepToken:    newToken(),
		handed:        handovers{m: map[int64]handed{}, claims: map[int64]*chatq.Claim{}},
		startRetryMin: 250 * time.Millisecond,
		startRetryMax: 8 * time.Second,
		startPatience: time.Minute,
		now:           time.Now,
	}
	for _, o := range opts {
		o(b)
	}
	if b.client == nil {
		// Many chats send at once: with net/http's default of 2 idle
		// connections per host, most calls dialled a new one (12 % of
		// serve's CPU in a load run, docs/PERFORMANCE.md).
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		b.client = &http.Client{Timeout: b.pollTimeout + 15*time.Second, Transport: wholeBody{next: t}}
	}
	return b
}

// newClient makes the go-telegram/bot client of b's settings.
func (b *Bot) newClient() (*tg.Bot, error) {
	client, err := tg.New(b.token,
		tg.WithServerURL(b.serverURL),
		tg.WithHTTPClient(b.pollTimeout, b.client),
		tg.WithSkipGetMe(),
		tg.WithErrorsHandler(func(err error) {
			b.log.Warn("telegram client", "err", hideToken(err.Error(), b.token))
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram client: %w", err)
	}
	return client, nil
}

// ErrTokenRejected means Telegram does not know the bot token.
var ErrTokenRejected = errors.New("telegram rejected the bot token")

// Start checks the token with getMe and sets the command menus. A token
// Telegram refuses is an error at once; a Bot API that fails for a passing
// reason is retried (WithStartRetry), so one 502 while Telegram or the
// network hiccups does not end the process. Menus that cannot be set are
// only logged.
func (b *Bot) Start(ctx context.Context) error {
	me, err := b.getMe(ctx)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.username = me.Username
	b.mu.Unlock()
	if err := b.setCommands(ctx); err != nil {
		b.log.Warn("set bot commands", "err", hideToken(err.Error(), b.token))
	}
	return nil
}

// getMe asks Telegram who the bot is, retrying with backoff while the
// failure may pass, for at most startPatience.
func (b *Bot) getMe(ctx context.Context) (*models.User, error) {
	patient, cancel := context.WithTimeout(ctx, b.startPatience)
	defer cancel()
	gaveUp := func(attempts int, last error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("getMe: %w", ctx.Err())
		}
		return fmt.Errorf("cannot reach the Bot API (getMe, %d attempts in %s: %s)",
			attempts, b.startPatience, hideToken(last.Error(), b.token))
	}
	wait := b.startRetryMin
	var last error
	for attempt := 1; ; attempt++ {
		me, err := b.api.GetMe(patient)
		switch {
		case err == nil:
			return me, nil
		case errors.Is(err, tg.ErrorUnauthorized) || errors.Is(err, tg.ErrorNotFound):
			return nil, fmt.Errorf("%w (getMe: %s)", ErrTokenRejected, hideToken(err.Error(), b.token))
		case patient.Err() != nil:
			if last == nil {
				last = err
			}
			return nil, gaveUp(attempt, last) // the call was cut short: report the one before
		case !transient(err):
			return nil, fmt.Errorf("cannot reach the Bot API (getMe: %s)", hideToken(err.Error(), b.token))
		}
		last = err
		delay := wait
		var flood *tg.TooManyRequestsError
		if errors.As(err, &flood) && flood.RetryAfter > 0 {
			delay = time.Duration(flood.RetryAfter) * time.Second
		}
		b.log.Warn("getMe failed, retrying", "attempt", attempt, "in", delay, "err", hideToken(err.Error(), b.token))
		timer := time.NewTimer(delay)
		select {
		case <-patient.Done():
			timer.Stop()
			return nil, gaveUp(attempt, last)
		case <-timer.C:
		}
		wait = min(2*wait, b.startRetryMax)
	}
}

// transient reports whether a failed Bot API call may succeed if made again:
// a 429, a 5xx, a broken connection or an unreadable answer (a proxy's HTML
// error page) may; a request Telegram refuses (400, 403, 409) will not.
func transient(err error) bool {
	return !errors.Is(err, tg.ErrorBadRequest) && !errors.Is(err, tg.ErrorForbidden) &&
		!errors.Is(err, tg.ErrorConflict)
}

// Username is the bot's username as getMe reported it ("" before Start).
func (b *Bot) Username() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.username
}

// Run takes up, until ctx ends, the chats whose work another replica (or
// an earlier process) left: queued updates, unsent replies. Call it once
// beside Poll or the webhook.
func (b *Bot) Run(ctx context.Context) {
	b.sweeping.Do(func() { b.sweep(ctx, b.sweepEvery) })
}

// Drain stops taking up new entries, lets the turns under way finish (up
// to ctx), then stops the senders. Nothing is lost: what was not applied
// or sent stays in Redis for the next process or another replica.
func (b *Bot) Drain(ctx context.Context) error {
	b.stopping.Store(true)
	err := b.workers.wait(ctx)
	b.endWork()
	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.workers.wait(wctx)
	_ = b.senders.wait(wctx)
	b.handed.mu.Lock()
	left, leftOut := b.handed.claims, b.handed.m
	b.handed.claims, b.handed.m = map[int64]*chatq.Claim{}, map[int64]handed{}
	b.handed.mu.Unlock()
	for _, c := range left {
		b.release(c, time.Now()) // claimed at intake, never started: for the next process
	}
	for chat, h := range leftOut {
		h.lease.Stop() // won by a commit, never sent: for the next process
		b.releaseOutbox(chat, h.token, time.Now(), nil)
	}
	b.leases.Close() // nothing held here outlives the process by more than its lease
	if err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	return nil
}

// hideToken removes the bot token from text that may quote a request URL.
func hideToken(text, token string) string {
	if token == "" {
		return text
	}
	return strings.ReplaceAll(text, token, "<token>")
}
