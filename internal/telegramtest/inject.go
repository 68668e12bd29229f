package telegramtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"
)

// SetUser sets how user u.ID appears in the updates it sends (names, language, premium...).
func (s *Server) SetUser(u models.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// SetUserLanguage sets the language_code userID's updates carry.
func (s *Server) SetUserLanguage(userID int64, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(userID)
	u.LanguageCode = code
	s.users[userID] = u
}

// SendText makes userID write text in chatID (a private chat when chatID is positive) and
// returns the update id.
func (s *Server) SendText(chatID, userID int64, text string) int64 {
	return s.userMessage(chatID, userID, kindText, func(m *models.Message) { m.Text = text })
}

// SendCommand is SendText with a bot_command entity over the first word; a missing leading
// "/" is added ("start ref_1" sends "/start ref_1").
func (s *Server) SendCommand(chatID, userID int64, command string) int64 {
	if !strings.HasPrefix(command, "/") {
		command = "/" + command
	}
	word, _, _ := strings.Cut(command, " ")
	return s.userMessage(chatID, userID, kindText, func(m *models.Message) {
		m.Text = command
		m.Entities = []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: utf16Count(word)}}
	})
}

// ShareContact makes userID share a contact, as the request_contact keyboard button does when
// contactUserID is userID.
func (s *Server) ShareContact(chatID, userID int64, phone string, contactUserID int64) int64 {
	return s.userMessage(chatID, userID, kindContact, func(m *models.Message) {
		c := &models.Contact{PhoneNumber: phone, FirstName: "Contact", UserID: contactUserID}
		if contactUserID == userID {
			c.FirstName, c.LastName = m.From.FirstName, m.From.LastName
		}
		m.Contact = c
	})
}

// SendPhoto makes userID send a photo without caption.
func (s *Server) SendPhoto(chatID, userID int64) int64 {
	return s.userMessage(chatID, userID, kindPhoto, func(*models.Message) {})
}

// SendSticker makes userID send a sticker.
func (s *Server) SendSticker(chatID, userID int64) int64 {
	return s.userMessage(chatID, userID, kindSticker, func(*models.Message) {})
}

// userMessage records a message from userID in chatID and queues it as an update.
func (s *Server) userMessage(chatID, userID int64, kind string, fill func(*models.Message)) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := s.userLocked(userID)
	rec := &record{kind: kind, wire: models.Message{From: &from}}
	s.attachMediaLocked(&rec.wire, kind)
	fill(&rec.wire)
	rec.source = rec.wire.Text
	s.addLocked(s.chatLocked(chatID), rec)
	msg := rec.wire
	id, err := s.pushLocked(models.AllowedUpdateMessage, 0, func(id int64) ([]byte, error) {
		return json.Marshal(&models.Update{ID: id, Message: &msg})
	})
	if err != nil {
		panic(fmt.Sprintf("telegramtest: encode update: %v", err))
	}
	return id
}

// PressButton makes userID press an inline button with callback data on message messageID in
// chatID. The callback query carries the message as it is now; if the message does not exist
// (deleted, or never sent) it carries an inaccessible message, as Telegram does for old ones.
// The callback query id is the returned update id in decimal.
func (s *Server) PressButton(chatID, userID int64, messageID int, data string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := &models.CallbackQuery{
		From:         s.userLocked(userID),
		ChatInstance: strconv.FormatInt(chatID, 10),
		Data:         data,
	}
	var rec *record
	if c := s.chats[chatID]; c != nil {
		rec = c.msgs[messageID]
	}
	if rec != nil {
		msg := rec.wire
		q.Message = models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &msg}
	} else {
		q.Message = models.MaybeInaccessibleMessage{
			Type:                models.MaybeInaccessibleMessageTypeInaccessibleMessage,
			InaccessibleMessage: &models.InaccessibleMessage{Chat: s.chatObjectLocked(chatID), MessageID: messageID},
		}
	}
	id, err := s.pushLocked(models.AllowedUpdateCallbackQuery, 0, func(id int64) ([]byte, error) {
		q.ID = strconv.FormatInt(id, 10)
		return json.Marshal(&models.Update{ID: id, CallbackQuery: q})
	})
	if err != nil {
		panic(fmt.Sprintf("telegramtest: encode update: %v", err))
	}
	s.queries[q.ID] = true
	return id
}

// PressButtonLabeled presses the button labelled label on the bot's latest message in chatID
// that has one with callback data.
func (s *Server) PressButtonLabeled(chatID, userID int64, label string) (int64, error) {
	s.mu.Lock()
	msgID, data, found := 0, "", false
	if c := s.chats[chatID]; c != nil {
		for i := len(c.order) - 1; i >= 0 && !found; i-- {
			rec := c.msgs[c.order[i]]
			if rec == nil || !rec.fromBot {
				continue
			}
			if b, ok := rec.view().Button(label); ok && b.CallbackData != "" {
				msgID, data, found = rec.wire.ID, b.CallbackData, true
			}
		}
	}
	s.mu.Unlock()
	if !found {
		return 0, fmt.Errorf("telegramtest: no button %q with callback data in chat %d", label, chatID)
	}
	return s.PressButton(chatID, userID, msgID, data), nil
}
