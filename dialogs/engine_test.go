package dialogs_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/dialogs/parse"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/locales"
)

const (
	card          = "6222021234567890128"
	reservedPhone = "13912345678"
	code          = "123456"
)

// The embedded tables are read once for all tests (the fuzzer runs
// thousands of fixtures); both are immutable after loading.
var (
	loadBins    = sync.OnceValues(cardbin.Load)
	loadCatalog = sync.OnceValues(locales.Load)
)

type fixture struct {
	mu      sync.Mutex
	now     time.Time
	engine  *dialogs.Engine
	store   *states
	render  *dialogs.Renderer
	logs    *bytes.Buffer
	backend dialogs.Backend
}

// handle runs the fixture's engine on chat's state.
func (f *fixture) handle(chat int64, in dialogs.Input) (dialogs.Outcome, error) {
	return f.store.Handle(context.Background(), f.engine, chat, in)
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func newFixture(t testing.TB, b dialogs.Backend) *fixture {
	t.Helper()
	f := &fixture{now: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC), logs: &bytes.Buffer{}}
	if b == nil {
		b = sandbox.New(sandbox.WithClock(f.clock), sandbox.WithCodes(func() string { return code }))
	}
	f.backend = b
	bins, err := loadBins()
	require.NoError(t, err)
	catalog, err := loadCatalog()
	require.NoError(t, err)
	cipher, err := store.NewCipher(store.RandomKey())
	require.NoError(t, err)
	log := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.engine = dialogs.NewEngine(b, bins, dialogs.WithClock(f.clock), dialogs.WithLogger(log))
	// A move the current step does not declare is a bug in the step, not
	// an answer: any test or fuzz seed that makes one fails.
	t.Cleanup(func() {
		assert.NotContains(t, f.logs.String(), "illegal transition", "a step fired a move it does not declare")
	})
	f.store = newStates(f.clock, cipher)
	f.render = dialogs.NewRenderer(catalog, nil)
	return f
}

// chat plays one merchant, pressing buttons by their data.
type chat struct {
	t    testing.TB
	f    *fixture
	id   int64
	seq  int
	msg  int
	last dialogs.Outcome
	said []string // every rendered bot text
}

func (c *chat) send(in dialogs.Input) dialogs.Outcome {
	c.t.Helper()
	c.msg++
	in.MessageID = c.msg
	out, err := c.f.handle(c.id, in)
	require.NoError(c.t, err)
	// A message relayed to support is answered by the adapter (the desk's
	// reaction, or "no support desk here"), not by the dialog.
	if !relayed(out) {
		require.NotEmpty(c.t, out.Replies, "input %+v got no answer", in)
	}
	for _, r := range out.Replies {
		c.said = append(c.said, c.f.render.Reply(out.Lang, r))
		for _, row := range r.Buttons {
			for _, b := range row {
				c.said = append(c.said, c.f.render.Button(out.Lang, b))
			}
		}
	}
	c.seq, c.last = out.Seq, out
	return out
}

func (c *chat) text(s string) dialogs.Outcome {
	return c.send(dialogs.Input{Kind: dialogs.InText, Text: s})
}

func (c *chat) press(data string) dialogs.Outcome {
	c.t.Helper()
	found := false
	for _, r := range c.last.Replies {
		for _, row := range r.Buttons {
			for _, b := range row {
				found = found || b.Data == data
			}
		}
	}
	require.True(c.t, found, "no button %q in the last answer", data)
	return c.send(dialogs.Input{Kind: dialogs.InButton, Data: data, Seq: c.seq})
}

// throughSummary walks a merchant from /start to the summary, identified by
// a typed phone and an SMS code (the console's way).
// supportWithDraft starts c in English, fills a whole draft and goes to
// support from its summary.
func supportWithDraft(c *chat) {
	c.t.Helper()
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start", LanguageCode: "en"})
	throughSummary(c)
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "support"})
	st, err := c.f.store.Load(context.Background(), c.id)
	require.NoError(c.t, err)
	require.NotNil(c.t, st)
	require.Equal(c.t, dialogs.StepSupport, st.Step)
}

func throughSummary(c *chat) {
	c.t.Helper()
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	zhangSan().walkTo(c, dialogs.StepSummary)
}

