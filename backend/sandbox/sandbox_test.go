package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
)

func TestDemoMerchants(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		demo := sandbox.Demo()
		if len(demo) != 4 {
			t.Fatalf("demo merchants = %d, want 4", len(demo))
		}
		for _, d := range demo {
			m, err := e.api.Merchant(ctx, d.No)
			if err != nil {
				t.Fatalf("Merchant(%s): %v", d.No, err)
			}
			want := backend.Merchant{
				No: d.No, Name: d.Name, Business: d.Business, Kind: d.Kind,
				PhoneMasked: d.Phone[:3] + "****" + d.Phone[7:], CardMasked: d.CardMasked,
			}
			if m != want {
				t.Errorf("Merchant(%s) = %+v, want %+v", d.No, m, want)
			}
		}
		m, _ := e.api.Merchant(ctx, company)
		if m.Kind != backend.KindCompany || m.Name != "上海小鹿餐饮有限公司" {
			t.Errorf("company merchant = %+v", m)
		}
		m, _ = e.api.Merchant(ctx, zhangSan)
		if m.CardMasked != "622202******1234" || m.PhoneMasked != "138****0001" || m.Business != "张三便利店" {
			t.Errorf("张三 = %+v", m)
		}
	})
}

func TestVerifyMerchant(t *testing.T) {
	tests := []struct {
		name, no, phone string
		want            error
	}{
		{"phone on file", zhangSan, "13800000001", nil},
		{"shared contact with +86", zhangSan, "+8613800000001", nil},
		{"country code without plus", zhangSan, "8613800000001", nil},
		{"0086 and dashes", zhangSan, "0086 138-0000-0001", nil},
		{"full-width digits", zhangSan, "１３８００００００01", nil},
		{"another merchant's phone", zhangSan, "13800000002", backend.ErrPhoneMismatch},
		{"one digit off", zhangSan, "13800000011", backend.ErrPhoneMismatch},
		{"empty phone", zhangSan, "", backend.ErrPhoneMismatch},
		{"unknown merchant", "822100050119999", "13800000001", backend.ErrUnknownMerchant},
		{"empty merchant", "", "13800000001", backend.ErrUnknownMerchant},
		{"minority name merchant", ayguli, "13800000003", nil},
	}
	both(t, func(t *testing.T, e *env) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				m, err := e.api.VerifyMerchant(context.Background(), tt.no, tt.phone)
				wantErr(t, err, tt.want)
				if tt.want == nil && (m.No != tt.no || !strings.HasPrefix(m.PhoneMasked, "138****") || m.CardMasked == "") {
					t.Errorf("merchant = %+v", m)
				}
			})
		}
	})
}

func TestMerchantUnknown(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		for _, no := range []string{"822100050119999", "", "..", "a/b", "8221 0005"} {
			_, err := e.api.Merchant(context.Background(), no)
			wantErr(t, err, backend.ErrUnknownMerchant)
		}
	})
}

// step is one action of a code scenario.
type step struct {
	advance time.Duration
	send    bool   // SendCode instead of CheckCode
	code    string // for CheckCode; "@" is the last code sent
	want    error
}

