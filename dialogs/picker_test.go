package dialogs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/dialogs"
)

// fakeBranches is an acquirer's city and branch lists: names matched by
// "contains", as the interface says.
type fakeBranches struct {
	mu       sync.Mutex
	cities   []backend.Area
	branches map[string][]backend.Branch // by city code
	fail     error                       // every call fails with it while set
	direct   map[string]bool             // banks that need no branch
	unlisted map[string]bool             // banks whose branches it does not list
	calls    int
	banks    []string // the bank codes asked for
}

func newFakeBranches() *fakeBranches {
	f := &fakeBranches{branches: map[string][]backend.Branch{}}
	for _, c := range []struct{ code, name, province string }{
		{"440300", "深圳市", "广东省"}, {"210100", "沈阳市", "辽宁省"}, {"211300", "朝阳市", "辽宁省"},
		{"410300", "洛阳市", "河南省"}, {"310100", "上海市", "上海市"},
		{"440100", "广州市", "广东省"}, {"320500", "苏州市", "江苏省"}, {"341300", "宿州市", "安徽省"},
		{"330100", "杭州市", "浙江省"}, {"350100", "福州市", "福建省"}, {"410100", "郑州市", "河南省"},
		{"620100", "兰州市", "甘肃省"}, {"320300", "徐州市", "江苏省"}, {"320400", "常州市", "江苏省"},
	} {
		f.cities = append(f.cities, backend.Area{Code: c.code, Name: c.name, Province: c.province})
	}
	// Shenzhen: more branches than a list shows.
	for i, n := range []string{"南山支行", "南山科技园支行", "福田支行", "罗湖支行", "宝安支行", "龙岗支行",
		"盐田支行", "CBD支行", "华侨城支行", "蛇口支行", "西丽支行", "坂田支行"} {
		f.branches["440300"] = append(f.branches["440300"],
			backend.Branch{ID: fmt.Sprintf("1025840020%02d", i), Name: "中国工商银行股份有限公司深圳" + n})
	}
	// Shenyang: a few.
	for i, n := range []string{"和平支行", "沈河支行", "皇姑支行"} {
		f.branches["210100"] = append(f.branches["210100"],
			backend.Branch{ID: fmt.Sprintf("1022210000%02d", i), Name: "中国工商银行股份有限公司沈阳" + n})
	}
	return f
}

func (f *fakeBranches) Cities(_ context.Context, word string, limit int) ([]backend.Area, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		return nil, f.fail
	}
	var out []backend.Area
	for _, c := range f.cities {
		if strings.Contains(c.Name, word) && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeBranches) Branches(_ context.Context, bankCode, _, city, word string, limit int) ([]backend.Branch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.banks = append(f.banks, bankCode)
	if f.fail != nil {
		return nil, f.fail
	}
	if f.direct[bankCode] {
		return nil, backend.ErrNoBranchNeeded
	}
	if f.unlisted[bankCode] {
		return nil, fmt.Errorf("branches: %w", backend.ErrNoBranchList)
	}
	var out []backend.Branch
	for _, b := range f.branches[city] {
		if strings.Contains(b.Name, word) && len(out) < limit {
			out = append(out, b)
		}
	}
	return out, nil
}

func (f *fakeBranches) failWith(err error) {
	f.mu.Lock()
	f.fail = err
	f.mu.Unlock()
}

// recordSubmit keeps the applications submitted.
type recordSubmit struct {
	dialogs.Backend
	mu   sync.Mutex
	apps []backend.Application
}

func (r *recordSubmit) Submit(ctx context.Context, key string, app backend.Application) (backend.Receipt, error) {
	r.mu.Lock()
	r.apps = append(r.apps, app)
	r.mu.Unlock()
	return r.Backend.Submit(ctx, key, app)
}

// pickerFixture is the sandbox with branches picked from fb's lists.
func pickerFixture(t *testing.T) (*fixture, *fakeBranches, *recordSubmit) {
	t.Helper()
	f := newFixture(t, nil)
	fb := newFakeBranches()
	rec := &recordSubmit{Backend: f.backend}
	f.engine = dialogs.NewEngine(rec, mustBins(t), dialogs.WithClock(f.clock),
		dialogs.WithLogger(slog.New(slog.NewJSONHandler(f.logs, nil))), dialogs.WithBranches(fb))
	return f, fb, rec
}

// toBranch walks a merchant, as the guide says, to where the branch is
// asked (or, with the picker, the city first).
func toBranch(c *chat) dialogs.Outcome {
	c.t.Helper()
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	zhangSan().walk(c, func(st *dialogs.State) bool { return st.Step == dialogs.StepBranch || st.Step == dialogs.StepCity })
	return c.last
}

