package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/smscode"
	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

var tencentEnv = map[string]string{
	"SMS":                     "tencent",
	"TENCENT_SMS_SECRET_ID":   "AKIDexampleSecretId0123",
	"TENCENT_SMS_SECRET_KEY":  "exampleSecretKeyValue0123",
	"TENCENT_SMS_SDK_APP_ID":  "1400000001",
	"TENCENT_SMS_SIGN_NAME":   "商户助手",
	"TENCENT_SMS_TEMPLATE_ID": "1234567",
}

var webhookEnv = map[string]string{
	"SMS":                "webhook",
	"SMS_WEBHOOK_URL":    "https://sms-gateway.example.com/send",
	"SMS_WEBHOOK_SECRET": strings.Repeat("s", 32),
}

func over(base, changes map[string]string) func(string) string {
	env := map[string]string{}
	for k, v := range base {
		env[k] = v
	}
	for k, v := range changes {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// TestSMSConfig: each provider's settings are required with it, refused
// with another, checked, and named in the error; secrets are never quoted.
func TestSMSConfig(t *testing.T) {
	c, err := loadSMSConfig(over(tencentEnv, nil))
	require.NoError(t, err)
	assert.Equal(t, smscode.TencentConfig{SecretID: tencentEnv["TENCENT_SMS_SECRET_ID"], SecretKey: tencentEnv["TENCENT_SMS_SECRET_KEY"],
		Region: "ap-guangzhou", SdkAppID: "1400000001", SignName: "商户助手", TemplateID: "1234567"}, c.tencent)
	c, err = loadSMSConfig(over(tencentEnv, map[string]string{"TENCENT_SMS_REGION": "ap-beijing", "TENCENT_SMS_URL": "http://127.0.0.1:9000/"}))
	require.NoError(t, err)
	assert.Equal(t, "ap-beijing", c.tencent.Region)
	assert.Equal(t, "127.0.0.1:9000", c.tencent.Endpoint)
	assert.Equal(t, "http", c.tencent.Scheme)

	c, err = loadSMSConfig(over(webhookEnv, map[string]string{"SMS_WEBHOOK_TEMPLATE": "verify"}))
	require.NoError(t, err)
	assert.Equal(t, "verify", c.webhook.Template)
	assert.False(t, c.webhook.AllowHTTP)
	c, err = loadSMSConfig(over(webhookEnv, map[string]string{"SMS_WEBHOOK_URL": "http://127.0.0.1:8088/sms"}))
	require.NoError(t, err)
	assert.True(t, c.webhook.AllowHTTP, "a gateway on this host may take plain http")

	c, err = loadSMSConfig(over(map[string]string{"SMS": "log"}, nil))
	require.NoError(t, err)
	assert.Equal(t, "log", c.provider)

	for _, tc := range []struct {
		name  string
		env   func(string) string
		want  string
		quote string
	}{
		{"no SMS", over(nil, nil), "SMS: required", ""},
		{"unknown SMS", over(map[string]string{"SMS": "aliyun"}, nil), `SMS: "aliyun" is not tencent, webhook or log`, ""},
		{"tencent secret id", over(tencentEnv, map[string]string{"TENCENT_SMS_SECRET_ID": ""}), "TENCENT_SMS_SECRET_ID: required with SMS=tencent", ""},
		{"tencent secret id spaces", over(tencentEnv, map[string]string{"TENCENT_SMS_SECRET_ID": "AKID with spaces"}), "TENCENT_SMS_SECRET_ID: want printable", "AKID with spaces"},
		{"tencent secret key", over(tencentEnv, map[string]string{"TENCENT_SMS_SECRET_KEY": ""}), "TENCENT_SMS_SECRET_KEY: required", ""},
		{"tencent secret key spaces", over(tencentEnv, map[string]string{"TENCENT_SMS_SECRET_KEY": "my secret"}), "TENCENT_SMS_SECRET_KEY", "my secret"},
		{"tencent region", over(tencentEnv, map[string]string{"TENCENT_SMS_REGION": "Guangzhou"}), "TENCENT_SMS_REGION", ""},
		{"tencent app id", over(tencentEnv, map[string]string{"TENCENT_SMS_SDK_APP_ID": ""}), "TENCENT_SMS_SDK_APP_ID: required", ""},
		{"tencent app id shape", over(tencentEnv, map[string]string{"TENCENT_SMS_SDK_APP_ID": "app-1"}), "TENCENT_SMS_SDK_APP_ID", ""},
		{"tencent sign", over(tencentEnv, map[string]string{"TENCENT_SMS_SIGN_NAME": ""}), "TENCENT_SMS_SIGN_NAME: required", ""},
		{"tencent template", over(tencentEnv, map[string]string{"TENCENT_SMS_TEMPLATE_ID": ""}), "TENCENT_SMS_TEMPLATE_ID: required", ""},
		{"tencent template shape", over(tencentEnv, map[string]string{"TENCENT_SMS_TEMPLATE_ID": "T-1"}), "TENCENT_SMS_TEMPLATE_ID", ""},
		{"tencent url", over(tencentEnv, map[string]string{"TENCENT_SMS_URL": "sms.tencentcloudapi.com"}), "TENCENT_SMS_URL", ""},
		{"tencent with a webhook setting", over(tencentEnv, map[string]string{"SMS_WEBHOOK_SECRET": "s3cret"}), "SMS_WEBHOOK_SECRET: not used with SMS=tencent", "s3cret"},
		{"webhook url", over(webhookEnv, map[string]string{"SMS_WEBHOOK_URL": ""}), "SMS_WEBHOOK_URL: required with SMS=webhook", ""},
		{"webhook url shape", over(webhookEnv, map[string]string{"SMS_WEBHOOK_URL": "sms-gateway.example.com"}), "SMS_WEBHOOK_URL: not an https URL", ""},
		{"webhook over http", over(webhookEnv, map[string]string{"SMS_WEBHOOK_URL": "http://sms-gateway.example.com/send"}), "SMS_WEBHOOK_URL: http is taken only", ""},
		{"webhook secret", over(webhookEnv, map[string]string{"SMS_WEBHOOK_SECRET": ""}), "SMS_WEBHOOK_SECRET: required", ""},
		{"webhook secret short", over(webhookEnv, map[string]string{"SMS_WEBHOOK_SECRET": "short-s3cret"}), "SMS_WEBHOOK_SECRET: too short", "short-s3cret"},
		{"webhook with a tencent setting", over(webhookEnv, map[string]string{"TENCENT_SMS_SECRET_KEY": "k3y"}), "TENCENT_SMS_SECRET_KEY: not used with SMS=webhook", "k3y"},
		{"log with a webhook setting", over(map[string]string{"SMS": "log", "SMS_WEBHOOK_URL": "https://x.example"}, nil), "SMS_WEBHOOK_URL: not used with SMS=log", ""},
		{"log with a tencent setting", over(map[string]string{"SMS": "log", "TENCENT_SMS_REGION": "ap-guangzhou"}, nil), "TENCENT_SMS_REGION: not used with SMS=log", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadSMSConfig(tc.env)
			require.ErrorContains(t, err, tc.want)
			if tc.quote != "" {
				assert.NotContains(t, err.Error(), tc.quote)
			}
		})
	}
}

var demoCode = regexp.MustCompile(`^\[demo SMS to 138\*\*\*\*0001\] verification code ([0-9]{6})\n$`)

// TestNewCodesLog: SMS=log prints the code to the SMS writer, as the
// sandbox does, and never to the log; the code checks.
func TestNewCodesLog(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.New(t)
	var sms, logs bytes.Buffer
	codes, err := newCodes(over(map[string]string{"SMS": "log"}, nil), rdb, prefix, store.RandomKey(), nil, &sms,
		slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	var _ backend.Codes = codes
	require.NoError(t, codes.Send(ctx, "822100050110001", "13800000001"))
	m := demoCode.FindStringSubmatch(sms.String())
	require.NotNil(t, m, "printed: %q", sms.String())
	require.NoError(t, codes.Check(ctx, "822100050110001", m[1]))
	assert.Empty(t, leaktest.Leaks("13800000001 "+m[1], logs.String()), "logs: %s", logs.String())
	assert.Contains(t, logs.String(), "SMS=log")

	_, err = newCodes(over(nil, nil), rdb, prefix, store.RandomKey(), nil, &sms, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "SMS: required")
}

// TestNewCodesWebhook: SMS=webhook posts the code, signed with
// SMS_WEBHOOK_SECRET, to a gateway on this host; the code hashed with a
// key from DATA_KEY still checks after DATA_KEY is rotated.
func TestNewCodesWebhook(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.New(t)
	secret := strings.Repeat("g", 40)
	var got smscode.WebhookMessage
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := backend.Verify([]byte(secret), r.Header.Get(smscode.HeaderTimestamp), r.Header.Get(smscode.HeaderSignature), body, time.Now()); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		_ = json.Unmarshal(body, &got)
	}))
	defer gw.Close()
	env := over(map[string]string{"SMS": "webhook", "SMS_WEBHOOK_URL": gw.URL + "/send", "SMS_WEBHOOK_SECRET": secret}, nil)
	oldKey := store.RandomKey()
	codes, err := newCodes(env, rdb, prefix, oldKey, nil, io.Discard, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.NoError(t, codes.Send(ctx, "822100050110001", "13800000001"))
	require.Equal(t, "13800000001", got.Phone)

	rotated, err := newCodes(env, rdb, prefix, store.RandomKey(), [][]byte{oldKey}, io.Discard, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.NoError(t, rotated.Check(ctx, "822100050110001", got.Code), "a code sent before the rotation checks")
}

func TestCodeKeyIsNotTheDataKey(t *testing.T) {
	dk := store.RandomKey()
	k, err := codeKey(dk)
	require.NoError(t, err)
	assert.Len(t, k, 32)
	assert.NotEqual(t, dk, k)
	k2, err := codeKey(dk)
	require.NoError(t, err)
	assert.Equal(t, k, k2, "every replica derives the same key")
}
