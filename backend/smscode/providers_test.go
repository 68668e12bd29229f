package smscode_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/smscode"
	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

// fakeTencent is Tencent Cloud's API as SendSms uses it: it checks the
// TC3-HMAC-SHA256 signature as Tencent documents it
// (https://cloud.tencent.com/document/api/382/52072), written here apart
// from the SDK, and answers with answer.
type fakeTencent struct {
	t         *testing.T
	secretID  string
	secretKey string
	mu        sync.Mutex
	params    []map[string]any
	answer    func(w http.ResponseWriter, params map[string]any)
}

func (f *fakeTencent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := f.verify(r, body); err != nil {
		f.t.Logf("fake tencent: %v", err)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"The provided credentials could not be validated."},"RequestId":"req-sig"}}`)
		return
	}
	var params map[string]any
	if err := json.Unmarshal(body, &params); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.params = append(f.params, params)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	f.answer(w, params)
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func (f *fakeTencent) verify(r *http.Request, body []byte) error {
	if r.Method != http.MethodPost || r.Header.Get("X-TC-Action") != "SendSms" || r.Header.Get("X-TC-Version") != "2021-01-11" {
		return fmt.Errorf("not SendSms 2021-01-11: %s %s %s", r.Method, r.Header.Get("X-TC-Action"), r.Header.Get("X-TC-Version"))
	}
	if r.Header.Get("X-TC-Region") != "ap-guangzhou" {
		return fmt.Errorf("region %q", r.Header.Get("X-TC-Region"))
	}
	ts := r.Header.Get("X-TC-Timestamp")
	var sec int64
	if _, err := fmt.Sscan(ts, &sec); err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("timestamp %q", ts)
	}
	date := time.Unix(sec, 0).UTC().Format("2006-01-02")
	scope := date + "/sms/tc3_request"
	canonical := "POST\n/\n\n" +
		"content-type:" + r.Header.Get("Content-Type") + "\nhost:" + r.Host + "\n\n" +
		"content-type;host\n" + sha256Hex(string(body))
	toSign := "TC3-HMAC-SHA256\n" + ts + "\n" + scope + "\n" + sha256Hex(canonical)
	key := hmacSHA256(hmacSHA256(hmacSHA256([]byte("TC3"+f.secretKey), date), "sms"), "tc3_request")
	want := "TC3-HMAC-SHA256 Credential=" + f.secretID + "/" + scope +
		", SignedHeaders=content-type;host, Signature=" + hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(r.Header.Get("Authorization")), []byte(want)) {
		return fmt.Errorf("authorization %q, want %q", r.Header.Get("Authorization"), want)
	}
	return nil
}

func okAnswer(w http.ResponseWriter, params map[string]any) {
	phones, _ := params["PhoneNumberSet"].([]any)
	fmt.Fprintf(w, `{"Response":{"SendStatusSet":[{"SerialNo":"5000:1","PhoneNumber":%q,"Fee":1,"SessionContext":"","Code":"Ok","Message":"send success","IsoCode":"CN"}],"RequestId":"req-ok"}}`, phones[0])
}

func newFakeTencent(t *testing.T, answer func(http.ResponseWriter, map[string]any)) (*fakeTencent, smscode.TencentConfig) {
	t.Helper()
	f := &fakeTencent{t: t, secretID: "AKIDtest" + rand.Text()[:8], secretKey: rand.Text(), answer: answer}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, smscode.TencentConfig{
		SecretID: f.secretID, SecretKey: f.secretKey, Region: "ap-guangzhou",
		SdkAppID: "1400000001", SignName: "商户助手", TemplateID: "1234567",
		Endpoint: strings.TrimPrefix(srv.URL, "http://"), Scheme: "http",
	}
}

// TestTencentThroughCodes: a code sent with Tencent Cloud SMS reaches the
// fake, signed, with our parameters; the code it carries checks.
func TestTencentThroughCodes(t *testing.T) {
	ctx := context.Background()
	f, cfg := newFakeTencent(t, okAnswer)
	var logs bytes.Buffer
	cfg.Log = slog.New(slog.NewTextHandler(&logs, nil))
	p, err := smscode.NewTencent(cfg)
	require.NoError(t, err)
	rdb, prefix := redistest.New(t)
	codes, err := smscode.New(rdb, prefix, []byte(rand.Text()+rand.Text()), p, smscode.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)

	require.NoError(t, codes.Send(ctx, no, phone))
	require.Len(t, f.params, 1)
	got := f.params[0]
	assert.Equal(t, []any{"+86" + phone}, got["PhoneNumberSet"])
	assert.Equal(t, "1400000001", got["SmsSdkAppId"])
	assert.Equal(t, "商户助手", got["SignName"])
	assert.Equal(t, "1234567", got["TemplateId"])
	params, _ := got["TemplateParamSet"].([]any)
	require.Len(t, params, 1)
	code, _ := params[0].(string)
	require.NoError(t, codes.Check(ctx, no, code))
	assert.Empty(t, leaktest.Leaks(phone+" "+code, logs.String()), "logs: %s", logs.String())
}

func TestTencentFailures(t *testing.T) {
	ctx := context.Background()
	const code = "481516"
	for name, tc := range map[string]struct {
		answer func(http.ResponseWriter, map[string]any)
		badKey bool
		want   string
	}{
		"signature refused": {answer: okAnswer, badKey: true, want: "AuthFailure.SignatureFailure"},
		"number refused": {answer: func(w http.ResponseWriter, _ map[string]any) {
			fmt.Fprintf(w, `{"Response":{"SendStatusSet":[{"SerialNo":"","PhoneNumber":"+86%s","Fee":0,"Code":"LimitExceeded.PhoneNumberDailyLimit","Message":"+86%s reached the daily limit (code %s)","IsoCode":"CN"}],"RequestId":"req-2"}}`, phone, phone, code)
		}, want: "LimitExceeded.PhoneNumberDailyLimit"},
		"request refused": {answer: func(w http.ResponseWriter, _ map[string]any) {
			fmt.Fprintf(w, `{"Response":{"Error":{"Code":"FailedOperation.SignatureIncorrectOrUnapproved","Message":"sign for %s not approved"},"RequestId":"req-3"}}`, phone)
		}, want: "FailedOperation.SignatureIncorrectOrUnapproved"},
		"server error echoing the request": {answer: func(w http.ResponseWriter, _ map[string]any) {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, `upstream failed for {"PhoneNumberSet":["+86%s"],"TemplateParamSet":["%s"]}`, phone, code)
		}, want: "tencent sms: ClientError"},
		"no status": {answer: func(w http.ResponseWriter, _ map[string]any) {
			fmt.Fprint(w, `{"Response":{"SendStatusSet":[],"RequestId":"req-5"}}`)
		}, want: "0 send statuses"},
	} {
		t.Run(name, func(t *testing.T) {
			f, cfg := newFakeTencent(t, tc.answer)
			if tc.badKey {
				cfg.SecretKey += "x"
			}
			p, err := smscode.NewTencent(cfg)
			require.NoError(t, err)
			err = p.Send(ctx, phone, code)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, leaktest.Leaks(phone+" "+code, err.Error()), "%v", err)
			if !tc.badKey {
				assert.Len(t, f.params, 1, "the SDK does not send again on its own")
			}
		})
	}
}

func TestTencentConfig(t *testing.T) {
	_, cfg := newFakeTencent(t, okAnswer)
	cfg.SignName = ""
	_, err := smscode.NewTencent(cfg)
	require.ErrorContains(t, err, "sign name")
}

func TestTencentTimeout(t *testing.T) {
	_, cfg := newFakeTencent(t, func(w http.ResponseWriter, p map[string]any) {
		time.Sleep(300 * time.Millisecond)
		okAnswer(w, p)
	})
	p, err := smscode.NewTencent(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = p.Send(ctx, phone, "123456")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, smscode.ErrUnanswered, "the request may have been taken")

	// No connection at all: nothing was sent.
	srv := httptest.NewServer(http.NotFoundHandler())
	cfg.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	p, err = smscode.NewTencent(cfg)
	require.NoError(t, err)
	err = p.Send(context.Background(), phone, "123456")
	require.Error(t, err)
	assert.NotErrorIs(t, err, smscode.ErrUnanswered, "refused connection: %v", err)

	// A deadline that ran out before the request went: nothing was sent.
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	_, cfg = newFakeTencent(t, okAnswer)
	p, err = smscode.NewTencent(cfg)
	require.NoError(t, err)
	err = p.Send(gone, phone, "123456")
	require.Error(t, err)
	assert.NotErrorIs(t, err, smscode.ErrUnanswered, "never written: %v", err)
}

// hangingDial is a transport whose connection never comes: it waits for
// the request's context and writes nothing (a host that drops the SYN, a
// DNS lookup that hangs).
type hangingDial struct{}

func (hangingDial) RoundTrip(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

type gateway struct {
	secret []byte
	status int
	mu     sync.Mutex
	got    []smscode.WebhookMessage
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := backend.Verify(g.secret, r.Header.Get(smscode.HeaderTimestamp), r.Header.Get(smscode.HeaderSignature), body, time.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "want a JSON POST", http.StatusBadRequest)
		return
	}
	var m smscode.WebhookMessage
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.got = append(g.got, m)
	g.mu.Unlock()
	if g.status != 0 {
		w.WriteHeader(g.status)
		fmt.Fprintf(w, "refused %s %s", m.Phone, m.Code)
	}
}

func TestWebhook(t *testing.T) {
	ctx := context.Background()
	secret := []byte(rand.Text() + rand.Text())
	g := &gateway{secret: secret}
	srv := httptest.NewServer(g)
	defer srv.Close()

	p, err := smscode.NewWebhook(smscode.WebhookConfig{URL: srv.URL + "/sms", Secret: secret, Template: "verify", AllowHTTP: true})
	require.NoError(t, err)
	rdb, prefix := redistest.New(t)
	codes, err := smscode.New(rdb, prefix, []byte(rand.Text()+rand.Text()), p)
	require.NoError(t, err)
	require.NoError(t, codes.Send(ctx, no, phone))
	require.Len(t, g.got, 1)
	assert.Equal(t, phone, g.got[0].Phone)
	assert.Equal(t, "verify", g.got[0].Template)
	require.NoError(t, codes.Check(ctx, no, g.got[0].Code), "the code the gateway got checks")

	wrongSecret, err := smscode.NewWebhook(smscode.WebhookConfig{URL: srv.URL, Secret: []byte(rand.Text() + rand.Text()), AllowHTTP: true})
	require.NoError(t, err)
	err = wrongSecret.Send(ctx, phone, "123456")
	require.ErrorContains(t, err, "HTTP 401", "the gateway refuses a request not signed with its secret")

	g.status = http.StatusInternalServerError
	err = p.Send(ctx, phone, "123456")
	require.ErrorContains(t, err, "HTTP 500")
	assert.Empty(t, leaktest.Leaks(phone+" 123456", err.Error()), "the answer's body is not quoted: %v", err)
}

func TestWebhookConfig(t *testing.T) {
	secret := []byte(rand.Text() + rand.Text())
	for _, tc := range []struct {
		cfg  smscode.WebhookConfig
		want string
	}{
		{smscode.WebhookConfig{URL: "http://gw.example/sms", Secret: secret}, "must be https"},
		{smscode.WebhookConfig{URL: "gw.example/sms", Secret: secret}, "absolute https URL"},
		{smscode.WebhookConfig{URL: "https://gw.example/sms", Secret: []byte("short")}, "want at least 32"},
	} {
		_, err := smscode.NewWebhook(tc.cfg)
		assert.ErrorContains(t, err, tc.want, "%+v", tc.cfg.URL)
	}
	_, err := smscode.NewWebhook(smscode.WebhookConfig{URL: "https://gw.example/sms", Secret: secret})
	assert.NoError(t, err)
}

func TestWebhookUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/sms?token=s3cr3t"
	srv.Close()
	p, err := smscode.NewWebhook(smscode.WebhookConfig{URL: url, Secret: []byte(rand.Text() + rand.Text()), AllowHTTP: true})
	require.NoError(t, err)
	err = p.Send(context.Background(), phone, "123456")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t")
	assert.NotErrorIs(t, err, smscode.ErrUnanswered, "no connection: nothing was sent")
}

// TestWebhookUnanswered: a gateway that takes the request but answers too
// late, or a proxy's 504, may have sent the code; a refusal did not.
func TestWebhookUnanswered(t *testing.T) {
	secret := []byte(rand.Text() + rand.Text())
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		time.Sleep(300 * time.Millisecond)
	}))
	defer slow.Close()
	p, err := smscode.NewWebhook(smscode.WebhookConfig{URL: slow.URL, Secret: secret, AllowHTTP: true})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, p.Send(ctx, phone, "123456"), smscode.ErrUnanswered, "timed out after sending")

	// Timed out before any connection: nothing was sent, nothing kept.
	p, err = smscode.NewWebhook(smscode.WebhookConfig{URL: slow.URL, Secret: secret, AllowHTTP: true,
		Client: &http.Client{Timeout: 50 * time.Millisecond, Transport: hangingDial{}}})
	require.NoError(t, err)
	err = p.Send(context.Background(), phone, "123456")
	require.Error(t, err)
	assert.NotErrorIs(t, err, smscode.ErrUnanswered, "never connected: %v", err)

	for status, lost := range map[int]bool{http.StatusGatewayTimeout: true, http.StatusBadRequest: false, http.StatusInternalServerError: false} {
		g := &gateway{secret: secret, status: status}
		srv := httptest.NewServer(g)
		p, err := smscode.NewWebhook(smscode.WebhookConfig{URL: srv.URL, Secret: secret, AllowHTTP: true})
		require.NoError(t, err)
		err = p.Send(context.Background(), phone, "123456")
		require.Error(t, err)
		assert.Equal(t, lost, errors.Is(err, smscode.ErrUnanswered), "HTTP %d", status)
		srv.Close()
	}
}

func TestConsole(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, smscode.NewConsole(&out).Send(context.Background(), phone, "123456"))
	assert.Equal(t, "[demo SMS to 138****0001] verification code 123456\n", out.String())
}
