// Package sandbox is an in-memory acquirer that plays the backend API: demo
// merchants, SMS codes, idempotent submissions and a review that advances on
// the injected clock. It serves the console in-process and `merchantbot
// sandbox` over HTTP (see Handler).
package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/merchantbot/merchantbot/backend"
)

// Rules the sandbox enforces, as the acquirer does.
const (
	DefaultReviewDelay = 2 * time.Minute
	// The code limits are backend's (backend/codelimits.go), shared with
	// the bot's own codes (backend/smscode).
	CodeTTL              = backend.CodeTTL
	CodeResendAfter      = backend.CodeResendAfter
	MaxCodeAttempts      = backend.MaxCodeAttempts
	CodeLockout          = backend.CodeLockout
	MaxCodesPerHour      = backend.MaxCodesPerHour
	MaxSubmissionsPerDay = 5
	MinChangeInterval    = 30 * 24 * time.Hour
)

// Option configures a Sandbox.
type Option func(*Sandbox)

// WithClock sets the clock everything runs on (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Sandbox) { s.now = now } }

// WithReviewDelay sets how long a review takes, and again how long an
// approved change takes to become effective (default 2 minutes).
func WithReviewDelay(d time.Duration) Option { return func(s *Sandbox) { s.delay = d } }

// WithResendAfter sets how soon a new code may be asked for (default
// CodeResendAfter); scripted demos and tests that run faster than a person
// set it low.
func WithResendAfter(d time.Duration) Option { return func(s *Sandbox) { s.resendAfter = d } }

// WithCodes sets the SMS code generator (default: 6 crypto-random digits).
func WithCodes(newCode func() string) Option { return func(s *Sandbox) { s.newCode = newCode } }

// WithCodeSink sets where the "SMS" go: the masked phone on file and the code.
// Without it codes are generated and checked but shown nowhere.
func WithCodeSink(sink func(phoneMasked, code string)) Option {
	return func(s *Sandbox) { s.sink = sink }
}

// WithEvents sets a callback for every status change, the submission
// included. It is called outside the sandbox's lock, in the order the changes
// happened, and may call back into the sandbox.
func WithEvents(fn func(backend.Receipt)) Option { return func(s *Sandbox) { s.events = fn } }

// Sandbox is an in-memory acquirer. It is safe for concurrent use.
type Sandbox struct {
	now         func() time.Time
	delay       time.Duration
	resendAfter time.Duration
	newCode     func() string
	sink        func(phoneMasked, code string)
	events      func(backend.Receipt)
	// loadMerchants is how many load-test merchants New adds (load.go).
	loadMerchants int

	mu        sync.Mutex
	merchants map[string]*merchant
	apps      []*application           // in submission order
	byKey     map[idemKey]*application // idempotency keys are per merchant
	daySeq    map[string]int           // receipt sequence per China date
	outbox    []backend.Receipt        // events waiting for delivery
	emitting  bool                     // a caller is delivering the outbox
}

type merchant struct {
	no, name, business string
	kind               backend.MerchantKind
	phone              string // 11 digits
	cardMasked         string
	lastChange         time.Time // zero: never changed

	code       string // "" when none is outstanding
	codeSentAt time.Time
	codeWrong  int         // wrong codes since the last right one or lockout
	lastWrong  time.Time   // an hour after it, codeWrong starts again
	lockedTill time.Time   // no codes before it
	codeSends  []time.Time // sends in the last hour
}

// application keeps what the review needs and nothing more: the full card
// number is gone once Submit returns.
type application struct {
	receipt     backend.Receipt
	holderName  string
	cardType    string
	effectiveAt time.Time // set on approval
}

type idemKey struct{ merchantNo, key string }

// New returns a sandbox holding the demo merchants (see Demo), their last
// card changes placed relative to the clock's time at New.
func New(opts ...Option) *Sandbox {
	s := &Sandbox{
		now:         time.Now,
		delay:       DefaultReviewDelay,
		resendAfter: CodeResendAfter,
		newCode:     randomCode,
		merchants:   map[string]*merchant{},
		byKey:       map[idemKey]*application{},
		daySeq:      map[string]int{},
	}
	for _, o := range opts {
		o(s)
	}
	now := s.clock()
	for _, d := range Demo() {
		m := &merchant{
			no:         d.No,
			name:       d.Name,
			business:   d.Business,
			kind:       d.Kind,
			phone:      d.Phone,
			cardMasked: d.CardMasked,
		}
		if d.LastChangeAgo > 0 {
			m.lastChange = now.Add(-d.LastChangeAgo)
		}
		s.merchants[m.no] = m
	}
	s.addLoadMerchants()
	return s
}

// randomCode draws 6 digits from crypto/rand: codes guard a bank card change.
func randomCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(fmt.Sprintf("sandbox: crypto/rand: %v", err)) // the OS has no randomness left
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// clock reads the injected clock in UTC without the monotonic reading, so
// times compare equal after a JSON round trip.
func (s *Sandbox) clock() time.Time { return s.now().UTC() }

