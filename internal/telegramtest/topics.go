package telegramtest

import (
	"context"
	"sort"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// Topic is a forum topic the bot created.
type Topic struct {
	ThreadID  int
	Name      string
	IconColor int
	Closed    bool
	// deleted topics stay known so that sends into them are refused the way
	// Telegram refuses them ("message thread not found"), not taken as new.
	deleted bool
}

// defaultIconColor is the blue Telegram gives a topic created without icon_color.
const defaultIconColor = 7322096

func (s *Server) createForumTopic(_ context.Context, p Params) (any, *apiError) {
	chatID, e := chatParam(p, "chat_id")
	if e != nil {
		return nil, e
	}
	name := p.String("name")
	if n := utf8.RuneCountInString(name); n == 0 || n > 128 {
		return nil, badRequest("TOPIC_TITLE_EMPTY")
	}
	color, ok := p.Int("icon_color")
	if !ok {
		color = defaultIconColor
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.blockedLocked(chatID); e != nil {
		return nil, e
	}
	if e := s.forumRightsLocked(chatID); e != nil {
		return nil, e
	}
	c := s.chatLocked(chatID)
	// The thread id is the id of the "topic created" service message, which is not recorded.
	c.lastID++
	t := &Topic{ThreadID: c.lastID, Name: name, IconColor: color}
	c.topics[t.ThreadID] = t
	s.notifyChangedLocked()
	return models.ForumTopic{MessageThreadID: t.ThreadID, Name: name, IconColor: color}, nil
}

func (s *Server) closeForumTopic(_ context.Context, p Params) (any, *apiError) {
	return s.setTopicClosed(p, true)
}

func (s *Server) reopenForumTopic(_ context.Context, p Params) (any, *apiError) {
	return s.setTopicClosed(p, false)
}

func (s *Server) setTopicClosed(p Params, closed bool) (any, *apiError) {
	chatID, e := chatParam(p, "chat_id")
	if e != nil {
		return nil, e
	}
	thread, _ := p.Int("message_thread_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	var t *Topic
	if c := s.chats[chatID]; c != nil {
		t = c.topics[thread]
	}
	if t == nil || t.deleted {
		return nil, badRequest("TOPIC_ID_INVALID")
	}
	if e := s.forumRightsLocked(chatID); e != nil {
		return nil, e
	}
	if t.Closed == closed {
		return nil, badRequest("TOPIC_NOT_MODIFIED")
	}
	t.Closed = closed
	s.notifyChangedLocked()
	return true, nil
}

// Topics lists the forum topics the bot created in chatID that are not
// deleted, oldest first.
func (s *Server) Topics(chatID int64) []Topic {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot().Topics(chatID)
}

// Topics lists the forum topics the bot created in chatID, oldest first.
func (v *Snapshot) Topics(chatID int64) []Topic {
	c := v.s.chats[chatID]
	if c == nil {
		return nil
	}
	out := make([]Topic, 0, len(c.topics))
	for _, t := range c.topics {
		if !t.deleted {
			out = append(out, *t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ThreadID < out[j].ThreadID })
	return out
}
