package notify

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
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
	if _, err := p.n.Apply(ctx, backend.EventOf(r)); err != nil {
		return err
	}
	if r.Status.Final() {
		return p.n.rdb.ZRem(ctx, p.n.openKey(), app).Err()
	}
	p.schedule(ctx, app, p.interval)
	return nil
}

// schedule polls app again after d and a random part; XX keeps an
// application that became final meanwhile out of the set.
func (p *Poller) schedule(ctx context.Context, app string, d time.Duration) {
	at := p.n.now().Add(d + p.jitter(d/5)).UnixMilli()
	if err := p.n.rdb.ZAddXX(ctx, p.n.openKey(), redis.Z{Score: float64(at), Member: app}).Err(); err != nil {
		p.n.log.Warn("reschedule poll", "app", app, "err", err)
	}
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
