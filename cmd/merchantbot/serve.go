package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/backend/wechatpay"
	"github.com/merchantbot/merchantbot/bot"
	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/handoff"
	"github.com/merchantbot/merchantbot/bot/metrics"
	"github.com/merchantbot/merchantbot/bot/miniapp"
	"github.com/merchantbot/merchantbot/bot/notify"
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
	backend       backendConfig
	supportChat   int64
	webhookURL    string
	webhookPath   string
	webhookSecret string
	httpAddr      string
	dataKey       []byte
	oldKeys       [][]byte // DATA_KEY_OLD
	eventsSecret  string
	sendLimits    sender.Limits
	miniAppURL    string // MINIAPP_URL: the card form's HTTPS base; "": no form
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
		webhookURL:    getenv("WEBHOOK_URL"),
		webhookSecret: getenv("WEBHOOK_SECRET"),
		httpAddr:      getenv("HTTP_ADDR"),
		eventsSecret:  getenv("BACKEND_EVENTS_SECRET"),
		miniAppURL:    strings.TrimSpace(getenv("MINIAPP_URL")),
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
	if _, err := parseRedisURL(c.redisURL); err != nil {
		return c, fmt.Errorf("REDIS_URL: %w", err)
	}
	if strings.ContainsAny(c.redisPrefix, "{}") {
		return c, errors.New("REDIS_PREFIX: must not hold { or } (they would change the keys' cluster hash tags)")
	}
	if c.redisPrefix == "" {
		c.redisPrefix = store.DefaultPrefix
	}
	if getenv("BACKEND_URL") == "" {
		// A default would send real merchants' card numbers into a demo.
		return c, fmt.Errorf("BACKEND_URL: required (the acquirer API's URL, or %q for the in-process demo acquirer, which takes no real applications)", sandboxBackend)
	}
	backendCfg, err := loadBackendConfig(getenv)
	if err != nil {
		return c, err
	}
	c.backend = backendCfg
	// The sandbox and the generic API send their own SMS codes; the bot's
	// own (newCodes) are for an acquirer that sends none: WeChat Pay.
	if backendCfg.wechatpay != nil {
		if _, err := loadSMSConfig(getenv); err != nil {
			return c, err
		}
	} else if err := refuseSMSSettings(getenv); err != nil {
		return c, err
	}
	if raw := getenv("SUPPORT_CHAT_ID"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id >= 0 {
			return c, fmt.Errorf("SUPPORT_CHAT_ID: %q is not a group chat id (a negative number like -1001234567890)", raw)
		}
		c.supportChat = id
	}
	if c.supportChat == 0 {
		for _, name := range supportSettings {
			if strings.TrimSpace(getenv(name)) != "" {
				return c, fmt.Errorf("%s: only used with SUPPORT_CHAT_ID (the support group), which is not set", name)
			}
		}
	}
	if err := c.webhook(); err != nil {
		return c, err
	}
	if err := c.miniApp(); err != nil {
		return c, err
	}
	if c.httpAddr == "" {
		c.httpAddr = ":8080"
	}
	if _, port, err := net.SplitHostPort(c.httpAddr); err != nil || port == "" {
		return c, fmt.Errorf("HTTP_ADDR: %q is not host:port (e.g. :8080)", c.httpAddr)
	}
	if c.dataKey, c.oldKeys, err = dataKeys(getenv); err != nil {
		return c, err
	}
	if c.dataKey == nil {
		return c, errors.New("DATA_KEY: required for serve (32 bytes, base64 or hex; card data is encrypted with it)")
	}
	if c.sendLimits, err = loadSendLimits(getenv); err != nil {
		return c, err
	}
	if c.eventsSecret != "" && len(c.eventsSecret) < 16 {
		return c, errors.New("BACKEND_EVENTS_SECRET: too short (at least 16 characters)")
	}
	if getenv("SANDBOX_API_KEY") != "" {
		return c, errors.New("SANDBOX_API_KEY: used by `merchantbot sandbox` only; serve sends BACKEND_API_KEY to the acquirer")
	}
	return c, nil
}

// The paths serve answers on HTTP_ADDR besides the webhook's.
const (
	eventsPath  = "/backend/events"
	metricsPath = "/metrics"
)

// sandboxBackend is the BACKEND_URL that selects the in-process sandbox.
const sandboxBackend = "sandbox"