// lock takes the state lock and brings the reviews up to now.
func (s *Sandbox) lock() time.Time {
	s.mu.Lock()
	now := s.clock()
	s.advance(now)
	return now
}

// unlock releases the state lock and delivers queued events in order. Only one
// caller delivers at a time, which keeps the order across goroutines and lets
// a callback call back into the sandbox.
func (s *Sandbox) unlock() {
	if s.emitting || len(s.outbox) == 0 {
		s.mu.Unlock()
		return
	}
	s.emitting = true
	for len(s.outbox) > 0 {
		batch := s.outbox
		s.outbox = nil
		s.mu.Unlock()
		s.deliver(batch)
		s.mu.Lock()
	}
	s.emitting = false
	s.mu.Unlock()
}

func (s *Sandbox) deliver(batch []backend.Receipt) {
	defer func() {
		if r := recover(); r != nil {
			s.mu.Lock()
			s.emitting = false
			s.mu.Unlock()
			panic(r)
		}
	}()
	for _, r := range batch {
		s.events(r)
	}
}

// emit queues a status change; the caller holds the lock.
func (s *Sandbox) emit(r backend.Receipt) {
	if s.events != nil {
		s.outbox = append(s.outbox, r.Clone())
	}
}

// Tick advances the reviews to the clock's time. Methods do it on their own;
// Tick is for a caller that wants events without other traffic (run it on a
// ticker).
func (s *Sandbox) Tick() {
	s.lock()
	s.unlock()
}

func (m *merchant) public() backend.Merchant {
	return backend.Merchant{
		No:          m.no,
		Name:        m.name,
		Business:    m.business,
		Kind:        m.kind,
		PhoneMasked: maskPhone(m.phone),
		CardMasked:  m.cardMasked,
	}
}

// VerifyMerchant checks that phone is the one on file for merchant no. The
// phone may carry +86, spaces or dashes, as a shared contact does.
func (s *Sandbox) VerifyMerchant(ctx context.Context, no, phone string) (backend.Merchant, error) {
	if err := ctx.Err(); err != nil {
		return backend.Merchant{}, err
	}
	s.lock()
	defer s.unlock()
	m, ok := s.merchants[no]
	if !ok {
		return backend.Merchant{}, backend.ErrUnknownMerchant
	}
	if subtle.ConstantTimeCompare([]byte(normalisePhone(phone)), []byte(m.phone)) != 1 {
		return backend.Merchant{}, backend.ErrPhoneMismatch
	}
	return m.public(), nil
}

// Merchant returns merchant no.
func (s *Sandbox) Merchant(ctx context.Context, no string) (backend.Merchant, error) {
	if err := ctx.Err(); err != nil {
		return backend.Merchant{}, err
	}
	s.lock()
	defer s.unlock()
	m, ok := s.merchants[no]
	if !ok {
		return backend.Merchant{}, backend.ErrUnknownMerchant
	}
	return m.public(), nil
}

// SendCode sends a new code to the phone on file of merchant no, replacing
// any earlier one. It refuses, with a TooSoonError saying how long to wait,
// within CodeResendAfter of the last send, while the merchant is locked out
// after MaxCodeAttempts wrong codes, and past MaxCodesPerHour sends.
func (s *Sandbox) SendCode(ctx context.Context, no string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.lock()
	m, ok := s.merchants[no]
	if !ok {
		s.unlock()
		return backend.ErrUnknownMerchant
	}
	if wait := m.codeWait(now, s.resendAfter); wait > 0 {
		s.unlock()
		return &backend.TooSoonError{Wait: wait}
	}
	code := s.newCode()
	m.code, m.codeSentAt = code, now
	m.codeSends = append(m.codeSends, now)
	phone := maskPhone(m.phone)
	s.unlock()
	if s.sink != nil {
		s.sink(phone, code)
	}
	return nil
}

// CheckCode checks a code sent by SendCode. A right code is used up; after
// MaxCodeAttempts wrong tries (counted across resent codes, within an hour)
// the code is burnt and no new one is sent for CodeLockout.
func (s *Sandbox) CheckCode(ctx context.Context, no, code string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.lock()
	defer s.unlock()
	m, ok := s.merchants[no]
	if !ok {
		return backend.ErrUnknownMerchant
	}
	if m.code == "" || now.Sub(m.codeSentAt) >= CodeTTL {
		m.code = ""
		return backend.ErrCodeExpired
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(code)), []byte(m.code)) != 1 {
		if now.Sub(m.lastWrong) >= time.Hour {
			m.codeWrong = 0
		}
		m.codeWrong++
		m.lastWrong = now
		if m.codeWrong >= MaxCodeAttempts {
			m.code, m.codeWrong = "", 0
			m.lockedTill = now.Add(CodeLockout)
		}
		return backend.ErrWrongCode
	}
	m.code, m.codeWrong = "", 0
	return nil
}

