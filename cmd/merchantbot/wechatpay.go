package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/wechatpay"
	"github.com/merchantbot/merchantbot/dialogs/store"
)

// wechatpayBackend is the BACKEND_URL that selects WeChat Pay
// (backend/wechatpay, docs/ACQUIRERS.md).
const wechatpayBackend = "wechatpay"

// wechatpaySettings are WeChat Pay's settings: each is an error with
// another BACKEND_URL.
var wechatpaySettings = []string{
	"WECHATPAY_MCHID", "WECHATPAY_CERT_SERIAL", "WECHATPAY_PRIVATE_KEY_FILE",
	"WECHATPAY_PUBLIC_KEY_ID", "WECHATPAY_PUBLIC_KEY_FILE", "WECHATPAY_PLATFORM_CERT_FILE",
	"WECHATPAY_BASE_URL",
}

// wechatpayConfig is WeChat Pay's part of wechatpay.Config, read from the
// settings and the key files.
type wechatpayConfig struct {
	mchID, certSerial string
	privateKey        *rsa.PrivateKey
	publicKeyID       string
	publicKey         *rsa.PublicKey
	platformCerts     []*x509.Certificate
	baseURL           string
}

var (
	mchIDShape  = regexp.MustCompile(`^[0-9]{8,32}$`)
	serialShape = regexp.MustCompile(`^[0-9A-Fa-f]{8,64}$`)
	pubKeyShape = regexp.MustCompile(`^PUB_KEY_ID_[0-9A-Za-z_]{1,64}$`)
)

// loadWechatpayConfig reads the WECHATPAY_* settings for
// BACKEND_URL=wechatpay: mchid, the API certificate's serial and private
// key file, and exactly one of WeChat Pay's public key (id and file) or its
// platform certificate file. Errors name the setting, never a key's content.
func loadWechatpayConfig(getenv func(string) string) (*wechatpayConfig, error) {
	c := &wechatpayConfig{
		mchID: strings.TrimSpace(getenv("WECHATPAY_MCHID")), certSerial: strings.TrimSpace(getenv("WECHATPAY_CERT_SERIAL")),
		publicKeyID: strings.TrimSpace(getenv("WECHATPAY_PUBLIC_KEY_ID")), baseURL: strings.TrimSpace(getenv("WECHATPAY_BASE_URL")),
	}
	switch {
	case c.mchID == "":
		return nil, errors.New("WECHATPAY_MCHID: required with BACKEND_URL=wechatpay (the service provider's mchid)")
	case !mchIDShape.MatchString(c.mchID):
		return nil, errors.New("WECHATPAY_MCHID: want the mchid's digits")
	case c.certSerial == "":
		return nil, errors.New("WECHATPAY_CERT_SERIAL: required with BACKEND_URL=wechatpay (the merchant API certificate's serial number)")
	case !serialShape.MatchString(c.certSerial):
		return nil, errors.New("WECHATPAY_CERT_SERIAL: want the certificate serial in hex")
	}
	keyFile := getenv("WECHATPAY_PRIVATE_KEY_FILE")
	if keyFile == "" {
		return nil, errors.New("WECHATPAY_PRIVATE_KEY_FILE: required with BACKEND_URL=wechatpay (apiclient_key.pem)")
	}
	key, err := utils.LoadPrivateKeyWithPath(keyFile)
	if err != nil {
		return nil, fmt.Errorf("WECHATPAY_PRIVATE_KEY_FILE: %s is not an RSA private key in PEM (PKCS#8)", keyFile)
	}
	c.privateKey = key
	pubFile, certFile := getenv("WECHATPAY_PUBLIC_KEY_FILE"), getenv("WECHATPAY_PLATFORM_CERT_FILE")
	switch {
	case (c.publicKeyID != "" || pubFile != "") && certFile != "":
		return nil, errors.New("WECHATPAY_PLATFORM_CERT_FILE: set either WeChat Pay's public key (WECHATPAY_PUBLIC_KEY_ID and WECHATPAY_PUBLIC_KEY_FILE) or its platform certificate, not both")
	case certFile != "":
		cert, err := utils.LoadCertificateWithPath(certFile)
		if err != nil {
			return nil, fmt.Errorf("WECHATPAY_PLATFORM_CERT_FILE: %s is not a certificate in PEM", certFile)
		}
		if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
			return nil, fmt.Errorf("WECHATPAY_PLATFORM_CERT_FILE: %s does not hold an RSA key", certFile)
		}
		c.platformCerts = []*x509.Certificate{cert}
	case c.publicKeyID == "" && pubFile == "":
		return nil, errors.New("WECHATPAY_PUBLIC_KEY_ID: required with BACKEND_URL=wechatpay, with WECHATPAY_PUBLIC_KEY_FILE (or WECHATPAY_PLATFORM_CERT_FILE for the older platform-certificate mode)")
	case c.publicKeyID == "":
		return nil, errors.New("WECHATPAY_PUBLIC_KEY_ID: required with WECHATPAY_PUBLIC_KEY_FILE (PUB_KEY_ID_…)")
	case !pubKeyShape.MatchString(c.publicKeyID):
		return nil, errors.New("WECHATPAY_PUBLIC_KEY_ID: want PUB_KEY_ID_ followed by its id")
	case pubFile == "":
		return nil, errors.New("WECHATPAY_PUBLIC_KEY_FILE: required with WECHATPAY_PUBLIC_KEY_ID (pub_key.pem)")
	default:
		pub, err := utils.LoadPublicKeyWithPath(pubFile)
		if err != nil {
			return nil, fmt.Errorf("WECHATPAY_PUBLIC_KEY_FILE: %s is not an RSA public key in PEM", pubFile)
		}
		c.publicKey = pub
	}
	if c.baseURL == "" {
		c.baseURL = wechatpay.DefaultBaseURL
	}
	u, err := url.Parse(c.baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, errors.New("WECHATPAY_BASE_URL: want http(s)://host[/path] (default " + wechatpay.DefaultBaseURL + ")")
	}
	return c, nil
}

