package dialogs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/locales"
)

// declaredIDs reads every MsgID constant of the package (messages.go, and
// a step file's own).
func declaredIDs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var ids []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok || vs.Type == nil || len(vs.Values) != 1 {
				return true
			}
			if ident, ok := vs.Type.(*ast.Ident); !ok || ident.Name != "MsgID" {
				return true
			}
			lit, ok := vs.Values[0].(*ast.BasicLit)
			require.True(t, ok, "MsgID constant %s is not a literal", vs.Names[0].Name)
			id, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			ids = append(ids, id)
			return true
		})
	}
	require.NotEmpty(t, ids)
	return ids
}

// usedIDs is every id the code can ask for.
func usedIDs(t *testing.T) map[string]bool {
	used := map[string]bool{}
	for _, id := range declaredIDs(t) {
		used[id] = true
	}
	for _, id := range DynamicIDs() {
		used[string(id)] = true
	}
	return used
}

func TestLocaleFilesDefineExactlyTheIDsTheCodeUses(t *testing.T) {
	used := usedIDs(t)
	for _, file := range []string{locales.Chinese + ".toml", locales.English + ".toml"} {
		t.Run(file, func(t *testing.T) {
			ids, err := locales.IDs(locales.Files(), file)
			require.NoError(t, err)
			have := map[string]bool{}
			for _, id := range ids {
				have[id] = true
				assert.True(t, used[id], "%s defines %q, which no code uses", file, id)
			}
			var missing []string
			for id := range used {
				if !have[id] {
					missing = append(missing, id)
				}
			}
			sort.Strings(missing)
			assert.Empty(t, missing, "%s lacks ids the code uses", file)
		})
	}
}

// TestCodeBuildsIDsOnlyFromKnownPrefixes keeps DynamicIDs honest: an id put
// together at run time must come from a prefix that DynamicIDs enumerates.
func TestCodeBuildsIDsOnlyFromKnownPrefixes(t *testing.T) {
	known := map[string]bool{}
	for _, id := range DynamicIDs() {
		for i, r := range string(id) {
			if r == '_' {
				known[string(id)[:i+1]] = true
			}
		}
	}
	conv := regexp.MustCompile(`MsgID\("([^"]*)"`)
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "messages.go" {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range conv.FindAllStringSubmatch(string(src), -1) {
			assert.True(t, known[m[1]], "%s builds a message id from %q, which DynamicIDs does not list", f, m[1])
		}
	}
}

// sampleArgs fills every template argument the dialog passes.
var sampleArgs = Arg{
	"Step": Text{Key: "step_card"}, "Name": "张三便利店", "No": "822100050110001", "Mark": "✅",
	"Card": "622202*********0128", "Bank": "中国工商银行", "Type": Text{Key: "cardtype_DC"}, "N": 12,
	"Value": "张三", "Phone": "138****0001", "Left": 3, "Seconds": 42, "ID": "CC202611250001",
	"When": "2026-11-25 10:04", "MerchantNo": "822100050110001", "Holder": "张三", "Branch": "上海张江支行",
	"Status": Text{Key: "status_under_review"}, "Date": "2026-12-25 10:04", "Text": "结算卡户名不一致",
	"Stage": Text{Key: "stage_submitted"}, "Submitted": "2026-11-25 10:02", "ReviewBy": "2026-11-25 10:04",
	"What": Text{Key: "what_branch"}, "Typed": "招商银行", "Minutes": 14, "Hotline": Text{Key: "hotline_default"}, "New": "622848*********6782",
	"City": "深圳市", "Word": "南山",
	"Days": Text{Key: "hours_every_day"}, "From": "09:00", "To": "18:00", "Zone": Text{Key: "hours_zone_china"},
	"A": Text{Key: "hours_mon"}, "B": Text{Key: "hours_wed"},
}

func TestEveryMessageRendersInBothLanguages(t *testing.T) {
	catalog, err := locales.Load()
	require.NoError(t, err)
	r := NewRenderer(catalog, nil)
	for id := range usedIDs(t) {
		for _, lang := range []string{locales.Chinese, locales.English} {
			out, err := catalog.Localize(lang, id, nil)
			require.NoError(t, err, "%s in %s", id, lang)
			require.NotEmpty(t, out)
			text := r.Text(lang, MsgID(id), sampleArgs)
			assert.NotContains(t, text, "<no value>", "%s in %s uses an argument the dialog never passes", id, lang)
			assert.NotContains(t, text, "{{", "%s in %s", id, lang)
			assert.NotEqual(t, id, text, "%s in %s did not render", id, lang)
		}
	}
}

func TestBrokenTemplateFailsToLoad(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "en.toml"), []byte(`hello = "Hi {{.Name"`), 0o644))
	_, err := locales.LoadFS(os.DirFS(dir))
	require.Error(t, err)
}

// TestNoTextPromisesAnAgentsAnswer: no text shown to a merchant promises
// that an agent will answer (docs/SUPPORT.md: no reply is promised), nor
// says the support hours as configured in a Chinese text, and the texts of
// a hand-off say how long the answers are kept (a draft idle 24 hours
// expires).
func TestNoTextPromisesAnAgentsAnswer(t *testing.T) {
	catalog, err := locales.Load()
	require.NoError(t, err)
	r := NewRenderer(catalog, nil)
	promises := map[string][]string{
		locales.English: {"will answer", "will reply", "will sort", "will get back", "will help you", "they see them"},
		locales.Chinese: {"会回复", "会在此聊天中回复", "会帮您处理", "尽快回复", "会看到"},
	}
	for id := range usedIDs(t) {
		if strings.HasPrefix(id, "ho_") {
			continue // the support group's, not the merchant's
		}
		for lang, words := range promises {
			text := r.Text(lang, MsgID(id), sampleArgs)
			for _, w := range words {
				assert.NotContains(t, text, w, "%s in %s promises an answer", id, lang)
			}
		}
	}
	for _, id := range []MsgID{msgSupportConnected, msgSupportRequested} {
		for _, lang := range []string{locales.Chinese, locales.English} {
			assert.Contains(t, r.Text(lang, id, sampleArgs), "24", "%s in %s: answers are kept 24 hours, not for ever", id, lang)
		}
	}
	h, err := ParseSupportHours("Mon-Fri 09:00-18:00", mustShanghai(t))
	require.NoError(t, err)
	for _, id := range []MsgID{msgSupportHoursIn, msgSupportHoursOut} {
		text := r.Text(locales.Chinese, id, Arg{"When": h.when()})
		assert.NotContains(t, text, "Mon", id)
		assert.NotContains(t, text, "Asia/Shanghai", id)
	}
}

func mustShanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	return loc
}
