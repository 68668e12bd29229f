package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/merchantbot/merchantbot"

// importRules is docs/ARCHITECTURE.md's table: what each package of the
// module may import of the module in its non-test files. "x/..." is x and
// everything under it.
var importRules = map[string][]string{
	"locales":                 nil,
	"dialogs/parse":           nil,
	"dialogs/cardbin":         nil,
	"backend":                 {"dialogs/parse"},
	"backend/sandbox":         {"backend", "dialogs/parse"},
	"backend/wechatpay":       {"backend", "dialogs/parse", "dialogs/cardbin"},
	"backend/directory":       {"backend", "dialogs/parse"},
	"backend/smscode":         {"backend", "dialogs/parse"},
	"dialogs":                 {"backend", "dialogs/parse", "dialogs/cardbin", "locales"},
	"dialogs/store":           {"dialogs", "backend", "dialogs/parse", "dialogs/cardbin", "locales"},
	"bot/outbox":              nil,
	"bot/sender":              {"bot/outbox"},
	"bot/chatq":               {"bot/outbox"},
	"bot/metrics":             {"backend"},
	"bot/notify":              deskAndNotifier,
	"bot/handoff":             deskAndNotifier,
	"bot/miniapp":             {"dialogs", "dialogs/parse", "dialogs/cardbin", "locales"},
	"bot":                     {"bot/outbox", "bot/sender", "bot/chatq", "bot/metrics", "bot/notify", "bot/handoff", "dialogs", "dialogs/parse", "dialogs/cardbin", "dialogs/store", "backend", "locales"},
	"cmd/merchantbot":         {"backend/...", "bot/...", "dialogs/...", "locales"},
	"internal/telegramtest":   nil,
	"internal/wechatpaytest":  nil,
	"internal/guidedtest":     {"dialogs", "locales"},
	"dialogs/store/redistest": nil,
	"bot/chatq/chatqtest":     {"bot/chatq", "bot/outbox"},
	"dialogs/parse/leaktest":  nil,
	"cmd/merchantbot-load":    {"internal/telegramtest", "internal/guidedtest", "locales", "dialogs/...", "backend/...", "bot/..."},
}

var deskAndNotifier = []string{"backend", "dialogs", "dialogs/parse", "locales", "bot/outbox", "bot/chatq", "bot/sender", "bot/metrics"}

// testOnly are the packages that are not the product: only tests import
// them, and the load tool the fake Bot API and the guided merchant.
var testOnly = map[string][]string{
	"internal/telegramtest":   {"cmd/merchantbot-load"},
	"internal/wechatpaytest":  nil,
	"internal/guidedtest":     {"cmd/merchantbot-load"},
	"dialogs/store/redistest": nil,
	"bot/chatq/chatqtest":     nil,
	"dialogs/parse/leaktest":  nil,
	"cmd/merchantbot-load":    nil,
}

func within(pkg, pattern string) bool {
	if p, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == p || strings.HasPrefix(pkg, p+"/")
	}
	return pkg == pattern
}

// goList runs go list with args in the module and returns its lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if ee, ok := err.(*exec.ExitError); ok {
		require.NoError(t, err, "go list %v: %s", args, ee.Stderr)
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// TestImportRules keeps docs/ARCHITECTURE.md true: every package's imports
// follow its rule, a package nobody placed (a new one) fails until it has a
// rule and a line on the page, and the test-only packages reach production
// code only as test imports.
func TestImportRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	doc, err := os.ReadFile("../../docs/ARCHITECTURE.md")
	require.NoError(t, err)
	for _, line := range goList(t, "-f", `{{.ImportPath}}|{{join .Imports " "}}`, module+"/...") {
		name, imports, _ := strings.Cut(line, "|")
		pkg := strings.TrimPrefix(strings.TrimPrefix(name, module), "/")
		may, placed := importRules[pkg]
		if !assert.True(t, placed, "package %s has no import rule: add it to importRules and docs/ARCHITECTURE.md", pkg) {
			continue
		}
		assert.Contains(t, string(doc), "`"+pkg+"`", "docs/ARCHITECTURE.md names package %s", pkg)
		for _, imp := range strings.Fields(imports) {
			rel, ours := strings.CutPrefix(imp, module+"/")
			if !ours {
				continue
			}
			ok := slices.ContainsFunc(may, func(p string) bool { return within(rel, p) })
			assert.True(t, ok, "%s imports %s, which docs/ARCHITECTURE.md does not allow", pkg, rel)
			_, importerTestOnly := testOnly[pkg]
			if users, isTestOnly := testOnly[rel]; isTestOnly && !importerTestOnly && !slices.Contains(users, pkg) {
				t.Errorf("%s imports the test-only package %s outside its tests", pkg, rel)
			}
		}
	}
}

// TestProductionDeps: the merchantbot binary links neither the fake Bot API
// nor the load tool, nor any test helper, nor package testing.
func TestProductionDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	deps := goList(t, "-deps", ".")
	require.Contains(t, deps, module+"/bot", "go list -deps lists the binary's packages")
	for _, dep := range deps {
		rel := strings.TrimPrefix(dep, module+"/")
		_, notProduct := testOnly[rel]
		assert.False(t, notProduct, "cmd/merchantbot links %s, which is not the product", rel)
		assert.NotEqual(t, "testing", dep, "cmd/merchantbot links package testing")
	}
}
