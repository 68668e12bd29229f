package backend

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzResponseError decodes whatever an acquirer (or a proxy in front of
// it) answers with an error status: no panic, a bounded message without a
// digit (a server may quote a card number or a phone), and an error that
// still says what it is.
func FuzzResponseError(f *testing.F) {
	for _, seed := range []struct {
		status int
		body   string
	}{
		{422, `{"code":"wrong_code","message":"code 123456 is wrong"}`},
		{429, `{"code":"code_too_soon","message":"wait","retry_after":42}`},
		{400, `{"code":"invalid_request","message":"card 6222021234567890123 is bad"}`},
		{400, `{"code":"card_6222021234567890123","message":"bad"}`},
		{502, `<html>bad gateway</html>`},
		{500, `{"code":1,"message":["x"]}`},
		{503, ``},
		{404, `{"message":"` + strings.Repeat("６", 300) + `"}`},
		{418, "\xff\xfe"},
	} {
		f.Add(seed.status, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		err := responseError(status, body, "")
		var api *APIError
		if !errors.As(err, &api) {
			t.Fatalf("responseError gave %T", err)
		}
		if len(api.Message) > 200 || !utf8.ValidString(api.Message) && utf8.ValidString(string(body)) {
			t.Fatalf("message of %d bytes or invalid UTF-8: %q", len(api.Message), api.Message)
		}
		if strings.ContainsAny(api.Message, "0123456789０１２３４５６７８９") {
			t.Fatalf("message keeps digits: %q", api.Message)
		}
		if strings.ContainsAny(api.Code, "0123456789０１２３４５６７８９") || len(api.Code) > 64 {
			t.Fatalf("code keeps digits, or is long: %q", api.Code)
		}
		_ = err.Error()
		if status >= 500 && api.Unwrap() == nil {
			t.Fatalf("a %d unwraps to nothing: no retry would be tried", status)
		}
		if _, ok := RetryAfter(err); ok && api.RetryAfter <= 0 {
			t.Fatal("RetryAfter without a positive retry_after")
		}
	})
}