func TestCodes(t *testing.T) {
	wrong := step{code: "000000", want: backend.ErrWrongCode}
	tests := []struct {
		name  string
		steps []step
	}{
		{"right code", []step{{send: true}, {code: "@"}}},
		{"right code with spaces", []step{{send: true}, {code: " @ "}}},
		{"code is used up", []step{{send: true}, {code: "@"}, {code: "@", want: backend.ErrCodeExpired}}},
		{"nothing sent", []step{{code: "123456", want: backend.ErrCodeExpired}}},
		{"wrong then right", []step{{send: true}, wrong, {code: "@"}}},
		{"just before expiry", []step{{send: true}, {advance: 5*time.Minute - time.Second, code: "@"}}},
		{"expired after 5 minutes", []step{{send: true}, {advance: 5 * time.Minute, code: "@", want: backend.ErrCodeExpired}}},
		{"4 wrong, 5th right", []step{{send: true}, wrong, wrong, wrong, wrong, {code: "@"}}},
		{"burnt after 5 wrong", []step{{send: true}, wrong, wrong, wrong, wrong, wrong, {code: "@", want: backend.ErrCodeExpired}}},
		{"locked for 15 minutes after 5 wrong", []step{
			{send: true}, wrong, wrong, wrong, wrong, wrong,
			{send: true, want: backend.ErrCodeTooSoon},
			{advance: time.Minute, send: true, want: backend.ErrCodeTooSoon},
			{advance: 14*time.Minute - time.Second, send: true, want: backend.ErrCodeTooSoon},
			{advance: time.Second, send: true}, {code: "@"},
		}},
		{"resend too soon", []step{{send: true}, {advance: 59 * time.Second, send: true, want: backend.ErrCodeTooSoon}}},
		{"resend after 60 s", []step{{send: true}, {advance: 60 * time.Second, send: true}, {code: "@"}}},
		{"resend replaces the old code", []step{{send: true}, {advance: time.Minute, send: true}, {code: "100001", want: backend.ErrWrongCode}, {code: "100002"}}},
		{"resend does not reset the tries", []step{
			{send: true}, wrong, wrong, wrong, wrong,
			{advance: time.Minute, send: true}, wrong, {code: "@", want: backend.ErrCodeExpired},
			{advance: time.Minute, send: true, want: backend.ErrCodeTooSoon},
		}},
		{"a right code resets the tries", []step{
			{send: true}, wrong, wrong, wrong, wrong, {code: "@"},
			{advance: time.Minute, send: true}, wrong, wrong, wrong, wrong, {code: "@"},
		}},
		{"wrong codes an hour apart do not add up", []step{
			{send: true}, wrong, wrong, wrong, wrong,
			{advance: time.Hour, send: true}, wrong, wrong, wrong, wrong, {code: "@"},
		}},
		{"used code does not allow early resend", []step{{send: true}, {code: "@"}, {send: true, want: backend.ErrCodeTooSoon}}},
	}
	both(t, func(t *testing.T, e *env) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newSandboxLike(t, e)
				ctx := context.Background()
				last := ""
				for i, s := range tt.steps {
					e.clock.Advance(s.advance)
					var err error
					if s.send {
						err = e.api.SendCode(ctx, zhangSan)
						if sent := e.sms.all(); len(sent) > 0 {
							last = strings.Fields(sent[len(sent)-1])[1]
						}
					} else {
						err = e.api.CheckCode(ctx, zhangSan, strings.ReplaceAll(s.code, "@", last))
					}
					if !errors.Is(err, s.want) {
						t.Fatalf("step %d: err = %v, want %v", i, err, s.want)
					}
				}
			})
		}
	})
}

// newSandboxLike gives each subtest a fresh sandbox reached the same way
// (in-process or HTTP) as e.
func newSandboxLike(t *testing.T, e *env) *env {
	t.Helper()
	fresh := newSandbox(t)
	if _, inProcess := e.api.(*sandbox.Sandbox); inProcess {
		return fresh
	}
	fresh.api = httpClient(t, fresh.sb)
	return fresh
}

func TestSendCode(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		wantErr(t, e.api.SendCode(ctx, "822100050119999"), backend.ErrUnknownMerchant)
		wantErr(t, e.api.CheckCode(ctx, "822100050119999", "100001"), backend.ErrUnknownMerchant)
		wantErr(t, e.api.SendCode(ctx, wangWu), nil)
		wantErr(t, e.api.SendCode(ctx, company), nil) // codes are per merchant
		got := e.sms.all()
		want := []string{"138****0004 100001", "138****0002 100002"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("sms = %q, want %q", got, want)
		}
		wantErr(t, e.api.CheckCode(ctx, wangWu, "100002"), backend.ErrWrongCode)
		wantErr(t, e.api.CheckCode(ctx, company, "100002"), nil)
	})
}

func TestDefaultCodes(t *testing.T) {
	var got []string
	sb := sandbox.New(sandbox.WithCodeSink(func(_, code string) { got = append(got, code) }))
	ctx := context.Background()
	for _, d := range sandbox.Demo() {
		if err := sb.SendCode(ctx, d.No); err != nil {
			t.Fatal(err)
		}
	}
	six := regexp.MustCompile(`^[0-9]{6}$`)
	for _, c := range got {
		if !six.MatchString(c) {
			t.Errorf("code %q is not 6 digits", c)
		}
	}
	if len(got) != 4 {
		t.Fatalf("codes = %d, want 4", len(got))
	}
}

