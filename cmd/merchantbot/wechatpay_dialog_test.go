package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/wechatpay"
	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/internal/guidedtest"
	"github.com/merchantbot/merchantbot/internal/wechatpaytest"
	"github.com/merchantbot/merchantbot/locales"
)

// dialogCodes takes 246810 for any merchant once a code was sent.
type dialogCodes struct {
	mu   sync.Mutex
	sent map[string]string
}

func (c *dialogCodes) Send(_ context.Context, no, phone string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent[no] = phone
	return nil
}

func (c *dialogCodes) Check(_ context.Context, no, code string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.sent[no]; !ok {
		return backend.ErrCodeExpired
	}
	if code != "246810" {
		return backend.ErrWrongCode
	}
	return nil
}

// wxConsole is a console whose dialog runs on the WeChat Pay adapter over
// the fake WeChat Pay.
type wxConsole struct {
	t    *testing.T
	fake *wechatpaytest.Fake
	c    *console
	out  *syncBuffer
}

func newWxConsole(t *testing.T) *wxConsole {
	t.Helper()
	ctx := context.Background()
	f := wechatpaytest.New(t, wechatpaytest.PublicKeyMode)
	f.AddSubMerchant("1900000109", wechatpaytest.Account{Type: "ACCOUNT_TYPE_PRIVATE", Bank: "工商银行", Number: "6222020200112233445", Name: "张三"})
	rdb, prefix := redistest.New(t)
	b, err := wechatpay.New(ctx, wechatpay.Config{
		MchID: f.MchID, CertSerial: f.Keys.MerchantSerial, PrivateKey: f.Keys.MerchantKey,
		PublicKeyID: f.Keys.PublicKeyID, PublicKey: &f.Keys.WeChatKey.PublicKey, BaseURL: f.URL,
		Redis: rdb, Prefix: prefix,
		Directory: wxDir{"822100050110001": {MerchantNo: "822100050110001", SubMchID: "1900000109", Name: "张三",
			Business: "张三便利店", Kind: backend.KindIndividual, Phone: "13800000001"}},
		Codes: &dialogCodes{sent: map[string]string{}},
	})
	require.NoError(t, err)
	bins, err := cardbin.Load()
	require.NoError(t, err)
	catalog, err := locales.Load()
	require.NoError(t, err)
	cipher, err := store.NewCipher(store.RandomKey())
	require.NoError(t, err)
	log := slog.New(slog.DiscardHandler)
	engine := dialogs.NewEngine(b, bins, append([]dialogs.Option{dialogs.WithLogger(log), dialogs.WithoutDesk("")}, acquirerOptions(b)...)...)
	out := &syncBuffer{}
	c, err := newConsole(ctx, engine, chatq.NewMemory(), cipher, catalog, 1, locales.Chinese, out)
	require.NoError(t, err)
	t.Cleanup(c.close)
	return &wxConsole{t: t, fake: f, c: c, out: out}
}

// say types lines and returns what the bot answered to them.
func (w *wxConsole) say(lines ...string) string {
	w.t.Helper()
	before := len(w.out.String())
	for _, l := range lines {
		require.NoError(w.t, w.c.say(context.Background(), l), l)
	}
	return w.out.String()[before:]
}

// wxMerchant is 张三 at the console on the WeChat Pay adapter: the code of
// dialogCodes, a card of 工商银行, the city 北京.
func wxMerchant(card string) persona {
	return consoleMerchant().with(dialogs.AnswerCode, "246810").with(dialogs.AnswerCard, card).
		with(dialogs.AnswerCity, "北京")
}

// walk answers as p, as the guide says, from last (what the bot answered
// to the last line) until stop says what the bot asks is where the test
// wants it, and returns what the bot said on the way.
func (w *wxConsole) walk(p persona, last string, stop func(guidedtest.Move) bool) string {
	w.t.Helper()
	var all strings.Builder
	for range 40 {
		mv, err := consoleMove(last)
		require.NoError(w.t, err, "after:\n%s", last)
		if stop(mv) {
			return all.String()
		}
		line, err := p.consoleLine(mv)
		require.NoError(w.t, err, "after:\n%s", last)
		last = w.say(line)
		all.WriteString(last)
	}
	w.t.Fatalf("walk: not there after 40 lines:\n%s", all.String())
	return ""
}

