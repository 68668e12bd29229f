package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/merchantbot/merchantbot/bot/notify"
)

// notifyConfig is serve's notification settings (BACKEND_EVENTS_SECRET is
// read with the rest of serveConfig).
type notifyConfig struct {
	pollInterval time.Duration // BACKEND_POLL_INTERVAL
	pollRate     float64       // BACKEND_POLL_RATE, acquirer calls/s; 0: no cap
}

// minPollInterval keeps a typo (5ms) from hammering the acquirer.
const minPollInterval = 10 * time.Second

func loadNotifyConfig(getenv func(string) string) (notifyConfig, error) {
	c := notifyConfig{pollInterval: notify.DefaultPollInterval, pollRate: notify.DefaultPollRate}
	if raw := getenv("BACKEND_POLL_INTERVAL"); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d < minPollInterval {
			return c, fmt.Errorf("BACKEND_POLL_INTERVAL: %q is not a duration of at least 10s (like 5m)", raw)
		}
		c.pollInterval = d
	}
	if raw := getenv("BACKEND_POLL_RATE"); raw != "" {
		r, err := strconv.ParseFloat(raw, 64)
		if err != nil || r < 0 || r != r {
			return c, fmt.Errorf("BACKEND_POLL_RATE: %q is not a number of acquirer calls per second (0: no limit)", raw)
		}
		c.pollRate = r
	}
	return c, nil
}

// startNotifications runs n's status poller and wake scheduler until ctx
// is done, and returns the handler to mount at POST /backend/events.
// Without an events secret every pushed event is refused (401); polling
// still finds every change.
func startNotifications(ctx context.Context, c notifyConfig, eventsSecret string, n *notify.Notifier,
	apps notify.Applications) http.Handler {
	go notify.NewPoller(n, apps, notify.PollInterval(c.pollInterval), notify.PollRate(c.pollRate)).Run(ctx)
	go notify.NewWaker(n).Run(ctx)
	return n.Handler([]byte(eventsSecret))
}