// rendered is everything out says, buttons included.
func (c *chat) all(out dialogs.Outcome) string {
	var b strings.Builder
	for _, r := range out.Replies {
		b.WriteString(c.f.render.Reply(out.Lang, r))
		for _, row := range r.Buttons {
			for _, btn := range row {
				b.WriteString("\n[" + c.f.render.Button(out.Lang, btn) + "]")
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestPickerAsksTheCityWhereTheBranchWasAsked(t *testing.T) {
	f, _, _ := pickerFixture(t)
	c := &chat{t: t, f: f, id: 501}
	out := toBranch(c)
	assert.Equal(t, dialogs.StepCity, mustLoad(t, f, 501).Step)
	assert.Equal(t, []dialogs.MsgID{"ask_city"}, keys(out))
	assert.Contains(t, c.all(out), "中国工商银行")
}

func TestPickerCities(t *testing.T) {
	f, _, _ := pickerFixture(t)
	c := &chat{t: t, f: f, id: 502}
	toBranch(c)

	out := c.text("纽约")
	assert.Equal(t, []dialogs.MsgID{"city_none"}, keys(out))
	assert.Equal(t, dialogs.StepCity, mustLoad(t, f, 502).Step)

	out = c.text("州市") // ten cities
	assert.Equal(t, []dialogs.MsgID{"city_too_many"}, keys(out))

	out = c.text("阳市") // three
	assert.Equal(t, []dialogs.MsgID{"city_pick"}, keys(out))
	for _, data := range []string{"city:p.210100", "city:p.211300", "city:p.410300"} {
		assert.True(t, hasButton(out, data), data)
	}
	assert.Contains(t, c.all(out), "[沈阳市 · 辽宁省]")
	out = c.press("city:p.210100")
	st := mustLoad(t, f, 502)
	assert.Equal(t, dialogs.StepBranch, st.Step)
	assert.Equal(t, "210100", st.AreaCode)
	assert.Equal(t, "沈阳市", st.CityName)
	// Three branches in Shenyang: shown at once.
	assert.Equal(t, []dialogs.MsgID{"ask_branch_pick"}, keys(out))
	assert.True(t, hasButton(out, "br:p.102221000001"))
	assert.Contains(t, c.all(out), "[沈阳沈河支行]", "the bank's name is left off the buttons")
	assert.True(t, hasButton(out, "br:city"))
}

func TestPickerOneCityIsTakenAndTheBranchPickedGoesIntoTheApplication(t *testing.T) {
	f, fb, rec := pickerFixture(t)
	c := &chat{t: t, f: f, id: 503}
	toBranch(c)
	// "广东省深圳市南山区" holds no city name: the city part of it does.
	out := c.text("广东省深圳市南山区")
	assert.Equal(t, []dialogs.MsgID{"city_taken", "ask_branch_word"}, keys(out), "one city: taken, on to its branches")
	st := mustLoad(t, f, 503)
	assert.Equal(t, dialogs.StepBranch, st.Step)
	assert.Equal(t, "440300", st.AreaCode)

	out = c.text("南山")
	assert.Equal(t, []dialogs.MsgID{"branch_pick"}, keys(out))
	assert.True(t, hasButton(out, "br:p.102584002000"))
	assert.True(t, hasButton(out, "br:p.102584002001"))
	assert.False(t, hasButton(out, "br:p.102584002002"), "福田 does not hold 南山")
	out = c.press("br:p.102584002001")
	assert.Equal(t, dialogs.StepPhone, mustLoad(t, f, 503).Step)
	assert.Equal(t, []dialogs.MsgID{"ask_reserved_phone"}, keys(out))

	out = c.text(reservedPhone)
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 503).Step)
	summary := c.all(out)
	assert.Contains(t, summary, "开户支行：中国工商银行股份有限公司深圳南山科技园支行（深圳市）")
	f.advance(dialogs.FreshProof)
	c.press("sum:confirm")
	out = c.text(code)
	require.Contains(t, keys(out), dialogs.MsgID("submitted"))
	require.Len(t, rec.apps, 1)
	app := rec.apps[0]
	assert.Equal(t, "中国工商银行股份有限公司深圳南山科技园支行", app.Branch)
	assert.Equal(t, "102584002001", app.BranchID)
	assert.Equal(t, "440300", app.AreaCode)
	for _, bank := range fb.banks {
		assert.Equal(t, "ICBC", bank, "the card's bank's branches")
	}
	st = mustLoad(t, f, 503)
	assert.Empty(t, st.BranchID+st.AreaCode+st.CityName+st.PickWord, "the submission wipes the draft")
}

func TestPickerBranchWords(t *testing.T) {
	f, _, _ := pickerFixture(t)
	c := &chat{t: t, f: f, id: 504}
	toBranch(c)
	c.text("深圳")

	out := c.text("北京")
	assert.Equal(t, []dialogs.MsgID{"branch_none"}, keys(out), "twelve branches: none holds the word")
	assert.True(t, hasButton(out, "br:city"))
	assert.Equal(t, dialogs.StepBranch, mustLoad(t, f, 504).Step)

	out = c.text("支行")
	assert.Equal(t, []dialogs.MsgID{"branch_too_many"}, keys(out))

	// Full-width letters are read as the ASCII the names hold.
	out = c.text("ＣＢＤ")
	assert.Equal(t, []dialogs.MsgID{"branch_pick"}, keys(out))
	assert.True(t, hasButton(out, "br:p.102584002007"))

	// The full name typed: searched by what is left of it without the
	// bank's and the city's names.
	out = c.text("中国工商银行深圳蛇口支行")
	assert.Equal(t, []dialogs.MsgID{"branch_pick"}, keys(out))
	assert.True(t, hasButton(out, "br:p.102584002009"))

	out = c.text("南")
	assert.Equal(t, []dialogs.MsgID{"pick_word_short"}, keys(out))
	out = c.text("13912345678")
	assert.Equal(t, []dialogs.MsgID{"name_is_phone"}, keys(out))
	out = c.text(strings.Repeat("南山", 2000))
	assert.Equal(t, []dialogs.MsgID{"too_long", "ask_branch_word"}, keys(out), "4,000 characters: refused at the door")
	assert.Equal(t, dialogs.StepBranch, mustLoad(t, f, 504).Step)
	assert.Equal(t, "440300", mustLoad(t, f, 504).AreaCode, "nothing lost")
}

func TestPickerFewBranchesShownWhenAWordHoldsNone(t *testing.T) {
	f, _, _ := pickerFixture(t)
	c := &chat{t: t, f: f, id: 505}
	toBranch(c)
	c.text("沈阳")
	out := c.text("浦东")
	assert.Equal(t, []dialogs.MsgID{"branch_none_all"}, keys(out))
	assert.True(t, hasButton(out, "br:p.102221000002"))
	c.press("br:p.102221000002")
	st := mustLoad(t, f, 505)
	assert.Equal(t, dialogs.StepPhone, st.Step)
	assert.Equal(t, "102221000002", st.BranchID)
	assert.Equal(t, "中国工商银行股份有限公司沈阳皇姑支行", st.Branch)
}

func TestPickerBackFromBranchToCity(t *testing.T) {
	f, _, _ := pickerFixture(t)
	c := &chat{t: t, f: f, id: 506}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	var before string // the step asked before the city
	zhangSan().walk(c, func(st *dialogs.State) bool {
		if st.Step == dialogs.StepCity || st.Step == dialogs.StepBranch {
			return true
		}
		before = st.Step
		return false
	})
	require.Equal(t, dialogs.StepCity, mustLoad(t, f, 506).Step)
	c.text("深圳")
	out := c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	assert.Equal(t, dialogs.StepCity, mustLoad(t, f, 506).Step)
	assert.Equal(t, []dialogs.MsgID{"ask_city"}, keys(out))
	assert.True(t, hasButton(out, "city:keep"), "the city given is kept with a tap")
	out = c.press("city:keep")
	assert.Equal(t, dialogs.StepBranch, mustLoad(t, f, 506).Step)
	assert.Equal(t, []dialogs.MsgID{"ask_branch_word"}, keys(out))
	// The other-city button, then /back twice: city, then the step before.
	c.press("br:city")
	assert.Equal(t, dialogs.StepCity, mustLoad(t, f, 506).Step)
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	assert.Equal(t, before, mustLoad(t, f, 506).Step)
	// On again as the guide says: the city is remembered.
	zhangSan().walk(c, func(st *dialogs.State) bool {
		return st.Step == dialogs.StepCity || st.Step == dialogs.StepBranch
	})
	assert.Equal(t, dialogs.StepBranch, mustLoad(t, f, 506).Step)
	assert.Equal(t, []dialogs.MsgID{"ask_branch_word"}, keys(c.last))
}

func TestPickerEditBranchFromTheSummary(t *testing.T) {
	f, _, rec := pickerFixture(t)
	c := &chat{t: t, f: f, id: 507}
	toBranch(c)
	c.text("深圳")
	c.text("福田")
	c.press("br:p.102584002002")
	out := c.text(reservedPhone)
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 507).Step)
	assert.Contains(t, c.all(out), "深圳福田支行（深圳市）")

	out = c.press("sum:edit.branch")
	assert.Equal(t, dialogs.StepBranch, mustLoad(t, f, 507).Step)
	assert.True(t, hasButton(out, "keep"), "the branch picked is kept with a tap")
	assert.True(t, hasButton(out, "br:city"))
	// Another city, and a branch there: back to the summary.
	c.press("br:city")
	assert.Equal(t, dialogs.StepCity, mustLoad(t, f, 507).Step)
	out = c.text("沈阳")
	assert.Equal(t, dialogs.StepBranch, mustLoad(t, f, 507).Step, "from an edit, the city leads to its branches")
	assert.True(t, hasButton(out, "br:p.102221000000"))
	out = c.press("br:p.102221000000")
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 507).Step)
	assert.Contains(t, c.all(out), "沈阳和平支行（沈阳市）")

	// An edit left with /back: the summary, unchanged.
	c.press("sum:edit.branch")
	out = c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 507).Step)
	assert.Contains(t, c.all(out), "沈阳和平支行（沈阳市）")
	f.advance(dialogs.FreshProof)
	c.press("sum:confirm")
	c.text(code)
	require.Len(t, rec.apps, 1)
	assert.Equal(t, "102221000000", rec.apps[0].BranchID)
	assert.Equal(t, "210100", rec.apps[0].AreaCode)
}

