package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/bot"
	"github.com/merchantbot/merchantbot/bot/sender"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/locales"
)

// shutdownGrace is how long in-flight updates get to finish on SIGTERM.
const shutdownGrace = 10 * time.Second

// serveConfig is the environment of `merchantbot serve` (DESIGN.md §4),
// validated.
type serveConfig struct {
	token         string
	apiURL        string // "" for api.telegram.org
	redisURL      string
	redisPrefix   string
	backendURL    string // "" for the in-process sandbox
	sandboxCode   string
	supportChat   int64
	webhookURL    string
	webhookPath   string
	webhookSecret string
	httpAddr      string
	dataKey       []byte
	eventsSecret  string
}

var (
	tokenShape  = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	secretShape = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

// loadServeConfig reads every setting and fails on the first bad one, naming
// it. Errors never quote a token, key or secret.
func loadServeConfig(getenv func(string) string) (serveConfig, error) {
	c := serveConfig{
		token:         strings.TrimSpace(getenv("TELEGRAM_TOKEN")),
		redisURL:      getenv("REDIS_URL"),
		redisPrefix:   getenv("REDIS_PREFIX"),
		backendURL:    getenv("BACKEND_URL"),
		sandboxCode:   getenv("SANDBOX_CODE"),
		webhookURL:    getenv("WEBHOOK_URL"),
		webhookSecret: getenv("WEBHOOK_SECRET"),
		httpAddr:      getenv("HTTP_ADDR"),
		eventsSecret:  getenv("BACKEND_EVENTS_SECRET"),
	}
	switch {
	case c.token == "":
		return c, errors.New("TELEGRAM_TOKEN: required (the token @BotFather gave you)")
	case !tokenShape.MatchString(c.token):
		return c, errors.New("TELEGRAM_TOKEN: not a bot token (want <digits>:<secret>)")
	}
	if raw := getenv("TELEGRAM_API_URL"); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return c, fmt.Errorf("TELEGRAM_API_URL: %q is not an http(s) URL of a Bot API server", raw)
		}
		c.apiURL = strings.TrimRight(raw, "/")
	}
	if c.redisURL == "" {
		return c, errors.New("REDIS_URL: required for serve (dialog state must survive restarts and be shared by replicas)")
	}
	if _, err := redis.ParseURL(c.redisURL); err != nil {
		return c, fmt.Errorf("REDIS_URL: %w", err)
	}
	if c.redisPrefix == "" {
		c.redisPrefix = store.DefaultPrefix
	}
	if c.backendURL != "" {
		if _, err := backend.NewClient(c.backendURL); err != nil {
			return c, fmt.Errorf("BACKEND_URL: %w", err)
		}
	}
	if c.sandboxCode != "" {
		if err := checkSandboxCode(c.sandboxCode); err != nil {
			return c, err
		}
	}
	if raw := getenv("SUPPORT_CHAT_ID"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id >= 0 {
			return c, fmt.Errorf("SUPPORT_CHAT_ID: %q is not a group chat id (a negative number like -1001234567890)", raw)
		}
		c.supportChat = id
	}
	if err := c.webhook(); err != nil {
		return c, err
	}
	if c.httpAddr == "" {
		c.httpAddr = ":8080"
	}
	if _, port, err := net.SplitHostPort(c.httpAddr); err != nil || port == "" {
		return c, fmt.Errorf("HTTP_ADDR: %q is not host:port (e.g. :8080)", c.httpAddr)
	}
	rawKey := getenv("DATA_KEY")
	if rawKey == "" {
		return c, errors.New("DATA_KEY: required for serve (32 bytes, base64 or hex; card data is encrypted with it)")
	}
	key, err := store.ParseKey(rawKey)
	if err != nil {
		return c, fmt.Errorf("DATA_KEY: %w", err)
	}
	c.dataKey = key
	if c.eventsSecret != "" && len(c.eventsSecret) < 16 {
		return c, errors.New("BACKEND_EVENTS_SECRET: too short (at least 16 characters)")
	}
	return c, nil
}

// webhook checks WEBHOOK_URL and WEBHOOK_SECRET: both or neither.
func (c *serveConfig) webhook() error {
	switch {
	case c.webhookURL == "" && c.webhookSecret == "":
		return nil
	case c.webhookURL == "":
		return errors.New("WEBHOOK_URL: required with WEBHOOK_SECRET (set both for webhook mode, neither for long polling)")
	case c.webhookSecret == "":
		return errors.New("WEBHOOK_SECRET: required with WEBHOOK_URL (set both for webhook mode, neither for long polling)")
	case !secretShape.MatchString(c.webhookSecret):
		return errors.New("WEBHOOK_SECRET: want 1-256 characters of A-Z a-z 0-9 _ -")
	}
	u, err := url.Parse(c.webhookURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return fmt.Errorf("WEBHOOK_URL: %q is not an https URL", c.webhookURL)
	}
	c.webhookPath = u.EscapedPath()
	if c.webhookPath == "" {
		c.webhookPath = "/"
	}
	switch {
	case strings.ContainsAny(c.webhookPath, "{} "):
		return fmt.Errorf("WEBHOOK_URL: path %q may not hold braces or spaces", c.webhookPath)
	case c.webhookPath == "/healthz" || c.webhookPath == "/readyz":
		return fmt.Errorf("WEBHOOK_URL: path %q is taken by the health checks", c.webhookPath)
	}
	return nil
}

