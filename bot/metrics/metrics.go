// Package metrics is the bot's Prometheus instrumentation: one Registry per
// process (never the client library's global default), the collectors an
// operator graphs and alerts on, and small typed methods the pipeline, the
// dialog funnel, the hand-off desk, the notifier and the acquirer client call.
//
// No personal data reaches a label: no method takes a chat id, merchant
// number, card, phone, name or code, and every label value a caller passes is
// checked against a closed shape (see label) so that a mistake at a call site
// turns into "other" rather than into a card number on /metrics.
//
// Every method is safe for concurrent use and safe on a nil *Metrics, so a
// component built without metrics (tests, the console) needs no fake.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/merchantbot/merchantbot/backend"
)

// namespace prefixes every metric name.
const namespace = "merchantbot"

// Metrics holds the registry and every collector of the bot.
type Metrics struct {
	reg    *prometheus.Registry
	labels *labelGuard

	updatesReceived  *prometheus.CounterVec
	updatesApplied   *prometheus.CounterVec
	updateSeconds    *prometheus.HistogramVec
	updatesRetried   prometheus.Counter
	updatesDuplicate prometheus.Counter
	deadLettered     prometheus.Counter

	stepReached *prometheus.CounterVec
	completed   prometheus.Counter
	abandoned   *prometheus.CounterVec

	handOffs         prometheus.Counter
	deskBlocked      prometheus.Gauge
	handBacks        prometheus.Counter
	firstAgentAnswer prometheus.Histogram

	notifications *prometheus.CounterVec

	telegramCalls *prometheus.CounterVec
	tooMany       prometheus.Counter
	outboxDepth   prometheus.Gauge

	redisErrors *prometheus.CounterVec

	acquirerCalls   *prometheus.CounterVec
	acquirerSeconds *prometheus.HistogramVec
	acquirerErrors  *prometheus.CounterVec
}

// New returns Metrics on a registry of its own, with the Go runtime and
// process collectors registered beside the bot's.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg, labels: newLabelGuard(maxValuesPerLabel)}
	f := factory{reg}

	m.updatesReceived = f.counterVec("updates_received_total",
		"Telegram updates stored in a chat's queue, by how they arrived (polling, webhook).", "source")
	m.updatesApplied = f.counterVec("updates_applied_total",
		"Updates and internal events applied to a dialog, by kind.", "kind")
	m.updateSeconds = f.histogramVec("update_apply_seconds",
		"Time from taking an update off its chat's queue to committing its state and outbox.",
		[]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}, "kind")
	m.updatesRetried = f.counter("updates_retried_total",
		"Attempts to apply an update that failed and were retried.")
	m.updatesDuplicate = f.counter("updates_duplicate_total",
		"Updates Telegram delivered again after they were applied, dropped.")
	m.deadLettered = f.counter("updates_dead_lettered_total",
		"Updates moved to the dead-letter list after their retries ran out.")

	m.stepReached = f.counterVec("dialog_step_reached_total",
		"Dialogs that reached each step (the funnel).", "step")
	m.completed = f.counter("dialogs_completed_total",
		"Dialogs that ended in a submitted application.")
	m.abandoned = f.counterVec("dialogs_abandoned_total",
		"Dialogs whose draft was dropped before submission, by the step it was at and why (cancelled, expired).",
		"step", "reason")

	m.handOffs = f.counter("handoffs_total", "Chats handed to a support agent.")
	m.handBacks = f.counter("handbacks_total", "Chats an agent handed back to the dialog.")
	m.deskBlocked = f.gauge("support_group_blocked",
		"1 while the support group refuses the bot (403: removed, or not allowed to post) and the desk's calls wait; 0 otherwise.")
	m.firstAgentAnswer = f.histogram("handoff_first_answer_seconds",
		"Time from a hand-off to the first message an agent sent the merchant.",
		[]float64{15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400})

	m.notifications = f.counterVec("notifications_total",
		"Application status notifications, by status and outcome (sent, failed).", "status", "outcome")

	m.telegramCalls = f.counterVec("telegram_calls_total",
		"Bot API calls made by the sender, by priority (reply, notification, group) and outcome (sent, later, refused, blocked).",
		"priority", "outcome")
	m.tooMany = f.counter("telegram_too_many_requests_total",
		"Bot API answers 429 Too Many Requests.")
	m.outboxDepth = f.gauge("outbox_depth",
		"Bot API calls written to outboxes and not yet sent, as last measured.")

	m.redisErrors = f.counterVec("redis_errors_total",
		"Redis commands that failed (a missing key is not a failure), by command.", "command")

	m.acquirerCalls = f.counterVec("acquirer_requests_total",
		"Calls to the acquirer API, by operation and result code (ok, or the API's error code).", "op", "code")
	m.acquirerSeconds = f.histogramVec("acquirer_request_seconds",
		"Latency of calls to the acquirer API, by operation.",
		[]float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}, "op")
	m.acquirerErrors = f.counterVec("acquirer_errors_total",
		"Acquirer calls that failed for the acquirer's reasons (unreachable, timeout, 5xx, unauthorized, malformed), by operation.",
		"op")

	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.knownAtZero()
	return m
}

