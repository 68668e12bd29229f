package notify_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/locales"
)

const (
	zhangSan = "822100050110001"
	code     = "123456"
)

var (
	loadBins    = sync.OnceValues(cardbin.Load)
	loadCatalog = sync.OnceValues(locales.Load)
)

// testRedis is the test Redis and a key prefix of this test's own
// (dialogs/store/redistest).
func testRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	return redistest.New(t)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// pipeline plays the lead's chat pipeline for these tests: Post keeps the
// once keys for 30 days of the test's clock (Poster's contract), applies the event to the chat's state with the real dialog
// engine and renders what it says; after every turn it writes the chat's
// WakeAt into the wake set, as the pipeline's commit does.
type pipeline struct {
	t      *testing.T
	rdb    *redis.Client
	prefix string
	clk    *clock
	engine *dialogs.Engine
	render *dialogs.Renderer

	mu     sync.Mutex
	once   map[string]time.Time // once key → when it lapses
	states map[int64]*dialogs.State
	seq    map[int64]int
	said   map[int64][]string
	posts  int
	fail   error
}

func newPipeline(t *testing.T, rdb *redis.Client, prefix string, clk *clock, sb *sandbox.Sandbox) *pipeline {
	t.Helper()
	bins, err := loadBins()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline{
		t: t, rdb: rdb, prefix: prefix, clk: clk,
		engine: dialogs.NewEngine(sb, bins, dialogs.WithClock(clk.Now), dialogs.WithLogger(slog.New(slog.DiscardHandler))),
		render: dialogs.NewRenderer(cat, nil),
		once:   map[string]time.Time{}, states: map[int64]*dialogs.State{}, seq: map[int64]int{}, said: map[int64][]string{},
	}
}

func (p *pipeline) Post(ctx context.Context, chat int64, once, event, arg string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return false, p.fail
	}
	if once != "" {
		if p.clk.Now().Before(p.once[once]) {
			return false, nil
		}
		p.once[once] = p.clk.Now().Add(30 * 24 * time.Hour)
	}
	p.posts++
	p.apply(ctx, chat, dialogs.Input{Kind: dialogs.InEvent, Text: event, Arg: arg})
	return true, nil
}

// input is the merchant's own message or button (Seq filled in).
func (p *pipeline) input(chat int64, in dialogs.Input) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if in.Kind == dialogs.InButton {
		in.Seq = p.seq[chat]
	}
	p.apply(context.Background(), chat, in)
}

func (p *pipeline) apply(ctx context.Context, chat int64, in dialogs.Input) {
	st := p.states[chat]
	if st == nil {
		st = &dialogs.State{}
		p.states[chat] = st
	}
	out := p.engine.Handle(ctx, st, in)
	p.seq[chat] = out.Seq
	for _, r := range out.Replies {
		p.said[chat] = append(p.said[chat], p.render.Reply(out.Lang, r))
	}
	key := chatq.WakeKeyOf(p.prefix, chatq.ShardOf(chat))
	member := strconvChat(chat)
	if at := p.engine.WakeAt(st); at.IsZero() {
		p.rdb.ZRem(ctx, key, member)
	} else {
		p.rdb.ZAdd(ctx, key, redis.Z{Score: float64(at.UnixMilli()), Member: member})
	}
}

func (p *pipeline) messages(chat int64) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.said[chat]...)
}

func (p *pipeline) state(chat int64) dialogs.State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return *p.states[chat]
}

func (p *pipeline) postCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.posts
}

// bind makes chat a bound chat of merchant no in lang, as the pipeline's
// commit leaves it.
func (p *pipeline) bind(chat int64, no, lang string, now time.Time) {
	p.mu.Lock()
	p.states[chat] = &dialogs.State{Step: dialogs.StepMenu, Bound: true, MerchantNo: no, Lang: lang, Touched: now}
	p.mu.Unlock()
	p.rdb.Set(context.Background(), chatq.MerchantKeyOf(p.prefix, chatq.ShardOf(chat), no), strconvChat(chat), 0)
}

// age lets d pass for the test's Redis as it does on the test's clock:
// every key of the test's prefix with a TTL loses d of it, and goes when
// that is all it had left.
func age(t *testing.T, rdb *redis.Client, prefix string, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	keys, err := redistest.Keys(ctx, rdb, prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ttl < 0: // no TTL (-1), or gone meanwhile (-2)
		case ttl <= d:
			err = rdb.Del(ctx, k).Err()
		default:
			err = rdb.PExpire(ctx, k, ttl-d).Err()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func strconvChat(chat int64) string { return strconv.FormatInt(chat, 10) }

func redisZ(at time.Time, chat int64) redis.Z {
	return redis.Z{Score: float64(at.UnixMilli()), Member: strconvChat(chat)}
}

func readAll(r *http.Request) ([]byte, error) { return io.ReadAll(r.Body) }

func readCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