// runServe runs the Telegram bot: long polling, or a webhook when
// WEBHOOK_URL and WEBHOOK_SECRET are set. On ctx's end it stops receiving,
// gives in-flight updates shutdownGrace to finish, then closes Redis.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("serve takes no arguments (it reads the environment; see README), got %q", args[0])
	}
	log, err := newLogger(getenv, stderr, slog.LevelInfo)
	if err != nil {
		return err
	}
	cfg, err := loadServeConfig(getenv)
	if err != nil {
		return err
	}
	if err := servePprof(ctx, getenv, log); err != nil {
		return err
	}
	cipher, err := store.NewCipher(cfg.dataKey)
	if err != nil {
		return fmt.Errorf("DATA_KEY: %w", err)
	}
	rdb, err := openRedis(ctx, cfg.redisURL)
	if err != nil {
		return err
	}
	defer rdb.Close() // last: after every update finished
	states := store.NewRedis(rdb, cipher, store.WithPrefix(cfg.redisPrefix))
	if err := states.Preload(ctx); err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	catalog, err := locales.Load()
	if err != nil {
		return err
	}
	bins, err := cardbin.Load()
	if err != nil {
		return err
	}
	acquirer, err := newAcquirer(cfg, getenv, stdout, log)
	if err != nil {
		return err
	}
	engine := dialogs.NewEngine(acquirer, bins, dialogs.WithLogger(log))
	send := sender.New(rdb, sender.WithPrefix(cfg.redisPrefix+"rl:"), sender.WithLogger(log))
	opts := []bot.Option{
		bot.WithLogger(log),
		bot.WithCallbackKey(cfg.dataKey),
		bot.WithSupportChat(cfg.supportChat),
		bot.WithReadiness(func(ctx context.Context) error { return rdb.Ping(ctx).Err() }),
	}
	if cfg.apiURL != "" {
		opts = append(opts, bot.WithServerURL(cfg.apiURL))
	}
	b, err := bot.New(cfg.token, dialogs.NewRunner(states, engine, 0), catalog, send, opts...)
	if err != nil {
		return err
	}
	if err := b.Start(ctx); err != nil {
		if errors.Is(err, bot.ErrTokenRejected) {
			return fmt.Errorf("TELEGRAM_TOKEN: %w", err)
		}
		if cfg.apiURL == "" {
			return fmt.Errorf("reach the Telegram Bot API: %w", err)
		}
		return fmt.Errorf("TELEGRAM_API_URL: %w", err)
	}

	ln, err := net.Listen("tcp", cfg.httpAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR: %w", err)
	}
	srv := &http.Server{
		Handler:           b.Handler(cfg.webhookPath, cfg.webhookSecret),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	serving := func(mode string) {
		log.Info("merchantbot serving", "mode", mode, "http_addr", ln.Addr().String(), "bot", b.Username(),
			"support_chat", cfg.supportChat != 0)
	}
	var runErr error
	if cfg.webhookURL != "" {
		if runErr = b.SetWebhook(ctx, cfg.webhookURL, cfg.webhookSecret); runErr == nil {
			serving("webhook")
			select {
			case <-ctx.Done():
			case runErr = <-served:
				runErr = fmt.Errorf("http server: %w", runErr)
			}
		}
	} else {
		serving("long polling")
		runErr = b.Poll(ctx, shutdownGrace)
	}

	log.Info("merchantbot stopping")
	// Stop taking webhook requests and let those in flight finish; they
	// answer Telegram only once applied.
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	if err := b.Drain(sctx); err != nil {
		log.Warn("updates left unfinished", "err", err)
	}
	log.Info("merchantbot stopped")
	return runErr
}

// newAcquirer is the backend at BACKEND_URL, or the sandbox in-process,
// whose "SMS" codes go to sms (serve's stdout, marked as sandbox), never to
// the log on stderr.
func newAcquirer(cfg serveConfig, getenv func(string) string, sms io.Writer, log *slog.Logger) (dialogs.Backend, error) {
	if cfg.backendURL != "" {
		if cfg.sandboxCode != "" {
			log.Warn("SANDBOX_CODE is ignored: BACKEND_URL is set")
		}
		c, err := backend.NewClient(cfg.backendURL)
		if err != nil {
			return nil, fmt.Errorf("BACKEND_URL: %w", err)
		}
		return c, nil
	}
	opts, err := sandboxOptions(getenv, sms)
	if err != nil {
		return nil, err
	}
	log.Warn("BACKEND_URL is not set: using the in-process sandbox acquirer (demo merchants, no real applications)")
	return sandbox.New(opts...), nil
}