func TestPickerStaleListButton(t *testing.T) {
	f, _, _ := pickerFixture(t)
	c := &chat{t: t, f: f, id: 508}
	toBranch(c)
	c.text("深圳")
	first := c.text("南山")
	firstSeq := c.seq
	require.True(t, hasButton(first, "br:p.102584002000"))
	c.text("福田")
	out := c.send(dialogs.Input{Kind: dialogs.InButton, Data: "br:p.102584002000", Seq: firstSeq})
	assert.True(t, out.Stale, "a button of an older list")
	assert.Equal(t, dialogs.MsgStaleButton, out.Replies[0].Key)
	st := mustLoad(t, f, 508)
	assert.Equal(t, dialogs.StepBranch, st.Step)
	assert.Empty(t, st.BranchID)
	// A city list's button, after the city was picked.
	f, _, _ = pickerFixture(t)
	c2 := &chat{t: t, f: f, id: 509}
	toBranch(c2)
	cities := c2.text("阳市")
	citySeq := c2.seq
	require.True(t, hasButton(cities, "city:p.211300"))
	c2.press("city:p.210100")
	out = c2.send(dialogs.Input{Kind: dialogs.InButton, Data: "city:p.211300", Seq: citySeq})
	assert.True(t, out.Stale)
	assert.Equal(t, "210100", mustLoad(t, f, 509).AreaCode)
	// Forged data at the right seq: no such branch, nothing picked.
	out = c2.send(dialogs.Input{Kind: dialogs.InButton, Data: "br:p.999999999999", Seq: c2.seq})
	assert.Contains(t, keys(out), dialogs.MsgID("pick_gone"))
	assert.Empty(t, mustLoad(t, f, 509).BranchID)
}

