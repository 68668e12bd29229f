package smscode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// TencentConfig is a Tencent Cloud SMS account and the template that
// carries the code (its one parameter, {1}, is the code).
type TencentConfig struct {
	SecretID, SecretKey string
	Region              string // e.g. ap-guangzhou
	SdkAppID            string // the SMS application's SdkAppId
	SignName            string // the approved signature (签名)
	TemplateID          string // the approved template's id
	// Endpoint and Scheme override the API's host ("sms.tencentcloudapi.com")
	// and "https": tests point them at a fake.
	Endpoint, Scheme string
	// Timeout bounds one request (default 10 s).
	Timeout time.Duration
	// Log receives what the SDK itself logs, every sensitive number masked
	// (default: nowhere).
	Log *slog.Logger
}

// Tencent sends codes with Tencent Cloud SMS's SendSms (API 2021-01-11),
// through the SDK's generic client, which signs requests (TC3-HMAC-SHA256).
// The SDK's debug log stays off (it would log the request: the phone and
// the code), and it never retries a send on its own.
type Tencent struct {
	client *common.Client
	cfg    TencentConfig
}

// NewTencent returns the Tencent Cloud SMS provider of cfg.
func NewTencent(cfg TencentConfig) (*Tencent, error) {
	for name, v := range map[string]string{"secret id": cfg.SecretID, "secret key": cfg.SecretKey,
		"region": cfg.Region, "SdkAppId": cfg.SdkAppID, "sign name": cfg.SignName, "template id": cfg.TemplateID} {
		if v == "" {
			return nil, fmt.Errorf("tencent sms: no %s", name)
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	cpf := profile.NewClientProfile()
	cpf.Debug = false
	cpf.UnsafeRetryOnConnectionFailure = false
	cpf.NetworkFailureMaxRetries = 0
	cpf.RateLimitExceededMaxRetries = 0
	cpf.DisableRegionBreaker = true // no switching to another endpoint behind our back
	cpf.HttpProfile.ReqTimeout = max(1, int(cfg.Timeout/time.Second))
	if cfg.Endpoint != "" {
		cpf.HttpProfile.Endpoint = cfg.Endpoint
	}
	if cfg.Scheme != "" {
		cpf.HttpProfile.Scheme = cfg.Scheme
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	client := common.NewCommonClient(common.NewCredential(cfg.SecretID, cfg.SecretKey), cfg.Region, cpf).
		WithLogger(sdkLogger{cfg.Log})
	return &Tencent{client: client, cfg: cfg}, nil
}

// sdkLogger takes the SDK's log lines (it writes to stderr by default),
// masked.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Printf(format string, args ...any) {
	msg, _ := parse.Mask(fmt.Sprintf(format, args...))
	l.log.Warn("tencent cloud sdk", "msg", msg)
}

// sendSmsAnswer is the part of SendSms's answer we read.
type sendSmsAnswer struct {
	Response struct {
		SendStatusSet []struct {
			Code    string `json:"Code"`
			Message string `json:"Message"`
		} `json:"SendStatusSet"`
		RequestID string `json:"RequestId"`
	} `json:"Response"`
}

// Send sends code to phone (+86) with the configured template. A request
// refused by Tencent Cloud, or a number whose SendStatus is not "Ok", is an
// error naming Tencent's code; no error holds the phone, the code or an
// answer's body.
func (t *Tencent) Send(ctx context.Context, phone, code string) error {
	ctx, wrote := traced(ctx)
	req := tchttp.NewCommonRequest("sms", "2021-01-11", "SendSms")
	req.SetContext(ctx)
	if err := req.SetActionParameters(map[string]any{
		"PhoneNumberSet":   []string{"+86" + phone},
		"SmsSdkAppId":      t.cfg.SdkAppID,
		"SignName":         t.cfg.SignName,
		"TemplateId":       t.cfg.TemplateID,
		"TemplateParamSet": []string{code},
	}); err != nil {
		return errors.New("tencent sms: build the request")
	}
	resp := tchttp.NewCommonResponse()
	if err := t.client.Send(req, resp); err != nil {
		return tencentError(ctx, err, wrote())
	}
	var a sendSmsAnswer
	if err := json.Unmarshal(resp.GetBody(), &a); err != nil {
		return unanswered(errors.New("tencent sms: unreadable answer"))
	}
	if len(a.Response.SendStatusSet) != 1 {
		return fmt.Errorf("tencent sms: %d send statuses for one number (request %s)", len(a.Response.SendStatusSet), a.Response.RequestID)
	}
	if s := a.Response.SendStatusSet[0]; s.Code != "Ok" {
		msg, _ := parse.Mask(s.Message)
		return fmt.Errorf("tencent sms: not sent: %s: %s (request %s)", s.Code, msg, a.Response.RequestID)
	}
	return nil
}

// tencentError keeps of an SDK error what is safe to log: Tencent's code
// and, for an error Tencent's API gave, its message masked. The SDK's own
// client errors may quote the request or the answer's body: only their code
// is kept. A failure other than Tencent's own refusal, once the request was
// written (wrote), may have been acted on: ErrUnanswered.
func tencentError(ctx context.Context, err error, wrote bool) error {
	var sdk *tcerr.TencentCloudSDKError
	switch {
	case ctx.Err() != nil:
		err = fmt.Errorf("tencent sms: %w", ctx.Err())
	case !errors.As(err, &sdk):
		// A transport error: it names the endpoint, not the request body.
		msg, _ := parse.Mask(err.Error())
		err = fmt.Errorf("tencent sms: %s", msg)
	case strings.HasPrefix(sdk.Code, "ClientError"):
		err = fmt.Errorf("tencent sms: %s", sdk.Code)
	default:
		// Tencent's API answered with an error: nothing was sent.
		msg, _ := parse.Mask(sdk.Message)
		return fmt.Errorf("tencent sms: %s: %s (request %s)", sdk.Code, msg, sdk.RequestId)
	}
	if wrote {
		return unanswered(err) // Tencent has the request: it may have sent the code
	}
	return err
}