func TestCardDataNeverLeavesInClear(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 7}
	out := c.text("hi") // first contact
	_ = out
	throughSummary(c)
	st, err := f.store.Load(context.Background(), 7)
	require.NoError(t, err)
	assert.Equal(t, card, st.Secrets.CardNumber, "the draft holds the number for the submission")
	f.advance(dialogs.FreshProof) // the identity code no longer confirms: a second code is sent
	c.press("sum:confirm")
	out = c.text(code)
	assert.Equal(t, dialogs.StepMenu, mustLoad(t, f, 7).Step)

	all := strings.Join(c.said, "\n") + f.logs.String()
	for _, secret := range []string{card, card[6:], reservedPhone} {
		assert.NotContains(t, all, secret, "a reply or a log line shows card data")
	}
	assert.Contains(t, all, "622202*********0128", "the card is shown masked")
	st = mustLoad(t, f, 7)
	assert.True(t, st.Secrets.Empty(), "submission wipes the card data")
	apps, err := f.backend.Applications(context.Background(), "822100050110001")
	require.NoError(t, err)
	require.Len(t, apps, 1)
}

func mustLoad(t *testing.T, f *fixture, chat int64) *dialogs.State {
	t.Helper()
	st, err := f.store.Load(context.Background(), chat)
	require.NoError(t, err)
	require.NotNil(t, st)
	return st
}

func TestSubmitTwiceMakesOneApplication(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 8}
	throughSummary(c)
	f.advance(dialogs.FreshProof)
	c.press("sum:confirm")
	// The first submission reached the acquirer but the answer was lost:
	// the dialog stays at the verify step with the code accepted, and the
	// retry carries the same idempotency key.
	flaky := &flakySubmit{Backend: f.backend, lose: answerLost}
	f.engine = dialogs.NewEngine(flaky, mustBins(t), dialogs.WithClock(f.clock))
	c.text(code)
	assert.Equal(t, dialogs.StepVerify, mustLoad(t, f, 8).Step)
	c.press("sub:retry")
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "status"})
	apps, err := f.backend.Applications(context.Background(), "822100050110001")
	require.NoError(t, err)
	assert.Len(t, apps, 1, "a retried submission creates one application")
	assert.Equal(t, 2, flaky.calls)
	assert.Equal(t, flaky.keys[0], flaky.keys[1])
	assert.Contains(t, strings.Join(c.said, "\n"), "622202*********0128")
}

// How flakySubmit fails its first call.
const (
	answerLost  = iota + 1 // the acquirer made the application; its answer never came
	requestLost            // the request never reached the acquirer
)

type flakySubmit struct {
	dialogs.Backend
	lose  int
	calls int
	keys  []string
	cards []string // masked
}

func (f *flakySubmit) Submit(ctx context.Context, key string, app backend.Application) (backend.Receipt, error) {
	f.calls++
	f.keys = append(f.keys, key)
	f.cards = append(f.cards, app.CardMasked)
	if f.calls == 1 && f.lose == requestLost {
		return backend.Receipt{}, backend.ErrUnavailable
	}
	rc, err := f.Backend.Submit(ctx, key, app)
	if f.calls == 1 {
		return backend.Receipt{}, backend.ErrUnavailable // sent, but the answer is lost
	}
	return rc, err
}

func mustBins(t *testing.T) *cardbin.Table {
	bins, err := loadBins()
	require.NoError(t, err)
	return bins
}

type panicky struct{ dialogs.Backend }

func (panicky) SendCode(context.Context, string) error { panic("backend exploded") }

