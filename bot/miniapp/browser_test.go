package miniapp_test

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/miniapp"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
)

// The browser tests drive Debian's Chromium (apt-get install chromium;
// .ci/run installs it when absent) through chromedp. Without a browser they
// fail, unless MERCHANTBOT_SKIP_BROWSER=1 says to skip them. One browser
// serves the whole package, a tab per test.

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserCancel context.CancelFunc
	browserErr    error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if browserCancel != nil {
		browserCancel()
	}
	os.Exit(code)
}

// chromium finds the browser: $CHROMIUM, else chromium on the PATH.
func chromium() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium on the PATH: apt-get install -y chromium (or set CHROMIUM, or MERCHANTBOT_SKIP_BROWSER=1 to skip the browser tests)")
}

// tab opens a new tab of the package's browser, 360 CSS px wide, closed
// when the test ends.
func tab(t *testing.T) context.Context {
	t.Helper()
	if os.Getenv("MERCHANTBOT_SKIP_BROWSER") == "1" {
		t.Skip("MERCHANTBOT_SKIP_BROWSER=1")
	}
	browserOnce.Do(func() {
		path, err := chromium()
		if err != nil {
			browserErr = err
			return
		}
		dir, err := os.MkdirTemp("", "miniapp-chromium-")
		if err != nil {
			browserErr = err
			return
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(dir),
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-extensions", true),
			chromedp.WindowSize(360, 780))
		ctx, cancel := chromedp.NewContext(alloc)
		if err := chromedp.Do(ctx); err != nil { // starts the browser
			cancel()
			cancelAlloc()
			_ = os.RemoveAll(dir)
			browserErr = fmt.Errorf("start %s: %w", path, err)
			return
		}
		browserCtx = ctx
		browserCancel = func() { cancel(); cancelAlloc(); _ = os.RemoveAll(dir) }
	})
	require.NoError(t, browserErr)
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	ctx, cancelTime := context.WithTimeout(ctx, 30*time.Second) // a bound, not an assertion: a hung browser fails the test
	t.Cleanup(cancelTime)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(360, 780)))
	return ctx
}

// pageURL is the form's URL as Telegram opens it: the launch data in the
// fragment, no telegram-web-app.js (none can load: the CSP allows only the
// page's own origin, and the test has no network).
func (e *env) pageURL(launch string, theme string) string {
	frag := url.Values{"tgWebAppData": {launch}, "tgWebAppVersion": {"8.0"}, "tgWebAppPlatform": {"unknown"}}
	if theme != "" {
		frag.Set("tgWebAppThemeParams", theme)
	}
	return e.srv.URL + miniapp.Path + "#" + frag.Encode()
}

// js evaluates expression in the tab and returns its value.
func js[T any](t *testing.T, ctx context.Context, expression string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	require.NoError(t, err, "%s", expression)
	return v
}

// until waits (within the tab's bound) for a JavaScript condition.
func until(expression string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expression)
}

func byID(id string) chromedp.ID { return chromedp.ID(id) }

// open loads the page afresh: a URL that differs from the tab's only in
// its fragment would not load it again.
func open(u string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Navigate("about:blank"), chromedp.Navigate(u))
}

