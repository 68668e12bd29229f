package main

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend/smscode"
)

// The settings of the bot's own SMS codes (backend/smscode), for an
// acquirer that sends none itself (BACKEND_URL=wechatpay): SMS picks the
// provider, and each provider has its own.
const (
	smsProviderTencent = "tencent"
	smsProviderWebhook = "webhook"
	smsProviderLog     = "log"
)

var (
	tencentSMSSettings = []string{"TENCENT_SMS_SECRET_ID", "TENCENT_SMS_SECRET_KEY", "TENCENT_SMS_REGION",
		"TENCENT_SMS_SDK_APP_ID", "TENCENT_SMS_SIGN_NAME", "TENCENT_SMS_TEMPLATE_ID", "TENCENT_SMS_URL"}
	webhookSMSSettings = []string{"SMS_WEBHOOK_URL", "SMS_WEBHOOK_SECRET", "SMS_WEBHOOK_TEMPLATE"}
	// smsSettings is every setting of the bot's own codes.
	smsSettings = append(append([]string{"SMS"}, tencentSMSSettings...), webhookSMSSettings...)
)

// defaultTencentSMSRegion is TENCENT_SMS_REGION when unset.
const defaultTencentSMSRegion = "ap-guangzhou"

var (
	tencentRegionShape = regexp.MustCompile(`^[a-z]{2,4}-[a-z]+(-[0-9]+)?$`)
	digitsShape        = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// smsConfig is SMS and its provider's settings, validated.
type smsConfig struct {
	provider string
	tencent  smscode.TencentConfig
	webhook  smscode.WebhookConfig
}

// loadSMSConfig reads SMS (tencent, webhook or log) and the chosen
// provider's settings. A missing one, a malformed one, or one of another
// provider is an error naming it; errors never quote a secret.
func loadSMSConfig(getenv func(string) string) (smsConfig, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	c := smsConfig{provider: get("SMS")}
	var own []string
	switch c.provider {
	case "":
		return c, errors.New("SMS: required with an acquirer that sends no codes of its own: tencent (Tencent Cloud SMS), webhook (your own SMS gateway) or log (demo: codes printed, no SMS sent)")
	case smsProviderTencent:
		own = tencentSMSSettings
	case smsProviderWebhook:
		own = webhookSMSSettings
	case smsProviderLog:
	default:
		return c, fmt.Errorf("SMS: %q is not tencent, webhook or log", c.provider)
	}
	for _, name := range smsSettings[1:] {
		if get(name) != "" && !slices.Contains(own, name) {
			return c, fmt.Errorf("%s: not used with SMS=%s", name, c.provider)
		}
	}
	required := func(name, what string) (string, error) {
		v := get(name)
		if v == "" {
			return "", fmt.Errorf("%s: required with SMS=%s (%s)", name, c.provider, what)
		}
		return v, nil
	}
	var err error
	switch c.provider {
	case smsProviderTencent:
		t := &c.tencent
		if t.SecretID, err = required("TENCENT_SMS_SECRET_ID", "the API key's SecretId"); err != nil {
			return c, err
		}
		if !apiKeyShaped(t.SecretID) {
			return c, errors.New("TENCENT_SMS_SECRET_ID: want printable ASCII without spaces")
		}
		if t.SecretKey, err = required("TENCENT_SMS_SECRET_KEY", "the API key's SecretKey"); err != nil {
			return c, err
		}
		if !apiKeyShaped(t.SecretKey) {
			return c, errors.New("TENCENT_SMS_SECRET_KEY: want printable ASCII without spaces")
		}
		if t.Region = get("TENCENT_SMS_REGION"); t.Region == "" {
			t.Region = defaultTencentSMSRegion
		} else if !tencentRegionShape.MatchString(t.Region) {
			return c, fmt.Errorf("TENCENT_SMS_REGION: %q is not a region (e.g. ap-guangzhou)", t.Region)
		}
		if t.SdkAppID, err = required("TENCENT_SMS_SDK_APP_ID", "the SMS application's SdkAppId, 1400…"); err != nil {
			return c, err
		}
		if !digitsShape.MatchString(t.SdkAppID) {
			return c, fmt.Errorf("TENCENT_SMS_SDK_APP_ID: %q is not an SdkAppId (digits, 1400…)", t.SdkAppID)
		}
		if t.SignName, err = required("TENCENT_SMS_SIGN_NAME", "the approved signature, 签名"); err != nil {
			return c, err
		}
		if utf8.RuneCountInString(t.SignName) > 64 {
			return c, errors.New("TENCENT_SMS_SIGN_NAME: longer than 64 characters")
		}
		if t.TemplateID, err = required("TENCENT_SMS_TEMPLATE_ID", "the approved template whose {1} is the code"); err != nil {
			return c, err
		}
		if !digitsShape.MatchString(t.TemplateID) {
			return c, fmt.Errorf("TENCENT_SMS_TEMPLATE_ID: %q is not a template id (digits)", t.TemplateID)
		}
		if raw := get("TENCENT_SMS_URL"); raw != "" {
			u, err := url.Parse(raw)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.User != nil {
				return c, fmt.Errorf("TENCENT_SMS_URL: %q is not an http(s) URL of Tencent Cloud's API", raw)
			}
			t.Endpoint, t.Scheme = u.Host+strings.TrimRight(u.Path, "/"), u.Scheme
		}
	case smsProviderWebhook:
		w := &c.webhook
		if w.URL, err = required("SMS_WEBHOOK_URL", "your SMS gateway's https URL"); err != nil {
			return c, err
		}
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c, errors.New("SMS_WEBHOOK_URL: not an https URL")
		}
		if u.Scheme == "http" {
			if !loopback(u.Hostname()) {
				return c, errors.New("SMS_WEBHOOK_URL: http is taken only for a gateway on this host (127.0.0.1, ::1, localhost); the request carries the phone and the code: use https")
			}
			w.AllowHTTP = true
		}
		secret, err := required("SMS_WEBHOOK_SECRET", "shared with the gateway, which checks the requests' signature")
		if err != nil {
			return c, err
		}
		if len(secret) < smscode.MinKeySize {
			return c, fmt.Errorf("SMS_WEBHOOK_SECRET: too short (at least %d characters)", smscode.MinKeySize)
		}
		w.Secret = []byte(secret)
		w.Template = get("SMS_WEBHOOK_TEMPLATE")
	}
	return c, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// refuseSMSSettings is an error naming the first SMS setting set, for an
// acquirer that sends its own codes (the sandbox, the generic API): they
// would do nothing.
func refuseSMSSettings(getenv func(string) string) error {
	for _, name := range smsSettings {
		if strings.TrimSpace(getenv(name)) != "" {
			return fmt.Errorf("%s: not used: the acquirer at BACKEND_URL sends its own SMS codes (the bot's own codes are for BACKEND_URL=wechatpay)", name)
		}
	}
	return nil
}

// codeKey is the key the SMS codes' HMACs are made with, derived from a
// data key (HKDF-SHA256, its own label): no setting of its own to manage,
// and rotated with DATA_KEY (codes hashed with the old one still check).
func codeKey(dataKey []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, dataKey, nil, "merchantbot sms code hmac v1", 32)
}

