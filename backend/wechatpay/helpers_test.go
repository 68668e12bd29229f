package wechatpay_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/wechatpay"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/internal/wechatpaytest"
)

const (
	subInd     = "1900000109"
	subCo      = "1900000110"
	phoneInd   = "13800138001"
	nameInd    = "张三丰"
	oldCard    = "6222020200112233445"
	newCard    = "6222021234567894"
	goodCode   = "246810"
	reviewTime = time.Hour
)

// memDir is a directory in memory.
type memDir map[string]backend.DirectoryEntry

func (d memDir) Lookup(_ context.Context, no string) (backend.DirectoryEntry, error) {
	e, ok := d[no]
	if !ok {
		return backend.DirectoryEntry{}, backend.ErrUnknownMerchant
	}
	return e, nil
}

// memCodes sends no SMS: it remembers the phone and takes goodCode.
type memCodes struct {
	mu   sync.Mutex
	sent map[string]string
}

func (c *memCodes) Send(_ context.Context, no, phone string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent[no] = phone
	return nil
}

func (c *memCodes) Check(_ context.Context, no, code string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.sent[no]; !ok {
		return backend.ErrCodeExpired
	}
	if code != goodCode {
		return backend.ErrWrongCode
	}
	return nil
}

// observed records what the Observer saw.
type observed struct {
	mu    sync.Mutex
	calls []obsCall
}

type obsCall struct {
	op  string
	err error
}

func (o *observed) AcquirerCall(op string, _ time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, obsCall{op, err})
}

func (o *observed) all() []obsCall {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]obsCall(nil), o.calls...)
}

// syncBuf is a log sink safe for concurrent writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	fake   *wechatpaytest.Fake
	b      *wechatpay.Backend
	rdb    *redis.Client
	prefix string
	logs   *syncBuf
	obs    *observed
	codes  *memCodes
	cfg    wechatpay.Config
}

// setup starts a fake WeChat Pay in mode with two sub-merchants and a
// Backend configured for it.
func setup(t *testing.T, mode wechatpaytest.Mode) *env {
	t.Helper()
	f := wechatpaytest.New(t, mode)
	f.ReviewTime = reviewTime
	f.AddSubMerchant(subInd, wechatpaytest.Account{Type: "ACCOUNT_TYPE_PRIVATE", Bank: "工商银行", Number: oldCard, Name: nameInd})
	f.AddSubMerchant(subCo, wechatpaytest.Account{Type: "ACCOUNT_TYPE_BUSINESS", Bank: "招商银行", Number: "755915678910802", Name: "深圳市云帆科技有限公司"})
	rdb, prefix := redistest.New(t)
	e := &env{fake: f, rdb: rdb, prefix: prefix, logs: &syncBuf{}, obs: &observed{}, codes: &memCodes{sent: map[string]string{}}}
	e.cfg = wechatpay.Config{
		MchID: f.MchID, CertSerial: f.Keys.MerchantSerial, PrivateKey: f.Keys.MerchantKey,
		BaseURL: f.URL, HTTPClient: &http.Client{Timeout: 5 * time.Second},
		Redis: rdb, Prefix: prefix,
		Directory: memDir{
			"M001": {MerchantNo: "M001", SubMchID: subInd, Name: nameInd, Business: "三丰小吃", Kind: backend.KindIndividual, Phone: phoneInd},
			"M002": {MerchantNo: "M002", SubMchID: subCo, Name: "深圳市云帆科技有限公司", Kind: backend.KindCompany, Phone: "13900139002"},
		},
		Codes: e.codes, Observer: e.obs,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mode == wechatpaytest.PublicKeyMode {
		e.cfg.PublicKeyID, e.cfg.PublicKey = f.Keys.PublicKeyID, &f.Keys.WeChatKey.PublicKey
	} else {
		e.cfg.PlatformCerts = append(e.cfg.PlatformCerts, f.Keys.PlatformCert)
	}
	b, err := wechatpay.New(context.Background(), e.cfg)
	require.NoError(t, err)
	e.b = b
	return e
}

// app is a change of M001's card to newCard at ICBC (no branch needed),
// Beijing.
func app() backend.Application {
	return backend.Application{MerchantNo: "M001", CardNumber: newCard, HolderName: nameInd,
		BankCode: "ICBC", BankName: "中国工商银行", AreaCode: "10", ReservedPhone: phoneInd, CardType: "DC"}
}
