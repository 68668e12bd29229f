package sandbox

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/merchantbot/merchantbot/backend"
)

// TestCardNumberNotKept looks at everything the sandbox holds after Submit:
// the masked number, card type and holder are all that remain.
func TestCardNumberNotKept(t *testing.T) {
	const card = "6222029876543210"
	s := New(WithEvents(func(backend.Receipt) {}))
	_, err := s.Submit(context.Background(), "k", backend.Application{
		MerchantNo: "822100050110001", CardNumber: card, HolderName: "张三",
		BankName: "中国工商银行", Branch: "上海分行", ReservedPhone: "13900000000", CardType: "DC",
	})
	if err != nil {
		t.Fatal(err)
	}
	var held []string
	for _, a := range s.apps {
		held = append(held, fmt.Sprintf("%+v", *a))
	}
	for k, a := range s.byKey {
		held = append(held, fmt.Sprintf("%+v %+v", k, *a))
	}
	for _, m := range s.merchants {
		held = append(held, fmt.Sprintf("%+v", *m))
	}
	held = append(held, fmt.Sprintf("%+v", s.outbox))
	for _, h := range held {
		// The branch is kept (it is no secret): a rejected application is
		// fixed and sent again without asking it twice.
		for _, secret := range []string{card, "987654", "13900000000"} {
			if strings.Contains(h, secret) {
				t.Errorf("sandbox keeps %q: %s", secret, h)
			}
		}
	}
	if got := s.apps[0]; got.receipt.CardMasked != "622202******3210" || got.cardType != "DC" || got.holderName != "张三" {
		t.Errorf("kept %+v", *got)
	}
}

// TestRoutesInOpenAPI keeps routes.go and openapi.yaml describing the same
// surface.
func TestRoutesInOpenAPI(t *testing.T) {
	routes, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	handled := regexp.MustCompile(`mux\.Handle\("([A-Z]+) (/[^"]*)"`).FindAllStringSubmatch(string(routes), -1)
	if len(handled) != 8 {
		t.Fatalf("found %d routes in routes.go, want 8", len(handled))
	}
	paths := regexp.MustCompile(`(?m)^  (/\S*):\n((?:   .*\n|\n)*)`).FindAllStringSubmatch(string(spec), -1)
	specOps := map[string]bool{}
	for _, p := range paths {
		for _, m := range regexp.MustCompile(`(?m)^    (get|post|put|patch|delete):`).FindAllStringSubmatch(p[2], -1) {
			specOps[strings.ToUpper(m[1])+" "+p[1]] = true
		}
	}
	for _, h := range handled {
		op := h[1] + " " + h[2]
		if !specOps[op] {
			t.Errorf("%s is served but not in openapi.yaml", op)
		}
		delete(specOps, op)
	}
	for op := range specOps {
		t.Errorf("%s is in openapi.yaml but not served", op)
	}
	for _, code := range []string{
		backend.CodeUnknownMerchant, backend.CodePhoneMismatch, backend.CodeWrongCode,
		backend.CodeCodeExpired, backend.CodeCodeTooSoon, backend.CodeTooManyRequests,
		backend.CodeChangePending, backend.CodeInvalidRequest, backend.CodeUnauthorized,
		backend.CodeUnavailable, backend.CodeInternal,
	} {
		if !strings.Contains(string(spec), "- "+code+"\n") {
			t.Errorf("error code %s is not in openapi.yaml", code)
		}
	}
}

func TestNormaliseName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"张三", "张三"},
		{" 张 三\t", "张三"},
		{"张\u3000三", "张三"},
		{"张\u200b三", "张三"},
		{"阿依古丽·买买提", "阿依古丽·买买提"},
		{"阿依古丽・买买提", "阿依古丽·买买提"},
		{"阿依古丽•买买提", "阿依古丽·买买提"},
		{"阿依古丽‧买买提", "阿依古丽·买买提"},
		{"阿依古丽･买买提", "阿依古丽·买买提"},
		{"阿依古丽 · 买买提", "阿依古丽·买买提"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := normaliseName(tt.in); got != tt.want {
			t.Errorf("normaliseName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMasks(t *testing.T) {
	tests := []struct{ fn, in, want string }{
		{"card", "6222021234561234", "622202******1234"},
		{"card", "6222021234567891234", "622202*********1234"},
		{"card", "622202123456", "********3456"}, // a short account: the last 4 only
		{"card", "1234567890", "******7890"},
		{"phone", "13800000001", "138****0001"},
		{"phone", "123", "***"},
	}
	for _, tt := range tests {
		got := maskCard(tt.in)
		if tt.fn == "phone" {
			got = maskPhone(tt.in)
		}
		if got != tt.want {
			t.Errorf("mask %s %q = %q, want %q", tt.fn, tt.in, got, tt.want)
		}
	}
}

func TestNormalisePhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"13800000001", "13800000001"},
		{"+86 138 0000 0001", "13800000001"},
		{"8613800000001", "13800000001"},
		{"0086-138-0000-0001", "13800000001"},
		{"＋８６１３８００００００01", "13800000001"},
		{"1380000000", "1380000000"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := normalisePhone(tt.in); got != tt.want {
			t.Errorf("normalisePhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalise(f *testing.F) {
	for _, s := range []string{"张三", "阿依古丽・买买提", "+86 138 0000 0001", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := normaliseName(s)
		if normaliseName(n) != n {
			t.Errorf("normaliseName not idempotent on %q", s)
		}
		p := normalisePhone(s)
		for _, r := range p {
			if r < '0' || r > '9' {
				t.Errorf("normalisePhone(%q) = %q has a non-digit", s, p)
			}
		}
	})
}
