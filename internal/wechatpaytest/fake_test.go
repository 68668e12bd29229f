package wechatpaytest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"
)

// rewrite lets a test change a request after the SDK signed it.
type rewrite func(*http.Request)

func (f rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	f(r)
	return http.DefaultTransport.RoundTrip(r)
}

// TestFakeChecksTheSignature: the fake refuses a request whose body, URL
// or Authorization no longer match what was signed, and one without
// Wechatpay-Serial; the SDK, configured with the fake's public key, takes
// the fake's answers.
func TestFakeChecksTheSignature(t *testing.T) {
	f := New(t, PublicKeyMode)
	f.AddSubMerchant("1900000109", Account{Type: "ACCOUNT_TYPE_PRIVATE", Bank: "工商银行", Number: "6222020200112233445"})
	client := func(rt http.RoundTripper) *core.Client {
		c, err := core.NewClient(context.Background(),
			option.WithWechatPayPublicKeyAuthCipher(f.MchID, f.Keys.MerchantSerial, f.Keys.MerchantKey, f.Keys.PublicKeyID, &f.Keys.WeChatKey.PublicKey),
			option.WithHTTPClient(&http.Client{Transport: rt}))
		require.NoError(t, err)
		return c
	}
	res, err := client(http.DefaultTransport).Request(context.Background(), http.MethodGet,
		f.URL+"/v3/apply4sub/sub_merchants/1900000109/settlement", nil, nil, nil, "")
	require.NoError(t, err, "a signed request, a verified answer")
	res.Response.Body.Close()

	for name, change := range map[string]func(*http.Request){
		"body": func(r *http.Request) {
			r.Body = io.NopCloser(bytes.NewReader([]byte(`{"modify_mode":"MODIFY_MODE_ASYNC","account_type":"x"}`)))
			r.ContentLength = -1
		},
		"url":    func(r *http.Request) { r.URL.Path = "/v3/apply4sub/sub_merchants/1900000110/modify-settlement" },
		"scheme": func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") },
		"serial": func(r *http.Request) { r.Header.Del("Wechatpay-Serial") },
	} {
		t.Run(name, func(t *testing.T) {
			_, err := client(rewrite(change)).Request(context.Background(), http.MethodPost,
				f.URL+"/v3/apply4sub/sub_merchants/1900000109/modify-settlement", nil, nil, map[string]string{"modify_mode": "MODIFY_MODE_ASYNC"}, "")
			var api *core.APIError
			require.ErrorAs(t, err, &api)
			if name == "serial" {
				assert.Equal(t, "PARAM_ERROR", api.Code)
			} else {
				assert.Equal(t, "SIGN_ERROR", api.Code)
			}
		})
	}
	assert.Empty(t, f.Applications())
	assert.Len(t, f.Refused(), 4)
}

// TestFakeOtherBankNeedsItsBranch: the documented rule for a bank WeChat
// Pay does not connect directly: account_bank 其他银行 needs bank_name or
// bank_branch_id, else PARAM_ERROR and no application.
func TestFakeOtherBankNeedsItsBranch(t *testing.T) {
	f := New(t, PublicKeyMode)
	f.AddSubMerchant("1900000109", Account{Type: "ACCOUNT_TYPE_PRIVATE", Bank: "工商银行", Number: "6222020200112233445"})
	c, err := core.NewClient(context.Background(),
		option.WithWechatPayPublicKeyAuthCipher(f.MchID, f.Keys.MerchantSerial, f.Keys.MerchantKey, f.Keys.PublicKeyID, &f.Keys.WeChatKey.PublicKey))
	require.NoError(t, err)
	number, err := utils.EncryptOAEPWithPublicKey("6222021234567894", &f.Keys.WeChatKey.PublicKey)
	require.NoError(t, err)
	body := map[string]string{"modify_mode": "MODIFY_MODE_ASYNC", "account_type": "ACCOUNT_TYPE_PRIVATE",
		"account_bank": "其他银行", "bank_address_code": "584", "account_number": number}
	url := f.URL + "/v3/apply4sub/sub_merchants/1900000109/modify-settlement"
	_, err = c.Request(context.Background(), http.MethodPost, url, nil, nil, body, "")
	var api *core.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, "PARAM_ERROR", api.Code)
	assert.Empty(t, f.Applications())

	body["bank_name"] = "浙江某某村镇银行股份有限公司城南支行"
	res, err := c.Request(context.Background(), http.MethodPost, url, nil, nil, body, "")
	require.NoError(t, err)
	res.Response.Body.Close()
	apps := f.Applications()
	require.Len(t, apps, 1)
	assert.Equal(t, "其他银行", apps[0].Account.Bank)
	assert.Equal(t, "浙江某某村镇银行股份有限公司城南支行", apps[0].Account.BankName)
}
