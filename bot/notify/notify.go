// Package notify tells merchants what happens to their applications
// without being asked: status events pushed by the acquirer (Handler), a
// poller that finds what pushes missed (Poller), and the scheduler of
// reminders and expiry (Waker). Everything reaches the merchant as an event
// posted into the chat's queue, so the dialog words it in the merchant's
// language, in order with their own messages, and its replies leave through
// the chat's outbox.
//
// Exactly one message per (application, status): every path posts under
// the once key "st:<application>:<status>", and a status no newer than the
// last one recorded for the application is not posted at all, so a late
// push never follows a newer poll.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/dialogs"
)

// Poster posts an internal event into a merchant chat's queue; the dialog
// receives it in order with the merchant's updates. With once != "", the
// event is posted only if nothing was posted under that key in the last 30
// days; added reports whether it was. A nil error means it is stored
// durably.
type Poster interface {
	Post(ctx context.Context, chat int64, once, event, arg string) (added bool, err error)
}

// Redis is what this package needs of a Redis client.
type Redis interface {
	redis.Cmdable
	redis.Scripter
}

// remember is how long the last status of an application is kept after it
// was last seen (every poll and push that reads it starts it again), and
// the ids of events after they arrived. An application under review for
// months is polled all along, so its status is never forgotten and never
// announced twice; the outbox's once keys (also 30 days) only guard the
// moment between posting a status and recording it.
const remember = 30 * 24 * time.Hour

// final is the rank recorded for a rejected or effective application:
// above every status, so nothing is posted for it any more.
const final = 9

// Notifier turns status changes into one event per (application, status)
// in the merchant's chat, and keeps the set of open applications the
// Poller reconciles.
type Notifier struct {
	rdb      Redis
	prefix   string
	post     Poster
	log      *slog.Logger
	now      func() time.Time
	firstDue time.Duration
}

// Option configures a Notifier.
type Option func(*Notifier)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(n *Notifier) { n.log = l } }

// WithClock sets the clock (event timestamps, poll schedule).
func WithClock(now func() time.Time) Option { return func(n *Notifier) { n.now = now } }

// WithFirstPoll sets how soon after it is first seen an application is
// polled (default DefaultPollInterval).
func WithFirstPoll(d time.Duration) Option { return func(n *Notifier) { n.firstDue = d } }

