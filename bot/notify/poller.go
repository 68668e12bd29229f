package notify

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/merchantbot/merchantbot/backend"
)

// Defaults of the Poller (BACKEND_POLL_INTERVAL, BACKEND_POLL_RATE).
const (
	DefaultPollInterval = 5 * time.Minute
	DefaultPollRate     = 5.0 // acquirer calls per second
	// pollRetry is how soon an application whose poll failed is tried again.
	pollRetry = time.Minute
	pollBatch = 100
	// MaxInvalidAnswers is how many answers in a row the acquirer may give
	// for an application that the bot cannot use (for another application,
	// no merchant, a status this version does not know) before the poller
	// gives it up with an error: about an hour at the default interval.
	MaxInvalidAnswers = 12
)

// Applications is what the Poller needs of the acquirer.
type Applications interface {
	Application(ctx context.Context, id string) (backend.Receipt, error)
}

// Poller reconciles every open application with the acquirer on a
// schedule: each one is polled about every interval (plus up to a fifth of
// it at random, so applications seen together spread out), at most rate
// calls a second. Only the replica holding the poll lease in Redis polls,
// so two replicas do not double the acquirer's load; another takes over
// within the lease's lifetime when it goes.
type Poller struct {
	n        *Notifier
	apps     Applications
	interval time.Duration
	limiter  *rate.Limiter
	jitter   func(max time.Duration) time.Duration
	token    string
	leaseTTL time.Duration
	tick     time.Duration
	renewed  time.Time
}

// PollOption configures a Poller.
type PollOption func(*Poller)

// PollInterval sets how often each open application is polled.
func PollInterval(d time.Duration) PollOption { return func(p *Poller) { p.interval = d } }

// PollRate caps the acquirer calls per second (0: no cap).
func PollRate(perSecond float64) PollOption {
	return func(p *Poller) {
		p.limiter = rate.NewLimiter(rate.Inf, 1)
		if perSecond > 0 {
			p.limiter = rate.NewLimiter(rate.Limit(perSecond), 1)
		}
	}
}

// PollJitter sets the random part of the schedule (tests make it fixed).
func PollJitter(f func(max time.Duration) time.Duration) PollOption {
	return func(p *Poller) { p.jitter = f }
}

// PollLease sets the lease's lifetime (default 30 s) and how often Run
// looks for due applications (default 1 s).
func PollLease(ttl, tick time.Duration) PollOption {
	return func(p *Poller) { p.leaseTTL, p.tick = ttl, tick }
}