func TestPickerBackendErrorKeepsProgress(t *testing.T) {
	f, fb, _ := pickerFixture(t)
	c := &chat{t: t, f: f, id: 510}
	toBranch(c)
	fb.failWith(errors.New("connection refused"))
	out := c.text("深圳")
	assert.Equal(t, []dialogs.MsgID{"pick_unavailable"}, keys(out))
	assert.True(t, hasButton(out, "city:retry"))
	st := mustLoad(t, f, 510)
	assert.Equal(t, dialogs.StepCity, st.Step)
	assert.Equal(t, "822100050110001", st.MerchantNo)
	assert.Equal(t, card, st.Secrets.CardNumber, "the answers are kept")
	fb.failWith(nil)
	out = c.press("city:retry")
	assert.Equal(t, []dialogs.MsgID{"city_taken", "ask_branch_word"}, keys(out))

	c.text("南山")
	fb.failWith(backend.ErrUnavailable)
	out = c.press("br:p.102584002000")
	assert.Equal(t, []dialogs.MsgID{"pick_unavailable"}, keys(out))
	assert.Equal(t, dialogs.StepBranch, mustLoad(t, f, 510).Step)
	fb.failWith(nil)
	// The list's buttons still work.
	out = c.send(dialogs.Input{Kind: dialogs.InButton, Data: "br:p.102584002000", Seq: c.seq})
	assert.Equal(t, dialogs.StepPhone, mustLoad(t, f, 510).Step)
	assert.Equal(t, []dialogs.MsgID{"ask_reserved_phone"}, keys(out))

	// A refused request goes to support, as elsewhere.
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	fb.failWith(fmt.Errorf("bad bank code: %w", backend.ErrInvalidRequest))
	out = c.text("南山")
	assert.Equal(t, []dialogs.MsgID{"acquirer_refused"}, keys(out))
	assert.Equal(t, dialogs.StepBranch, mustLoad(t, f, 510).Step)
	assert.NotContains(t, f.logs.String(), card[6:], "no card data in the logs")
}

func TestPickerCancelAndResume(t *testing.T) {
	f, _, _ := pickerFixture(t)
	c := &chat{t: t, f: f, id: 511}
	toBranch(c)
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "cancel"})
	require.Equal(t, dialogs.StepCancel, mustLoad(t, f, 511).Step)
	out := c.press("cx:no")
	assert.Equal(t, dialogs.StepCity, mustLoad(t, f, 511).Step)
	assert.Contains(t, keys(out), dialogs.MsgID("ask_city"))
	c.text("深圳")
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "cancel"})
	out = c.press("cx:no")
	assert.Equal(t, dialogs.StepBranch, mustLoad(t, f, 511).Step)
	assert.Contains(t, keys(out), dialogs.MsgID("ask_branch_word"))
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "cancel"})
	c.press("cx:yes")
	st := mustLoad(t, f, 511)
	assert.Empty(t, st.AreaCode+st.CityName+st.BranchID+st.PickWord, "the discarded draft keeps nothing")
}

// A chat at the branch step without a city (the branch was typed before
// the picker was configured) is asked the city, by Resume too, and its
// answer is read as one.
func TestPickerBranchStepWithoutACity(t *testing.T) {
	f, _, _ := pickerFixture(t)
	st := &dialogs.State{Step: dialogs.StepBranch, Lang: "zh-Hans", Bound: true, MerchantNo: "822100050110001",
		BankCode: "ICBC", BankName: "中国工商银行", CardType: "DC", Holder: "张三", DraftID: "d1"}
	out := f.engine.Resume(context.Background(), st, false)
	assert.Contains(t, keys(out), dialogs.MsgID("ask_city"))
	assert.Equal(t, dialogs.StepBranch, st.Step, "Resume changes nothing")
	out = f.engine.Handle(context.Background(), st, dialogs.Input{Kind: dialogs.InText, Text: "深圳"})
	assert.Equal(t, []dialogs.MsgID{"city_taken", "ask_branch_word"}, keys(out))
	assert.Equal(t, dialogs.StepBranch, st.Step)
	assert.Equal(t, "440300", st.AreaCode)
}

// A typed branch does not fill the branch where it is picked: the summary
// is not confirmed without a picked one (a draft from before the picker);
// the merchant is told what is missing and asked it (the city first), and
// the pick returns to the summary.
func TestPickerTypedBranchIsNotEnough(t *testing.T) {
	f, _, _ := pickerFixture(t)
	picker := f.engine
	// The draft, typed to the summary before the picker was configured.
	f.engine = dialogs.NewEngine(f.backend, mustBins(t), dialogs.WithClock(f.clock))
	c := &chat{t: t, f: f, id: 512}
	throughSummary(c)
	f.engine = picker
	f.advance(dialogs.FreshProof) // the identification code no longer confirms it
	st := mustLoad(t, f, 512)
	require.Equal(t, "上海张江支行", st.Branch)
	require.Empty(t, st.BranchID)
	out := c.press("sum:confirm")
	assert.Equal(t, []dialogs.MsgID{"summary_incomplete", "ask_city"}, keys(out))
	assert.Contains(t, c.all(out), "开户支行还需要您补充或确认")
	assert.Equal(t, dialogs.StepCity, mustLoad(t, f, 512).Step)
	c.text("沈阳")
	out = c.press("br:p.102221000000")
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 512).Step)
	assert.Contains(t, c.all(out), "开户支行：中国工商银行股份有限公司沈阳和平支行（沈阳市）")
	out = c.press("sum:confirm")
	assert.NotContains(t, keys(out), dialogs.MsgID("summary_incomplete"))
	assert.Equal(t, dialogs.StepVerify, mustLoad(t, f, 512).Step)
}

// Without WithBranches the branch is typed and no city is asked.
func TestWithoutPickerTheBranchIsTyped(t *testing.T) {
	f := newFixture(t, nil)
	c := &chat{t: t, f: f, id: 513}
	out := toBranch(c)
	assert.Equal(t, []dialogs.MsgID{"ask_branch"}, keys(out))
	c.text("上海张江支行")
	st := mustLoad(t, f, 513)
	assert.Equal(t, dialogs.StepPhone, st.Step)
	assert.Empty(t, st.AreaCode+st.BranchID)
}