// backendConfig is the acquirer: the in-process sandbox, or the API at url.
type backendConfig struct {
	url    string // "" for the sandbox and WeChat Pay
	apiKey string
	// wechatpay is set for BACKEND_URL=wechatpay.
	wechatpay *wechatpayConfig
	// The sandbox's own settings (SANDBOX_CODE, SANDBOX_RESEND_AFTER) are
	// read by sandboxOptions; here they are only refused with a real API.
}

// apiKeyShaped reports whether key can travel as a bearer token in an HTTP
// header: 1 to 4096 printable ASCII characters, no spaces.
func apiKeyShaped(key string) bool {
	if key == "" || len(key) > 4096 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// loadBackendConfig reads BACKEND_URL ("" or "sandbox": the sandbox) and
// BACKEND_API_KEY. A setting that the chosen acquirer would not use is an
// error rather than silently ignored. Errors never quote the key.
func loadBackendConfig(getenv func(string) string) (backendConfig, error) {
	raw, key := getenv("BACKEND_URL"), getenv("BACKEND_API_KEY")
	if raw == wechatpayBackend {
		if key != "" {
			return backendConfig{}, fmt.Errorf("BACKEND_API_KEY: not used with BACKEND_URL=%s (requests are signed with the API certificate's key)", wechatpayBackend)
		}
		for _, name := range []string{"SANDBOX_CODE", "SANDBOX_RESEND_AFTER", "SANDBOX_LOAD_MERCHANTS"} {
			if getenv(name) != "" {
				return backendConfig{}, fmt.Errorf("%s: only used with BACKEND_URL=%s", name, sandboxBackend)
			}
		}
		wc, err := loadWechatpayConfig(getenv)
		if err != nil {
			return backendConfig{}, err
		}
		return backendConfig{wechatpay: wc}, nil
	}
	if err := refuseWechatpaySettings(getenv); err != nil {
		return backendConfig{}, err
	}
	if raw == "" || raw == sandboxBackend {
		if key != "" {
			return backendConfig{}, fmt.Errorf("BACKEND_API_KEY: not used with BACKEND_URL=%s (the in-process sandbox takes no key)", sandboxBackend)
		}
		if code := getenv("SANDBOX_CODE"); code != "" {
			if err := checkSandboxCode(code); err != nil {
				return backendConfig{}, err
			}
		}
		return backendConfig{}, nil
	}
	if _, err := backend.NewClient(raw); err != nil {
		return backendConfig{}, fmt.Errorf("BACKEND_URL: %w (or %q for the in-process sandbox)", err, sandboxBackend)
	}
	for _, name := range []string{"SANDBOX_CODE", "SANDBOX_RESEND_AFTER"} {
		if getenv(name) != "" {
			return backendConfig{}, fmt.Errorf("%s: only used with BACKEND_URL=%s; the acquirer at BACKEND_URL sends real codes", name, sandboxBackend)
		}
	}
	if key != "" && !apiKeyShaped(key) {
		return backendConfig{}, errors.New("BACKEND_API_KEY: want 1-4096 printable ASCII characters without spaces")
	}
	return backendConfig{url: raw, apiKey: key}, nil
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
	if u.Scheme == "http" && c.apiURL == "" {
		// Telegram delivers webhooks over HTTPS only; a self-hosted Bot API
		// server (TELEGRAM_API_URL, --local) also takes plain HTTP.
		return fmt.Errorf("WEBHOOK_URL: %q is http; Telegram delivers webhooks to https URLs only", c.webhookURL)
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
	case c.webhookPath == eventsPath || c.webhookPath == metricsPath:
		// Telegram's updates would reach the acquirer's signed events (or
		// the metrics) instead of the bot.
		return fmt.Errorf("WEBHOOK_URL: path %q is taken by %s", c.webhookPath, map[string]string{
			eventsPath: "the acquirer's status events", metricsPath: "the metrics"}[c.webhookPath])
	}
	return nil
}

// miniApp checks MINIAPP_URL: the public HTTPS URL at which HTTP_ADDR is
// reached (Telegram opens web_app buttons over HTTPS only); the form is
// then served under its /miniapp/.
func (c *serveConfig) miniApp() error {
	if c.miniAppURL == "" {
		return nil
	}
	u, err := url.Parse(c.miniAppURL)
	switch {
	case err != nil || u.Host == "" || u.User != nil:
		return fmt.Errorf("MINIAPP_URL: %q is not an https URL (the public base of HTTP_ADDR, e.g. https://bot.example.com)", c.miniAppURL)
	case u.Scheme != "https":
		return fmt.Errorf("MINIAPP_URL: %q is not https; Telegram opens Mini Apps from https URLs only", c.miniAppURL)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(u.Path, "/miniapp") || strings.Contains(u.Path, "/miniapp/"):
		return fmt.Errorf("MINIAPP_URL: %q must be the base URL only (the form is served under its %s)", c.miniAppURL, bot.MiniAppPath)
	}
	c.miniAppURL = strings.TrimRight(c.miniAppURL, "/")
	if strings.HasPrefix(c.webhookPath, bot.MiniAppPath) {
		return fmt.Errorf("WEBHOOK_URL: path %q is taken by the card form (MINIAPP_URL)", c.webhookPath)
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
	ctx, stopAll := context.WithCancel(ctx) // a fatal error ends serve as a signal would
	defer stopAll()
	cfg, err := loadServeConfig(getenv)
	if err != nil {
		return err
	}
	if err := servePprof(ctx, getenv, log); err != nil {
		return err
	}
	notifyCfg, err := loadNotifyConfig(getenv)
	if err != nil {
		return err
	}
	supportCfg, err := loadSupportConfig(getenv)
	if err != nil {
		return err
	}
	oldKeys := cfg.oldKeys
	cipher, err := store.NewCipher(cfg.dataKey, oldKeys...)
	if err != nil {
		return fmt.Errorf("DATA_KEY: %w", err)
	}
	log.Info("data key", "key_id", cipher.KeyID(), "old_keys", len(oldKeys)) // a hash: compare replicas during a rotation
	rdb, err := openRedis(ctx, cfg.redisURL)
	if err != nil {
		return err
	}
	defer rdb.Close() // last: after every update finished
	if moved, err := migrateLayout(ctx, rdb, cfg.redisPrefix); err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	} else if moved > 0 {
		log.Info("moved the data into the sharded key layout", "keys", moved)
	}
	send := sender.New(rdb, sender.WithPrefix(cfg.redisPrefix+"rl:"), sender.WithChatTag(chatq.ChatTag), sender.WithLogger(log),
		sender.WithLimits(cfg.sendLimits), sender.WithMaxWait(5*time.Second))
	queue := chatq.New(rdb, chatq.WithPrefix(cfg.redisPrefix), chatq.WithBlockedKey(send.BlockedKey), chatq.WithSendBudget(sender.TakeLua))
	if err := queue.Preload(ctx); err != nil {
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
	m := metrics.New()
	rdb.AddHook(m.RedisHook())
	var acquirer dialogs.Backend
	if cfg.backend.wechatpay != nil {
		var wx *wechatpay.Backend
		wx, err = newWechatpay(ctx, cfg.backend.wechatpay, wechatpayStore{rdb, cfg.redisPrefix, cipher, cfg.dataKey, oldKeys},
			getenv, stdout, log, m)
		if err == nil {
			acquirer, err = wx, registerWechatpayMetrics(m.Registry(), wx)
		}
	} else {
		acquirer, err = newAcquirer(cfg.backend, getenv, stdout, log, m)
	}
	if err != nil {
		return err
	}
	hotline, err := loadHotline(getenv)
	if err != nil {
		return err
	}
	engineOpts := []dialogs.Option{dialogs.WithLogger(log), dialogs.WithObserver(m), dialogs.WithSupportHours(supportCfg.hours)}
	if cfg.supportChat == 0 {
		engineOpts = append(engineOpts, dialogs.WithoutDesk(hotline)) // nobody would read a hand-off
	}
	engineOpts = append(engineOpts, acquirerOptions(acquirer)...)
	engine := dialogs.NewEngine(acquirer, bins, engineOpts...)
	opts := []bot.Option{
		bot.WithLogger(log),
		bot.WithCallbackKey(cfg.dataKey, oldKeys...),
		bot.WithSupportChat(cfg.supportChat),
		bot.WithReadiness(func(ctx context.Context) error {
			if err := rdb.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("redis: %w", err)
			}
			if p, ok := acquirer.(interface{ Ping(context.Context) error }); ok {
				return p.Ping(ctx) // the in-process sandbox is always there
			}
			return nil
		}),
		bot.WithMetrics(m),
	}
	if cfg.apiURL != "" {
		opts = append(opts, bot.WithServerURL(cfg.apiURL))
	}
	if cfg.miniAppURL != "" {
		opts = append(opts, bot.WithMiniApp(cfg.miniAppURL))
	}
	// Built in the order they depend on each other: the writer (over the
	// chat queues) first, then the notifier and the desk that write through
	// it, then the bot that is handed them.
	writer := bot.NewWriter(queue, cipher)
	opts = append(opts, bot.WithWriter(writer))
	apps, ok := acquirer.(notify.Applications)
	if !ok {
		return errors.New("BACKEND_URL: the acquirer client cannot look up applications")
	}
	notifier := notify.New(rdb, cfg.redisPrefix, writer, notify.WithLogger(log), notify.WithFirstPoll(notifyCfg.pollInterval))
	opts = append(opts, bot.WithSubmitted(notifier.Track)) // follows what the dialog submits
	var desk *handoff.Desk
	if cfg.supportChat != 0 {
		lookup, ok := acquirer.(handoff.Backend)
		if !ok {
			return errors.New("BACKEND_URL: the acquirer client cannot look up merchants for the support desk")
		}
		client, err := bot.NewClient(cfg.token, opts...)
		if err != nil {
			return err
		}
		desk, err = newDesk(ctx, supportCfg, client, writer, rdb, cfg.supportChat, cfg.redisPrefix, catalog, lookup,
			bot.NewButtonCodec(cfg.dataKey, oldKeys...), send, log)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		opts = append(opts, bot.WithDesk(desk, cfg.supportChat, handoff.TagPrefix))
	}
	b, err := bot.New(cfg.token, engine, catalog, queue, cipher, send, opts...)
	if err != nil {
		return err
	}
	eventsHandler := startNotifications(ctx, notifyCfg, cfg.eventsSecret, notifier, apps)
	if desk != nil {
		startDesk(ctx, desk, log)
	}
	if err := b.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while Start was still retrying getMe
		}
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
	mux := http.NewServeMux()
	mux.Handle("/", b.Handler(cfg.webhookPath, cfg.webhookSecret))
	mux.Handle("POST "+eventsPath, eventsHandler)
	mux.Handle("GET "+metricsPath, m.Handler()) // keep HTTP_ADDR internal but for the webhook path (and the card form)
	if cfg.miniAppURL != "" {
		form, err := miniapp.New(cfg.token, writer, miniapp.NewRedisUsed(rdb, cfg.redisPrefix), bins, miniapp.WithLogger(log))
		if err != nil {
			return err
		}
		mux.Handle(miniapp.Path, form)
	}
	srv := httpServer(mux)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	recovering := make(chan struct{})
	go func() {
		defer close(recovering)
		b.Run(ctx) // takes up chats left by a crash or another replica
	}()

	serving := func(mode string) {
		log.Info("merchantbot serving", "mode", mode, "http_addr", ln.Addr().String(), "bot", b.Username(),
			"support_chat", cfg.supportChat != 0)
	}
	var runErr error
	if cfg.webhookURL != "" {
		if runErr = b.SetWebhook(ctx, cfg.webhookURL, cfg.webhookSecret); runErr == nil {
			serving("webhook")
			// A revoked token's webhook falls silent: any call answered
			// 401, or the periodic getMe, ends serve.
			watched := make(chan error, 1)
			go func() { watched <- b.WatchToken(ctx, tokenCheckEvery) }()
			select {
			case <-ctx.Done():
			case runErr = <-watched:
			case runErr = <-served:
				runErr = fmt.Errorf("http server: %w", runErr)
			}
		}
	} else {
		serving("long polling")
		runErr = b.Poll(ctx, shutdownGrace)
	}
	if errors.Is(runErr, bot.ErrTokenRejected) {
		runErr = fmt.Errorf("TELEGRAM_TOKEN: %w: it was revoked or replaced; set the bot's current token and start again", runErr)
	}
	if runErr != nil {
		stopAll() // as a signal would: the recovery loop, the desk and the notifier end too
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
	<-recovering
	log.Info("merchantbot stopped")
	return runErr
}

// httpServer serves HTTP_ADDR with timeouts, so that a client that sends
// slowly, reads slowly or idles cannot hold a connection and its goroutine
// for ever. The requests it takes are small (Telegram's updates, 1 MiB at
// most; probes) and their answers short; WriteTimeout leaves a webhook
// update room to be taken in before it is answered (Telegram delivers again
// what it does not see answered).
// tokenCheckEvery is how often serve, in webhook mode, asks Telegram
// whether the token still holds (long polling learns it from getUpdates).
const tokenCheckEvery = time.Minute

func httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
	}
}

