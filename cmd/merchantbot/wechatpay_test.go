package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/wechatpay"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
	"github.com/merchantbot/merchantbot/internal/wechatpaytest"
)

type wxDir map[string]backend.DirectoryEntry

func (d wxDir) Lookup(_ context.Context, no string) (backend.DirectoryEntry, error) {
	if e, ok := d[no]; ok {
		return e, nil
	}
	return backend.DirectoryEntry{}, backend.ErrUnknownMerchant
}

type wxCodes struct{}

func (wxCodes) Send(context.Context, string, string) error  { return nil }
func (wxCodes) Check(context.Context, string, string) error { return backend.ErrWrongCode }

// TestWechatpaySettings: BACKEND_URL=wechatpay reads the WECHATPAY_*
// settings; a missing one, a malformed one, both key modes or neither, and
// one set with another BACKEND_URL are errors naming the setting (never a
// key's content). The settings read make a client WeChat Pay (the fake)
// accepts, in both modes.
func TestWechatpaySettings(t *testing.T) {
	f := wechatpaytest.New(t, wechatpaytest.PublicKeyMode)
	dir := t.TempDir()
	keyFile, pubFile, certFile := f.WriteFiles(t, dir)
	garbage := filepath.Join(dir, "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not a key 6222021234567894"), 0o600))
	pubMode := map[string]string{
		"BACKEND_URL": "wechatpay", "WECHATPAY_MCHID": f.MchID, "WECHATPAY_CERT_SERIAL": f.Keys.MerchantSerial,
		"WECHATPAY_PRIVATE_KEY_FILE": keyFile, "WECHATPAY_PUBLIC_KEY_ID": f.Keys.PublicKeyID,
		"WECHATPAY_PUBLIC_KEY_FILE": pubFile, "WECHATPAY_BASE_URL": f.URL,
	}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	certMode := with(pubMode, "WECHATPAY_PUBLIC_KEY_ID", "", "WECHATPAY_PUBLIC_KEY_FILE", "", "WECHATPAY_PLATFORM_CERT_FILE", certFile)
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no mchid", with(pubMode, "WECHATPAY_MCHID", ""), "WECHATPAY_MCHID: required"},
		{"bad mchid", with(pubMode, "WECHATPAY_MCHID", "mch-1"), "WECHATPAY_MCHID"},
		{"no serial", with(pubMode, "WECHATPAY_CERT_SERIAL", ""), "WECHATPAY_CERT_SERIAL: required"},
		{"no private key", with(pubMode, "WECHATPAY_PRIVATE_KEY_FILE", ""), "WECHATPAY_PRIVATE_KEY_FILE: required"},
		{"bad private key", with(pubMode, "WECHATPAY_PRIVATE_KEY_FILE", garbage), "WECHATPAY_PRIVATE_KEY_FILE"},
		{"missing private key file", with(pubMode, "WECHATPAY_PRIVATE_KEY_FILE", filepath.Join(dir, "none.pem")), "WECHATPAY_PRIVATE_KEY_FILE"},
		{"neither mode", with(pubMode, "WECHATPAY_PUBLIC_KEY_ID", "", "WECHATPAY_PUBLIC_KEY_FILE", ""), "WECHATPAY_PUBLIC_KEY_ID: required"},
		{"id without file", with(pubMode, "WECHATPAY_PUBLIC_KEY_FILE", ""), "WECHATPAY_PUBLIC_KEY_FILE: required"},
		{"file without id", with(pubMode, "WECHATPAY_PUBLIC_KEY_ID", ""), "WECHATPAY_PUBLIC_KEY_ID: required"},
		{"bad key id", with(pubMode, "WECHATPAY_PUBLIC_KEY_ID", "KEY1"), "WECHATPAY_PUBLIC_KEY_ID"},
		{"bad public key", with(pubMode, "WECHATPAY_PUBLIC_KEY_FILE", garbage), "WECHATPAY_PUBLIC_KEY_FILE"},
		{"both modes", with(pubMode, "WECHATPAY_PLATFORM_CERT_FILE", certFile), "WECHATPAY_PLATFORM_CERT_FILE: set either"},
		{"bad certificate", with(certMode, "WECHATPAY_PLATFORM_CERT_FILE", garbage), "WECHATPAY_PLATFORM_CERT_FILE"},
		{"bad base url", with(pubMode, "WECHATPAY_BASE_URL", "api.mch.weixin.qq.com"), "WECHATPAY_BASE_URL"},
		{"api key", with(pubMode, "BACKEND_API_KEY", "k"), "BACKEND_API_KEY: not used with BACKEND_URL=wechatpay"},
		{"sandbox code", with(pubMode, "SANDBOX_CODE", "123456"), "SANDBOX_CODE: only used with BACKEND_URL=sandbox"},
		{"with the sandbox", map[string]string{"BACKEND_URL": "sandbox", "WECHATPAY_MCHID": f.MchID}, "WECHATPAY_MCHID: only used with BACKEND_URL=wechatpay"},
		{"with an acquirer URL", map[string]string{"BACKEND_URL": "http://127.0.0.1:1", "WECHATPAY_PUBLIC_KEY_FILE": pubFile}, "WECHATPAY_PUBLIC_KEY_FILE: only used with BACKEND_URL=wechatpay"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadBackendConfig(func(k string) string { return tt.env[k] })
			require.ErrorContains(t, err, tt.want)
			assert.NotContains(t, err.Error(), "6222021234567894", "a file's content is never quoted")
			assert.NotContains(t, err.Error(), "PRIVATE KEY")
		})
	}

	for name, env := range map[string]map[string]string{"public key": pubMode, "platform certificate": certMode} {
		t.Run(name, func(t *testing.T) {
			cfg, err := loadBackendConfig(func(k string) string { return env[k] })
			require.NoError(t, err)
			require.NotNil(t, cfg.wechatpay)
			mode := wechatpaytest.PublicKeyMode
			if env["WECHATPAY_PLATFORM_CERT_FILE"] != "" {
				mode = wechatpaytest.CertificateMode
			}
			fk := wechatpaytest.New(t, mode) // the same keys: one set per test process
			fk.AddSubMerchant("1900000109", wechatpaytest.Account{Type: "ACCOUNT_TYPE_PRIVATE", Bank: "工商银行", Number: "6222020200112233445"})
			wc := cfg.wechatpay.config()
			wc.BaseURL = fk.URL
			wc.Redis, wc.Prefix = redistest.New(t)
			wc.Directory = wxDir{"M001": {MerchantNo: "M001", SubMchID: "1900000109", Kind: backend.KindIndividual, Phone: "13800138001"}}
			wc.Codes = wxCodes{}
			b, err := wechatpay.New(context.Background(), wc)
			require.NoError(t, err)
			m, err := b.Merchant(context.Background(), "M001")
			require.NoError(t, err, "WeChat Pay (the fake) takes the client the settings make")
			assert.Equal(t, "622202*********3445", m.CardMasked)
			assert.Empty(t, fk.Refused())

			// A tampered answer is counted on the metrics page.
			reg := prometheus.NewRegistry()
			require.NoError(t, registerWechatpayMetrics(reg, b))
			fk.Inject(wechatpaytest.OpSettlement, wechatpaytest.Fault{Tamper: true})
			_, err = b.Merchant(context.Background(), "M001")
			require.ErrorIs(t, err, wechatpay.ErrBadSignature)
			families, err := reg.Gather()
			require.NoError(t, err)
			require.Len(t, families, 1)
			assert.Equal(t, "merchantbot_wechatpay_bad_signatures_total", families[0].GetName())
			assert.Equal(t, 1.0, families[0].GetMetric()[0].GetCounter().GetValue())
		})
	}

	// serve with WeChat Pay needs the bot's own SMS codes; the console
	// needs Redis, where the directory, the codes and the applications are.
	serveEnv := with(pubMode, "TELEGRAM_TOKEN", "123456:AAabc_DEF-ghi", "REDIS_URL", "redis://127.0.0.1:6379/0", "DATA_KEY", strings.Repeat("ab", 32))
	_, err := loadServeConfig(func(k string) string { return serveEnv[k] })
	require.ErrorContains(t, err, "SMS: required")
	serveEnv["SMS"] = "log"
	_, err = loadServeConfig(func(k string) string { return serveEnv[k] })
	require.NoError(t, err)
	serveEnv["SMS"] = "tencent"
	_, err = loadServeConfig(func(k string) string { return serveEnv[k] })
	require.ErrorContains(t, err, "TENCENT_SMS_", "a provider's missing setting is named at start")

	_, _, err = runConsoleWith(t, with(pubMode, "SMS", "log"), nil, "/start")
	require.ErrorContains(t, err, "BACKEND_URL=wechatpay: needs REDIS_URL and DATA_KEY")
}
