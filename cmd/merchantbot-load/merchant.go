package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/internal/guidedtest"
	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// What every simulated merchant types: a debit card in 张三's name (ICBC, Luhn
// valid), its bank when asked, the branch (its city where it is picked), a reserved phone, and
// the sandbox's fixed code.
const (
	loadCard          = "6222021234567890128"
	loadHolder        = "张三"
	loadBank          = "中国工商银行"
	loadBranch        = "上海张江支行"
	loadCity          = "上海" // the branch's city, where an acquirer has the branch picked (not the sandbox)
	loadReservedPhone = "13912345678"
	loadCode          = "123456"
)

// openingBurst is sent without waiting for replies, so that with two replicas
// the three updates of one chat land on different replicas; they must be
// answered once each, in this order.
var openingBurst = []string{"/help", "/status", "/start"}

// simAction is one thing a merchant does.
type simAction struct {
	kind string // "command", "text", "contact", "button"
	text string // command, text or phone
	data string // callback data of the button
	msg  int    // message the button is on
}

// simMerchant is one simulated merchant, with its own chat (chat id = user id).
type simMerchant struct {
	chat   int64
	no     string // merchant number
	phone  string // phone on file
	events <-chan botEvent
	fake   *telegramtest.Server
	rec    *recogniser   // reads the bot's messages by id
	settle time.Duration // quiet time that ends the bot's answer to one update
	stuck  time.Duration // longest wait for the bot's next question
	// burstReplies is how many messages answer the opening burst (learnt
	// from a probe chat before the run).
	burstReplies int
	// stopAt, when set, ends the dialog early at the first question it
	// accepts (the notify mode binds merchants and stops at the checklist).
	stopAt func(botEvent) bool
	// trace, when set, is told each message seen and each action taken
	// (normalised: no digits).
	trace func(format string, args ...any)
}

// merchantResult is what one merchant did and saw.
type merchantResult struct {
	updates   int
	latencies []time.Duration // update → first message the bot sent or edited in the chat
	seen      []string        // every message the bot sent or edited, normalised, in order
	seenRaw   []string        // the same, as sent (never reported: it holds card data)
	burst     []string        // the part of seen that answered the opening burst
	actions   []simAction     // what the merchant did after the burst (the floor replays it)
	err       error
}

// push sends a as an update and returns when it was queued.
func (m *simMerchant) push(a simAction) time.Time {
	at := time.Now()
	switch a.kind {
	case "command":
		m.fake.SendCommand(m.chat, m.chat, a.text)
	case "text":
		m.fake.SendText(m.chat, m.chat, a.text)
	case "contact":
		m.fake.ShareContact(m.chat, m.chat, a.text, m.chat)
	case "button":
		m.fake.PressButton(m.chat, m.chat, a.msg, a.data)
	}
	return at
}

// errStuck is a merchant that got no question it could answer in time.
var errStuck = errors.New("no answerable question")

// dialog runs the whole card change from /start to submitted, reading the
// bot's questions (not a fixed script): after each update it waits until the
// bot's last message is something it knows how to answer and the chat has
// been quiet for settle, then answers it. memo is called once the card
// number is collected, before the holder name is typed.
func (m *simMerchant) dialog(ctx context.Context, memo func()) (r merchantResult) {
	for _, c := range openingBurst {
		m.push(simAction{kind: "command", text: c})
		r.updates++
	}
	last, _, err := m.await(ctx, &r, time.Time{}, func(ev botEvent) bool {
		return len(r.seen) >= m.burstReplies && m.hasButton(ev, "btn_change")
	})
	r.burst = append([]string(nil), r.seen...)
	if err != nil {
		r.err = fmt.Errorf("after the opening burst: %w", err)
		return r
	}
	memoDone := false
	for step := 0; step < 60; step++ {
		a, finished, err := m.next(last)
		if err != nil {
			r.err = err
			return r
		}
		if finished {
			// What follows the submission (the menu) may come after the
			// merchant stopped reading; the transcripts compare up to it.
			for i := len(r.seen) - 1; i >= 0; i-- {
				if ids, _ := m.rec.Message(r.seenRaw[i]); slices.Contains(ids, finishedBy) {
					r.seen = r.seen[:i+1]
					break
				}
			}
			return r
		}
		if m.stopAt != nil && m.stopAt(last) {
			return r
		}
		// The holder question comes right after the card is collected (a
		// button with the name on file, or a text to type).
		if !memoDone && memo != nil && m.says(last, holderQuestions) {
			memo()
			memoDone = true
		}
		if m.trace != nil {
			m.trace("merchant: %s %s", a.kind, redactAction(a))
		}
		at := m.push(a)
		r.updates++
		r.actions = append(r.actions, a)
		last, _, err = m.await(ctx, &r, at, func(ev botEvent) bool {
			a, fin, _ := m.next(ev)
			return fin || a.kind != ""
		})
		if err != nil {
			r.err = fmt.Errorf("after %s %q: %w", a.kind, redactAction(a), err)
			return r
		}
	}
	r.err = errors.New("no submission after 60 steps")
	return r
}

