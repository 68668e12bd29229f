package smscode

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
)

// TestSDKLogIsMasked: what the Tencent Cloud SDK logs (a request dump, if
// debug were ever on) reaches our log with every sensitive number masked.
func TestSDKLogIsMasked(t *testing.T) {
	var buf bytes.Buffer
	l := sdkLogger{slog.New(slog.NewTextHandler(&buf, nil))}
	const dump = `{"PhoneNumberSet":["+8613800000001"],"TemplateParamSet":["481516"]}`
	l.Printf("[DEBUG] http request: %s", dump)
	if leaks := leaktest.Leaks(dump, buf.String()); len(leaks) > 0 {
		t.Fatalf("the SDK's log shows %v: %s", leaks, buf.String())
	}
	if !bytes.Contains(buf.Bytes(), []byte("tencent cloud sdk")) {
		t.Fatalf("nothing logged: %s", buf.String())
	}
}