// A picked branch's id and city are part of the submission's key; a typed
// branch's key is what it was before them.
func TestSubmissionKeyFollowsThePickedBranch(t *testing.T) {
	base := backend.Application{MerchantNo: "822100050110001", CardNumber: card, HolderName: "张三",
		BankCode: "ICBC", BankName: "中国工商银行", Branch: "深圳南山支行", ReservedPhone: reservedPhone, CardType: "DC"}
	picked := base
	picked.BranchID, picked.AreaCode = "102584002000", "440300"
	other := picked
	other.BranchID = "102584002001"
	city := picked
	city.AreaCode = "440301"
	seen := map[string]bool{}
	for _, app := range []backend.Application{base, picked, other, city} {
		seen[dialogs.SubmissionKey("d1", app)] = true
	}
	assert.Len(t, seen, 4, "each a key of its own")
	// The key of a typed branch, as it was computed before picked branches.
	h := sha256.New()
	for _, f := range []string{"d1", base.MerchantNo, base.CardNumber, base.HolderName, base.BankCode,
		base.BankName, base.Branch, base.ReservedPhone, base.CardType} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	assert.Equal(t, hex.EncodeToString(h.Sum(nil)[:16]), dialogs.SubmissionKey("d1", base))
}

// A bank the acquirer takes without a branch: the city is enough, with a
// tap; the application carries the city's code alone.
func TestPickerBankThatNeedsNoBranch(t *testing.T) {
	f, fb, rec := pickerFixture(t)
	c := &chat{t: t, f: f, id: 514}
	toBranch(c)
	c.text("沈阳")
	// A "no branch needed" button forged for a bank that needs one: stale.
	out := c.send(dialogs.Input{Kind: dialogs.InButton, Data: "br:none", Seq: c.seq})
	assert.True(t, out.Stale)

	fb.direct = map[string]bool{"ICBC": true}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	out = c.text("深圳")
	assert.Equal(t, []dialogs.MsgID{"city_taken", "branch_not_needed"}, keys(out))
	assert.True(t, hasButton(out, "br:city"))
	out = c.press("br:none")
	assert.Equal(t, []dialogs.MsgID{"ask_reserved_phone"}, keys(out))
	out = c.text(reservedPhone)
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 514).Step)
	assert.Contains(t, c.all(out), "开户支行：无需填写（开户城市：深圳市）")
	f.advance(dialogs.FreshProof)
	c.press("sum:confirm")
	c.text(code)
	require.Len(t, rec.apps, 1)
	assert.Equal(t, "440300", rec.apps[0].AreaCode)
	assert.Empty(t, rec.apps[0].BranchID+rec.apps[0].Branch)
}

// A rejected application fixed and sent again: its receipt carries the
// branch's name but not its id, so the branch is picked again (city
// first); the holder is kept.
func TestPickerFixAndResubmitPicksTheBranchAgain(t *testing.T) {
	f, fb, rec := pickerFixture(t)
	c := &chat{t: t, f: f, id: 515}
	toBranch(c)
	c.text("深圳")
	c.text("南山")
	c.press("br:p.102584002000")
	c.text(reservedPhone)
	f.advance(dialogs.FreshProof)
	c.press("sum:confirm")
	c.text(code)
	require.Len(t, rec.apps, 1)
	apps, err := f.backend.Applications(context.Background(), "822100050110001")
	require.NoError(t, err)
	require.Len(t, apps, 1)

	f.engine = dialogs.NewEngine(&recordSubmit{Backend: rejecting{rec, backend.ReasonCreditCard}}, mustBins(t),
		dialogs.WithClock(f.clock), dialogs.WithBranches(fb))
	c.send(dialogs.Input{Kind: dialogs.InButton, Data: "rs:" + apps[0].ID, Seq: c.seq})
	st := mustLoad(t, f, 515)
	require.Equal(t, dialogs.StepConsent, st.Step)
	assert.Empty(t, st.BranchID+st.AreaCode)
	c.press("cs:yes")
	c.text(card)
	m := zhangSan()
	m.walk(c, func(st *dialogs.State) bool {
		return st.Step == dialogs.StepCity || st.Step == dialogs.StepBranch || st.Step == dialogs.StepPhone
	})
	st = mustLoad(t, f, 515)
	require.Equal(t, dialogs.StepCity, st.Step, "not on to the reserved phone: the branch has no id")
	assert.Contains(t, m.met, dialogs.StepHolder, "the way from the card, the holder offered again")
	assert.Equal(t, "张三", st.Holder)
	assert.Equal(t, []dialogs.MsgID{"ask_city"}, keys(c.last))
}

// An edited card of another bank: the branch picked for the old bank goes,
// the city stays, and the new bank's branch is picked, then the summary.
func TestPickerEditedCardOfAnotherBankPicksItsBranch(t *testing.T) {
	f, fb, _ := pickerFixture(t)
	c := &chat{t: t, f: f, id: 516}
	toBranch(c)
	c.text("深圳")
	c.text("南山")
	c.press("br:p.102584002000")
	c.text(reservedPhone)
	c.press("sum:edit.card")
	out := c.text(bocCard)
	st := mustLoad(t, f, 516)
	require.Equal(t, dialogs.StepBranch, st.Step)
	assert.Empty(t, st.Branch+st.BranchID, "the old bank's branch is not kept")
	assert.Equal(t, "440300", st.AreaCode, "the city is")
	assert.Contains(t, keys(out), dialogs.MsgID("ask_branch_word"))
	assert.Equal(t, "BOC", fb.banks[len(fb.banks)-1], "the new bank's branches")
	out = c.text("福田")
	c.press("br:p.102584002002")
	st = mustLoad(t, f, 516)
	require.Equal(t, dialogs.StepSummary, st.Step)
	assert.Equal(t, "102584002002", st.BranchID)
}