// newAcquirer is the API client of cfg, or the sandbox in-process, whose
// "SMS" codes go to sms (serve's stdout, marked as sandbox; the console's
// stderr), never to the log. opts are extra sandbox options.
func newAcquirer(cfg backendConfig, getenv func(string) string, sms io.Writer, log *slog.Logger, obs backend.Observer, opts ...sandbox.Option) (dialogs.Backend, error) {
	if cfg.wechatpay != nil {
		// WeChat Pay's acquirer lives in Redis (newWechatpay): never fall
		// back to anything without it.
		return nil, fmt.Errorf("BACKEND_URL=%s: needs REDIS_URL and DATA_KEY (the merchant directory, the SMS codes and the applications are kept in Redis)", wechatpayBackend)
	}
	if cfg.url != "" {
		copts := []backend.ClientOption{backend.WithAPIKey(cfg.apiKey)}
		if obs != nil {
			copts = append(copts, backend.WithObserver(obs))
		}
		c, err := backend.NewClient(cfg.url, copts...)
		if err != nil {
			return nil, fmt.Errorf("BACKEND_URL: %w", err)
		}
		log.Info("acquirer", "url", redactedURL(cfg.url), "api_key", cfg.apiKey != "")
		return c, nil
	}
	base, err := sandboxOptions(getenv, sms)
	if err != nil {
		return nil, err
	}
	log.Warn("using the in-process sandbox acquirer (BACKEND_URL=sandbox): demo merchants, no real applications")
	return sandbox.New(append(base, opts...)...), nil
}

