// Package telegramtest is a fake Telegram Bot API server for tests and load runs.
//
// It speaks the real wire format, so the real *bot.Bot (bot.WithServerURL(srv.URL())) and a
// plain HTTP getUpdates loop both work against it. Tests push updates (SendText, PressButton,
// ...), let the bot run, then wait for and inspect what the bot did (WaitSent, Sent, Calls, ...).
// Failures are injected with FailNext and SetBlocked, Telegram's flood limits with WithRateLimits.
//
// It answers the methods the bot calls (routes.go lists them: what bot, bot/handoff and
// cmd/merchantbot send, the forum methods among them) as Telegram does, refusals included; any
// other method is a 404 "method not found", so a new call in the bot needs its handler here.
// A method the bot puts in a webhook's 2xx response is run too, as Telegram does, and counted
// apart from its requests (RunResponse, ResponseCount).
package telegramtest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// DefaultToken is the token a Server accepts unless WithToken says otherwise.
const DefaultToken = "123456789:AAFakeTelegramTestTokenForTheBotAPI01"

// Server is a fake Bot API. All methods are safe for concurrent use.
type Server struct {
	// Set by options before the server starts, read-only afterwards.
	token           string
	botUsername     string
	defaultLanguage string
	now             func() time.Time
	log             *slog.Logger
	backoffMin      time.Duration
	backoffMax      time.Duration
	webhookClient   *http.Client
	logCalls        bool
	botUser         models.User
	routes          map[string]route

	httpServer   *httptest.Server
	closing      chan struct{}
	closeOnce    sync.Once
	stopDelivery context.CancelFunc
	deliveryDone chan struct{}

	// mu guards everything below. Nobody waits while holding it: waiters take a copy of
	// updatesChanged or changed, release mu and wait for that channel to be closed.
	mu             sync.Mutex
	updatesChanged chan struct{} // closed when the queue or the webhook changes
	changed        chan struct{} // closed when anything a test can observe changes
	queue          []queuedUpdate
	queueHead      int
	lastUpdateID   int64
	allowed        map[string]bool // nil: Telegram's default set
	poller         chan struct{}   // closed to end the current long poll with 409
	webhook        webhookState
	deliveries     []Delivery
	calls          []Call
	responses      []Call // methods run from webhook responses
	callCounts     map[string]int
	responseCounts map[string]int // methods run from webhook responses (webhook.go)
	chats          map[int64]*chat
	outage         *apiError // every call but getUpdates fails with it (SetOutage)
	users          map[int64]models.User
	queries        map[string]bool // callback query ids the bot may answer
	answers        []CallbackAnswer
	commands       map[CommandsKey][]models.BotCommand
	faults         map[string][]*fault
	blocked        map[int64]bool
	limits         *limiter
	violations     int
	fileSeq        int
	forum          forumSettings // topics.go, forum.go
}

// New starts a fake Bot API on a local port. Close it when done.
func New(opts ...Option) *Server {
	s := &Server{
		token:           DefaultToken,
		botUsername:     "test_bot",
		defaultLanguage: "en",
		now:             time.Now,
		log:             slog.New(slog.DiscardHandler),
		backoffMin:      10 * time.Millisecond,
		backoffMax:      500 * time.Millisecond,
		webhookClient:   &http.Client{Timeout: 10 * time.Second},
		logCalls:        true,
		closing:         make(chan struct{}),
		deliveryDone:    make(chan struct{}),
		updatesChanged:  make(chan struct{}),
		changed:         make(chan struct{}),
		callCounts:      map[string]int{},
		responseCounts:  map[string]int{},
		chats:           map[int64]*chat{},
		users:           map[int64]models.User{},
		queries:         map[string]bool{},
		commands:        map[CommandsKey][]models.BotCommand{},
		faults:          map[string][]*fault{},
		blocked:         map[int64]bool{},
	}
	for _, opt := range opts {
		opt(s)
	}
	botID, _ := strconv.ParseInt(strings.SplitN(s.token, ":", 2)[0], 10, 64)
	s.botUser = models.User{ID: botID, IsBot: true, FirstName: "Test Bot", Username: s.botUsername, CanJoinGroups: true}
	s.routes = s.buildRoutes()
	s.httpServer = httptest.NewServer(s)
	ctx, cancel := context.WithCancel(context.Background())
	s.stopDelivery = cancel
	go s.deliverWebhooks(ctx)
	return s
}

// URL is the value for bot.WithServerURL.
func (s *Server) URL() string { return s.httpServer.URL }

// Token is the token the server accepts.
func (s *Server) Token() string { return s.token }

// BotUser is what getMe returns; its id is the number the token starts with.
func (s *Server) BotUser() models.User { return s.botUser }

// Close ends pending long polls, stops webhook delivery and shuts the server down.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.stopDelivery()
		<-s.deliveryDone
		s.httpServer.CloseClientConnections()
		s.httpServer.Close()
	})
}

// ServeHTTP answers /bot<token>/<method> and /bot<token>/test/<method>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	if !ok {
		writeError(w, errNotFound)
		return
	}
	token, method, _ := strings.Cut(rest, "/")
	if token != s.token {
		writeError(w, errUnauthorized)
		return
	}
	method = strings.TrimPrefix(method, "test/")
	if method == "" {
		writeError(w, errNotFound)
		return
	}

	params, err := readParams(r)
	result, apiErr := s.execute(r.Context(), method, params, err, false)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	writeOK(w, result)
}

// execute runs one method, a request's or a webhook response's (inResponse), and records it.
func (s *Server) execute(ctx context.Context, method string, params Params, readErr error, inResponse bool) (any, *apiError) {
	at := s.now()
	rt, known := s.routes[strings.ToLower(method)]
	if known {
		method = rt.name
	}
	var (
		result any
		apiErr *apiError
	)
	switch {
	case readErr != nil:
		apiErr = badRequest(readErr.Error())
	case !known:
		apiErr = errMethodNotFound
	case inResponse && rt.name == "getUpdates":
		apiErr = badRequest("getUpdates can't be used in a webhook response")
	default:
		if apiErr = s.admit(rt, params); apiErr == nil {
			result, apiErr = rt.handle(ctx, params)
		}
	}

	call := Call{Method: method, Params: params, At: at, Code: http.StatusOK, InResponse: inResponse}
	if apiErr != nil {
		call.Code, call.Description = apiErr.code, apiErr.desc
	}
	s.record(call)
	return result, apiErr
}

// admit applies injected failures and flood limits before a method has any effect.
func (s *Server) admit(rt route, p Params) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outage != nil && rt.name != "getUpdates" {
		e := *s.outage
		return &e
	}
	if e := s.takeFaultLocked(rt.name); e != nil {
		return e
	}
	if !rt.sends || s.limits == nil {
		return nil
	}
	chatID, ok := p.Int64("chat_id")
	if !ok {
		return nil // the method reports the bad chat_id itself
	}
	if retryAfter := s.limits.take(chatID, s.now()); retryAfter > 0 {
		s.violations++
		s.notifyChangedLocked()
		return tooManyRequests(retryAfter)
	}
	return nil
}

func (s *Server) notifyChangedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) notifyUpdatesLocked() {
	close(s.updatesChanged)
	s.updatesChanged = make(chan struct{})
	s.notifyChangedLocked()
}
