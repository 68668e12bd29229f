package telegramtest

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Call is one request the bot made, or one method it put in a webhook response (InResponse).
type Call struct {
	Method      string // canonical spelling ("sendMessage") for known methods
	Params      Params
	At          time.Time
	Code        int    // 200, or the error_code answered (not told to the bot when InResponse)
	Description string // the error description, if any
	InResponse  bool   // carried by the body of a webhook response, not requested
}

// record logs c: a request in Calls, CallsTo and CallCount; a method of a webhook response in
// Responses and ResponseCount.
func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.InResponse {
		s.responseCounts[c.Method]++
		if s.logCalls {
			s.responses = append(s.responses, c)
		}
	} else {
		s.callCounts[c.Method]++
		if s.logCalls {
			s.calls = append(s.calls, c)
		}
	}
	s.notifyChangedLocked()
}

// Snapshot reads the server's state inside WaitFor, under the server's lock: its methods must
// only be called from the condition function, and nothing it returns should be kept after.
type Snapshot struct{ s *Server }

func (s *Server) snapshot() *Snapshot { return &Snapshot{s: s} }

// WaitFor blocks until cond holds or ctx ends. cond runs again after every change (a call, a
// message, a pushed or confirmed update), never while another goroutine changes the state.
func (s *Server) WaitFor(ctx context.Context, cond func(*Snapshot) bool) error {
	for {
		s.mu.Lock()
		done := cond(s.snapshot())
		changed := s.changed
		s.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("telegramtest: wait: %w", ctx.Err())
		}
	}
}

// WaitSent waits until chatID holds at least n messages from the bot (deleted ones do not
// count) and returns them all. On timeout the error lists what the chat holds.
func (s *Server) WaitSent(ctx context.Context, chatID int64, n int) ([]Message, error) {
	var sent []Message
	err := s.WaitFor(ctx, func(v *Snapshot) bool {
		if c := v.s.chats[chatID]; c == nil || c.botAlive < n {
			return false
		}
		sent = v.Sent(chatID)
		return true
	})
	if err != nil {
		got := s.Sent(chatID)
		texts := make([]string, len(got))
		for i, m := range got {
			texts[i] = fmt.Sprintf("%q", m.Text+m.Caption)
		}
		return got, fmt.Errorf("%w: want %d messages in chat %d, have %d: [%s]",
			err, n, chatID, len(got), strings.Join(texts, ", "))
	}
	return sent, nil
}

// WaitCalls waits until method was called at least n times and returns those calls.
func (s *Server) WaitCalls(ctx context.Context, method string, n int) ([]Call, error) {
	var calls []Call
	err := s.WaitFor(ctx, func(v *Snapshot) bool {
		if v.CallCount(method) < n {
			return false
		}
		calls = v.CallsTo(method)
		return true
	})
	if err != nil {
		return s.CallsTo(method), fmt.Errorf("%w: want %d calls of %s, have %d", err, n, method, s.CallCount(method))
	}
	return calls, nil
}

// Sent lists the bot's messages in chatID as they are now (edited, without deleted ones).
func (s *Server) Sent(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot().Sent(chatID)
}

// Sent lists the bot's messages in chatID as they are now (edited, without deleted ones).
func (v *Snapshot) Sent(chatID int64) []Message {
	return v.messages(chatID, true)
}

// Transcript lists every message in chatID, the user's and the bot's, in order.
func (s *Server) Transcript(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot().Transcript(chatID)
}

// Transcript lists every message in chatID, the user's and the bot's, in order.
func (v *Snapshot) Transcript(chatID int64) []Message {
	return v.messages(chatID, false)
}

func (v *Snapshot) messages(chatID int64, botOnly bool) []Message {
	c := v.s.chats[chatID]
	if c == nil {
		return nil
	}
	out := make([]Message, 0, c.botAlive)
	for _, id := range c.order {
		if rec := c.msgs[id]; rec != nil && (rec.fromBot || !botOnly) {
			out = append(out, rec.view())
		}
	}
	return out
}