// What the acquirer lists is offered only as a button can carry it and a
// merchant can read it: an id too long for the button's data, or one that
// could pass for the "no branch" mark, is left out; control characters
// are dropped from the names.
func TestPickerOffersOnlyWhatAButtonCarries(t *testing.T) {
	f, fb, _ := pickerFixture(t)
	fb.branches["440100"] = []backend.Branch{
		{ID: strings.Repeat("1", dialogs.MaxListID+1), Name: "中国工商银行股份有限公司广州天河支行"},
		{ID: "-", Name: "中国工商银行股份有限公司广州越秀支行"},
		{ID: "102581000003", Name: "中国工商银行股份有限公司广州\u202e海珠\n支行"},
		{ID: "102581000004", Name: "\u200b\t"},
	}
	c := &chat{t: t, f: f, id: 517}
	toBranch(c)
	out := c.text("广州")
	require.Equal(t, []dialogs.MsgID{"city_taken", "ask_branch_pick"}, keys(out))
	var picks []string
	for _, r := range out.Replies {
		for _, row := range r.Buttons {
			for _, b := range row {
				if strings.HasPrefix(b.Data, "br:p.") {
					picks = append(picks, b.Data+" "+f.render.Button(out.Lang, b))
				}
			}
		}
	}
	assert.Equal(t, []string{"br:p.102581000003 广州海珠支行"}, picks)
	c.press("br:p.102581000003")
	assert.Equal(t, "中国工商银行股份有限公司广州海珠支行", mustLoad(t, f, 517).Branch)
}

// A bank whose branches the acquirer does not list (backend.ErrNoBranchList):
// the branch's full name is typed, read as a typed branch is (a bad one
// gets the usual reply, nothing lost), shown on the summary with the city;
// back, edit and another city work; the application carries the name and
// the city's code, no branch id.
func TestPickerBankWithoutABranchListTakesTheFullNameTyped(t *testing.T) {
	f, fb, rec := pickerFixture(t)
	fb.unlisted = map[string]bool{"ICBC": true}
	c := &chat{t: t, f: f, id: 518}
	toBranch(c)
	out := c.text("深圳")
	require.Equal(t, []dialogs.MsgID{"city_taken", "branch_no_list"}, keys(out))
	assert.Contains(t, c.all(out), "中国XX银行股份有限公司XX支行")
	assert.Contains(t, c.all(out), "中国工商银行的支行无法列出")
	assert.True(t, hasButton(out, "br:city"))
	assert.False(t, hasButton(out, "keep"), "nothing typed yet")

	for _, bad := range []struct {
		text string
		want []dialogs.MsgID
	}{
		{"13912345678", []dialogs.MsgID{"name_is_phone"}},
		{"12345", []dialogs.MsgID{"name_is_number"}},
		{"南", []dialogs.MsgID{"branch_invalid"}},
		{"深圳😀支行", []dialogs.MsgID{"branch_chars"}},
		{strings.Repeat("南山", 2000), []dialogs.MsgID{"too_long", "branch_no_list"}},
	} {
		out = c.text(bad.text)
		assert.Equal(t, bad.want, keys(out), "%.20q", bad.text)
		st := mustLoad(t, f, 518)
		assert.Equal(t, dialogs.StepBranch, st.Step)
		assert.Equal(t, "440300", st.AreaCode, "nothing lost")
		assert.Equal(t, card, st.Secrets.CardNumber)
		assert.Empty(t, st.Branch)
	}

	// /back: the city, kept with a tap; the question again.
	out = c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	require.Equal(t, dialogs.StepCity, mustLoad(t, f, 518).Step)
	out = c.press("city:keep")
	assert.Equal(t, []dialogs.MsgID{"branch_no_list"}, keys(out))

	const name = "中国工商银行股份有限公司深圳某某支行"
	out = c.text(name)
	assert.Equal(t, []dialogs.MsgID{"ask_reserved_phone"}, keys(out))
	st := mustLoad(t, f, 518)
	assert.Equal(t, dialogs.StepPhone, st.Step)
	assert.Equal(t, name, st.Branch)
	out = c.text(reservedPhone)
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 518).Step)
	assert.Contains(t, c.all(out), "开户支行："+name+"（深圳市）")

	// Edit: the name typed is kept with a tap, or typed anew.
	out = c.press("sum:edit.branch")
	assert.Equal(t, []dialogs.MsgID{"branch_no_list"}, keys(out))
	assert.True(t, hasButton(out, "keep"))
	assert.Contains(t, c.all(out), name)
	out = c.press("keep")
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 518).Step)
	c.press("sum:edit.branch")
	out = c.text("中国工商银行股份有限公司深圳另一支行")
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 518).Step)
	assert.Contains(t, c.all(out), "开户支行：中国工商银行股份有限公司深圳另一支行（深圳市）")

	// Another city: the name typed for the first one goes.
	c.press("sum:edit.branch")
	c.press("br:city")
	require.Equal(t, dialogs.StepCity, mustLoad(t, f, 518).Step)
	out = c.text("沈阳")
	assert.Equal(t, []dialogs.MsgID{"city_taken", "branch_no_list"}, keys(out))
	assert.False(t, hasButton(out, "keep"), "the other city's branch is not offered")
	out = c.text("中国工商银行股份有限公司沈阳某某支行")
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 518).Step)
	assert.Contains(t, c.all(out), "开户支行：中国工商银行股份有限公司沈阳某某支行（沈阳市）")

	f.advance(dialogs.FreshProof)
	c.press("sum:confirm")
	out = c.text(code)
	require.Contains(t, keys(out), dialogs.MsgID("submitted"))
	require.Len(t, rec.apps, 1)
	app := rec.apps[0]
	assert.Equal(t, "中国工商银行股份有限公司沈阳某某支行", app.Branch)
	assert.Equal(t, "210100", app.AreaCode)
	assert.Empty(t, app.BranchID)
}