func TestSubmit(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r, err := e.api.Submit(ctx, "k1", app(zhangSan, "张三", "DC"))
		if err != nil {
			t.Fatal(err)
		}
		a := app(zhangSan, "张三", "DC")
		want := backend.Receipt{
			ID: "CC202501150001", MerchantNo: zhangSan, CardMasked: "622202******3210",
			BankName: "中国工商银行", Status: backend.StatusSubmitted,
			SubmittedAt: start, UpdatedAt: start, ReviewBy: start.Add(delay),
			History:    []backend.StatusChange{{Status: backend.StatusSubmitted, At: start}},
			HolderName: "张三", BankCode: a.BankCode, Branch: a.Branch, CardType: "DC",
		}
		if !reflect.DeepEqual(r, want) {
			t.Fatalf("receipt = %+v\nwant      %+v", r, want)
		}

		e.clock.Advance(time.Second)
		again, err := e.api.Submit(ctx, "k1", app(zhangSan, "张三", "DC"))
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("same key: %+v, %v; want %+v", again, err, r)
		}
		_, err = e.api.Submit(ctx, "k2", app(zhangSan, "张三", "DC"))
		wantErr(t, err, backend.ErrChangePending)

		// Another merchant's key space is its own.
		other, err := e.api.Submit(ctx, "k1", app(ayguli, "阿依古丽·买买提", "DC"))
		if err != nil || other.ID != "CC202501150002" || other.MerchantNo != ayguli {
			t.Fatalf("other merchant, same key: %+v, %v", other, err)
		}
		list, err := e.api.Applications(ctx, zhangSan)
		if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], r) {
			t.Fatalf("applications = %+v, %v", list, err)
		}
	})
}

func TestSubmitInvalid(t *testing.T) {
	tests := []struct {
		name string
		key  string
		app  func(a *backend.Application)
		want error
	}{
		{"no key", "", func(*backend.Application) {}, backend.ErrInvalidRequest},
		{"blank key", "  ", func(*backend.Application) {}, backend.ErrInvalidRequest},
		{"no merchant", "k", func(a *backend.Application) { a.MerchantNo = "" }, backend.ErrInvalidRequest},
		{"unknown merchant", "k", func(a *backend.Application) { a.MerchantNo = "822100050119999" }, backend.ErrUnknownMerchant},
		{"no card", "k", func(a *backend.Application) { a.CardNumber = "" }, backend.ErrInvalidRequest},
		{"short card", "k", func(a *backend.Application) { a.CardNumber = "62220298" }, backend.ErrInvalidRequest},
		{"long card", "k", func(a *backend.Application) { a.CardNumber = card + "123456789012345" }, backend.ErrInvalidRequest},
		{"card with spaces", "k", func(a *backend.Application) { a.CardNumber = "6222 0298 7654 3210" }, backend.ErrInvalidRequest},
		{"full-width card", "k", func(a *backend.Application) { a.CardNumber = "６２２２029876543210" }, backend.ErrInvalidRequest},
		{"no holder", "k", func(a *backend.Application) { a.HolderName = " " }, backend.ErrInvalidRequest},
	}
	both(t, func(t *testing.T, e *env) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a := app(zhangSan, "张三", "DC")
				tt.app(&a)
				_, err := e.api.Submit(context.Background(), tt.key, a)
				wantErr(t, err, tt.want)
				if strings.Contains(err.Error(), middle) {
					t.Errorf("error quotes the card: %v", err)
				}
			})
		}
		if list, _ := e.api.Applications(context.Background(), zhangSan); len(list) != 0 {
			t.Errorf("invalid submissions created %d applications", len(list))
		}
	})
}

