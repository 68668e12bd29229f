package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// forumSettings is what a test says about supergroups: whether topics are
// on, and who is in the group with which rights. Guarded by Server.mu.
type forumSettings struct {
	isForum   map[int64]bool
	members   map[int64]map[int64]member
	reactions map[int64]map[int][]string // chat → message → emojis the bot set
}

type member struct {
	user            models.User
	status          models.ChatMemberType
	canManageTopics bool
}

// Message kinds beyond the ones the bot sends.
const (
	kindVoice = "voice"
	kindVideo = "video"
)

// SetForum turns topics on or off in supergroup chatID, as an owner does in
// the group's settings. Without it a supergroup is a forum once it has a
// topic, which keeps older tests as they were.
func (s *Server) SetForum(chatID int64, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.forum.isForum == nil {
		s.forum.isForum = map[int64]bool{}
	}
	s.forum.isForum[chatID] = on
}

// SetChatMember puts user in chatID with status ("creator", "administrator",
// "member", "left", "kicked"); canManageTopics is the administrator right.
// Call it with the bot's own user (BotUser) to set what the bot may do.
func (s *Server) SetChatMember(chatID int64, user models.User, status models.ChatMemberType, canManageTopics bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.forum.members == nil {
		s.forum.members = map[int64]map[int64]member{}
	}
	if s.forum.members[chatID] == nil {
		s.forum.members[chatID] = map[int64]member{}
	}
	s.forum.members[chatID][user.ID] = member{user: user, status: status, canManageTopics: canManageTopics}
	if user.ID != s.botUser.ID {
		s.users[user.ID] = user
	}
}

func (s *Server) isForumLocked(chatID int64) bool {
	if on, set := s.forum.isForum[chatID]; set {
		return on
	}
	c := s.chats[chatID]
	return c != nil && len(c.topics) > 0
}

// forumRightsLocked refuses topic management where Telegram would: in a chat
// a test made a non-forum, or when the test set the bot's rights without
// can_manage_topics. With nothing set, the bot may (older tests).
func (s *Server) forumRightsLocked(chatID int64) *apiError {
	if on, set := s.forum.isForum[chatID]; set && !on {
		return badRequest("the chat is not a forum")
	}
	m, set := s.forum.members[chatID][s.botUser.ID]
	if !set {
		return nil
	}
	if m.status != models.ChatMemberTypeOwner && !(m.status == models.ChatMemberTypeAdministrator && m.canManageTopics) {
		return badRequest("not enough rights to create a topic")
	}
	return nil
}

// threadErr says whether the bot may post into thread of c: a deleted topic
// is "message thread not found" (forever, as on Telegram), a closed one
// TOPIC_CLOSED. Threads the fake does not know (topics a person created in
// the app) are let through.
func threadErr(c *chat, thread int) *apiError {
	if thread == 0 || c.id > 0 {
		return nil
	}
	t := c.topics[thread]
	switch {
	case t == nil:
		return nil
	case t.deleted:
		return badRequest("message thread not found")
	case t.Closed:
		return badRequest("TOPIC_CLOSED")
	}
	return nil
}

func (s *Server) topicLocked(chatID int64, p Params) (*Topic, *apiError) {
	thread, _ := p.Int("message_thread_id")
	var t *Topic
	if c := s.chats[chatID]; c != nil {
		t = c.topics[thread]
	}
	if t == nil || t.deleted {
		return nil, badRequest("TOPIC_ID_INVALID")
	}
	return t, nil
}