// The mark of a typed full name does not outlive the bank it was for: a
// bank whose branches are listed has one picked again (nothing typed is
// kept for it), and a bank that needs none drops it.
func TestPickerTypedFullNameGoesWhenTheBranchesAreListed(t *testing.T) {
	f, fb, _ := pickerFixture(t)
	fb.unlisted = map[string]bool{"ICBC": true}
	c := &chat{t: t, f: f, id: 519}
	toBranch(c)
	c.text("深圳")
	c.text("中国工商银行股份有限公司深圳某某支行")
	require.Equal(t, dialogs.StepPhone, mustLoad(t, f, 519).Step)

	fb.unlisted = nil
	out := c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	assert.Equal(t, []dialogs.MsgID{"ask_branch_word"}, keys(out))
	assert.False(t, hasButton(out, "keep"))
	st := mustLoad(t, f, 519)
	assert.Empty(t, st.Branch+st.BranchID)
	out = c.text("南山")
	assert.Equal(t, []dialogs.MsgID{"branch_pick"}, keys(out), "a word to search by again, not a name")

	fb.unlisted = map[string]bool{"ICBC": true}
	c.press("br:city")
	out = c.text("深圳")
	assert.Equal(t, []dialogs.MsgID{"city_taken", "branch_no_list"}, keys(out))
	c.text("中国工商银行股份有限公司深圳某某支行")
	require.Equal(t, dialogs.StepPhone, mustLoad(t, f, 519).Step)
	fb.direct = map[string]bool{"ICBC": true}
	out = c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	assert.Equal(t, []dialogs.MsgID{"branch_not_needed"}, keys(out))
	st = mustLoad(t, f, 519)
	assert.Empty(t, st.Branch+st.BranchID)
	out = c.press("br:none")
	assert.Equal(t, []dialogs.MsgID{"ask_reserved_phone"}, keys(out))
}

// A card the BIN does not tell has its bank asked before the city: back to
// that question, another bank, and the branch picked from the old bank's
// list goes with it (only its city stays).
func TestPickerBackToAnotherBankDropsThePickedBranch(t *testing.T) {
	f, fb, _ := pickerFixture(t)
	c := &chat{t: t, f: f, id: 517}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	c.press("m:change")
	c.text("822100050110001")
	c.text("13800000001")
	c.text(code)
	c.press("ck:all")
	c.press("cs:yes")
	c.text("6239991234567899")
	c.press("holder:registered")
	st := mustLoad(t, f, 517)
	require.Equal(t, dialogs.StepBank, st.Step, "the bank is asked for a card the BIN does not tell: %+v", st)
	c.text("中国银行")
	c.text("深圳")
	c.text("南山")
	c.press("br:p.102584002000")
	st = mustLoad(t, f, 517)
	require.Equal(t, "102584002000", st.BranchID)
	for i := 0; i < 5 && st.Step != dialogs.StepBank; i++ {
		c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
		st = mustLoad(t, f, 517)
	}
	require.Equal(t, dialogs.StepBank, st.Step)
	c.text("中国工商银行")
	st = mustLoad(t, f, 517)
	assert.Empty(t, st.Branch+st.BranchID, "the old bank's branch is not kept")
	assert.Equal(t, "ICBC", fb.banks[len(fb.banks)-1], "the new bank's branches are asked")
}

// A step added before the branch (WithTestStep, right after the holder) is
// where /back from the city goes: the city is asked in the branch's place.
func TestPickerBackFromTheCityReachesAnAddedStep(t *testing.T) {
	f, fb, rec := pickerFixture(t)
	f.engine = dialogs.NewEngine(rec, mustBins(t), dialogs.WithClock(f.clock), dialogs.WithTestStep(), dialogs.WithBranches(fb))
	c := &chat{t: t, f: f, id: 519}
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "start"})
	m := zhangSan().at(dialogs.StepTest, typed("an answer"))
	m.walkTo(c, dialogs.StepCity)
	require.Contains(t, m.met, dialogs.StepTest)
	// /back retraces the way in: the step answered just before the city
	// (the added one, or one added after it since), then the one before.
	n := len(m.met)
	require.GreaterOrEqual(t, n, 2)
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	assert.Equal(t, m.met[n-1], mustLoad(t, f, 519).Step, "not past the added step to the holder")
	c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	assert.Equal(t, m.met[n-2], mustLoad(t, f, 519).Step)
}

// A stale tap at the branch step changes nothing: the list on screen (a
// search's, shown after an older full list) stays live, whatever the
// question asked again with the "stale" answer would settle. Else the
// state changes under the live list, the adapter shows only the toast
// ("nothing was changed") and every button of the live list is stale.
func TestPickerStaleTapKeepsTheLiveList(t *testing.T) {
	t.Run("a search's list after the city's full list", func(t *testing.T) {
		f, _, _ := pickerFixture(t)
		c := &chat{t: t, f: f, id: 530}
		toBranch(c)
		full := c.text("沈阳")
		require.Equal(t, []dialogs.MsgID{"city_taken", "ask_branch_pick"}, keys(full))
		fullSeq := c.seq
		live := c.text("沈河")
		require.Equal(t, []dialogs.MsgID{"branch_pick"}, keys(live))
		require.True(t, hasButton(live, "br:p.102221000001"))
		before := *mustLoad(t, f, 530)

		out := c.send(dialogs.Input{Kind: dialogs.InButton, Data: "br:p.102221000000", Seq: fullSeq})
		require.True(t, out.Stale, "a button of the older full list")
		assert.Equal(t, []dialogs.MsgID{dialogs.MsgStaleButton}, keys(out),
			"no full list shown again: its buttons would not match the search the chat holds")
		assert.Equal(t, live.Seq, out.Seq, "nothing changed: the live list's buttons stay live")
		st := mustLoad(t, f, 530)
		assert.Equal(t, before.PickWord, st.PickWord)
		assert.Equal(t, before.Step, st.Step)

		out = c.send(dialogs.Input{Kind: dialogs.InButton, Data: "br:p.102221000001", Seq: live.Seq})
		assert.False(t, out.Stale, "the live list's button")
		st = mustLoad(t, f, 530)
		assert.Equal(t, dialogs.StepPhone, st.Step)
		assert.Equal(t, "102221000001", st.BranchID)
	})
	t.Run("during an outage", func(t *testing.T) {
		f, fb, _ := pickerFixture(t)
		c := &chat{t: t, f: f, id: 531}
		toBranch(c)
		c.text("深圳")
		oldSeq := c.seq
		live := c.text("南山")
		require.True(t, hasButton(live, "br:p.102584002000"))
		fb.failWith(backend.ErrUnavailable)
		out := c.send(dialogs.Input{Kind: dialogs.InButton, Data: "br:city", Seq: oldSeq})
		require.True(t, out.Stale)
		assert.Equal(t, live.Seq, out.Seq)
		assert.Equal(t, "南山", mustLoad(t, f, 531).PickWord)
		fb.failWith(nil)
		out = c.send(dialogs.Input{Kind: dialogs.InButton, Data: "br:p.102584002000", Seq: live.Seq})
		assert.False(t, out.Stale)
		assert.Equal(t, dialogs.StepPhone, mustLoad(t, f, 531).Step)
	})
}

