package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/internal/guidedtest"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// The end-to-end tests walk the dialog as dialogs.Guide() says, reading the
// bot by message id (internal/guidedtest, the load tool's merchant): at each
// question the step's forward button, or the merchant's sample of the kind
// of answer it takes. A step added to the dialog needs no edit here; a
// test stops "when the bot asks step X", never after N scripted lines; a
// walk in an empty chat begins with /start.

// reader reads the bot for every walk of this package; the replies to
// commands and the note on a deleted card message ask nothing.
var reader = func() *guidedtest.Reader {
	rec, err := guidedtest.NewRecogniser()
	if err != nil {
		panic(err) // the embedded locale files do not parse
	}
	return guidedtest.NewReader(rec, "welcome", "menu", "help", "status_not_bound", "message_deleted")
}()

// sample is what a merchant types for one kind of answer, or shares (a
// contact).
type sample struct {
	text    string
	contact bool
}

// persona is one merchant's answers by kind, and the kinds it types even
// where a button offers the answer.
type persona struct {
	samples map[dialogs.AnswerKind]sample
	typed   map[dialogs.AnswerKind]bool
}

// zhMerchant is 张三 (merchant 822100050110001) in a Telegram chat: the
// merchant number in a sentence, the card in full-width digits, the holder
// pressed, the reserved phone with +86 and dashes.
func zhMerchant() persona {
	return persona{samples: map[dialogs.AnswerKind]sample{
		dialogs.AnswerMerchantNo:    {text: "商户号 822100050110001"},
		dialogs.AnswerContact:       {text: "+8613800000001", contact: true},
		dialogs.AnswerCode:          {text: "验证码是 123456"},
		dialogs.AnswerCard:          {text: "新卡是 ６２２２ ０２１２ ３４５６ ７８９０ １２８"},
		dialogs.AnswerHolder:        {text: "张三"},
		dialogs.AnswerBank:          {text: "中国工商银行"},
		dialogs.AnswerCity:          {text: "上海"},
		dialogs.AnswerBranch:        {text: "上海张江支行"},
		dialogs.AnswerReservedPhone: {text: "+86 139-1234-5678"},
	}}
}

// enMerchant is 阿依古丽·买买提 (merchant 822100050110003): the holder's name
// typed with spaces and another dot, not pressed.
func enMerchant() persona {
	return persona{samples: map[dialogs.AnswerKind]sample{
		dialogs.AnswerMerchantNo:    {text: "822100050110003"},
		dialogs.AnswerContact:       {text: "+8613800000003", contact: true},
		dialogs.AnswerCode:          {text: "123456"},
		dialogs.AnswerCard:          {text: "6228-4800-0012-3456-782"},
		dialogs.AnswerHolder:        {text: "阿依古丽 • 买买提"},
		dialogs.AnswerBank:          {text: "中国农业银行"},
		dialogs.AnswerCity:          {text: "乌鲁木齐"},
		dialogs.AnswerBranch:        {text: "乌鲁木齐市天山区支行"},
		dialogs.AnswerReservedPhone: {text: "13912345678"},
	}, typed: map[dialogs.AnswerKind]bool{dialogs.AnswerHolder: true}}
}

// consoleMerchant is 张三 at the console (cmd/merchantbot console): the
// phone typed (the console shares no contact) and proven by an SMS code,
// the holder's name typed.
func consoleMerchant() persona {
	return persona{samples: map[dialogs.AnswerKind]sample{
		dialogs.AnswerMerchantNo:    {text: "822100050110001"},
		dialogs.AnswerContact:       {text: "13800000001"},
		dialogs.AnswerCode:          {text: "123456"},
		dialogs.AnswerCard:          {text: "我的新卡是 6222 0212 3456 7890 128"},
		dialogs.AnswerHolder:        {text: "张三"},
		dialogs.AnswerBank:          {text: "中国工商银行"},
		dialogs.AnswerCity:          {text: "上海"},
		dialogs.AnswerBranch:        {text: "上海张江支行"},
		dialogs.AnswerReservedPhone: {text: "13912345678"},
	}, typed: map[dialogs.AnswerKind]bool{dialogs.AnswerHolder: true}}
}

// consoleScript is the console's card change as the guide walks it, played
// on the in-process console: the lines consoleMerchant types from /start
// to submitted, and at, the number of lines typed when the bot first asks
// step stopAt (-1: never).
func consoleScript(t *testing.T, stopAt string) (lines []string, at int) {
	t.Helper()
	h := newHarness(t)
	h.start()
	p := consoleMerchant()
	at = -1
	line := "/start"
	for range 60 {
		require.NoError(t, h.console.say(context.Background(), line))
		lines = append(lines, line)
		mv, err := consoleMove(strings.Join(h.said(), "\n"))
		require.NoError(t, err, "after %q", line)
		if at < 0 && mv.Asks(stopAt) {
			at = len(lines)
		}
		if mv.Finished {
			return lines, at
		}
		line, err = p.consoleLine(mv)
		require.NoError(t, err)
	}
	t.Fatalf("consoleScript: not submitted after 60 lines: %q", lines)
	return nil, -1
}

// personaFor is the merchant of a language.
func personaFor(lang string) persona {
	if lang == "en" {
		return enMerchant()
	}
	return zhMerchant()
}

// with answers kind with text instead.
func (p persona) with(kind dialogs.AnswerKind, text string) persona {
	p.samples[kind] = sample{text: text}
	return p
}