// newCodes is the bot's own SMS codes, for an acquirer that sends none
// (the WeChat Pay wiring calls it): SMS and its provider's settings are read
// from getenv (loadSMSConfig), the codes are kept under prefix in rdb and
// hashed with a key derived from DATA_KEY (dataKey, and oldKeys from
// DATA_KEY_OLD). With SMS=log the codes are printed to sms (serve's
// standard output), as the sandbox prints its own; log never sees a code.
func newCodes(getenv func(string) string, rdb redis.UniversalClient, prefix string, dataKey []byte, oldKeys [][]byte,
	sms io.Writer, log *slog.Logger) (*smscode.Codes, error) {
	cfg, err := loadSMSConfig(getenv)
	if err != nil {
		return nil, err
	}
	var p smscode.Provider
	switch cfg.provider {
	case smsProviderTencent:
		cfg.tencent.Log = log
		if p, err = smscode.NewTencent(cfg.tencent); err != nil {
			return nil, fmt.Errorf("SMS=tencent: %w", err)
		}
		log.Info("sms codes", "provider", "tencent", "region", cfg.tencent.Region, "sdk_app_id", cfg.tencent.SdkAppID)
	case smsProviderWebhook:
		if p, err = smscode.NewWebhook(cfg.webhook); err != nil {
			return nil, fmt.Errorf("SMS_WEBHOOK_URL: %w", err)
		}
		log.Info("sms codes", "provider", "webhook", "url", redactedURL(cfg.webhook.URL))
	case smsProviderLog:
		p = smscode.NewConsole(sms)
		log.Warn("SMS=log: codes are printed to standard output and no SMS is sent (demo only)")
	}
	key, err := codeKey(dataKey)
	if err != nil {
		return nil, fmt.Errorf("DATA_KEY: %w", err)
	}
	var old [][]byte
	for _, k := range oldKeys {
		ok, err := codeKey(k)
		if err != nil {
			return nil, fmt.Errorf("DATA_KEY_OLD: %w", err)
		}
		old = append(old, ok)
	}
	return smscode.New(rdb, prefix, key, p, smscode.WithOldKeys(old...), smscode.WithLogger(log))
}
