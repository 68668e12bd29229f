package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// notifyStatuses are the status changes pushed for each application, in the
// order an acquirer reports them.
var notifyStatuses = []string{"under_review", "approved", "effective"}

// bindingDone are the messages that say a merchant is bound.
var bindingDone = setOf("bound")

// runNotifyLoad pushes c.events status changes to serve's POST
// /backend/events, signed as backend/openapi.yaml says (issue 8), against a
// fake Bot API that enforces Telegram's limits, with serve's limits at
// Telegram's too, and reports the rate achieved as a share of the allowed
// rate, the 429s and the messages lost or doubled. The merchants are bound
// first (merchant number and shared contact), as notifications go only to a
// bound chat.
func runNotifyLoad(ctx context.Context, c loadConfig, rdb redis.UniversalClient, stdout io.Writer) error {
	merchants := min(c.merchants, c.events)
	fmt.Fprintf(stdout, "merchantbot-load: notify, %s, %d status changes to %d merchants, Telegram's limits enforced\n",
		c.transport, c.events, merchants)
	chats := make([]int64, merchants)
	for i := range chats {
		chats[i] = 7_100_000_000 + int64(i)
	}
	fake := telegramtest.New(telegramtest.WithoutCallLog(), telegramtest.WithRateLimits())
	defer fake.Close()
	front := newAPIFront(fake, chats)
	frontURL, stopFront, err := serveLoopback(front)
	if err != nil {
		return err
	}
	defer stopFront()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	prefix := "mbload:" + randomHex(6) + ":"
	defer func() { _ = dropPrefix(context.WithoutCancel(ctx), rdb, prefix) }()
	eventsSecret := randomHex(24)
	env := childEnv(map[string]string{
		"TELEGRAM_TOKEN": fake.Token(), "TELEGRAM_API_URL": frontURL, "HTTP_ADDR": addr,
		"REDIS_URL": c.redisURL, "REDIS_PREFIX": prefix, "BACKEND_URL": "sandbox",
		"SANDBOX_CODE": loadCode, "SANDBOX_LOAD_MERCHANTS": strconv.Itoa(merchants),
		"DATA_KEY":              randomHex(32), // SEND_RATE and SEND_RATE_CHAT unset: serve's defaults
		"BACKEND_EVENTS_SECRET": eventsSecret, "LOG_LEVEL": "info",
	})
	if c.transport == "webhook" {
		relay := newWebhookRelay(runCtx, fake, []string{"http://" + addr + "/tg"})
		u, stopRelay, err := serveLoopback(relay)
		if err != nil {
			return err
		}
		defer stopRelay()
		env = append(env, "WEBHOOK_URL="+u+"/tg", "WEBHOOK_SECRET="+randomHex(16))
	}
	bot, err := startReady(runCtx, "merchantbot", c.bot, []string{"serve"}, env, "merchantbot serving")
	if err != nil {
		return err
	}
	defer bot.stop(15 * time.Second)

	// The contract first: a serve without the events endpoint has no
	// notifications to measure.
	if code, err := postEvent(runCtx, addr, eventsSecret, []byte(`{}`)); err != nil {
		return fmt.Errorf("notify mode: POST /backend/events: %w", err)
	} else if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		return errors.New("notify mode: this serve has no POST /backend/events (status notifications, issue 8, are not in this build); nothing measured")
	}

	// Bind every merchant: identify, then stop at the checklist.
	rec, err := newRecogniser()
	if err != nil {
		return err
	}
	bindStart := time.Now()
	var wg sync.WaitGroup
	bindErrs := make([]error, merchants)
	for i := range merchants {
		m := &simMerchant{
			chat: chats[i], no: fmt.Sprintf("8229%011d", i), phone: fmt.Sprintf("139%08d", i),
			events: front.chats[chats[i]], fake: fake, rec: rec, settle: c.settle, stuck: 60 * time.Second,
		}
		m.stopAt = func(ev botEvent) bool { return m.says(ev, bindingDone) || m.hasButton(ev, "btn_why") }
		m.burstReplies = 1
		wg.Add(1)
		go func() {
			defer wg.Done()
			bindErrs[i] = m.dialog(runCtx, nil).err
		}()
	}
	wg.Wait()
	for i, err := range bindErrs {
		if err != nil {
			return fmt.Errorf("bind merchant %d: %w", i, err)
		}
		if _, ok, err := chatq.FindMerchant(runCtx, rdb, prefix, fmt.Sprintf("8229%011d", i)); err != nil || !ok {
			return fmt.Errorf("merchant %d not bound in Redis (%s<shard>:merchant:<no>): %v", i, prefix, err)
		}
	}
	fmt.Fprintf(stdout, "bound %d merchants in %.1f s\n", merchants, time.Since(bindStart).Seconds())
	sleepCtx(runCtx, 2*time.Second) // the rate buckets refill
	_, refusedBefore := front.counts()

	// Count what reaches each chat from now on.
	got := make([]atomic.Int64, merchants)
	var lastAt atomic.Int64
	var perSecond [600]atomic.Int64 // messages delivered in each second of the run
	start := time.Now()
	for i, chat := range chats {
		ch := front.chats[chat]
		for len(ch) > 0 {
			<-ch
		}
		go func() {
			for {
				select {
				case <-runCtx.Done():
					return
				case ev := <-ch:
					if !ev.edit {
						got[i].Add(1)
						lastAt.Store(ev.at.UnixNano())
						if s := int(ev.at.Sub(start) / time.Second); s >= 0 && s < len(perSecond) {
							perSecond[s].Add(1)
						}
					}
				}
			}
		}()
	}

	want := make([]int64, merchants)
	var accepted, refused atomic.Int64
	// One worker pushes one application's changes in order, as an acquirer
	// does: the notifier announces a status only above the last one it
	// knows, so "approved" overtaking "under_review" would silence the
	// latter (rightly) and the count here would call it lost.
	apps := (c.events + len(notifyStatuses) - 1) / len(notifyStatuses)
	jobs := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for app := range jobs {
				m := app % merchants
				appID := fmt.Sprintf("LT%012d", app)
				for k, status := range notifyStatuses {
					if app*len(notifyStatuses)+k >= c.events {
						break
					}
					body, _ := json.Marshal(map[string]string{
						"event_id": appID + ":" + status, "application_id": appID,
						"merchant_no": fmt.Sprintf("8229%011d", m), "status": status,
						"card_masked": "622202*********0128", "at": time.Now().UTC().Format(time.RFC3339),
					})
					ok := false
					for attempt := 0; attempt < 5 && !ok; attempt++ {
						code, err := postEvent(runCtx, addr, eventsSecret, body)
						ok = err == nil && code >= 200 && code <= 299
						if err == nil && code >= 400 && code < 500 {
							break
						}
					}
					if ok {
						accepted.Add(1)
						atomic.AddInt64(&want[m], 1)
					} else {
						refused.Add(1)
					}
				}
			}
		}()
	}
	for app := range apps {
		jobs <- app
	}
	close(jobs)
	wg.Wait()
	pushed := time.Since(start)

	// Wait for delivery: at the allowed rate, and a little more.
	allowed := min(30.0, float64(merchants))
	deadline := time.Now().Add(min(c.timeout, time.Duration(float64(accepted.Load())/allowed*1.5*float64(time.Second))+10*time.Second))
	for time.Now().Before(deadline) {
		total := int64(0)
		for i := range got {
			total += got[i].Load()
		}
		if total >= accepted.Load() {
			break
		}
		sleepCtx(runCtx, 200*time.Millisecond)
	}
	sleepCtx(runCtx, 3*time.Second) // anything doubled arrives late
	var delivered, lost, doubled int64
	for i := range got {
		g, w := got[i].Load(), want[i]
		delivered += g
		lost += max(0, w-g)
		doubled += max(0, g-w)
	}
	span := time.Duration(lastAt.Load() - start.UnixNano())
	// What Telegram lets through in span: the full global bucket at the
	// start (the wave follows a pause), then the rate. Counting the bucket
	// keeps a share over 100 % from hiding a slow tail.
	limits := telegramtest.TelegramRateLimits().Global
	allowedInSpan := min(float64(limits.Burst), float64(merchants)*3) + allowed*span.Seconds()
	achieved, share := 0.0, 0.0
	if span > 0 {
		achieved = float64(delivered) / span.Seconds()
		share = float64(delivered) / allowedInSpan
	}
	_, refusedAfter := front.counts()
	var curve []string
	for s := range min(int(span/time.Second)+1, len(perSecond)) {
		curve = append(curve, strconv.FormatInt(perSecond[s].Load(), 10))
	}
	fmt.Fprintf(stdout, "events: %d accepted, %d refused, pushed in %.1f s\n", accepted.Load(), refused.Load(), pushed.Seconds())
	fmt.Fprintf(stdout, "messages: %d delivered in %.1f s = %.1f/s at %.0f/s allowed; %.0f allowed in that time (burst %d + rate) = %.1f %% of the allowed rate\n",
		delivered, span.Seconds(), achieved, allowed, allowedInSpan, limits.Burst, 100*share)
	fmt.Fprintf(stdout, "delivered per second: %s\n", strings.Join(curve, " "))
	fmt.Fprintf(stdout, "429s received: %d; lost: %d; doubled: %d\n", refusedAfter[429]-refusedBefore[429], lost, doubled)
	levels, first := bot.logLevels()
	fmt.Fprintf(stdout, "log lines: %s\n", formatCounts(levels))
	for _, l := range first {
		fmt.Fprintf(stdout, "  log: %s\n", clip(l, 200))
	}
	if lost > 0 || doubled > 0 {
		return fmt.Errorf("notify: %d lost, %d doubled", lost, doubled)
	}
	return nil
}

// postEvent posts body to serve's events endpoint, signed under secret:
// X-Acquirer-Signature: v1=hex(HMAC-SHA256(secret, timestamp + "." + body)).
func postEvent(ctx context.Context, addr, secret string, body []byte) (int, error) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/backend/events", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Acquirer-Timestamp", ts)
	req.Header.Set("X-Acquirer-Signature", "v1="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