// choose is what p does on mv: a typed answer (text) or button index b.
func (p persona) choose(mv guidedtest.Move) (s sample, button int, err error) {
	if mv.Button >= 0 && !(mv.Answer != "" && p.typed[mv.Answer]) {
		return sample{}, mv.Button, nil
	}
	if mv.Answer == "" {
		return sample{}, -1, fmt.Errorf("the bot said %s: nothing to do", strings.Join(mv.IDs, "+"))
	}
	s, ok := p.samples[mv.Answer]
	if !ok {
		return sample{}, -1, fmt.Errorf("the bot said %s, which asks for a %s: add a sample of that kind",
			strings.Join(mv.IDs, "+"), mv.Answer)
	}
	return s, -1, nil
}

// asks stops a walk when the bot asks step's question.
func asks(step string) func(guidedtest.Move) bool {
	return func(mv guidedtest.Move) bool { return mv.Asks(step) }
}

// submitted stops a walk once the application is in.
func submitted(mv guidedtest.Move) bool { return mv.Finished }

// guided is a merchant in a private chat with the bot behind the fake Bot
// API, walking as the guide says.
type guided struct {
	persona
	fake *telegramtest.Server
	chat int64
	// from: the chat's messages before the answer to the last action.
	from int
	// presses counts the buttons pressed.
	presses int
	// started: /start was sent (a walk in an empty chat begins with it).
	started bool
	// acted is the text of the message last answered: the same message
	// again right after it is the one a crash may send twice (README), not
	// a new question.
	acted string
}

func newGuided(fake *telegramtest.Server, chat int64, lang string) *guided {
	fake.SetUserLanguage(chat, lang)
	return &guided{persona: personaFor(lang), fake: fake, chat: chat}
}

// start sends /start.
func (g *guided) start() {
	g.started = true
	g.from = len(g.fake.Sent(g.chat))
	g.fake.SendCommand(g.chat, g.chat, "/start")
}

// read reads one message of the bot.
func read(m telegramtest.Message) (guidedtest.Move, error) {
	var labels []string
	for _, b := range m.Buttons() {
		if b.CallbackData == "" {
			labels = append(labels, "")
			continue
		}
		labels = append(labels, b.Text)
	}
	return reader.Read(m.Text, labels)
}

// walk answers the bot's latest question until stop says it is where the
// test wants it (asked before each action), however long a fault makes the
// bot's answer take, up to ctx's deadline. It returns an error rather than
// failing the test, so that merchants can walk at once.
func (g *guided) walk(ctx context.Context, stop func(guidedtest.Move) bool) error {
	if !g.started && len(g.fake.Sent(g.chat)) == 0 {
		g.start()
	}
	for range 60 {
		var (
			mv      guidedtest.Move
			msg     telegramtest.Message
			lastErr error
		)
		err := g.fake.WaitFor(ctx, func(s *telegramtest.Snapshot) bool {
			sent := s.Sent(g.chat)
			for i := len(sent) - 1; i >= g.from && i >= 0; i-- {
				if sent[i].Text == g.acted {
					continue
				}
				got, err := read(sent[i])
				if err != nil {
					lastErr = err
					continue
				}
				if got.Acts() || stop(got) {
					mv, msg = got, sent[i]
					return true
				}
			}
			return false
		})
		if err != nil {
			last, _ := g.fake.LastSent(g.chat)
			return fmt.Errorf("chat %d: no question to answer, the bot's latest is %q (%v): %w", g.chat, last.Text, lastErr, err)
		}
		if stop(mv) {
			return nil
		}
		if mv.Finished {
			return fmt.Errorf("chat %d: submitted before the walk's stop (%q)", g.chat, msg.Text)
		}
		s, button, err := g.choose(mv)
		if err != nil {
			return fmt.Errorf("chat %d: %w", g.chat, err)
		}
		g.from, g.acted = len(g.fake.Sent(g.chat)), msg.Text
		switch {
		case button >= 0:
			g.presses++
			g.fake.PressButton(g.chat, g.chat, msg.ID, msg.Buttons()[button].CallbackData)
		case s.contact:
			g.fake.ShareContact(g.chat, g.chat, s.text, g.chat)
		default:
			g.fake.SendText(g.chat, g.chat, s.text)
		}
	}
	return fmt.Errorf("chat %d: not there after 60 actions", g.chat)
}

// consoleMove reads what the console printed for one line: the messages'
// text, and the buttons ("  [N] label") of the last message printed, the
// ones a typed N presses.
func consoleMove(out string) (guidedtest.Move, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	labels := trailingButtons(lines)
	var text []string
	for _, l := range lines {
		if _, _, ok := buttonLine(l); !ok {
			text = append(text, l)
		}
	}
	return reader.Read(strings.Join(text, "\n"), labels)
}

// buttonLine parses "  [N] label".
func buttonLine(l string) (n int, label string, ok bool) {
	rest, ok := strings.CutPrefix(l, "  [")
	if !ok {
		return 0, "", false
	}
	num, label, ok := strings.Cut(rest, "] ")
	if !ok {
		return 0, "", false
	}
	n, err := strconv.Atoi(num)
	return n, label, err == nil
}

// trailingButtons are the labels of the button lines that end lines (the
// last message's), in their order; none when it ends with another line.
func trailingButtons(lines []string) []string {
	lines = trimTrailingBlank(lines)
	i := len(lines)
	for i > 0 {
		if _, _, ok := buttonLine(lines[i-1]); !ok {
			break
		}
		i--
	}
	var labels []string
	for _, l := range lines[i:] {
		_, label, _ := buttonLine(l)
		labels = append(labels, label)
	}
	return labels
}

// consoleLine is what p types at the console on mv: a button's number or
// its answer (a contact is typed: the console has no contact button).
func (p persona) consoleLine(mv guidedtest.Move) (string, error) {
	s, button, err := p.choose(mv)
	if err != nil {
		return "", err
	}
	if button >= 0 {
		return strconv.Itoa(button + 1), nil
	}
	return s.text, nil
}
