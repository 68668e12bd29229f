// Package bot puts the card-change dialog on Telegram: it turns updates into
// dialogs.Inputs and Outcomes into Bot API calls, receives updates by long
// polling or webhook, and applies the updates of each chat one at a time, in
// order, exactly once (with the dialog's per-chat Redis lock and update
// de-duplication). Every outgoing call goes through bot/sender.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/bot/sender"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/locales"
)

// Dialog is the conversation: dialogs.Runner.
type Dialog interface {
	// Handle applies in, received as update, to chat. It returns
	// dialogs.ErrDuplicate for an update applied before.
	Handle(ctx context.Context, chat, update int64, in dialogs.Input) (dialogs.Outcome, error)
}

// Sender makes the Bot API calls: bot/sender.Sender.
type Sender interface {
	Do(ctx context.Context, chatID int64, kind sender.Kind, call func(ctx context.Context) error) error
	Unblock(ctx context.Context, chatID int64) error
}

// api is the part of the Bot API client the adapter calls: *tg.Bot.
type api interface {
	GetMe(ctx context.Context) (*models.User, error)
	SendMessage(ctx context.Context, params *tg.SendMessageParams) (*models.Message, error)
	EditMessageText(ctx context.Context, params *tg.EditMessageTextParams) (*models.Message, error)
	AnswerCallbackQuery(ctx context.Context, params *tg.AnswerCallbackQueryParams) (bool, error)
	DeleteMessage(ctx context.Context, params *tg.DeleteMessageParams) (bool, error)
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
	dialog    Dialog
	send      Sender
	render    *dialogs.Renderer
	catalog   *locales.Catalog
	codec     callbackCodec
	log       *slog.Logger
	ready     func(context.Context) error

	supportChat int64
	workers     int
	maxInFlight int
	pollTimeout time.Duration
	retryMin    time.Duration
	retryMax    time.Duration
	callbackKey []byte

	handle  handler // the update pipeline of routes.go
	queue   *queue
	work    context.Context // updates are applied under it; Drain ends it
	endWork context.CancelFunc

	mu       sync.Mutex
	username string
}

// Option configures a Bot.
type Option func(*Bot)

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

// WithCallbackKey sets the secret button data is signed with (DATA_KEY);
// the default is derived from the bot token.
func WithCallbackKey(key []byte) Option {
	return func(b *Bot) { b.callbackKey = append([]byte(nil), key...) }
}

// WithSupportChat sets the support group (SUPPORT_CHAT_ID) told about
// hand-offs; 0 tells nobody.
func WithSupportChat(id int64) Option { return func(b *Bot) { b.supportChat = id } }

// WithReadiness sets the check /readyz runs (a Redis ping).
func WithReadiness(check func(context.Context) error) Option {
	return func(b *Bot) { b.ready = check }
}

// WithWorkers bounds how many chats are handled at once (default 128).
func WithWorkers(n int) Option {
	return func(b *Bot) {
		if n > 0 {
			b.workers = n
		}
	}
}

// WithPollTimeout sets the long-poll timeout of getUpdates (default 25s).
func WithPollTimeout(d time.Duration) Option {
	return func(b *Bot) {
		if d >= time.Second {
			b.pollTimeout = d
		}
	}
}

// WithRetry sets the backoff between attempts at an update that failed for a
// passing reason (Redis unreachable, chat lock held too long) in long polling
// (default 100ms doubling to 5s). A webhook update is retried by Telegram.
func WithRetry(min, max time.Duration) Option {
	return func(b *Bot) {
		if min > 0 && max >= min {
			b.retryMin, b.retryMax = min, max
		}
	}
}

// New returns a Bot for token that hands merchant inputs to dialog, renders
// replies from catalog and makes every call through send.
func New(token string, dialog Dialog, catalog *locales.Catalog, send Sender, opts ...Option) (*Bot, error) {
	b := &Bot{
		token:       token,
		serverURL:   "https://api.telegram.org",
		dialog:      dialog,
		send:        send,
		catalog:     catalog,
		log:         slog.New(slog.DiscardHandler),
		workers:     128,
		pollTimeout: 25 * time.Second,
		retryMin:    100 * time.Millisecond,
		retryMax:    5 * time.Second,
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
	b.maxInFlight = 4 * b.workers
	// Templates hold no HTML, so the whole rendered text is escaped once,
	// merchant input included; the Renderer must not escape it again.
	b.render = dialogs.NewRenderer(catalog, nil)
	if b.callbackKey == nil {
		b.callbackKey = []byte(token)
	}
	b.codec = newCallbackCodec(b.callbackKey)
	client, err := tg.New(token,
		tg.WithServerURL(b.serverURL),
		tg.WithHTTPClient(b.pollTimeout, b.client),
		tg.WithSkipGetMe(),
		tg.WithErrorsHandler(func(err error) {
			b.log.Warn("telegram client", "err", scrub(err.Error(), token))
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram client: %w", err)
	}
	b.api = client
	b.work, b.endWork = context.WithCancel(context.Background())
	b.queue = newQueue(b.work, b.workers, b.runJob)
	b.handle = b.routes()
	return b, nil
}

// ErrTokenRejected means Telegram does not know the bot token.
var ErrTokenRejected = errors.New("telegram rejected the bot token")

// Start checks the token with getMe and sets the command menus. A token
// Telegram refuses is an error; menus that cannot be set are only logged.
func (b *Bot) Start(ctx context.Context) error {
	me, err := b.api.GetMe(ctx)
	switch {
	case errors.Is(err, tg.ErrorUnauthorized) || errors.Is(err, tg.ErrorNotFound):
		return fmt.Errorf("%w (getMe: %s)", ErrTokenRejected, scrub(err.Error(), b.token))
	case err != nil:
		return fmt.Errorf("cannot reach the Bot API (getMe: %s)", scrub(err.Error(), b.token))
	}
	b.mu.Lock()
	b.username = me.Username
	b.mu.Unlock()
	if err := b.setCommands(ctx); err != nil {
		b.log.Warn("set bot commands", "err", scrub(err.Error(), b.token))
	}
	return nil
}

// Username is the bot's username as getMe reported it ("" before Start).
func (b *Bot) Username() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.username
}

// Drain waits for every update received so far to be applied, then stops.
// Updates still running when ctx ends are cancelled: they are not confirmed
// to Telegram, which delivers them again to the next process.
func (b *Bot) Drain(ctx context.Context) error {
	err := b.queue.wait(ctx)
	b.endWork()
	if err != nil {
		// Cancelled updates release their locks and return quickly.
		wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.queue.wait(wctx)
		return fmt.Errorf("drain updates: %w", err)
	}
	return nil
}

// scrub removes the bot token from text that may quote a request URL.
func scrub(text, token string) string {
	if token == "" {
		return text
	}
	return strings.ReplaceAll(text, token, "<token>")
}
