package main

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/wechatpay"
	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
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
			out := w.say("/start", "1", "822100050110001", "13800000001", "246810")
			require.Contains(t, out, "身份已确认：张三便利店")
			out = w.say("1", "1", "6222021234567894", "1", "北京")
			require.Contains(t, out, "开户城市：北京市")
			require.Contains(t, out, "[1] 北京西单支行", "the branches come from WeChat Pay's list")
			out = w.say("1", "13800000001")
			require.Contains(t, out, "开户支行：中国工商银行股份有限公司北京西单支行（北京市）")
			out = w.say("6")
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