// TestWechatpayDialog: a whole change in the console's dialog on the
// WeChat Pay adapter: identity from the directory and a code of ours, the
// card, the holder, the city and the branch picked from WeChat Pay's lists,
// the summary, the submission (the fake decrypts exactly the card and the
// name), then the status the merchant asks for after the review: in effect,
// or rejected in WeChat Pay's words.
func TestWechatpayDialog(t *testing.T) {
	for _, tt := range []struct{ name, reason, shown string }{
		{"AUDIT_SUCCESS", "", ""},
		// A reason of ours: our words and advice.
		{"AUDIT_FAIL name", "开户名称与商户主体名称不一致，请核实后重新提交", "原因：持卡人姓名与商户登记姓名不一致"},
		// A reason we do not know: WeChat Pay's words.
		{"AUDIT_FAIL other", "银行账户信息有误，请核实后重新提交", "银行账户信息有误，请核实后重新提交"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWxConsole(t)
			fail := tt.reason != ""
			if fail {
				w.fake.FailNext("1900000109", tt.reason)
			}
			p := wxMerchant("6222021234567894").with(dialogs.AnswerReservedPhone, "13800000001")
			out := w.walk(p, w.say("/start"), asks(dialogs.StepBranch))
			require.Contains(t, out, "身份已确认：张三便利店")
			require.Regexp(t, `当前结算卡：\d{6}\*+\d{4}`, out, "the account in effect, from WeChat Pay's settlement query, masked")
			require.Contains(t, out, "开户城市：北京市")
			require.Contains(t, out, "[1] 北京西单支行", "the branches come from WeChat Pay's list")
			out = w.walk(p, w.say("1"), asks(dialogs.StepSummary))
			require.Contains(t, out, "开户支行：中国工商银行股份有限公司北京西单支行（北京市）")
			out = w.walk(p, out, submitted)
			apps := w.fake.Applications()
			require.Len(t, apps, 1)
			require.Contains(t, out, "申请编号 "+apps[0].No)
			require.Equal(t, []wechatpaytest.Decrypted{{SubMchID: "1900000109", AccountNumber: "6222021234567894", AccountName: "张三"}}, w.fake.Decrypted())
			require.Equal(t, "102100000458", apps[0].Account.BranchID)
			require.Equal(t, "10", apps[0].Account.AddressCode)

			w.fake.Advance(time.Hour)
			out = w.say("/start", "2")
			if fail {
				require.Contains(t, out, "已驳回")
				require.Contains(t, out, tt.shown)
				require.NotContains(t, out, "已生效")
			} else {
				require.Contains(t, out, "申请 "+apps[0].No+"：已生效")
			}
			require.Empty(t, w.fake.Refused())
		})
	}
}