// LastSent is the bot's latest message in chatID that is not deleted.
func (s *Server) LastSent(chatID int64) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot().LastSent(chatID)
}

// LastSent is the bot's latest message in chatID that is not deleted.
func (v *Snapshot) LastSent(chatID int64) (Message, bool) {
	if c := v.s.chats[chatID]; c != nil {
		for i := len(c.order) - 1; i >= 0; i-- {
			if rec := c.msgs[c.order[i]]; rec != nil && rec.fromBot {
				return rec.view(), true
			}
		}
	}
	return Message{}, false
}

// Deleted lists the ids of messages deleted in chatID, in the order they were deleted.
func (s *Server) Deleted(chatID int64) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot().Deleted(chatID)
}

// Deleted lists the ids of messages deleted in chatID, in the order they were deleted.
func (v *Snapshot) Deleted(chatID int64) []int {
	if c := v.s.chats[chatID]; c != nil {
		return append([]int(nil), c.deleted...)
	}
	return nil
}

// CallbackAnswers lists answerCallbackQuery calls that succeeded, in order, those carried by
// webhook responses included (Responses tells them apart).
func (s *Server) CallbackAnswers() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot().CallbackAnswers()
}

// CallbackAnswers lists answerCallbackQuery calls that succeeded, in order.
func (v *Snapshot) CallbackAnswers() []CallbackAnswer {
	return append([]CallbackAnswer(nil), v.s.answers...)
}

// Calls lists every call in the order they were answered (empty under WithoutCallLog).
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot().Calls()
}

// Calls lists every call in the order they were answered (empty under WithoutCallLog).
func (v *Snapshot) Calls() []Call {
	return append([]Call(nil), v.s.calls...)
}

// CallsTo lists the calls of method (case-insensitive).
func (s *Server) CallsTo(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot().CallsTo(method)
}

// CallsTo lists the calls of method (case-insensitive).
func (v *Snapshot) CallsTo(method string) []Call {
	var out []Call
	for _, c := range v.s.calls {
		if strings.EqualFold(c.Method, method) {
			out = append(out, c)
		}
	}
	return out
}

// CallCount counts calls of method (case-insensitive), whatever their outcome.
func (s *Server) CallCount(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot().CallCount(method)
}

// CallCount counts calls of method (case-insensitive), whatever their outcome.
func (v *Snapshot) CallCount(method string) int {
	if rt, ok := v.s.routes[strings.ToLower(method)]; ok {
		method = rt.name
	}
	return v.s.callCounts[method]
}

// Responses lists the methods webhook responses carried, in the order they ran, whatever their
// outcome (empty under WithoutCallLog). Their effects show as a request's would (CallbackAnswers,
// Sent, ...).
func (s *Server) Responses() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot().Responses()
}

// Responses lists the methods webhook responses carried, in the order they ran.
func (v *Snapshot) Responses() []Call {
	return append([]Call(nil), v.s.responses...)
}

// ResponseCount counts the times a webhook response carried method (case-insensitive), whatever
// the outcome. CallCount does not count them: the bot made no request.
func (s *Server) ResponseCount(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot().ResponseCount(method)
}

// ResponseCount counts the times a webhook response carried method (case-insensitive).
func (v *Snapshot) ResponseCount(method string) int {
	if rt, ok := v.s.routes[strings.ToLower(method)]; ok {
		method = rt.name
	}
	return v.s.responseCounts[method]
}

// Violations counts the 429s WithRateLimits answered.
func (s *Server) Violations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.violations
}

// Violations counts the 429s WithRateLimits answered.
func (v *Snapshot) Violations() int { return v.s.violations }

// Pending is how many updates wait to be confirmed.
func (v *Snapshot) Pending() int { return v.s.pendingLocked() }

// Polling reports whether a getUpdates call is waiting for updates now.
func (v *Snapshot) Polling() bool { return v.s.poller != nil }

// Deliveries lists webhook delivery attempts in order.
func (v *Snapshot) Deliveries() []Delivery { return append([]Delivery(nil), v.s.deliveries...) }