func TestReview(t *testing.T) {
	tests := []struct {
		name, no, holder, cardType string
		status                     backend.Status // after the review
		reason                     string
	}{
		{"debit card, registered name", zhangSan, "张三", "DC", backend.StatusApproved, ""},
		{"unknown card type", zhangSan, "张三", "", backend.StatusApproved, ""},
		{"spaces in the name", zhangSan, " 张 三 ", "DC", backend.StatusApproved, ""},
		{"full-width space", zhangSan, "张\u3000三", "DC", backend.StatusApproved, ""},
		{"another name", zhangSan, "李四", "DC", backend.StatusRejected, backend.ReasonNameMismatch},
		{"credit card", zhangSan, "张三", "CC", backend.StatusRejected, backend.ReasonCreditCard},
		{"semi-credit card", zhangSan, "张三", "SCC", backend.StatusRejected, backend.ReasonCreditCard},
		{"prepaid card", zhangSan, "张三", "PC", backend.StatusRejected, backend.ReasonCreditCard},
		{"name checked before card type", zhangSan, "李四", "CC", backend.StatusRejected, backend.ReasonNameMismatch},
		{"changed 10 days ago", wangWu, "王五", "DC", backend.StatusRejected, backend.ReasonTooSoon},
		{"minority name, U+00B7", ayguli, "阿依古丽·买买提", "DC", backend.StatusApproved, ""},
		{"minority name, katakana dot", ayguli, "阿依古丽・买买提", "DC", backend.StatusApproved, ""},
		{"minority name, bullet", ayguli, "阿依古丽•买买提", "DC", backend.StatusApproved, ""},
		{"minority name, hyphenation point and spaces", ayguli, "阿依古丽 ‧ 买买提", "DC", backend.StatusApproved, ""},
		{"minority name without the dot", ayguli, "阿依古丽买买提", "DC", backend.StatusRejected, backend.ReasonNameMismatch},
		{"company name", company, "上海小鹿餐饮有限公司", "DC", backend.StatusApproved, ""},
		{"company, legal person's name", company, "赵六", "DC", backend.StatusRejected, backend.ReasonNameMismatch},
	}
	both(t, func(t *testing.T, e *env) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newSandboxLike(t, e)
				ctx := context.Background()
				before, _ := e.api.Merchant(ctx, tt.no)
				r, err := e.api.Submit(ctx, "k", app(tt.no, tt.holder, tt.cardType))
				if err != nil {
					t.Fatal(err)
				}

				e.clock.Advance(delay/2 - time.Nanosecond)
				if got := latest(t, e, tt.no); got.Status != backend.StatusSubmitted {
					t.Fatalf("before a reviewer picks it up: %s", got.Status)
				}
				e.clock.Advance(delay / 2)
				if got := latest(t, e, tt.no); got.Status != backend.StatusReview {
					t.Fatalf("before the delay: %s", got.Status)
				}
				e.clock.Advance(time.Nanosecond)
				got := latest(t, e, tt.no)
				if got.Status != tt.status || got.Reason != tt.reason {
					t.Fatalf("after review: %s/%q, want %s/%q", got.Status, got.Reason, tt.status, tt.reason)
				}
				if !got.UpdatedAt.Equal(r.ReviewBy) || got.ID != r.ID || !got.SubmittedAt.Equal(r.SubmittedAt) {
					t.Errorf("receipt after review = %+v (submitted %+v)", got, r)
				}

				e.clock.Advance(delay)
				got = latest(t, e, tt.no)
				m, _ := e.api.Merchant(ctx, tt.no)
				if tt.status == backend.StatusApproved {
					if got.Status != backend.StatusEffective || !got.UpdatedAt.Equal(r.ReviewBy.Add(delay)) {
						t.Fatalf("after another delay: %+v", got)
					}
					if m.CardMasked != "622202******3210" {
						t.Errorf("merchant card = %s, want the new one", m.CardMasked)
					}
					return
				}
				if got.Status != backend.StatusRejected || m.CardMasked != before.CardMasked {
					t.Errorf("rejected application moved on: %+v, card %s", got, m.CardMasked)
				}
			})
		}
	})
}

func latest(t *testing.T, e *env, no string) backend.Receipt {
	t.Helper()
	list, err := e.api.Applications(context.Background(), no)
	if err != nil || len(list) == 0 {
		t.Fatalf("applications = %v, %v", list, err)
	}
	return list[0]
}