func (s *Server) editForumTopic(_ context.Context, p Params) (any, *apiError) {
	chatID, e := chatParam(p, "chat_id")
	if e != nil {
		return nil, e
	}
	name, hasName := p.String("name"), p.Has("name")
	if hasName && utf8.RuneCountInString(name) > 128 {
		return nil, badRequest("TOPIC_TITLE_EMPTY")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.topicLocked(chatID, p)
	if e != nil {
		return nil, e
	}
	if e := s.forumRightsLocked(chatID); e != nil {
		return nil, e
	}
	if !hasName || name == "" || name == t.Name {
		return nil, badRequest("TOPIC_NOT_MODIFIED")
	}
	t.Name = name
	s.notifyChangedLocked()
	return true, nil
}

func (s *Server) deleteForumTopic(_ context.Context, p Params) (any, *apiError) {
	chatID, e := chatParam(p, "chat_id")
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.topicLocked(chatID, p)
	if e != nil {
		return nil, e
	}
	if e := s.forumRightsLocked(chatID); e != nil {
		return nil, e
	}
	s.deleteTopicLocked(chatID, t)
	return true, nil
}

// DeleteTopic deletes a forum topic with all its messages, as an agent does
// in the app; the bot learns of it only when its next send is refused.
func (s *Server) DeleteTopic(chatID int64, thread int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil || c.topics[thread] == nil || c.topics[thread].deleted {
		return false
	}
	s.deleteTopicLocked(chatID, c.topics[thread])
	return true
}

// CloseTopic closes a topic as an agent does in the app.
func (s *Server) CloseTopic(chatID int64, thread int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil || c.topics[thread] == nil || c.topics[thread].deleted {
		return false
	}
	c.topics[thread].Closed = true
	s.notifyChangedLocked()
	return true
}

func (s *Server) deleteTopicLocked(chatID int64, t *Topic) {
	c := s.chats[chatID]
	t.deleted = true
	for _, id := range append([]int(nil), c.order...) {
		if rec := c.msgs[id]; rec != nil && rec.wire.MessageThreadID == t.ThreadID {
			s.deleteLocked(c, id)
		}
	}
	s.notifyChangedLocked()
}

func (s *Server) getChat(_ context.Context, p Params) (any, *apiError) {
	chatID, e := chatParam(p, "chat_id")
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.blockedLocked(chatID); e != nil && chatID < 0 {
		return nil, e // kicked from the group
	}
	ch := s.chatObjectLocked(chatID)
	info := models.ChatFullInfo{ID: ch.ID, Type: ch.Type, Title: ch.Title, Username: ch.Username,
		FirstName: ch.FirstName, LastName: ch.LastName}
	if ch.Type == models.ChatTypeSupergroup {
		info.IsForum = s.isForumLocked(chatID)
	}
	return info, nil
}

func (s *Server) getChatMember(_ context.Context, p Params) (any, *apiError) {
	chatID, e := chatParam(p, "chat_id")
	if e != nil {
		return nil, e
	}
	userID, ok := p.Int64("user_id")
	if !ok || userID <= 0 {
		return nil, badRequest("invalid user_id specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, set := s.forum.members[chatID][userID]
	if !set {
		m = member{user: s.userLocked(userID), status: models.ChatMemberTypeLeft}
		if userID == s.botUser.ID {
			m.user, m.status = s.botUser, models.ChatMemberTypeMember
		}
	}
	if chatID > 0 && chatID != userID {
		return nil, badRequest("member not found")
	}
	u := m.user
	switch m.status {
	case models.ChatMemberTypeOwner:
		return models.ChatMemberOwner{Status: m.status, User: &u}, nil
	case models.ChatMemberTypeAdministrator:
		return models.ChatMemberAdministrator{Status: m.status, User: u, CanManageChat: true,
			CanDeleteMessages: true, CanManageTopics: m.canManageTopics, CanPinMessages: true}, nil
	case models.ChatMemberTypeMember:
		return models.ChatMemberMember{Status: m.status, User: &u}, nil
	case models.ChatMemberTypeBanned:
		return models.ChatMemberBanned{Status: m.status, User: &u}, nil
	}
	return models.ChatMemberLeft{Status: models.ChatMemberTypeLeft, User: &u}, nil
}

// copyMessages copies several messages in one call. Messages it cannot find
// are skipped; an album keeps its grouping (a fresh media_group_id per
// album). The answer is the new ids, in order.
func (s *Server) copyMessages(_ context.Context, p Params) (any, *apiError) {
	chatID, e := chatParam(p, "chat_id")
	if e != nil {
		return nil, e
	}
	fromID, e := chatParam(p, "from_chat_id")
	if e != nil {
		return nil, e
	}
	var ids []int
	if err := p.JSON("message_ids", &ids); err != nil || len(ids) == 0 {
		return nil, badRequest("message_ids is empty")
	}
	if len(ids) > 100 {
		return nil, badRequest("too many messages to copy")
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			return nil, badRequest("message identifiers must be in strictly increasing order")
		}
	}
	thread, _ := p.Int("message_thread_id")
	removeCaption := p.Bool("remove_caption")

	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.chats[fromID]
	var found []*record
	if src != nil {
		for _, id := range ids {
			if rec := src.msgs[id]; rec != nil {
				found = append(found, rec)
			}
		}
	}
	if len(found) == 0 {
		return nil, badRequest("message to copy not found")
	}
	c, e := s.writableLocked(chatID, thread)
	if e != nil {
		return nil, e
	}
	groups := map[string]string{}
	out := make([]models.MessageID, 0, len(found))
	for _, from := range found {
		rec := copyRecord(from, thread)
		if removeCaption {
			rec.wire.Caption, rec.wire.CaptionEntities, rec.source = "", nil, ""
		}
		if g := from.wire.MediaGroupID; g != "" {
			if groups[g] == "" {
				s.fileSeq++
				groups[g] = "fake-album-" + strconv.Itoa(s.fileSeq)
			}
			rec.wire.MediaGroupID = groups[g]
		}
		s.addLocked(c, rec)
		out = append(out, models.MessageID{ID: rec.wire.ID})
	}
	return out, nil
}

// allowedReactions are the emoji Telegram accepts as a reaction (a subset of
// its list, enough for what a bot would set).
var allowedReactions = map[string]bool{
	"👍": true, "👎": true, "❤": true, "🔥": true, "👌": true, "👀": true, "✍": true, "🙏": true,
	"👏": true, "🤝": true, "😁": true, "🎉": true, "💯": true, "⚡": true, "🆗": true,
}

func (s *Server) setMessageReaction(_ context.Context, p Params) (any, *apiError) {
	chatID, e := chatParam(p, "chat_id")
	if e != nil {
		return nil, e
	}
	msgID, ok := p.Int("message_id")
	if !ok {
		return nil, badRequest("message identifier is not specified")
	}
	var list []struct {
		Type  string `json:"type"`
		Emoji string `json:"emoji"`
	}
	if p.Has("reaction") {
		if err := p.JSON("reaction", &list); err != nil {
			return nil, badRequest("can't parse reaction types JSON object")
		}
	}
	emojis := make([]string, 0, len(list))
	for _, r := range list {
		if r.Type != "emoji" || !allowedReactions[r.Emoji] {
			return nil, badRequest("REACTION_INVALID")
		}
		emojis = append(emojis, r.Emoji)
	}
	if len(emojis) > 1 {
		return nil, badRequest("REACTIONS_TOO_MANY")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.blockedLocked(chatID); e != nil {
		return nil, e
	}
	c := s.chats[chatID]
	if c == nil || c.msgs[msgID] == nil {
		return nil, badRequest("MESSAGE_ID_INVALID")
	}
	if s.forum.reactions == nil {
		s.forum.reactions = map[int64]map[int][]string{}
	}
	if s.forum.reactions[chatID] == nil {
		s.forum.reactions[chatID] = map[int][]string{}
	}
	s.forum.reactions[chatID][msgID] = emojis
	s.notifyChangedLocked()
	return true, nil
}

// Reactions is what the bot set as its reaction on message msgID of chatID.
func (v *Snapshot) Reactions(chatID int64, msgID int) []string {
	return append([]string(nil), v.s.forum.reactions[chatID][msgID]...)
}

// Reactions is what the bot set as its reaction on message msgID of chatID.
func (s *Server) Reactions(chatID int64, msgID int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot().Reactions(chatID, msgID)
}

// UserMessage is a message a person sends in a test: a private chat with the
// bot (Thread 0) or a topic of a forum supergroup.
type UserMessage struct {
	Thread     int    // forum topic, 0 for none
	Kind       string // "text" (default), "photo", "document", "sticker", "voice", "video", "poll"
	Text       string // text, or caption for media
	MediaGroup string // media_group_id: the parts of one album share it
	FileName   string // a document's file name
	Poll       *models.Poll
}

// Send makes userID send m in chatID and returns the update id and the new
// message's id.
func (s *Server) Send(chatID, userID int64, m UserMessage) (update int64, msgID int) {
	kind := m.Kind
	if kind == "" {
		kind = kindText
	}
	update = s.userMessage(chatID, userID, kind, func(w *models.Message) {
		if kind == kindText {
			w.Text = m.Text
		} else {
			w.Caption = m.Text
		}
		switch kind {
		case kindVoice:
			w.Voice = &models.Voice{FileID: "fake-voice-" + strconv.FormatInt(chatID, 10), FileUniqueID: "uv", Duration: 3, MimeType: "audio/ogg"}
		case kindVideo:
			w.Video = &models.Video{FileID: "fake-video-" + strconv.FormatInt(chatID, 10), FileUniqueID: "uvd", Width: 640, Height: 360, Duration: 5}
		case kindDocument:
			w.Document.FileName = m.FileName
		case kindPoll:
			w.Poll, w.Caption = m.Poll, ""
		}
		w.MediaGroupID = m.MediaGroup
		if m.Thread != 0 {
			w.MessageThreadID, w.IsTopicMessage = m.Thread, true
		}
		// fill runs under s.mu, before userMessage numbers the message.
		msgID = 1
		if c := s.chats[chatID]; c != nil {
			msgID = c.lastID + 1
		}
	})
	return update, msgID
}

// Edit makes the author of message msgID in chatID change its text (or its
// caption) and queues the edited_message update.
func (s *Server) Edit(chatID int64, msgID int, text string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil || c.msgs[msgID] == nil || c.msgs[msgID].fromBot {
		return 0, fmt.Errorf("telegramtest: no user message %d in chat %d", msgID, chatID)
	}
	rec := c.msgs[msgID]
	w := rec.wire
	if rec.kind == kindText {
		w.Text, w.Entities = text, nil
	} else {
		w.Caption, w.CaptionEntities = text, nil
	}
	w.EditDate = int(s.now().Unix())
	rec.wire, rec.source = w, text
	rec.edits++
	s.notifyChangedLocked()
	return s.pushLocked(models.AllowedUpdateEditedMessage, 0, func(id int64) ([]byte, error) {
		return json.Marshal(&models.Update{ID: id, EditedMessage: &w})
	})
}