// TestBrowserFormFillsTheChat: a merchant at the card question opens the
// form in a real browser, without Telegram's script; the holder is offered
// from the merchant record; a number with a wrong check digit is caught as
// typed; the card is grouped as typed and its bank shown; the submission
// leaves the chat with the card masked and the next unanswered question.
func TestBrowserFormFillsTheChat(t *testing.T) {
	e := newEnv(t)
	const chat = 201
	e.walkToCard(chat, "en")
	ctx := tab(t)

	require.NoError(t, chromedp.Do(ctx,
		open(e.pageURL(e.launch(chat, "en", time.Now()), "")),
		chromedp.WaitVisible(byID("card")),
		chromedp.SendKeys(byID("card"), "4111111111111112"),
		until(`document.getElementById('card-check').classList.contains('bad')`),
	))
	assert.Equal(t, "张三", js[string](t, ctx, `document.getElementById('holder').value`), "the holder is offered from the merchant record")
	assert.Contains(t, js[string](t, ctx, `document.getElementById('card-check').textContent`), "check digit does not match")
	assert.True(t, js[bool](t, ctx, `document.getElementById('submit').disabled`), "a number failing its check cannot be sent")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(byID("card"), ""),
		chromedp.SendKeys(byID("card"), card),
		until(`document.getElementById('card-bank').textContent.includes('Industrial and Commercial')`),
		chromedp.SendKeys(byID("branch"), "上海张江支行"),
		chromedp.SendKeys(byID("phone"), phone),
	))
	assert.Equal(t, "6222 0212 3456 7890 128", js[string](t, ctx, `document.getElementById('card').value`), "grouped as typed")
	assert.Contains(t, js[string](t, ctx, `document.getElementById('card-bank').textContent`), "Industrial and Commercial Bank of China")
	assert.Contains(t, js[string](t, ctx, `document.getElementById('card-check').textContent`), "checks out")
	assert.True(t, js[bool](t, ctx, `document.getElementById('card-check').classList.contains('ok')`))
	assert.False(t, js[bool](t, ctx, `document.getElementById('submit').disabled`))

	sent := len(e.fake.Sent(chat))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(byID("submit")),
		until(`document.getElementById('status').classList.contains('ok')`),
	))
	assert.Contains(t, js[string](t, ctx, `document.getElementById('status').textContent`), "Sent")
	assert.Empty(t, js[string](t, ctx, `document.getElementById('card').value + document.getElementById('phone').value`),
		"the page keeps neither number once sent")

	// The form answered every question it has a field for up to the first
	// it cannot answer (today the summary); the chat walks on from there.
	e.formAnswered(chat, sent, map[string]string{
		dialogs.StepCard: card, dialogs.StepHolder: "张三", dialogs.StepBranch: "上海张江支行", dialogs.StepPhone: phone})
	summary := e.walkTo(chat, dialogs.StepSummary, samples)
	assert.Contains(t, summary.Text, cardMasked)
	assert.Contains(t, summary.Text, "上海张江支行")
	st := e.state(chat)
	assert.Equal(t, dialogs.StepSummary, st.Step)
	assert.Equal(t, "上海张江支行", st.Branch)
	assert.Equal(t, phone, st.Secrets.ReservedPhone)
	for _, in := range []string{card, phone} {
		assert.Empty(t, leaktest.Leaks(in, e.bodies.String()), "the page's requests or answers hold %s", in)
		assert.Empty(t, leaktest.Leaks(in, e.logs.String()), "the log holds %s", in)
	}
	for _, m := range e.fake.Sent(chat) {
		assert.Empty(t, leaktest.Leaks(card, m.Text), "the chat shows the card in clear")
	}
}

// TestBrowserRefusesBadLaunches: forged, stale and other-chat launch data,
// and a second submission of the same launch, are refused in the page with
// a reason in the merchant's language; the chat hears nothing of them.
func TestBrowserRefusesBadLaunches(t *testing.T) {
	e := newEnv(t)
	const chat = 202
	e.walkToCard(chat, "zh")
	sent := len(e.fake.Sent(chat))
	cases := []struct {
		name, launch, want string
	}{
		{"forged", launchFor("999:not-this-bots-token", chat, "zh", time.Now()), "无法验证此表单来自 Telegram"},
		{"stale", e.launch(chat, "zh", time.Now().Add(-2*time.Hour)), "此表单已过期"},
		{"other chat", e.launch(chat+7, "en", time.Now()), "does not belong to your chat"},
	}
	ctx := tab(t)
	for _, c := range cases {
		require.NoError(t, chromedp.Do(ctx,
			open(e.pageURL(c.launch, "")),
			chromedp.WaitVisible(byID("status")),
		), c.name)
		assert.Contains(t, js[string](t, ctx, `document.getElementById('status').textContent`), c.want, c.name)
		assert.True(t, js[bool](t, ctx, `document.getElementById('form').hidden`), "%s: no form to fill", c.name)
	}

	// Two tabs hold the form of one launch; the first sends it, the second
	// is a replay.
	launch := e.launch(chat, "zh", time.Now())
	second, cancel := chromedp.NewContext(ctx)
	defer cancel()
	for _, tb := range []context.Context{ctx, second} {
		require.NoError(t, chromedp.Do(tb, chromedp.EmulateViewport(360, 780),
			open(e.pageURL(launch, "")), chromedp.WaitVisible(byID("card"))))
	}
	fill := func(tb context.Context) {
		require.NoError(t, chromedp.Do(tb,
			chromedp.SendKeys(byID("card"), card),
			until(`!document.getElementById('submit').disabled`),
			chromedp.Click(byID("submit")),
			until(`/ (ok|bad)$/.test(document.getElementById('status').className)`),
		))
	}
	fill(ctx)
	assert.Contains(t, js[string](t, ctx, `document.getElementById('status').textContent`), "已提交")
	// The holder offered from the record was sent with the card.
	filled := map[string]string{dialogs.StepCard: card, dialogs.StepHolder: "张三"}
	_, asked := e.formAnswered(chat, sent, filled)
	fill(second)
	assert.Contains(t, js[string](t, second, `document.getElementById('status').textContent`), "此表单已经提交过")
	// Opened again with the same launch, the page says so at once.
	require.NoError(t, chromedp.Do(second, open(e.pageURL(launch, "")), chromedp.WaitVisible(byID("status"))))
	assert.Contains(t, js[string](t, second, `document.getElementById('status').textContent`), "此表单已经提交过")
	assert.True(t, js[bool](t, second, `document.getElementById('form').hidden`))

	after := e.fake.Sent(chat)[sent:]
	require.Len(t, after, 1, "one form taken: the card noted and the open question asked in one message; the refusals said nothing in the chat")
	assert.Contains(t, after[0].Text, cardMasked)
	assert.Contains(t, asked.Steps, e.state(chat).Step, "the dialog is still at the open question")
}