// Outcomes of a Bot API call as the outbox sender reports them (bot/send.go).
var telegramPriorities, telegramOutcomes = []string{"reply", "notification", "group"},
	[]string{"sent", "later", "refused", "blocked"}

// knownAtZero makes every known label value of the counters an operator
// alerts on appear at 0 from the start: a rate() over a series that only
// appears with its first event misses that event, and an alert on "failed"
// cannot tell "none yet" from "not reported".
func (m *Metrics) knownAtZero() {
	for _, st := range backend.Statuses() {
		status := m.label("status", string(st))
		for _, outcome := range []string{"sent", "failed"} {
			m.notifications.WithLabelValues(status, outcome)
		}
	}
	for _, p := range telegramPriorities {
		for _, o := range telegramOutcomes {
			m.telegramCalls.WithLabelValues(m.label("priority", p), m.label("outcome", o))
		}
	}
}

// Handler serves the registry in the Prometheus text format: mount it at
// /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:      m.reg, // counts its own scrape errors
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// Registry is the registry behind Handler, for a caller that adds its own
// collectors (or a test that gathers).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ---- updates (the chat pipeline) ----

// UpdateReceived counts an update stored in its chat's queue; source is
// "polling" or "webhook".
func (m *Metrics) UpdateReceived(source string) {
	if m == nil {
		return
	}
	m.updatesReceived.WithLabelValues(m.label("source", source)).Inc()
}

// UpdateApplied counts an update or event applied to its dialog and observes
// how long applying it took (queue pop to commit). kind is the input's kind:
// "text", "command", "button", "contact", "media", "edit", "event", "form", "other".
func (m *Metrics) UpdateApplied(kind string, took time.Duration) {
	if m == nil {
		return
	}
	k := m.label("kind", kind)
	m.updatesApplied.WithLabelValues(k).Inc()
	m.updateSeconds.WithLabelValues(k).Observe(took.Seconds())
}

// UpdateRetried counts a failed attempt at an update that will be retried.
func (m *Metrics) UpdateRetried() {
	if m != nil {
		m.updatesRetried.Inc()
	}
}

// UpdateDuplicate counts a redelivered update dropped as already applied.
func (m *Metrics) UpdateDuplicate() {
	if m != nil {
		m.updatesDuplicate.Inc()
	}
}

// UpdateDeadLettered counts an update given up on and moved to the
// dead-letter list.
func (m *Metrics) UpdateDeadLettered() {
	if m != nil {
		m.deadLettered.Inc()
	}
}

// ---- the dialog funnel (dialogs.Observer) ----

// StepReached counts a dialog arriving at step (a dialogs.Step* name).
func (m *Metrics) StepReached(step string) {
	if m != nil {
		m.stepReached.WithLabelValues(m.label("step", step)).Inc()
	}
}

// DialogCompleted counts a dialog that submitted its application.
func (m *Metrics) DialogCompleted() {
	if m != nil {
		m.completed.Inc()
	}
}

// DialogAbandoned counts a draft dropped at step; reason is "cancelled" or
// "expired".
func (m *Metrics) DialogAbandoned(step, reason string) {
	if m != nil {
		m.abandoned.WithLabelValues(m.label("step", step), m.label("reason", reason)).Inc()
	}
}

// ---- hand-off ----

// HandOff counts a chat handed to a support agent.
func (m *Metrics) HandOff() {
	if m != nil {
		m.handOffs.Inc()
	}
}

// SupportGroupBlocked records whether the support group refuses the bot:
// alert on 1 (the desk's outbox waits until the bot is back or an operator
// runs merchantbot desk resume).
func (m *Metrics) SupportGroupBlocked(blocked bool) {
	if m != nil {
		v := 0.0
		if blocked {
			v = 1
		}
		m.deskBlocked.Set(v)
	}
}

// HandBack counts a chat an agent handed back.
func (m *Metrics) HandBack() {
	if m != nil {
		m.handBacks.Inc()
	}
}

