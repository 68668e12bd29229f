// Package guidedtest is the merchant of the tests and the load tool who
// means to finish a card change: it reads the bot's messages by message id
// (Recogniser, over the embedded locale files, never by wording) and
// answers them the way dialogs.Guide() says — the step's forward button
// when one is shown, else a sample of the kind of answer its question
// takes. It keeps samples per kind of answer, not per step, so a step added
// to the dialog needs no edit where a merchant walks through it. Test code
// only: cmd/merchantbot's and bot/miniapp's tests and cmd/merchantbot-load
// import it, never the product.
package guidedtest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/merchantbot/merchantbot/dialogs"
)

// FinishedBy is the message that ends a card change: the submission.
const FinishedBy = "submitted"

// Reader says what a merchant who means to finish does on a message of the
// bot, from dialogs.Guide().
type Reader struct {
	rec *Recogniser
	// Forward are the buttons (label ids) that move the change on, in the
	// order of the dialog.
	Forward []string
	// Questions are the messages answered by typing or sharing: message
	// id → the kind of answer.
	Questions map[string]dialogs.AnswerKind
	// Notes are the messages that ask nothing of their own: the extra ids
	// given to NewReader, each step's notes and the questions of the steps
	// answered by a button (their buttons are in Forward).
	Notes map[string]bool
	// asks: message id → the guided steps whose question it is; a forward
	// button's label id → the steps that show it.
	asks, shows map[string][]string
}

// NewReader reads the bot with rec and by dialogs.Guide(); extraNotes are
// more messages that ask nothing (replies to commands…).
func NewReader(rec *Recogniser, extraNotes ...string) *Reader {
	r := &Reader{rec: rec, Questions: map[string]dialogs.AnswerKind{}, Notes: map[string]bool{},
		asks: map[string][]string{}, shows: map[string][]string{}}
	for _, id := range extraNotes {
		r.Notes[id] = true
	}
	for _, g := range dialogs.Guide() {
		for _, b := range g.Forward {
			r.shows[b] = append(r.shows[b], g.Step)
			if !slices.Contains(r.Forward, b) {
				r.Forward = append(r.Forward, b)
			}
		}
		for _, id := range g.Notes {
			r.Notes[id] = true
		}
		for _, id := range g.Asks {
			r.asks[id] = append(r.asks[id], g.Step)
			if g.Answer == "" {
				r.Notes[id] = true
			} else {
				r.Questions[id] = g.Answer
			}
		}
	}
	return r
}

// Recogniser is the reader's recogniser of message ids.
func (r *Reader) Recogniser() *Recogniser { return r.rec }

// Move is what a message of the bot asks of the merchant.
type Move struct {
	// IDs are the message ids the text renders from, in order.
	IDs []string
	// Finished: the message says the application is submitted.
	Finished bool
	// Button is the index (in the labels given to Read) of the forward
	// button to press, -1 when there is none.
	Button int
	// Answer is the kind of typed (or shared) answer the message's
	// question takes ("" when it asks for none).
	Answer dialogs.AnswerKind
	// Steps are the guided steps whose question the message renders from,
	// or whose forward button it shows.
	Steps []string
}

// Acts reports whether the merchant has something to do (or is done).
func (m Move) Acts() bool { return m.Finished || m.Button >= 0 || m.Answer != "" }

// Asks reports whether the message is the question of step.
func (m Move) Asks(step string) bool { return slices.Contains(m.Steps, step) }

// Read reads one message of the bot: its text and its buttons' labels. A
// message it cannot read, or one it reads but has no answer for (a
// question of no guided step, a refusal), is an error that names it.
func (r *Reader) Read(text string, labels []string) (Move, error) {
	mv := Move{Button: -1}
	ids, err := r.rec.Message(text)
	if err != nil {
		return mv, err
	}
	mv.IDs = ids
	step := func(s string) {
		if !slices.Contains(mv.Steps, s) {
			mv.Steps = append(mv.Steps, s)
		}
	}
	for _, id := range ids {
		for _, s := range r.asks[id] {
			step(s)
		}
	}
	for _, l := range labels {
		if l == "" {
			continue
		}
		for _, s := range r.shows[r.rec.Label(l)] {
			step(s)
		}
	}
	if slices.Contains(ids, FinishedBy) {
		mv.Finished = true
		return mv, nil
	}
forward:
	for _, want := range r.Forward {
		for i, l := range labels {
			if l != "" && r.rec.Label(l) == want {
				mv.Button = i
				break forward
			}
		}
	}
	for _, id := range ids {
		if kind, ok := r.Questions[id]; ok {
			mv.Answer = kind
			break
		}
	}
	if mv.Acts() {
		return mv, nil
	}
	for _, id := range ids {
		if !r.Notes[id] {
			return mv, fmt.Errorf("the bot said %s, which this merchant has no answer for (%q)",
				strings.Join(ids, "+"), clip(Normalise(text), 100))
		}
	}
	return mv, nil
}

var digitRun = regexp.MustCompile(`[0-9]+`)

// Normalise makes the messages of different merchants comparable (numbers,
// masked cards, dates differ) and keeps no digits in a report.
func Normalise(s string) string { return digitRun.ReplaceAllString(s, "#") }

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