// New returns a Notifier over rdb with key prefix (REDIS_PREFIX, e.g. "mb:")
// posting through post.
func New(rdb Redis, prefix string, post Poster, opts ...Option) *Notifier {
	n := &Notifier{
		rdb:      rdb,
		prefix:   prefix,
		post:     post,
		log:      slog.New(slog.DiscardHandler),
		now:      time.Now,
		firstDue: DefaultPollInterval,
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

// Keys. The application keys share one hash tag so the script that records
// a status and updates the open set touches one slot.
func (n *Notifier) openKey() string              { return n.prefix + "notify:{apps}:open" }
func (n *Notifier) lastKey(app string) string    { return n.prefix + "notify:{apps}:last:" + app }
func (n *Notifier) eventKey(id string) string    { return n.prefix + "notify:event:" + id }
func (n *Notifier) invalidKey(app string) string { return n.prefix + "notify:{apps}:invalid:" + app }
func (n *Notifier) leaseKey() string             { return n.prefix + "notify:poll-lease" }
func (n *Notifier) wakeKey(shard int) string     { return chatq.WakeKeyOf(n.prefix, shard) }

// OpenKey is the ZSET of open applications (member: application number,
// score: unix ms when it is next polled). An adapter that prefers to track
// a submission in its own commit writes ZADD NX OpenKey(prefix) <now ms> <app>.
func OpenKey(prefix string) string { return prefix + "notify:{apps}:open" }

// Outcome says what Apply did with an event.
type Outcome int

const (
	Posted  Outcome = iota + 1 // posted into the merchant's chat
	Tracked                    // "submitted": followed, not announced (the dialog said it)
	Known                      // the status or a newer one was handled before
	NoChat                     // no chat is bound to the merchant: nobody to tell
)

// ErrNoChat is returned by chat when no chat is bound to a merchant.
var ErrNoChat = errors.New("no chat bound to the merchant")

// Apply handles one status change, pushed or polled. An error means it was
// not handled and may be applied again; then nothing is recorded, and the
// once key keeps a second attempt from posting twice.
func (n *Notifier) Apply(ctx context.Context, ev backend.Event) (Outcome, error) {
	if !ev.Valid() {
		return 0, fmt.Errorf("apply event: %w", backend.ErrInvalidRequest)
	}
	rank := rankOf(ev.Status)
	last, err := n.lastRank(ctx, ev.Application)
	if err != nil {
		return 0, err
	}
	if rank <= last {
		return Known, nil
	}
	out := Tracked
	if ev.Status != backend.StatusSubmitted {
		out, err = n.postStatus(ctx, ev)
		if err != nil {
			return 0, err
		}
	}
	if err := n.record(ctx, ev.Application, rank); err != nil {
		return 0, err
	}
	return out, nil
}

func (n *Notifier) postStatus(ctx context.Context, ev backend.Event) (Outcome, error) {
	chat, err := n.chat(ctx, ev.MerchantNo)
	if errors.Is(err, ErrNoChat) {
		n.log.Warn("status event for a merchant with no chat", "app", ev.Application, "status", ev.Status)
		return NoChat, nil
	}
	if err != nil {
		return 0, err
	}
	arg, err := json.Marshal(ev)
	if err != nil {
		return 0, fmt.Errorf("encode event: %w", err)
	}
	added, err := n.post.Post(ctx, chat, "st:"+ev.Application+":"+string(ev.Status), dialogs.EventStatus, string(arg))
	if err != nil {
		return 0, fmt.Errorf("post status: %w", err)
	}
	if !added {
		return Known, nil
	}
	n.log.Info("status posted", "app", ev.Application, "status", ev.Status, "chat", chat)
	return Posted, nil
}

// Track follows application app from now on (a submission the dialog made):
// the Poller reconciles it until it is rejected or effective.
func (n *Notifier) Track(ctx context.Context, app string) error {
	if app == "" {
		return fmt.Errorf("track: %w", backend.ErrInvalidRequest)
	}
	return n.record(ctx, app, rankOf(backend.StatusSubmitted))
}

// chat is the chat bound to merchant no.
func (n *Notifier) chat(ctx context.Context, no string) (int64, error) {
	chat, ok, err := chatq.FindMerchant(ctx, n.rdb, n.prefix, no)
	if err != nil {
		return 0, fmt.Errorf("merchant's chat: %w", err)
	}
	if !ok {
		return 0, ErrNoChat
	}
	return chat, nil
}

// lastRank is the status last recorded for app, 0 if none. Reading it
// keeps it another 30 days (GETEX, the same round trip): a status that
// lasts is still known when the outbox has forgotten its once key.
func (n *Notifier) lastRank(ctx context.Context, app string) (int, error) {
	v, err := n.rdb.GetEx(ctx, n.lastKey(app), remember).Int()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("last status: %w", err)
	}
	return v, nil
}

// recordScript raises an application's recorded rank (never lowers it) and
// keeps the open set in step: a final application leaves it, an open one
// joins it (keeping its schedule if it was there).
var recordScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local new = tonumber(ARGV[1])
if new <= cur then return 0 end
redis.call('SET', KEYS[1], new, 'EX', ARGV[2])
if new == 9 then
  redis.call('ZREM', KEYS[2], ARGV[3])
else
  redis.call('ZADD', KEYS[2], 'NX', ARGV[4], ARGV[3])
end
return 1`)

func (n *Notifier) record(ctx context.Context, app string, rank int) error {
	due := n.now().Add(n.firstDue).UnixMilli()
	err := recordScript.Run(ctx, n.rdb, []string{n.lastKey(app), n.openKey()},
		rank, int(remember/time.Second), app, due).Err()
	if err != nil {
		return fmt.Errorf("record status: %w", err)
	}
	return nil
}

// rankOf orders statuses; a final one ranks above all.
func rankOf(s backend.Status) int {
	if s.Final() {
		return final
	}
	return s.Rank()
}

func (o Outcome) String() string {
	switch o {
	case Posted:
		return "posted"
	case Tracked:
		return "tracked"
	case Known:
		return "known"
	case NoChat:
		return "no_chat"
	}
	return "unknown"
}