// AgentFirstAnswer observes the wait from a hand-off to the first agent
// message the merchant received. Call it once per hand-off.
func (m *Metrics) AgentFirstAnswer(wait time.Duration) {
	if m != nil {
		m.firstAgentAnswer.Observe(wait.Seconds())
	}
}

// ---- notifications ----

// NotificationSent counts a status message delivered to a merchant; status
// is the application status (backend.Status: "review", "approved", ...).
func (m *Metrics) NotificationSent(status string) {
	if m != nil {
		m.notifications.WithLabelValues(m.label("status", status), "sent").Inc()
	}
}

// NotificationFailed counts a status message that could not be delivered
// (the merchant blocked the bot, the chat is gone, retries ran out).
func (m *Metrics) NotificationFailed(status string) {
	if m != nil {
		m.notifications.WithLabelValues(m.label("status", status), "failed").Inc()
	}
}

// ---- the sender ----

// TelegramCall counts one Bot API call the sender made; priority is
// "reply", "notification" or "group"; outcome is "sent", "later" (will be
// sent again), "refused" (given up) or "blocked" (403).
func (m *Metrics) TelegramCall(priority, outcome string) {
	if m != nil {
		m.telegramCalls.WithLabelValues(m.label("priority", priority), m.label("outcome", outcome)).Inc()
	}
}

// TooManyRequests counts a 429 from the Bot API.
func (m *Metrics) TooManyRequests() {
	if m != nil {
		m.tooMany.Inc()
	}
}

// SetOutboxDepth records how many calls wait in outboxes (across chats, as
// the sender last measured it).
func (m *Metrics) SetOutboxDepth(n int) {
	if m != nil {
		m.outboxDepth.Set(float64(n))
	}
}

// ---- Redis and the acquirer ----

// RedisError counts a failed Redis command. RedisHook calls it for every
// command of a client; call it directly only for failures a hook cannot see.
func (m *Metrics) RedisError(command string) {
	if m != nil {
		m.redisErrors.WithLabelValues(m.label("command", command)).Inc()
	}
}

// AcquirerCall records one call to the acquirer API: op names the operation
// (backend.Op*), took its latency, err its result. It satisfies
// backend.Observer. Refusals the merchant caused (a wrong code, an unknown
// merchant) count as calls with their code, not as acquirer errors.
func (m *Metrics) AcquirerCall(op string, took time.Duration, err error) {
	if m == nil {
		return
	}
	op = m.label("op", op)
	code := "ok"
	if err != nil {
		code, _ = backend.ErrorCode(err)
	}
	m.acquirerCalls.WithLabelValues(op, m.label("code", code)).Inc()
	m.acquirerSeconds.WithLabelValues(op).Observe(took.Seconds())
	if acquirerFault(err) {
		m.acquirerErrors.WithLabelValues(op).Inc()
	}
}

// acquirerFault tells the acquirer's own failures from answers about the
// merchant's input.
func acquirerFault(err error) bool {
	if err == nil {
		return false
	}
	code, _ := backend.ErrorCode(err)
	switch code {
	case backend.CodeUnavailable, backend.CodeUnauthorized, backend.CodeInternal, backend.CodeInvalidRequest:
		return !errors.Is(err, context.Canceled) // our shutdown, not their fault
	}
	return false
}

// ---- labels ----

// maxValuesPerLabel bounds the distinct values one label takes; the rest
// become "other", so a bug cannot grow the page without bound.
const maxValuesPerLabel = 64

// labelShape is what a label value may be: a lowercase identifier with no
// digit, so no chat id, card number, phone, code or (Chinese) name can pass.
var labelShape = regexp.MustCompile(`^[a-z][a-z_.]{0,39}$`)

// label vets v for the label name.
func (m *Metrics) label(name, v string) string { return m.labels.vet(name, v) }

type labelGuard struct {
	max  int
	mu   sync.Mutex
	seen map[string]map[string]struct{}
}

func newLabelGuard(max int) *labelGuard {
	return &labelGuard{max: max, seen: map[string]map[string]struct{}{}}
}

func (g *labelGuard) vet(name, v string) string {
	if !labelShape.MatchString(v) {
		return "other"
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	vals := g.seen[name]
	if vals == nil {
		vals = map[string]struct{}{}
		g.seen[name] = vals
	}
	if _, ok := vals[v]; ok {
		return v
	}
	if len(vals) >= g.max {
		return "other"
	}
	vals[v] = struct{}{}
	return v
}

// factory registers what it makes on one registry.
type factory struct{ reg prometheus.Registerer }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}