// /back from an edit of the branch that went on to another city (which
// drops the branch picked in the old one) does not return to a summary
// with an empty branch: the branch is named and asked in the new city, and
// its pick returns to the summary. /back at the city question, the new
// city taken, asks it too.
func TestPickerBackFromAnEditInAnotherCityAsksTheBranch(t *testing.T) {
	f, _, rec := pickerFixture(t)
	c := &chat{t: t, f: f, id: 532}
	toBranch(c)
	c.text("深圳")
	c.text("福田")
	c.press("br:p.102584002002")
	c.text(reservedPhone)
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 532).Step)

	c.press("sum:edit.branch")
	c.press("br:city")
	out := c.text("沈阳")
	require.Equal(t, dialogs.StepBranch, mustLoad(t, f, 532).Step)
	require.True(t, hasButton(out, "br:p.102221000000"))
	out = c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	st := mustLoad(t, f, 532)
	assert.Equal(t, dialogs.StepBranch, st.Step, "no summary without a branch")
	assert.Equal(t, []dialogs.MsgID{"summary_incomplete", "ask_branch_pick"}, keys(out))
	assert.Contains(t, c.all(out), "开户支行还需要您补充或确认", "the missing answer is named")
	assert.True(t, hasButton(out, "br:p.102221000000"), "the new city's branches")

	// The same from the city question, the new city taken.
	c.press("br:city")
	require.Equal(t, dialogs.StepCity, mustLoad(t, f, 532).Step)
	out = c.send(dialogs.Input{Kind: dialogs.InCommand, Text: "back"})
	assert.Equal(t, dialogs.StepBranch, mustLoad(t, f, 532).Step)
	assert.Equal(t, []dialogs.MsgID{"summary_incomplete", "ask_branch_pick"}, keys(out))

	out = c.press("br:p.102221000001")
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 532).Step, "picked from an edit: back to the summary")
	assert.Contains(t, c.all(out), "开户支行：中国工商银行股份有限公司沈阳沈河支行（沈阳市）")
	f.advance(dialogs.FreshProof)
	c.press("sum:confirm")
	c.text(code)
	require.Len(t, rec.apps, 1)
	assert.Equal(t, "102221000001", rec.apps[0].BranchID)
	assert.Equal(t, "210100", rec.apps[0].AreaCode)
}

// Symbols a name cannot hold are answered for the question asked: at the
// city question a city's name with its example, not a branch's.
func TestPickerSymbolsAnsweredForTheQuestionAsked(t *testing.T) {
	f, _, _ := pickerFixture(t)
	c := &chat{t: t, f: f, id: 533}
	toBranch(c)
	out := c.text("深圳🏦")
	assert.Equal(t, []dialogs.MsgID{"city_chars"}, keys(out))
	for _, lang := range []string{"zh-Hans", "en"} {
		said := f.render.Reply(lang, out.Replies[0])
		assert.Contains(t, said, "深圳", lang)
		assert.NotContains(t, strings.ToLower(said), "branch", lang)
		assert.NotContains(t, said, "支行", lang)
	}
	assert.Equal(t, dialogs.StepCity, mustLoad(t, f, 533).Step)

	c.text("深圳")
	out = c.text("南山🏦")
	assert.Equal(t, []dialogs.MsgID{"branch_chars"}, keys(out), "at the branch question, the branch's")
}

// The card form sent from "edit card" with the branch list on: the reserved
// phone it gave is taken, and the branch it gave is a search whose list the
// merchant picks from, as typed; the pick leads back to the summary.
func TestPickerFormFromTheCardEdit(t *testing.T) {
	const newCard, newPhone = "6222021000000000017", "13700000000" // ICBC, as the first
	f, _, _ := pickerFixture(t)
	c := &chat{t: t, f: f, id: 540}
	toBranch(c)
	c.text("深圳")
	c.text("福田")
	c.press("br:p.102584002002")
	c.text(reservedPhone)
	require.Equal(t, dialogs.StepSummary, mustLoad(t, f, 540).Step)

	c.press("sum:edit.card")
	out := c.send(dialogs.Input{Kind: dialogs.InForm, Returning: true, Form: &dialogs.Form{
		Card: newCard, Holder: "张三", Branch: "南山", ReservedPhone: newPhone}})
	st := mustLoad(t, f, 540)
	assert.Equal(t, newPhone, st.Secrets.ReservedPhone, "the reserved phone the form gave")
	assert.Equal(t, dialogs.StepBranch, st.Step, "the branch the form gave is a search to pick from")
	assert.True(t, hasButton(out, "br:p.102584002001"))
	assert.Equal(t, []dialogs.MsgID{"card_accepted", "branch_pick"}, keys(out), "the list is the question: not asked again")
	c.press("br:p.102584002001")
	st = mustLoad(t, f, 540)
	assert.Equal(t, dialogs.StepSummary, st.Step)
	assert.Equal(t, newCard, st.Secrets.CardNumber)
	assert.Equal(t, newPhone, st.Secrets.ReservedPhone)
	assert.Contains(t, st.Branch, "南山科技园支行")
}
