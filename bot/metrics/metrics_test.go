package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/bot/metrics"
)

// Personal data a careless call site might pass as a label.
var personal = []string{
	"6222021234567890123", // card number
	"13800138000",         // phone
	"110101199003071234",  // ID number
	"482913",              // SMS code
	"-1001234567890",      // chat id
	"100000000000001",     // merchant number
	"张三",                  // name
	"zhang san",           // pinyin name with a space
}

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	return string(body)
}

// exercise calls every method once with well-formed labels.
func exercise(m *metrics.Metrics) {
	m.UpdateReceived("webhook")
	m.UpdateApplied("text", 3*time.Millisecond)
	m.UpdateRetried()
	m.UpdateDuplicate()
	m.UpdateDeadLettered()
	m.StepReached("card")
	m.DialogCompleted()
	m.DialogAbandoned("holder", "cancelled")
	m.HandOff()
	m.HandBack()
	m.AgentFirstAnswer(90 * time.Second)
	m.NotificationSent("approved")
	m.NotificationFailed("rejected")
	m.TelegramCall("reply", "sent")
	m.TooManyRequests()
	m.SetOutboxDepth(7)
	m.RedisError("evalsha")
	m.AcquirerCall(backend.OpSubmit, 40*time.Millisecond, nil)
	m.AcquirerCall(backend.OpCheckCode, 40*time.Millisecond, fmt.Errorf("check code: %w", backend.ErrWrongCode))
	m.AcquirerCall(backend.OpSubmit, 10*time.Second, fmt.Errorf("submit: %w: %w", backend.ErrUnavailable, context.DeadlineExceeded))
}