func TestThirtyDaysAfterAChange(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.api.Submit(ctx, "first", app(zhangSan, "张三", "DC")); err != nil {
			t.Fatal(err)
		}
		// An approved change not yet effective still blocks a new one.
		e.clock.Advance(delay)
		if got := latest(t, e, zhangSan); got.Status != backend.StatusApproved {
			t.Fatalf("status = %s", got.Status)
		}
		_, err := e.api.Submit(ctx, "second", app(zhangSan, "张三", "DC"))
		wantErr(t, err, backend.ErrChangePending)

		e.clock.Advance(delay) // effective at start+2·delay
		if _, err := e.api.Submit(ctx, "second", app(zhangSan, "张三", "DC")); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(delay)
		if got := latest(t, e, zhangSan); got.Reason != backend.ReasonTooSoon {
			t.Fatalf("second change within 30 days: %+v", got)
		}

		// Decided exactly 30 days after the change took effect: allowed.
		effective := start.Add(2 * delay)
		e.clock.Advance(effective.Add(sandbox.MinChangeInterval - delay).Sub(e.clock.Now()))
		if _, err := e.api.Submit(ctx, "third", app(zhangSan, "张三", "DC")); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(delay)
		if got := latest(t, e, zhangSan); got.Status != backend.StatusApproved {
			t.Fatalf("30 days later: %+v", got)
		}
	})
}

func TestSubmissionsPerDay(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		// Name mismatches are rejected after each review, which frees the
		// merchant to submit again.
		for i := range sandbox.MaxSubmissionsPerDay {
			if _, err := e.api.Submit(ctx, fmt.Sprint("k", i), app(zhangSan, "李四", "DC")); err != nil {
				t.Fatalf("submission %d: %v", i+1, err)
			}
			e.clock.Advance(delay)
		}
		_, err := e.api.Submit(ctx, "k-over", app(zhangSan, "张三", "DC"))
		wantErr(t, err, backend.ErrTooManyRequests)
		// A replay of a key seen today is still answered.
		if r, err := e.api.Submit(ctx, "k0", app(zhangSan, "李四", "DC")); err != nil || r.Status != backend.StatusRejected {
			t.Fatalf("replay: %+v, %v", r, err)
		}
		// Other merchants are not limited by 张三's submissions.
		if _, err := e.api.Submit(ctx, "k", app(ayguli, "阿依古丽·买买提", "DC")); err != nil {
			t.Fatal(err)
		}
		// The count starts again at midnight China time (16:00 UTC).
		midnight := time.Date(2025, 1, 15, 16, 0, 0, 0, time.UTC)
		e.clock.Advance(midnight.Sub(e.clock.Now()) - time.Second)
		_, err = e.api.Submit(ctx, "k-over", app(zhangSan, "张三", "DC"))
		wantErr(t, err, backend.ErrTooManyRequests)
		e.clock.Advance(time.Second)
		r, err := e.api.Submit(ctx, "k-over", app(zhangSan, "张三", "DC"))
		if err != nil || r.ID != "CC202501160001" {
			t.Fatalf("next day: %+v, %v", r, err)
		}
	})
}

func TestApplicationsNewestFirst(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		list, err := e.api.Applications(ctx, zhangSan)
		if err != nil || list == nil || len(list) != 0 {
			t.Fatalf("no applications: %#v, %v", list, err)
		}
		var ids []string
		for i := range 3 {
			r, err := e.api.Submit(ctx, fmt.Sprint("k", i), app(zhangSan, "李四", "DC"))
			if err != nil {
				t.Fatal(err)
			}
			ids = append([]string{r.ID}, ids...)
			e.clock.Advance(delay)
		}
		list, err = e.api.Applications(ctx, zhangSan)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range list {
			got = append(got, r.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(ids) {
			t.Fatalf("ids = %v, want %v", got, ids)
		}
		_, err = e.api.Applications(ctx, "822100050119999")
		wantErr(t, err, backend.ErrUnknownMerchant)
	})
}

func TestSubmitConcurrentSameKey(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		const n = 32
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := e.api.Submit(ctx, "same", app(zhangSan, "张三", "DC"))
				ids[i], errs[i] = r.ID, err
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Fatalf("call %d: %q, %v (first %q)", i, ids[i], errs[i], ids[0])
			}
		}
		if list, _ := e.api.Applications(ctx, zhangSan); len(list) != 1 {
			t.Fatalf("applications = %d, want 1", len(list))
		}
	})
}