// NewPoller returns a Poller applying what it finds through n.
func NewPoller(n *Notifier, apps Applications, opts ...PollOption) *Poller {
	p := &Poller{
		n:        n,
		apps:     apps,
		interval: DefaultPollInterval,
		limiter:  rate.NewLimiter(rate.Limit(DefaultPollRate), 1),
		jitter: func(max time.Duration) time.Duration {
			if max <= 0 {
				return 0
			}
			return time.Duration(mrand.Int64N(int64(max)))
		},
		token:    rand.Text(),
		leaseTTL: 30 * time.Second,
		tick:     time.Second,
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Run polls until ctx is done. Redis or acquirer failures are logged and
// retried on the next tick.
func (p *Poller) Run(ctx context.Context) {
	t := time.NewTicker(p.tick)
	defer t.Stop()
	for {
		if _, err := p.Round(ctx); err != nil && ctx.Err() == nil {
			p.n.log.Warn("poll round", "err", err)
		}
		select {
		case <-ctx.Done():
			p.release()
			return
		case <-t.C:
		}
	}
}

// Round polls the applications that are due, if this Poller holds the
// lease, and says how many it polled. A Poller is one replica's: Round is
// not for concurrent use (Run calls it in turn).
func (p *Poller) Round(ctx context.Context) (int, error) {
	if ok, err := p.hold(ctx); err != nil || !ok {
		return 0, err
	}
	now := p.n.now()
	due, err := p.n.rdb.ZRangeByScore(ctx, p.n.openKey(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Count: pollBatch,
	}).Result()
	if err != nil {
		return 0, fmt.Errorf("due applications: %w", err)
	}
	polled := 0
	for _, app := range due {
		if ok, err := p.hold(ctx); err != nil || !ok {
			return polled, err // the lease went elsewhere: the new holder goes on
		}
		if err := p.limiter.Wait(ctx); err != nil {
			return polled, err
		}
		polled++
		if err := p.poll(ctx, app); err != nil {
			p.n.log.Warn("poll application", "app", app, "err", err)
			p.schedule(ctx, app, pollRetry)
		}
	}
	return polled, nil
}

func (p *Poller) poll(ctx context.Context, app string) error {
	r, err := p.apps.Application(ctx, app)
	if errors.Is(err, backend.ErrUnknownApplication) {
		p.n.log.Warn("open application unknown to the acquirer: no longer polled", "app", app)
		return p.n.rdb.ZRem(ctx, p.n.openKey(), app).Err()
	}
	if err != nil {
		return err
	}
	// The answer is the acquirer's word on app, and on app only: an answer
	// about another application is not applied (it could tell another
	// merchant), and one the bot cannot act on is not retried for ever.
	if r.ID != app {
		p.n.log.Error("acquirer answered a poll with another application: not applied",
			"app", app, "answered", clip(r.ID))
		return p.invalid(ctx, app, "answer for another application")
	}
	ev := backend.EventOf(r)
	if !ev.Valid() {
		why := "no merchant number"
		if r.Status.Rank() == 0 {
			why = "unknown status " + strconv.Quote(clip(string(r.Status)))
		}
		return p.invalid(ctx, app, why)
	}
	if _, err := p.n.Apply(ctx, ev); err != nil {
		return err
	}
	if r.Status.Final() {
		return p.n.rdb.ZRem(ctx, p.n.openKey(), app).Err()
	}
	at := p.next(p.interval)
	err = answeredScript.Run(ctx, p.n.rdb, []string{p.n.openKey(), p.n.invalidKey(app)}, at, app).Err()
	if err != nil {
		p.n.log.Warn("reschedule poll", "app", app, "err", err)
	}
	return nil
}

// answeredScript schedules the next poll of an application that gave a
// usable answer and forgets its count of unusable ones.
var answeredScript = redis.NewScript(`
redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[2])
redis.call('DEL', KEYS[2])
return 0`)

// invalidScript counts an unusable answer; below the bound it schedules the
// next poll (returning the count), at the bound it takes the application
// out of the open set (returning -1).
var invalidScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
if n >= tonumber(ARGV[3]) then
  redis.call('ZREM', KEYS[1], ARGV[2])
  redis.call('DEL', KEYS[2])
  return -1
end
redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[2])
return n`)

// invalid handles an answer about app the bot cannot use: polled again at
// the usual interval (asking sooner does not mend the acquirer's data), and
// given up after MaxInvalidAnswers in a row, with an error saying how to
// take it up again. The merchant is told nothing either way.
func (p *Poller) invalid(ctx context.Context, app, why string) error {
	n, err := invalidScript.Run(ctx, p.n.rdb, []string{p.n.openKey(), p.n.invalidKey(app)},
		p.next(p.interval), app, MaxInvalidAnswers, int(remember/time.Second)).Int()
	if err != nil {
		return fmt.Errorf("count invalid answer (%s): %w", why, err)
	}
	if n < 0 {
		p.n.log.Error("application given up: the acquirer's answers cannot be used; no longer polled, the merchant is not told",
			"app", app, "why", why, "answers", MaxInvalidAnswers,
			"resume", "ZADD "+p.n.openKey()+" 0 "+app)
		return nil
	}
	p.n.log.Warn("acquirer's answer cannot be used: polled again later", "app", app, "why", why,
		"answers", n, "give_up_at", MaxInvalidAnswers)
	return nil
}

// clip bounds a value from the acquirer before it is logged.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		return strings.ToValidUTF8(s[:max], "") + "…"
	}
	return s
}

// schedule polls app again after d and a random part; XX keeps an
// application that became final meanwhile out of the set.
func (p *Poller) schedule(ctx context.Context, app string, d time.Duration) {
	at := p.next(d)
	if err := p.n.rdb.ZAddXX(ctx, p.n.openKey(), redis.Z{Score: float64(at), Member: app}).Err(); err != nil {
		p.n.log.Warn("reschedule poll", "app", app, "err", err)
	}
}

// next is when to poll again after d: unix ms, with the random part.
func (p *Poller) next(d time.Duration) int64 {
	return p.n.now().Add(d + p.jitter(d/5)).UnixMilli()
}

// renewScript extends the lease only for its holder.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)

var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// hold takes or keeps the poll lease; renewals are spaced a third of its
// lifetime apart.
func (p *Poller) hold(ctx context.Context) (bool, error) {
	now := time.Now() // the lease lives on Redis's clock, not the injected one
	if !p.renewed.IsZero() && now.Sub(p.renewed) < p.leaseTTL/3 {
		return true, nil
	}
	ok, err := renewScript.Run(ctx, p.n.rdb, []string{p.n.leaseKey()}, p.token, p.leaseTTL.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("poll lease: %w", err)
	}
	if ok == 0 {
		taken, err := p.n.rdb.SetNX(ctx, p.n.leaseKey(), p.token, p.leaseTTL).Result()
		if err != nil {
			return false, fmt.Errorf("poll lease: %w", err)
		}
		if !taken {
			p.renewed = time.Time{}
			return false, nil
		}
	}
	p.renewed = now
	return true, nil
}

func (p *Poller) release() {
	if p.renewed.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = releaseScript.Run(ctx, p.n.rdb, []string{p.n.leaseKey()}, p.token).Err()
	p.renewed = time.Time{}
}
