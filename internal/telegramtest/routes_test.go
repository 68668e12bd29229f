package telegramtest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryMethodIsOneTheBotCalls keeps the fake to what the product uses: each method it
// answers is named in the production code of bot, bot/handoff, bot/notify or cmd/merchantbot
// (an outbox call's method string, or the go-telegram/bot call of the same name). A method
// nobody calls any more is a handler to remove; a new call needs a handler here.
func TestEveryMethodIsOneTheBotCalls(t *testing.T) {
	var src strings.Builder
	for _, dir := range []string{"bot", "bot/handoff", "bot/notify", "cmd/merchantbot"} {
		files, err := filepath.Glob(filepath.Join("..", "..", dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("read %s: %v", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src.Write(b)
		}
	}
	code := src.String()
	s := New()
	defer s.Close()
	for _, rt := range s.buildRoutes() {
		asString := `"` + rt.name + `"`
		asCall := regexp.MustCompile(`\.` + strings.ToUpper(rt.name[:1]) + rt.name[1:] + `\(`)
		if !strings.Contains(code, asString) && !asCall.MatchString(code) {
			t.Errorf("the fake answers %s, which the bot never calls", rt.name)
		}
	}
}