// TestBrowserUsesTelegramsMainButton: inside a Telegram client (its web
// view's event proxy, without telegram-web-app.js) the page tells Telegram
// it is ready, takes the client's theme, submits with Telegram's main
// button instead of its own, and closes once sent.
func TestBrowserUsesTelegramsMainButton(t *testing.T) {
	e := newEnv(t)
	const chat = 203
	e.walkToCard(chat, "en")
	sent := len(e.fake.Sent(chat))
	ctx := tab(t)
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__events = []; window.TelegramWebviewProxy = { postEvent: function (type, data) { window.__events.push([type, JSON.parse(data)]); } };`})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx,
		open(e.pageURL(e.launch(chat, "en", time.Now()), darkTheme)),
		chromedp.WaitVisible(byID("card")),
		chromedp.SendKeys(byID("card"), card),
		until(`window.__events.some(function (e) { return e[0] === 'web_app_setup_main_button' && e[1].is_active; })`),
	))
	assert.Equal(t, "web_app_ready", js[string](t, ctx, `window.__events[0][0]`))
	assert.Equal(t, "Submit", js[string](t, ctx,
		`window.__events.filter(function (e) { return e[0] === 'web_app_setup_main_button'; }).pop()[1].text`))
	assert.Equal(t, "none", js[string](t, ctx, `getComputedStyle(document.getElementById('submit')).display`),
		"Telegram's main button stands for the page's own")
	assert.Equal(t, "rgb(23, 33, 43)", js[string](t, ctx, `getComputedStyle(document.body).backgroundColor`),
		"the client's theme (bg_color #17212b)")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`(window.Telegram.WebView.receiveEvent('main_button_pressed', {}), true)`)(ctx, tt)
			return err
		}),
		until(`document.getElementById('status').classList.contains('ok')`),
		until(`window.__events.some(function (e) { return e[0] === 'web_app_close'; })`),
	))
	e.formAnswered(chat, sent, map[string]string{dialogs.StepCard: card, dialogs.StepHolder: "张三"})
}

var screenshots = flag.String("screenshots", "", "TestScreenshots saves the form's screenshots in this directory")

// Telegram's dark theme, as its apps put it in tgWebAppThemeParams.
const darkTheme = `{"bg_color":"#17212b","secondary_bg_color":"#232e3c","text_color":"#f5f5f5","hint_color":"#708499",` +
	`"link_color":"#6ab3f3","button_color":"#5288c1","button_text_color":"#ffffff","section_separator_color":"#111921"}`

// TestScreenshots saves the form, filled as far as the bank, in Chinese and
// English, light and dark, 360 CSS px wide:
//
//	go test ./bot/miniapp -run TestScreenshots -args -screenshots docs/miniapp
//
// (the path is the package's: ../../docs/miniapp from the repository root
// is written as docs/miniapp relative to it). Chinese needs a CJK font
// (apt-get install fonts-wqy-microhei). Without -screenshots it only checks
// that the page renders in all four.
func TestScreenshots(t *testing.T) {
	e := newEnv(t)
	ctx := tab(t)
	dir := *screenshots
	if dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir) // from the package to the repository root
	}
	chat := int64(300)
	for _, lang := range []string{"zh", "en"} {
		for _, theme := range []string{"light", "dark"} {
			chat++
			e.walkToCard(chat, lang)
			params, scheme := "", "light"
			if theme == "dark" {
				params, scheme = darkTheme, "dark"
			}
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
			require.NoError(t, err)
			require.NoError(t, chromedp.Do(ctx,
				open(e.pageURL(e.launch(chat, lang, time.Now()), params)),
				chromedp.WaitVisible(byID("card")),
				chromedp.SendKeys(byID("card"), card),
				until(`document.getElementById('card-bank').textContent !== ''`),
				chromedp.SendKeys(byID("branch"), "上海张江支行"),
				chromedp.Blur(byID("branch")),
			), "%s %s", lang, theme)
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			require.NoError(t, err)
			require.NotEmpty(t, shot)
			if dir != "" {
				require.NoError(t, os.MkdirAll(dir, 0o755))
				name := filepath.Join(dir, fmt.Sprintf("form-%s-%s.png", lang, theme))
				require.NoError(t, os.WriteFile(name, shot, 0o644))
				t.Logf("saved %s", name)
			}
		}
	}
	assert.False(t, strings.Contains(e.bodies.String(), card), "the page sends the number sealed only")
}