// codeWait is how long m must wait for a new code: the lockout after too
// many wrong codes, the hourly cap on sends, or the resend interval.
func (m *merchant) codeWait(now time.Time, resendAfter time.Duration) time.Duration {
	var wait time.Duration
	if now.Before(m.lockedTill) {
		wait = m.lockedTill.Sub(now)
	}
	m.codeSends = slices.DeleteFunc(m.codeSends, func(t time.Time) bool { return now.Sub(t) >= time.Hour })
	if len(m.codeSends) >= MaxCodesPerHour {
		wait = max(wait, m.codeSends[0].Add(time.Hour).Sub(now))
	}
	if !m.codeSentAt.IsZero() && now.Sub(m.codeSentAt) < resendAfter {
		wait = max(wait, resendAfter-now.Sub(m.codeSentAt))
	}
	return wait
}

// Submit sends an application for review. The same key for the same merchant
// returns the receipt of the first call, whatever has happened since; a new
// key is refused while another change is in review or approved but not yet
// effective, and after MaxSubmissionsPerDay submissions in a (China) day.
func (s *Sandbox) Submit(ctx context.Context, key string, app backend.Application) (backend.Receipt, error) {
	r, _, err := s.submit(ctx, key, app)
	return r, err
}

// submit is Submit that also says whether the call created the application.
func (s *Sandbox) submit(ctx context.Context, key string, app backend.Application) (backend.Receipt, bool, error) {
	if err := ctx.Err(); err != nil {
		return backend.Receipt{}, false, err
	}
	if err := validate(key, app); err != nil {
		return backend.Receipt{}, false, err
	}
	now := s.lock()
	defer s.unlock()
	if a, ok := s.byKey[idemKey{app.MerchantNo, key}]; ok {
		return a.receipt.Clone(), false, nil
	}
	m, ok := s.merchants[app.MerchantNo]
	if !ok {
		return backend.Receipt{}, false, backend.ErrUnknownMerchant
	}
	today := chinaDate(now)
	submitted := 0
	for _, a := range s.apps {
		if a.receipt.MerchantNo != m.no {
			continue
		}
		if a.receipt.Status.Pending() {
			return backend.Receipt{}, false, backend.ErrChangePending
		}
		if chinaDate(a.receipt.SubmittedAt) == today {
			submitted++
		}
	}
	if submitted >= MaxSubmissionsPerDay {
		return backend.Receipt{}, false, backend.ErrTooManyRequests
	}
	s.daySeq[today]++
	a := &application{
		receipt: backend.Receipt{
			ID:          fmt.Sprintf("CC%s%04d", today, s.daySeq[today]),
			MerchantNo:  m.no,
			CardMasked:  maskCard(app.CardNumber),
			BankName:    app.BankName,
			Status:      backend.StatusSubmitted,
			SubmittedAt: now,
			UpdatedAt:   now,
			ReviewBy:    now.Add(s.delay),
			History:     []backend.StatusChange{{Status: backend.StatusSubmitted, At: now}},
			HolderName:  app.HolderName,
			BankCode:    app.BankCode,
			Branch:      app.Branch,
			CardType:    app.CardType,
		},
		holderName: app.HolderName,
		cardType:   app.CardType,
	}
	s.apps = append(s.apps, a)
	s.byKey[idemKey{m.no, key}] = a
	s.emit(a.receipt)
	return a.receipt.Clone(), true, nil
}

// validate refuses a malformed application; its messages never quote the card.
func validate(key string, app backend.Application) error {
	switch {
	case strings.TrimSpace(key) == "":
		return fmt.Errorf("%w: idempotency key is required", backend.ErrInvalidRequest)
	case app.MerchantNo == "":
		return fmt.Errorf("%w: merchant_no is required", backend.ErrInvalidRequest)
	case !isCardNumber(app.CardNumber):
		return fmt.Errorf("%w: card_number must be 12 to 19 ASCII digits", backend.ErrInvalidRequest)
	case strings.TrimSpace(app.HolderName) == "":
		return fmt.Errorf("%w: holder_name is required", backend.ErrInvalidRequest)
	}
	return nil
}

// Applications lists merchant no's applications, newest first.
func (s *Sandbox) Applications(ctx context.Context, no string) ([]backend.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.lock()
	defer s.unlock()
	if _, ok := s.merchants[no]; !ok {
		return nil, backend.ErrUnknownMerchant
	}
	out := []backend.Receipt{}
	for i := len(s.apps) - 1; i >= 0; i-- {
		if s.apps[i].receipt.MerchantNo == no {
			out = append(out, s.apps[i].receipt.Clone())
		}
	}
	return out, nil
}

// Application returns application id as it stands now.
func (s *Sandbox) Application(ctx context.Context, id string) (backend.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return backend.Receipt{}, err
	}
	s.lock()
	defer s.unlock()
	for _, a := range s.apps {
		if a.receipt.ID == id {
			return a.receipt.Clone(), nil
		}
	}
	return backend.Receipt{}, backend.ErrUnknownApplication
}

// chinaTime is UTC+8 without DST; a fixed zone needs no tzdata.
var chinaTime = time.FixedZone("CST", 8*60*60)

// chinaDate is the acquirer's business date, as in receipt ids.
func chinaDate(t time.Time) string { return t.In(chinaTime).Format("20060102") }