// await collects the bot's messages until one satisfies ready and the chat
// then stayed quiet for settle, and returns the latest such message (a
// question may be followed by a note, such as the warning under the code
// prompt). With since set, the first message's time is one latency sample.
func (m *simMerchant) await(ctx context.Context, r *merchantResult, since time.Time, ready func(botEvent) bool) (botEvent, time.Time, error) {
	var (
		answer, last botEvent
		got, haveAns bool
		firstAt      time.Time
	)
	stuck := time.NewTimer(m.stuck)
	defer stuck.Stop()
	quiet := time.NewTimer(time.Hour)
	defer quiet.Stop()
	for {
		select {
		case ev := <-m.events:
			r.seen = append(r.seen, normaliseText(ev.text))
			r.seenRaw = append(r.seenRaw, ev.text)
			if m.trace != nil {
				m.trace("bot (edit=%v, %d buttons): %s", ev.edit, len(ev.buttons), clip(normaliseText(ev.text), 100))
			}
			// A message the merchant cannot read ends the wait at once.
			if _, _, err := m.next(ev); err != nil {
				return ev, firstAt, err
			}
			if !got && !since.IsZero() {
				firstAt = ev.at
				r.latencies = append(r.latencies, ev.at.Sub(since))
			}
			last, got = ev, true
			// The submission ends the dialog even though a menu follows it.
			if _, done, _ := m.next(answer); ready(ev) && !(haveAns && done) {
				answer, haveAns = ev, true
			}
			if haveAns {
				quiet.Reset(m.settle)
			}
		case <-quiet.C:
			return answer, firstAt, nil
		case <-stuck.C:
			if got {
				return last, firstAt, fmt.Errorf("%w; last message %q", errStuck, clip(normaliseText(last.text), 120))
			}
			return last, firstAt, fmt.Errorf("%w; no message at all", errStuck)
		case <-ctx.Done():
			return last, firstAt, ctx.Err()
		}
	}
}

// The merchant reads the bot by message id (locales/*.toml, matched by the
// recogniser), never by its wording, and learns the dialog from the step
// definitions (dialogs.Guide, read by guidedtest.Reader, which the
// end-to-end tests' merchant shares): which buttons move the change forward,
// which messages ask for what kind of answer. It keeps one sample per kind
// of answer, not per step, so a new step needs no edit here. A test checks
// that every id named here is in the locale files and every kind has a
// sample.
var (
	// reader decides, message by message, what the merchant does. The
	// replies to the commands and the bot's note on a deleted card
	// message ask nothing.
	reader = guidedtest.NewReader(mustRecogniser(), "welcome", "menu", "help", "status_not_bound", "message_deleted")
	// forwardButtons are the buttons that move the change forward, by the
	// id of their label, in the order of the dialog.
	forwardButtons = reader.Forward
	// questions are the messages a merchant answers by typing or sharing:
	// message id → the kind of answer.
	questions = reader.Questions
	// samples are what the merchant types (or shares) for each kind of answer.
	samples = map[dialogs.AnswerKind]func(m *simMerchant) simAction{
		dialogs.AnswerMerchantNo:    func(m *simMerchant) simAction { return simAction{kind: "text", text: m.no} },
		dialogs.AnswerContact:       func(m *simMerchant) simAction { return simAction{kind: "contact", text: "+86" + m.phone} },
		dialogs.AnswerCode:          func(*simMerchant) simAction { return simAction{kind: "text", text: loadCode} },
		dialogs.AnswerCard:          func(*simMerchant) simAction { return simAction{kind: "text", text: loadCard} },
		dialogs.AnswerHolder:        func(*simMerchant) simAction { return simAction{kind: "text", text: loadHolder} },
		dialogs.AnswerBank:          func(*simMerchant) simAction { return simAction{kind: "text", text: loadBank} },
		dialogs.AnswerBranch:        func(*simMerchant) simAction { return simAction{kind: "text", text: loadBranch} },
		dialogs.AnswerCity:          func(*simMerchant) simAction { return simAction{kind: "text", text: loadCity} },
		dialogs.AnswerReservedPhone: func(*simMerchant) simAction { return simAction{kind: "text", text: loadReservedPhone} },
	}
	// notes are the messages of a card change that ask nothing of their
	// own (guidedtest.Reader.Notes).
	notes = reader.Notes
	// finishedBy is the message that ends the change.
	finishedBy = guidedtest.FinishedBy
	// holderQuestions ask for the holder's name (the memo pause comes just before).
	holderQuestions = asking(dialogs.Guide(), dialogs.AnswerHolder)
)