// FuzzEngine feeds random inputs in random states: nothing panics, every
// input is answered, the step stays a real step and no reply shows a card
// number typed in full.
func FuzzEngine(f *testing.F) {
	f.Add([]byte("\x01/start\x00\x031\x00\x01822100050110001\x00"))
	f.Add([]byte("\x02start\x00\x03m:change\x00\x01822100050110001\x00\x0113800000001\x00\x01123456\x00\x03ck:all\x00"))
	f.Add([]byte("\x02back\x00\x03sum:edit.bank\x00\x01是的\x00\x01招行\x00\x03bank:sure.CMB\x00\x01我的手机号是13800000001\x00"))
	f.Add([]byte("\x04\x00\x05\x00\x06\x00\x01６２２２ ０２１２ ３４５６ ７８９０ １２８\x00"))
	steps := map[string]bool{}
	for _, s := range dialogs.Steps() {
		steps[s] = true
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		fx := newFixture(t, nil)
		c := &chat{t: t, f: fx, id: 1}
		// Walk into the middle of the dialog first so the fuzzer starts deep.
		throughSummary(c)
		var typed []string
		for _, part := range bytes.Split(script, []byte{0}) {
			if len(part) == 0 {
				continue
			}
			body := string(part[1:])
			in := dialogs.Input{}
			switch part[0] % 9 {
			case 0:
				in = dialogs.Input{Kind: dialogs.InText, Text: body}
			case 1:
				in = dialogs.Input{Kind: dialogs.InText, Text: body}
			case 2:
				name, arg, _ := strings.Cut(body, " ")
				in = dialogs.Input{Kind: dialogs.InCommand, Text: name, Arg: arg}
			case 3:
				in = dialogs.Input{Kind: dialogs.InButton, Data: body, Seq: c.seq}
			case 4:
				in = dialogs.Input{Kind: dialogs.InMedia}
			case 5:
				in = dialogs.Input{Kind: dialogs.InContact, Contact: &dialogs.Contact{Phone: body, OwnedBySender: len(body)%2 == 0}}
			case 6:
				in = dialogs.Input{Kind: dialogs.InButton, Data: body, Seq: c.seq - 1}
			case 7:
				in = dialogs.Input{Kind: dialogs.InEdit, Text: body}
			case 8:
				in = dialogs.Input{Kind: dialogs.InOther, Text: body}
			}
			if in.Kind == dialogs.InEdit {
				// An edit without a card number is not answered.
				c.msg++
				_, err := fx.handle(c.id, in)
				require.NoError(t, err)
				continue
			}
			for _, run := range digitRuns(body) {
				typed = append(typed, run)
			}
			c.send(in)
			fx.advance(time.Duration(part[0]) * time.Second)
			st := mustLoad(t, fx, 1)
			require.True(t, steps[st.Step], "step %q", st.Step)
		}
		for _, s := range c.said {
			require.NotContains(t, s, card)
			for _, run := range typed {
				require.NotContains(t, parse.Digits(s), run, "a card-length number typed by the merchant came back in full")
			}
		}
	})
}

// digitRuns are the runs of 16 or more digits in s after folding, as a
// card number would be typed.
func digitRuns(s string) []string {
	var runs []string
	d := parse.Digits(s)
	start := -1
	for i := 0; i <= len(d); i++ {
		if i < len(d) && d[i] >= '0' && d[i] <= '9' {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= 16 {
			runs = append(runs, d[start:i])
		}
		start = -1
	}
	return runs
}

// A change left half-way for more than a day is wiped, and the merchant is
// told so when they come back; identity and language are kept as long as
// the store keeps the record.
func TestAbandonedDraftExpires(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 12}
	throughSummary(c)
	st := mustLoad(t, f, 12)
	require.False(t, st.Secrets.Empty())
	assert.Equal(t, dialogs.DraftKeep, st.TTL(), "a record holding card data is kept a day (and the hour its expiry needs) at most")

	f.advance(dialogs.DraftTTL - time.Minute)
	out := c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "help"})
	assert.Equal(t, dialogs.StepSummary, mustLoad(t, f, 12).Step, "a day less a minute is still fine")
	_ = out

	// The tests' state map expires the record with the TTL, as Redis does;
	// the engine wipes an old draft it is handed all the same.
	st = mustLoad(t, f, 12)
	st.Touched = f.clock().Add(-dialogs.DraftTTL - time.Minute)
	out2 := f.engine.Handle(context.Background(), st, dialogs.Input{Kind: dialogs.InText, Text: "上海张江支行"})
	assert.Equal(t, dialogs.MsgID("expired"), out2.Replies[0].Key)
	assert.Equal(t, dialogs.StepMenu, st.Step)
	assert.True(t, st.Secrets.Empty(), "the card data is gone")
	assert.True(t, st.Bound, "the merchant stays identified")
}

// A merchant with support whose draft outlived its day without the expiry
// wake (the waker or Redis was down) keeps the agent: the draft is wiped and
// they are told, and what they wrote still goes to the agent.
func TestDraftExpiredAtSupportStaysWithTheAgent(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 34}
	supportWithDraft(c)
	st := mustLoad(t, f, c.id)
	st.Touched = f.clock().Add(-dialogs.DraftTTL - time.Minute)
	out := f.engine.Handle(context.Background(), st, dialogs.Input{Kind: dialogs.InText, Text: "are you there?", MessageID: 77})
	assert.Equal(t, dialogs.StepSupport, st.Step, "still with the agent")
	assert.True(t, relayed(out), "the message goes to the agent")
	assert.True(t, st.Secrets.Empty(), "the card data is gone")
	require.NotEmpty(t, out.Replies)
	assert.Equal(t, dialogs.MsgID("expired"), out.Replies[0].Key, "and the merchant is told")
}

func relayed(out dialogs.Outcome) bool {
	for _, e := range out.Effects {
		if e.Kind == dialogs.Relay {
			return true
		}
	}
	return false
}
