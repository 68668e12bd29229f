package wechatpay_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/notify"
	"github.com/merchantbot/merchantbot/internal/wechatpaytest"
)

// posted records what the notifier posts into chats.
type posted struct {
	mu     sync.Mutex
	status []backend.Status
}

func (p *posted) Post(_ context.Context, chat int64, _, _, arg string) (bool, error) {
	var ev backend.Event
	if err := json.Unmarshal([]byte(arg), &ev); err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = append(p.status, ev.Status)
	return true, nil
}

func (p *posted) all() []backend.Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]backend.Status(nil), p.status...)
}

// TestPollerNotifiesOncePerChange: the bot's poller, over the adapter,
// tells the merchant each change once; a round whose answer's signature
// does not verify tells nothing; a rejection arrives with WeChat Pay's
// words.
func TestPollerNotifiesOncePerChange(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(map[bool]string{false: "AUDIT_SUCCESS", true: "AUDIT_FAIL"}[fail], func(t *testing.T) {
			ctx := context.Background()
			e := setup(t, wechatpaytest.PublicKeyMode)
			now := time.Now()
			clock := func() time.Time { return now }
			post := &posted{}
			n := notify.New(e.rdb, e.prefix+"n:", post, notify.WithClock(clock), notify.WithFirstPoll(time.Minute))
			p := notify.NewPoller(n, e.b, notify.PollInterval(time.Minute), notify.PollRate(0),
				notify.PollJitter(func(time.Duration) time.Duration { return 0 }))
			require.NoError(t, e.rdb.Set(ctx, chatq.MerchantKeyOf(e.prefix+"n:", chatq.ShardOf(4242), "M001"), "4242", 0).Err())
			if fail {
				e.fake.FailNext(subInd, "开户名称与商户主体名称不一致")
			}
			rc, err := e.b.Submit(ctx, "k", app())
			require.NoError(t, err)
			require.NoError(t, n.Track(ctx, rc.ID))
			round := func() {
				t.Helper()
				now = now.Add(2 * time.Minute)
				_, err := p.Round(ctx)
				require.NoError(t, err)
			}
			round()
			round()
			assert.Equal(t, []backend.Status{backend.StatusReview}, post.all())

			e.fake.Advance(reviewTime)
			e.fake.Inject(wechatpaytest.OpApplication, wechatpaytest.Fault{Tamper: true})
			round()
			assert.Equal(t, []backend.Status{backend.StatusReview}, post.all(), "nothing from an answer that does not verify")
			assert.EqualValues(t, 1, e.b.BadSignatures())

			now = now.Add(time.Minute) // the poller's retry
			round()
			round()
			want := backend.StatusEffective
			if fail {
				want = backend.StatusRejected
			}
			assert.Equal(t, []backend.Status{backend.StatusReview, want}, post.all())
			r, err := e.b.Application(ctx, rc.ID)
			require.NoError(t, err)
			if fail {
				assert.Equal(t, backend.ReasonNameMismatch, r.Reason)
				assert.Equal(t, "开户名称与商户主体名称不一致", r.ReasonText)
			}
			calls := e.fake.Calls(wechatpaytest.OpApplication)
			round()
			assert.Equal(t, calls, e.fake.Calls(wechatpaytest.OpApplication), "a final application is no longer polled")
		})
	}
}