// acquirerOptions are the dialog options the acquirer's own parts ask for:
// one that lists cities and branches (backend.Branches: WeChat Pay) has
// the branch picked from its lists; the sandbox and the generic API take
// it typed.
func acquirerOptions(a dialogs.Backend) []dialogs.Option {
	if b, ok := a.(backend.Branches); ok {
		return []dialogs.Option{dialogs.WithBranches(b)}
	}
	return nil
}

// redactedURL is u without its password, for the log.
func redactedURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Redacted()
}

// loadSendLimits reads SEND_RATE (messages/s overall, default 30) and
// SEND_RATE_CHAT (per private chat, default 1/s with bursts of 3); 0 lifts
// a limit (a Bot API with paid broadcasts, or a test server). Groups keep
// Telegram's 20 a minute.
func loadSendLimits(getenv func(string) string) (sender.Limits, error) {
	l := sender.DefaultLimits()
	read := func(name string, def float64) (float64, error) {
		raw := strings.TrimSpace(getenv(name))
		if raw == "" {
			return def, nil
		}
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(v) || v < 0 || v > 100000 {
			return 0, fmt.Errorf("%s: %q is not a rate in messages per second (0 lifts the limit)", name, raw)
		}
		return v, nil
	}
	global, err := read("SEND_RATE", 30)
	if err != nil {
		return l, err
	}
	perChat, err := read("SEND_RATE_CHAT", 1)
	if err != nil {
		return l, err
	}
	l.NoGlobal, l.NoPerChat = global == 0, perChat == 0
	if global > 0 {
		l.Global = perSecond(global, int(max(1, global)))
	}
	if perChat > 0 {
		l.PerChat = perSecond(perChat, 3)
	}
	return l, nil
}

// perSecond is a budget of rate messages a second with the given burst,
// for fractional rates too (0.5/s: one every two seconds; 2.5/s: one every
// 400 ms, not 2/s).
func perSecond(rate float64, burst int) redis_rate.Limit {
	if rate >= 1 && rate == math.Trunc(rate) {
		return redis_rate.Limit{Rate: int(rate), Burst: burst, Period: time.Second}
	}
	return redis_rate.Limit{Rate: 1, Burst: burst, Period: time.Duration(float64(time.Second) / rate)}
}