type recogniser = guidedtest.Recogniser

func newRecogniser() (*recogniser, error) { return guidedtest.NewRecogniser() }

func mustRecogniser() *recogniser {
	rec, err := newRecogniser()
	if err != nil {
		panic(err) // the embedded locale files do not parse: no merchant can read the bot
	}
	return rec
}

// asking is the set of questions that take an answer of kind k.
func asking(guide []dialogs.StepGuide, k dialogs.AnswerKind) map[string]bool {
	s := map[string]bool{}
	for _, g := range guide {
		if g.Answer == k {
			for _, id := range g.Asks {
				s[id] = true
			}
		}
	}
	return s
}

func setOf(ids ...string) map[string]bool {
	s := make(map[string]bool, len(ids))
	for _, id := range ids {
		s[id] = true
	}
	return s
}

// next is what a merchant does on seeing ev: finished once the application
// is submitted; otherwise the button that moves the change forward, or the
// answer the question asks for; a zero action when ev is a note that asks
// nothing. A message it cannot read, or one it reads but has no answer for
// (a new question, a refusal), is an error that names it: the run reports it
// at once instead of waiting for a question that will not come.
func (m *simMerchant) next(ev botEvent) (a simAction, finished bool, err error) {
	if ev.text == "" && len(ev.buttons) == 0 {
		return simAction{}, false, nil // the zero event: nothing seen yet
	}
	labels := make([]string, len(ev.buttons))
	for i, b := range ev.buttons {
		if b.CallbackData != "" {
			labels[i] = b.Text
		}
	}
	mv, err := reader.Read(ev.text, labels)
	switch {
	case err != nil:
		return simAction{}, false, err
	case mv.Finished:
		return simAction{}, true, nil
	case mv.Button >= 0:
		return simAction{kind: "button", data: ev.buttons[mv.Button].CallbackData, msg: ev.msgID}, false, nil
	case mv.Answer != "":
		answer, ok := samples[mv.Answer]
		if !ok {
			return simAction{}, false, fmt.Errorf("the bot said %s, which asks for a %s, and this merchant has no sample of that kind",
				strings.Join(mv.IDs, "+"), mv.Answer)
		}
		return answer(m), false, nil
	}
	return simAction{}, false, nil
}

// says reports whether ev's text renders from one of ids.
func (m *simMerchant) says(ev botEvent, ids map[string]bool) bool {
	got, _ := m.rec.Message(ev.text)
	for _, id := range got {
		if ids[id] {
			return true
		}
	}
	return false
}

// hasButton reports whether ev has a button whose label renders from id.
func (m *simMerchant) hasButton(ev botEvent, id string) bool {
	for _, b := range ev.buttons {
		if m.rec.Label(b.Text) == id {
			return true
		}
	}
	return false
}

// floor replays template (another merchant's actions) against a bot that
// answers every update with one message: the same updates, the same pacing.
func (m *simMerchant) floor(ctx context.Context, template []simAction) (r merchantResult) {
	for _, c := range openingBurst {
		m.push(simAction{kind: "command", text: c})
		r.updates++
	}
	last, err := m.awaitN(ctx, &r, len(openingBurst), time.Time{})
	if err != nil {
		r.err = fmt.Errorf("after the opening burst: %w", err)
		return r
	}
	for _, a := range template {
		if a.kind == "button" {
			a.msg, a.data = last.msgID, "x"
		}
		at := m.push(a)
		r.updates++
		if last, err = m.awaitN(ctx, &r, 1, at); err != nil {
			r.err = fmt.Errorf("after %s: %w", a.kind, err)
			return r
		}
	}
	return r
}

// awaitN waits for n messages and then for settle without another.
func (m *simMerchant) awaitN(ctx context.Context, r *merchantResult, n int, since time.Time) (botEvent, error) {
	got := 0
	var last botEvent
	stuck := time.NewTimer(m.stuck)
	defer stuck.Stop()
	quiet := time.NewTimer(time.Hour)
	defer quiet.Stop()
	for {
		select {
		case ev := <-m.events:
			if got == 0 && !since.IsZero() {
				r.latencies = append(r.latencies, ev.at.Sub(since))
			}
			got++
			last = ev
			if got >= n {
				quiet.Reset(m.settle)
			}
		case <-quiet.C:
			return last, nil
		case <-stuck.C:
			return last, fmt.Errorf("%w: %d of %d replies", errStuck, got, n)
		case <-ctx.Done():
			return last, ctx.Err()
		}
	}
}

// normaliseText makes the messages of different merchants comparable
// (numbers, masked cards, dates differ) and keeps no digits in a report.
func normaliseText(s string) string { return guidedtest.Normalise(s) }

func redactAction(a simAction) string {
	if a.kind == "button" {
		return "button"
	}
	return normaliseText(a.text)
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