// refuseWechatpaySettings is an error naming a WECHATPAY_* setting set
// while BACKEND_URL is not wechatpay.
func refuseWechatpaySettings(getenv func(string) string) error {
	for _, name := range wechatpaySettings {
		if getenv(name) != "" {
			return fmt.Errorf("%s: only used with BACKEND_URL=%s", name, wechatpayBackend)
		}
	}
	return nil
}

// config is c as the adapter takes it (the parts from settings; Redis, the
// directory and the SMS codes are added by the caller).
func (c *wechatpayConfig) config() wechatpay.Config {
	return wechatpay.Config{
		MchID: c.mchID, CertSerial: c.certSerial, PrivateKey: c.privateKey,
		PublicKeyID: c.publicKeyID, PublicKey: c.publicKey, PlatformCerts: c.platformCerts, BaseURL: c.baseURL,
	}
}

// wechatpayStore is where WeChat Pay's acquirer keeps its parts: the
// operator's directory (sealed with the data key's cipher, as `directory
// import` writes it), the bot's SMS codes (hashed with a key derived from
// the data key), the submissions and the cached lists, all under prefix.
type wechatpayStore struct {
	rdb     redis.UniversalClient
	prefix  string
	cipher  *store.Cipher
	dataKey []byte
	oldKeys [][]byte
}

// newWechatpay is the WeChat Pay acquirer of cfg over st: its codes are
// sent by the provider SMS names (the "log" provider prints them to sms),
// its calls reported to obs (nil: none).
func newWechatpay(ctx context.Context, cfg *wechatpayConfig, st wechatpayStore, getenv func(string) string,
	sms io.Writer, log *slog.Logger, obs backend.Observer) (*wechatpay.Backend, error) {
	codes, err := newCodes(getenv, st.rdb, st.prefix, st.dataKey, st.oldKeys, sms, log)
	if err != nil {
		return nil, err
	}
	dir := newDirectory(st.rdb, st.prefix, st.cipher)
	wc := cfg.config()
	wc.Redis, wc.Prefix, wc.Directory, wc.Codes, wc.Logger = st.rdb, st.prefix, dir, codes, log
	if obs != nil {
		wc.Observer = obs
	}
	b, err := wechatpay.New(ctx, wc)
	if err != nil {
		return nil, fmt.Errorf("BACKEND_URL=%s: %w", wechatpayBackend, err)
	}
	mode := "public_key"
	if cfg.publicKey == nil {
		mode = "platform_certificate"
	}
	log.Info("acquirer", "url", redactedURL(wc.BaseURL), "wechatpay_mode", mode)
	if stats, err := dir.Stats(ctx); err != nil {
		log.Warn("merchant directory unreadable", "err", err)
	} else if stats.Merchants == 0 {
		log.Warn("the merchant directory is empty: no merchant can be verified until `merchantbot directory import FILE`")
	} else {
		log.Info("merchant directory", "merchants", stats.Merchants, "imported_at", stats.ImportedAt)
	}
	return b, nil
}

// registerWechatpayMetrics counts, on reg, WeChat Pay's answers refused
// because their signature did not verify (docs/OPERATIONS.md).
func registerWechatpayMetrics(reg prometheus.Registerer, b *wechatpay.Backend) error {
	return reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "merchantbot_wechatpay_bad_signatures_total",
		Help: "WeChat Pay answers refused because their signature did not verify.",
	}, func() float64 { return float64(b.BadSignatures()) }))
}