func TestEveryMetricIsOnThePage(t *testing.T) {
	m := metrics.New()
	exercise(m)
	page := scrape(t, m)
	want := []string{
		`merchantbot_updates_received_total{source="webhook"} 1`,
		`merchantbot_updates_applied_total{kind="text"} 1`,
		`merchantbot_update_apply_seconds_bucket{kind="text",le="0.005"} 1`,
		`merchantbot_updates_retried_total 1`,
		`merchantbot_updates_duplicate_total 1`,
		`merchantbot_updates_dead_lettered_total 1`,
		`merchantbot_dialog_step_reached_total{step="card"} 1`,
		`merchantbot_dialogs_completed_total 1`,
		`merchantbot_dialogs_abandoned_total{reason="cancelled",step="holder"} 1`,
		`merchantbot_handoffs_total 1`,
		`merchantbot_handbacks_total 1`,
		`merchantbot_handoff_first_answer_seconds_bucket{le="120"} 1`,
		`merchantbot_notifications_total{outcome="sent",status="approved"} 1`,
		`merchantbot_notifications_total{outcome="failed",status="rejected"} 1`,
		`merchantbot_telegram_calls_total{outcome="sent",priority="reply"} 1`,
		`merchantbot_telegram_too_many_requests_total 1`,
		`merchantbot_outbox_depth 7`,
		`merchantbot_redis_errors_total{command="evalsha"} 1`,
		`merchantbot_acquirer_requests_total{code="ok",op="submit"} 1`,
		`merchantbot_acquirer_requests_total{code="wrong_code",op="check_code"} 1`,
		`merchantbot_acquirer_requests_total{code="unavailable",op="submit"} 1`,
		`merchantbot_acquirer_request_seconds_count{op="submit"} 2`,
		// A wrong code is the merchant's doing; only the timeout is the acquirer's.
		`merchantbot_acquirer_errors_total{op="submit"} 1`,
		"go_goroutines ",
	}
	for _, w := range want {
		if !strings.Contains(page, w+"\n") && !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if strings.Contains(page, `merchantbot_acquirer_errors_total{op="check_code"}`) {
		t.Error("a wrong code counted as an acquirer error")
	}
}

// TestNoPersonalDataOnThePage passes personal data wherever a caller passes
// a string and searches the scraped page for it: it must not appear, and the
// calls must still count (as "other").
func TestNoPersonalDataOnThePage(t *testing.T) {
	m := metrics.New()
	exercise(m)
	for _, p := range personal {
		m.UpdateReceived(p)
		m.UpdateApplied(p, time.Millisecond)
		m.StepReached(p)
		m.DialogAbandoned(p, p)
		m.NotificationSent(p)
		m.NotificationFailed(p)
		m.TelegramCall(p, p)
		m.RedisError(p)
		m.AcquirerCall(p, time.Millisecond, errors.New(p))
	}
	page := scrape(t, m)
	for _, p := range personal {
		// Numbers may appear as sample values ("1.3800138e+10" would not be
		// the phone anyway); only label values are the callers' strings.
		for _, line := range strings.Split(page, "\n") {
			if strings.HasPrefix(line, "#") {
				continue
			}
			if i := strings.LastIndexByte(line, ' '); i > 0 && strings.Contains(line[:i], p) {
				t.Errorf("page carries %q: %s", p, line)
			}
		}
	}
	if want := fmt.Sprintf(`merchantbot_dialog_step_reached_total{step="other"} %d`, len(personal)); !strings.Contains(page, want) {
		t.Errorf("page lacks %q", want)
	}
	// Every label value on the page has the allowed shape.
	labelValue := regexp.MustCompile(`="([^"]*)"`)
	shape := regexp.MustCompile(`^([a-z][a-z_.]*|[0-9.e+]+|\+Inf)$`)
	for _, line := range strings.Split(page, "\n") {
		if !strings.HasPrefix(line, "merchantbot_") {
			continue
		}
		for _, v := range labelValue.FindAllStringSubmatch(line, -1) {
			if !shape.MatchString(v[1]) {
				t.Errorf("label value %q has another shape: %s", v[1], line)
			}
		}
	}
}

func TestLabelValuesAreBounded(t *testing.T) {
	m := metrics.New()
	for i := range 200 {
		m.StepReached("step_" + strings.Repeat("x", i%40))
		m.StepReached(fmt.Sprintf("step_%c%c", 'a'+i%26, 'a'+i/26))
	}
	page := scrape(t, m)
	n := strings.Count(page, "merchantbot_dialog_step_reached_total{")
	if n > 65 {
		t.Fatalf("%d step label values on the page, want at most 64 and other", n)
	}
	if !strings.Contains(page, `merchantbot_dialog_step_reached_total{step="other"}`) {
		t.Fatal("values past the bound are not counted as other")
	}
}

func TestNilMetricsIsANoOp(t *testing.T) {
	var m *metrics.Metrics
	exercise(m) // must not panic
}

func TestRegistriesAreSeparate(t *testing.T) {
	a, b := metrics.New(), metrics.New() // the global registry would panic on the second
	a.HandOff()
	if strings.Contains(scrape(t, b), "merchantbot_handoffs_total 1") {
		t.Fatal("one Metrics counted into another")
	}
}

func TestRedisHookCountsFailuresOnly(t *testing.T) {
	addr := os.Getenv("MB_TEST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	m := metrics.New()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	rdb.AddHook(m.RedisHook())
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("no Redis at %s (the tests need one: see README): %v", addr, err)
	}
	key := "mbtest:metrics:" + strings.ToLower(rand()) + ":missing"
	if err := rdb.Get(ctx, key).Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET of a missing key: %v", err)
	}
	if err := rdb.Do(ctx, "nosuchcommand").Err(); err == nil {
		t.Fatal("an unknown command succeeded")
	}
	pipe := rdb.Pipeline()
	pipe.Do(ctx, "nosuchpipedcommand")
	_, _ = pipe.Exec(ctx)

	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer down.Close()
	down.AddHook(m.RedisHook())
	_ = down.Ping(ctx).Err()

	page := scrape(t, m)
	for _, w := range []string{
		`merchantbot_redis_errors_total{command="nosuchcommand"} 1`,
		`merchantbot_redis_errors_total{command="nosuchpipedcommand"} 1`,
		`merchantbot_redis_errors_total{command="dial"}`,
	} {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if strings.Contains(page, `command="get"`) {
		t.Error("a missing key counted as a Redis error")
	}
}

func rand() string { return fmt.Sprintf("%d", time.Now().UnixNano()) }

// TestKnownLabelValuesAtZero: before anything happened, every application
// status's notification counters and every sender outcome are on the page
// at 0, as Prometheus expects of known label values.
func TestKnownLabelValuesAtZero(t *testing.T) {
	page := scrape(t, metrics.New())
	for _, st := range backend.Statuses() {
		for _, outcome := range []string{"sent", "failed"} {
			w := fmt.Sprintf(`merchantbot_notifications_total{outcome=%q,status=%q} 0`, outcome, st)
			if !strings.Contains(page, w+"\n") {
				t.Errorf("page lacks %q", w)
			}
		}
	}
	for _, w := range []string{
		`merchantbot_telegram_calls_total{outcome="sent",priority="notification"} 0`,
		`merchantbot_telegram_calls_total{outcome="refused",priority="group"} 0`,
		`merchantbot_telegram_calls_total{outcome="blocked",priority="reply"} 0`,
	} {
		if !strings.Contains(page, w+"\n") {
			t.Errorf("page lacks %q", w)
		}
	}
}
