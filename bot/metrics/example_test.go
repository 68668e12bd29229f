package metrics_test

import (
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/bot/metrics"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
)

// Example wires the metrics the way serve does: one Metrics, handed to every
// component that reports, and its Handler on the HTTP mux.
func Example() {
	m := metrics.New()

	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	rdb.AddHook(m.RedisHook()) // Redis errors

	acquirer, _ := backend.NewClient("https://acquirer.example", backend.WithObserver(m)) // acquirer calls
	bins, _ := cardbin.Load()
	_ = dialogs.NewEngine(acquirer, bins, dialogs.WithObserver(m)) // the funnel

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())

	// The chat pipeline reports each update it applies, and so on.
	start := time.Now()
	m.UpdateApplied("text", time.Since(start))
}