// TestConcurrentUse runs every method from many goroutines for the race
// detector, while the clock moves.
func TestConcurrentUse(t *testing.T) {
	e := newSandbox(t, sandbox.WithEvents(func(backend.Receipt) {}))
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := sandbox.Demo()[i%4]
			for j := range 20 {
				e.clock.Advance(10 * time.Second)
				_, _ = e.sb.VerifyMerchant(ctx, d.No, d.Phone)
				_, _ = e.sb.Merchant(ctx, d.No)
				_ = e.sb.SendCode(ctx, d.No)
				_ = e.sb.CheckCode(ctx, d.No, "100001")
				_, _ = e.sb.Submit(ctx, fmt.Sprint(i, "-", j), app(d.No, d.Name, "DC"))
				_, _ = e.sb.Applications(ctx, d.No)
				e.sb.Tick()
			}
		}()
	}
	wg.Wait()
}

func TestEvents(t *testing.T) {
	var (
		mu  sync.Mutex
		got []string
		e   *env
	)
	e = newSandbox(t, sandbox.WithEvents(func(r backend.Receipt) {
		// A callback may call back into the sandbox.
		list, err := e.sb.Applications(context.Background(), r.MerchantNo)
		if err != nil || len(list) == 0 {
			t.Errorf("callback Applications: %v, %v", list, err)
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("%s %s %s %s", r.ID, r.Status, r.Reason, r.UpdatedAt.Sub(start)))
	}))
	ctx := context.Background()
	if _, err := e.sb.Submit(ctx, "a", app(zhangSan, "张三", "DC")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Submit(ctx, "a", app(zhangSan, "张三", "DC")); err != nil { // replay: no event
		t.Fatal(err)
	}
	if _, err := e.sb.Submit(ctx, "b", app(wangWu, "王五", "DC")); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour) // both reviews and the effective change are due
	e.sb.Tick()
	e.sb.Tick() // nothing new
	want := []string{
		"CC202501150001 submitted  0s",
		"CC202501150002 submitted  0s",
		// In order per application (not across them): one catch-up plays
		// each application's whole history.
		"CC202501150001 under_review  1m0s",
		"CC202501150001 approved  2m0s",
		"CC202501150001 effective  4m0s",
		"CC202501150002 under_review  1m0s",
		"CC202501150002 rejected change_within_30_days 2m0s",
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDefaultReviewDelay(t *testing.T) {
	clock := &fakeClock{t: start}
	sb := sandbox.New(sandbox.WithClock(clock.Now))
	r, err := sb.Submit(context.Background(), "k", app(zhangSan, "张三", "DC"))
	if err != nil {
		t.Fatal(err)
	}
	if !r.ReviewBy.Equal(start.Add(2 * time.Minute)) {
		t.Fatalf("ReviewBy = %s, want start + 2m", r.ReviewBy)
	}
}

func TestCancelledContext(t *testing.T) {
	e := newSandbox(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]error{}
	_, calls["VerifyMerchant"] = e.sb.VerifyMerchant(ctx, zhangSan, "13800000001")
	_, calls["Merchant"] = e.sb.Merchant(ctx, zhangSan)
	calls["SendCode"] = e.sb.SendCode(ctx, zhangSan)
	calls["CheckCode"] = e.sb.CheckCode(ctx, zhangSan, "1")
	_, calls["Submit"] = e.sb.Submit(ctx, "k", app(zhangSan, "张三", "DC"))
	_, calls["Applications"] = e.sb.Applications(ctx, zhangSan)
	for name, err := range calls {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", name, err)
		}
	}
	if len(e.sms.all()) != 0 {
		t.Error("a cancelled SendCode sent a code")
	}
}

// TestTooSoonSaysHowLong: a refused resend says how long to wait, in-process
// and over HTTP, so the dialog can tell the merchant the truth.
func TestTooSoonSaysHowLong(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if err := e.api.SendCode(ctx, zhangSan); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(20 * time.Second)
		err := e.api.SendCode(ctx, zhangSan)
		if !errors.Is(err, backend.ErrCodeTooSoon) {
			t.Fatalf("err = %v, want ErrCodeTooSoon", err)
		}
		wait, ok := backend.RetryAfter(err)
		if !ok || wait < 39*time.Second || wait > 40*time.Second {
			t.Fatalf("RetryAfter = %v, %v; want 40 s", wait, ok)
		}
	})
}
