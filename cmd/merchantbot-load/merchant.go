package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// What every simulated merchant types: a debit card in 张三's name (ICBC, Luhn
// valid), the branch, a reserved phone, and the sandbox's fixed code.
const (
	loadCard          = "6222021234567890128"
	loadHolder        = "张三"
	loadBranch        = "上海张江支行"
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
		return len(r.seen) >= m.burstReplies && hasButton(ev, "change settlement card")
	})
	r.burst = append([]string(nil), r.seen...)
	if err != nil {
		r.err = fmt.Errorf("after the opening burst: %w", err)
		return r
	}
	memoDone := false
	for step := 0; step < 60; step++ {
		a, finished := m.next(last)
		if finished {
			// What follows the submission (the menu) may come after the
			// merchant stopped reading; the transcripts compare up to it.
			for i := len(r.seen) - 1; i >= 0; i-- {
				if strings.Contains(strings.ToLower(r.seen[i]), "submitted") {
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
		if !memoDone && memo != nil && asksHolder(last) {
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
			_, fin := m.next(ev)
			return fin || m.answerable(ev)
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
			if m.trace != nil {
				m.trace("bot (edit=%v, %d buttons): %s", ev.edit, len(ev.buttons), clip(normaliseText(ev.text), 100))
			}
			if !got && !since.IsZero() {
				firstAt = ev.at
				r.latencies = append(r.latencies, ev.at.Sub(since))
			}
			last, got = ev, true
			// The submission ends the dialog even though a menu follows it.
			if _, done := m.next(answer); ready(ev) && !(haveAns && done) {
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

// answerable reports whether next has an action for ev.
func (m *simMerchant) answerable(ev botEvent) bool {
	a, _ := m.next(ev)
	return a.kind != ""
}

// next is what a merchant does on seeing ev (the English texts): finished once
// the application is submitted; otherwise the button that moves the change
// forward, or the answer the question asks for; a zero action when ev asks
// nothing it knows.
func (m *simMerchant) next(ev botEvent) (a simAction, finished bool) {
	text := strings.ToLower(ev.text)
	if strings.Contains(text, "submitted") {
		return simAction{}, true
	}
	for _, want := range []string{"change settlement card", "done", "all of the above", "i agree", "yes",
		"confirm", "send code", "get code", "submit", "continue", strings.ToLower(loadHolder)} {
		for _, b := range ev.buttons {
			label := strings.ToLower(b.Text)
			if b.CallbackData == "" || !strings.Contains(label, want) || avoidButton(label) {
				continue
			}
			return simAction{kind: "button", data: b.CallbackData, msg: ev.msgID}, false
		}
	}
	switch {
	case strings.Contains(text, "code") && (strings.Contains(text, "type it") || strings.Contains(text, "sent a")):
		return simAction{kind: "text", text: loadCode}, false
	case strings.Contains(text, "merchant number") && strings.Contains(text, "type"):
		return simAction{kind: "text", text: m.no}, false
	case strings.Contains(text, "share your phone"):
		return simAction{kind: "contact", text: "+86" + m.phone}, false
	case asksHolder(ev) && strings.Contains(text, "type"):
		return simAction{kind: "text", text: loadHolder}, false
	case strings.Contains(text, "number of the new settlement card"):
		return simAction{kind: "text", text: loadCard}, false
	case strings.Contains(text, "branch") && strings.Contains(text, "type"):
		return simAction{kind: "text", text: loadBranch}, false
	case strings.Contains(text, "mobile number the bank"):
		return simAction{kind: "text", text: loadReservedPhone}, false
	}
	return simAction{}, false
}

func asksHolder(ev botEvent) bool {
	text := strings.ToLower(ev.text)
	return strings.Contains(text, "holder") && strings.Contains(text, "name")
}

// avoidButton is a button that never moves the change forward.
func avoidButton(label string) bool {
	for _, no := range []string{"resend", "not yet", "no,", "cancel", "edit", "why"} {
		if strings.Contains(label, no) {
			return true
		}
	}
	return false
}

func hasButton(ev botEvent, label string) bool {
	for _, b := range ev.buttons {
		if strings.Contains(strings.ToLower(b.Text), label) {
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

var digitRun = regexp.MustCompile(`[0-9]+`)

// normaliseText makes the messages of different merchants comparable
// (numbers, masked cards, dates differ) and keeps no digits in a report.
func normaliseText(s string) string { return digitRun.ReplaceAllString(s, "#") }

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
