package telegramtest

import (
	"log/slog"
	"net/http"
	"time"
)

// Option configures a Server.
type Option func(*Server)

// WithToken sets the bot token; the number before ':' is the bot's user id in getMe.
func WithToken(token string) Option {
	return func(s *Server) { s.token = token }
}

// WithBotUsername sets the username getMe reports and messages are sent from.
func WithBotUsername(username string) Option {
	return func(s *Server) { s.botUsername = username }
}

// WithClock sets the clock used for message dates and rate limits.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// WithLogger sets where webhook delivery failures are logged. By default nothing is logged.
func WithLogger(log *slog.Logger) Option {
	return func(s *Server) { s.log = log }
}

// WithDefaultLanguage sets the language_code of users SetUserLanguage was not called for
// ("en" unless set; "" leaves the field out, as Telegram does for some clients).
func WithDefaultLanguage(code string) Option {
	return func(s *Server) { s.defaultLanguage = code }
}

// WithWebhookBackoff sets the wait after a failed webhook delivery: it starts at min and doubles
// up to max. The default is 10ms to 500ms, fast enough for tests; Telegram waits far longer.
func WithWebhookBackoff(min, max time.Duration) Option {
	return func(s *Server) { s.backoffMin, s.backoffMax = min, max }
}

// WithWebhookClient sets the client that delivers updates to the webhook (default: 10s timeout).
func WithWebhookClient(client *http.Client) Option {
	return func(s *Server) { s.webhookClient = client }
}

// WithoutCallLog stops recording each call's parameters, for load runs where the log would grow
// without bound; CallCount still counts calls.
func WithoutCallLog() Option {
	return func(s *Server) { s.logCalls = false }
}

// WithRateLimits makes sending methods answer 429 when the bot exceeds Telegram's limits
// (see TelegramRateLimits); each such answer counts as a violation.
func WithRateLimits() Option {
	return WithCustomRateLimits(TelegramRateLimits())
}

// WithCustomRateLimits is WithRateLimits with other limits.
func WithCustomRateLimits(l RateLimits) Option {
	return func(s *Server) { s.limits = newLimiter(l) }
}