// TestWechatpayConsoleFromSettings: merchantbot started with the settings
// README names (BACKEND_URL=wechatpay, WECHATPAY_* with the key files,
// SMS=log, REDIS_URL, DATA_KEY) over a directory imported with `directory
// import` talks to the fake WeChat Pay: the code goes to the directory's
// phone, the change is submitted with exactly the card and the holder
// decrypted, and nothing of the card or the phone is in Redis in clear.
func TestWechatpayConsoleFromSettings(t *testing.T) {
	ctx := context.Background()
	f := wechatpaytest.New(t, wechatpaytest.PublicKeyMode)
	f.AddSubMerchant("1900000109", wechatpaytest.Account{Type: "ACCOUNT_TYPE_PRIVATE", Bank: "工商银行", Number: "6222020200112233445", Name: "张三"})
	dir := t.TempDir()
	keyFile, pubFile, _ := f.WriteFiles(t, dir)
	rdb, prefix := redistest.New(t)
	csv := filepath.Join(dir, "merchants.csv")
	require.NoError(t, os.WriteFile(csv, []byte("merchant_no,sub_mchid,name,business,kind,phone\n822100050110001,1900000109,张三,张记早餐,个体户,13800000001\n"), 0o600))
	env := map[string]string{
		"BACKEND_URL": "wechatpay", "WECHATPAY_MCHID": f.MchID, "WECHATPAY_CERT_SERIAL": f.Keys.MerchantSerial,
		"WECHATPAY_PRIVATE_KEY_FILE": keyFile, "WECHATPAY_PUBLIC_KEY_ID": f.Keys.PublicKeyID, "WECHATPAY_PUBLIC_KEY_FILE": pubFile,
		"WECHATPAY_BASE_URL": f.URL, "SMS": "log",
		"REDIS_URL": redistest.URL(), "REDIS_PREFIX": prefix, "DATA_KEY": strings.Repeat("5a", 32),
	}
	getenv := func(k string) string { return env[k] }
	var io1, io2 syncBuffer
	require.NoError(t, run(ctx, []string{"merchantbot", "directory", "import", csv}, getenv, strings.NewReader(""), &io1, &io2), io2.String())

	stdin, feed := io.Pipe()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"merchantbot", "console"}, getenv, stdin, &stdout, &stderr) }()
	// wait waits for text in out (the console answers each line before it
	// reads the next; the bound is only there so a broken build fails).
	wait := func(out *syncBuffer, text string) string {
		t.Helper()
		for range 500 {
			if s := out.String(); strings.Contains(s, text) {
				return s
			}
			select {
			case err := <-done:
				t.Fatalf("console ended: %v\n%s\n%s", err, stdout.String(), stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
		t.Fatalf("no %q in:\n%s\nstderr:\n%s", text, out.String(), stderr.String())
		return ""
	}
	say := func(line, then string) {
		t.Helper()
		_, err := io.WriteString(feed, line+"\n")
		require.NoError(t, err)
		wait(&stdout, then)
	}
	say("/start", "更换结算卡")
	say("1", "商户号")
	say("822100050110001", "手机号")
	say("13800000001", "验证码已通过短信发送到商户预留手机号 138****0001")
	code := regexp.MustCompile(`\[demo SMS to 138\*\*\*\*0001\] verification code ([0-9]{6})`).FindStringSubmatch(wait(&stderr, "verification code"))
	require.NotNil(t, code)
	from := len(stdout.String())
	say(code[1], "身份已确认：张记早餐")
	// On as the guide says, to the submission: each answer read once the
	// bot has asked something (or said the change is in).
	p := wxMerchant("6222021234567894").with(dialogs.AnswerReservedPhone, "13800000001")
	for i := 0; ; i++ {
		require.Less(t, i, 40, "not submitted after 40 lines:\n%s", stdout.String())
		var mv guidedtest.Move
		for range 500 {
			var err error
			if mv, err = consoleMove(stdout.String()[from:]); err == nil && (mv.Acts() || mv.Finished) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		require.True(t, mv.Acts() || mv.Finished, "no question in:\n%s", stdout.String()[from:])
		if mv.Finished {
			break
		}
		line, err := p.consoleLine(mv)
		require.NoError(t, err)
		if mv.Asks(dialogs.StepBranch) {
			line = "1" // WeChat Pay's list of the city's branches: 北京西单支行
		}
		from = len(stdout.String())
		_, err = io.WriteString(feed, line+"\n")
		require.NoError(t, err)
	}
	wait(&stdout, "提交成功")
	require.NoError(t, feed.Close())
	require.NoError(t, <-done)
	require.Equal(t, []wechatpaytest.Decrypted{{SubMchID: "1900000109", AccountNumber: "6222021234567894", AccountName: "张三"}}, f.Decrypted())
	require.Contains(t, stdout.String(), "申请编号 "+f.Applications()[0].No)
	require.Empty(t, f.Refused())

	dump, err := redistest.Dump(ctx, rdb, prefix)
	require.NoError(t, err)
	assert.Empty(t, leaktest.Leaks("6222021234567894 13800000001 "+code[1], dump...), "card, phone or code in Redis in clear")
	assert.Empty(t, leaktest.Leaks("6222021234567894 13800000001", stderr.String()), "card or phone in the log")
}

// TestWechatpayDialogUnlistedBank: a card of a bank neither of WeChat Pay's
// bank lists knows (the fake's lists hold no 农业银行): the branch's full
// name is asked typed after the city, shown on the summary, and submitted
// as 其他银行 with that bank_name and the city's code, no bank_branch_id.
func TestWechatpayDialogUnlistedBank(t *testing.T) {
	w := newWxConsole(t)
	const name = "中国农业银行股份有限公司北京某某支行"
	p := wxMerchant("6228480000123456782").with(dialogs.AnswerReservedPhone, "13800000001").
		with(dialogs.AnswerBranch, name)
	out := w.walk(p, w.say("/start"), asks(dialogs.StepBranch))
	require.Contains(t, out, "身份已确认：张三便利店")
	require.Contains(t, out, "开户城市：北京市")
	require.Contains(t, out, "中国农业银行的支行无法列出")
	out = w.walk(p, out, asks(dialogs.StepSummary))
	require.Contains(t, out, "开户支行："+name+"（北京市）")
	w.walk(p, out, submitted)
	apps := w.fake.Applications()
	require.Len(t, apps, 1)
	assert.Equal(t, "其他银行", apps[0].Account.Bank)
	assert.Equal(t, name, apps[0].Account.BankName)
	assert.Empty(t, apps[0].Account.BranchID)
	assert.Equal(t, "10", apps[0].Account.AddressCode)
	assert.Equal(t, []wechatpaytest.Decrypted{{SubMchID: "1900000109", AccountNumber: "6228480000123456782", AccountName: "张三"}}, w.fake.Decrypted())
	assert.Empty(t, w.fake.Refused())
}
