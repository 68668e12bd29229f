package bot

import (
	"testing"

	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"

	"github.com/merchantbot/merchantbot/dialogs"
)

func TestMessageInput(t *testing.T) {
	const me = 42
	from := &models.User{ID: me, FirstName: "张", LanguageCode: "zh-hans"}
	private := models.Chat{ID: me, Type: models.ChatTypePrivate}
	cmd := func(length int) []models.MessageEntity {
		return []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: length}}
	}
	tests := []struct {
		name string
		msg  models.Message
		want dialogs.Input
	}{
		{
			name: "text",
			msg:  models.Message{ID: 7, From: from, Chat: private, Text: "６２２２ ０２１２"},
			want: dialogs.Input{Kind: dialogs.InText, Text: "６２２２ ０２１２", MessageID: 7, LanguageCode: "zh-hans"},
		},
		{
			name: "command",
			msg:  models.Message{ID: 1, From: from, Chat: private, Text: "/help", Entities: cmd(5)},
			want: dialogs.Input{Kind: dialogs.InCommand, Text: "help", MessageID: 1, LanguageCode: "zh-hans"},
		},
		{
			name: "command addressed to the bot",
			msg:  models.Message{ID: 1, From: from, Chat: private, Text: "/status@merchant_bot", Entities: cmd(20)},
			want: dialogs.Input{Kind: dialogs.InCommand, Text: "status", MessageID: 1, LanguageCode: "zh-hans"},
		},
		{
			name: "deep link",
			msg:  models.Message{ID: 1, From: from, Chat: private, Text: "/start change_card", Entities: cmd(6)},
			want: dialogs.Input{Kind: dialogs.InCommand, Text: "start", Arg: "change_card", MessageID: 1, LanguageCode: "zh-hans"},
		},
		{
			name: "a slash without the command entity is text",
			msg:  models.Message{ID: 2, From: from, Chat: private, Text: "/ 6222"},
			want: dialogs.Input{Kind: dialogs.InText, Text: "/ 6222", MessageID: 2, LanguageCode: "zh-hans"},
		},
		{
			name: "a command from a client that sends no entities",
			msg:  models.Message{ID: 2, From: from, Chat: private, Text: "/start@merchant_bot change_card"},
			want: dialogs.Input{Kind: dialogs.InCommand, Text: "start", Arg: "change_card", MessageID: 2, LanguageCode: "zh-hans"},
		},
		{
			name: "a forwarded command whose text kept other entities",
			msg: models.Message{ID: 2, From: from, Chat: private, Text: "/status please", ForwardOrigin: &models.MessageOrigin{},
				Entities: []models.MessageEntity{{Type: models.MessageEntityTypeBold, Offset: 8, Length: 6}}},
			want: dialogs.Input{Kind: dialogs.InCommand, Text: "status", Arg: "please", MessageID: 2, LanguageCode: "zh-hans"},
		},
		{
			name: "a command on its own line, without entities",
			msg:  models.Message{ID: 2, From: from, Chat: private, Text: "/status\n谢谢"},
			want: dialogs.Input{Kind: dialogs.InCommand, Text: "status", Arg: "谢谢", MessageID: 2, LanguageCode: "zh-hans"},
		},
		{
			name: "a command addressed to the bot, without entities",
			msg:  models.Message{ID: 2, From: from, Chat: private, Text: "/Status@merchant_bot"},
			want: dialogs.Input{Kind: dialogs.InCommand, Text: "Status", MessageID: 2, LanguageCode: "zh-hans"},
		},
		{
			name: "an unknown command without entities is still a command",
			msg:  models.Message{ID: 2, From: from, Chat: private, Text: "/foo"},
			want: dialogs.Input{Kind: dialogs.InCommand, Text: "foo", MessageID: 2, LanguageCode: "zh-hans"},
		},
		{
			name: "a path is text",
			msg:  models.Message{ID: 2, From: from, Chat: private, Text: "/usr/bin"},
			want: dialogs.Input{Kind: dialogs.InText, Text: "/usr/bin", MessageID: 2, LanguageCode: "zh-hans"},
		},
		{
			name: "command entity not at the start is text",
			msg: models.Message{ID: 2, From: from, Chat: private, Text: "see /help",
				Entities: []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 4, Length: 5}}},
			want: dialogs.Input{Kind: dialogs.InText, Text: "see /help", MessageID: 2, LanguageCode: "zh-hans"},
		},
		{
			name: "own contact",
			msg: models.Message{ID: 3, From: from, Chat: private,
				Contact: &models.Contact{PhoneNumber: "+8613800000001", UserID: me}},
			want: dialogs.Input{Kind: dialogs.InContact, MessageID: 3, LanguageCode: "zh-hans",
				Contact: &dialogs.Contact{Phone: "+8613800000001", OwnedBySender: true}},
		},
		{
			name: "someone else's contact",
			msg: models.Message{ID: 3, From: from, Chat: private,
				Contact: &models.Contact{PhoneNumber: "+8613800000001", UserID: 99}},
			want: dialogs.Input{Kind: dialogs.InContact, MessageID: 3, LanguageCode: "zh-hans",
				Contact: &dialogs.Contact{Phone: "+8613800000001"}},
		},
		{
			name: "contact without a user id",
			msg: models.Message{ID: 3, From: from, Chat: private,
				Contact: &models.Contact{PhoneNumber: "+8613800000001"}},
			want: dialogs.Input{Kind: dialogs.InContact, MessageID: 3, LanguageCode: "zh-hans",
				Contact: &dialogs.Contact{Phone: "+8613800000001"}},
		},
		{
			name: "forwarded own contact",
			msg: models.Message{ID: 3, From: from, Chat: private, ForwardOrigin: &models.MessageOrigin{},
				Contact: &models.Contact{PhoneNumber: "+8613800000001", UserID: me}},
			want: dialogs.Input{Kind: dialogs.InContact, MessageID: 3, LanguageCode: "zh-hans",
				Contact: &dialogs.Contact{Phone: "+8613800000001"}},
		},
		{
			name: "photo",
			msg:  models.Message{ID: 4, From: from, Chat: private, Photo: []models.PhotoSize{{FileID: "x"}}, Caption: "6222"},
			want: dialogs.Input{Kind: dialogs.InMedia, Text: "6222", MessageID: 4, LanguageCode: "zh-hans"},
		},
		{name: "sticker", msg: models.Message{ID: 4, Chat: private, Sticker: &models.Sticker{}},
			want: dialogs.Input{Kind: dialogs.InMedia, MessageID: 4}},
		{name: "document", msg: models.Message{ID: 4, Chat: private, Document: &models.Document{}},
			want: dialogs.Input{Kind: dialogs.InMedia, MessageID: 4}},
		{name: "voice", msg: models.Message{ID: 4, Chat: private, Voice: &models.Voice{}},
			want: dialogs.Input{Kind: dialogs.InMedia, MessageID: 4}},
		{name: "video", msg: models.Message{ID: 4, Chat: private, Video: &models.Video{}},
			want: dialogs.Input{Kind: dialogs.InMedia, MessageID: 4}},
		{name: "video note", msg: models.Message{ID: 4, Chat: private, VideoNote: &models.VideoNote{}},
			want: dialogs.Input{Kind: dialogs.InMedia, MessageID: 4}},
		{name: "animation", msg: models.Message{ID: 4, Chat: private, Animation: &models.Animation{}},
			want: dialogs.Input{Kind: dialogs.InMedia, MessageID: 4}},
		{name: "audio", msg: models.Message{ID: 4, Chat: private, Audio: &models.Audio{}},
			want: dialogs.Input{Kind: dialogs.InMedia, MessageID: 4}},
		{name: "location", msg: models.Message{ID: 5, Chat: private, Location: &models.Location{}},
			want: dialogs.Input{Kind: dialogs.InOther, MessageID: 5}},
		{name: "poll", msg: models.Message{ID: 5, Chat: private, Poll: &models.Poll{}},
			want: dialogs.Input{Kind: dialogs.InOther, MessageID: 5}},
		{name: "dice", msg: models.Message{ID: 5, Chat: private, Dice: &models.Dice{}},
			want: dialogs.Input{Kind: dialogs.InOther, MessageID: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			want.Returning = tt.msg.ID > 1 // a message past the chat's first shows an earlier talk
			assert.Equal(t, want, messageInput(&tt.msg))
		})
	}
}

func TestNewUpdate(t *testing.T) {
	user := models.User{ID: 42, LanguageCode: "en"}
	tests := []struct {
		name    string
		u       models.Update
		chat    int64
		private bool
		kind    string
	}{
		{
			name:    "private message",
			u:       models.Update{ID: 1, Message: &models.Message{From: &user, Chat: models.Chat{ID: 42, Type: models.ChatTypePrivate}}},
			chat:    42,
			private: true,
			kind:    "message",
		},
		{
			name: "group message",
			u:    models.Update{ID: 1, Message: &models.Message{From: &user, Chat: models.Chat{ID: -100, Type: models.ChatTypeSupergroup}}},
			chat: -100,
			kind: "message",
		},
		{
			name: "channel post",
			u:    models.Update{ID: 1, ChannelPost: &models.Message{Chat: models.Chat{ID: -200, Type: models.ChatTypeChannel}}},
			kind: "channel_post",
		},
		{
			name: "a bot in a private chat",
			u: models.Update{ID: 1, Message: &models.Message{From: &models.User{ID: 7, IsBot: true},
				Chat: models.Chat{ID: 7, Type: models.ChatTypePrivate}}},
			chat: 7,
			kind: "message",
		},
		{
			name: "button on a message",
			u: models.Update{ID: 1, CallbackQuery: &models.CallbackQuery{ID: "q", From: user, Message: models.MaybeInaccessibleMessage{
				Type: models.MaybeInaccessibleMessageTypeMessage, Message: &models.Message{ID: 9, Chat: models.Chat{ID: 42, Type: models.ChatTypePrivate}}}}},
			chat:    42,
			private: true,
			kind:    "callback_query",
		},
		{
			name: "button on an inaccessible message",
			u: models.Update{ID: 1, CallbackQuery: &models.CallbackQuery{ID: "q", From: user, Message: models.MaybeInaccessibleMessage{
				Type: models.MaybeInaccessibleMessageTypeInaccessibleMessage, InaccessibleMessage: &models.InaccessibleMessage{MessageID: 9, Chat: models.Chat{ID: 42, Type: models.ChatTypePrivate}}}}},
			chat:    42,
			private: true,
			kind:    "callback_query",
		},
		{
			name: "button in a group",
			u: models.Update{ID: 1, CallbackQuery: &models.CallbackQuery{ID: "q", From: user, Message: models.MaybeInaccessibleMessage{
				Type: models.MaybeInaccessibleMessageTypeMessage, Message: &models.Message{ID: 9, Chat: models.Chat{ID: -100, Type: models.ChatTypeGroup}}}}},
			chat: -100,
			kind: "callback_query",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUpdate(&tt.u)
			assert.Equal(t, tt.chat, u.chat)
			assert.Equal(t, tt.private, u.private)
			assert.Equal(t, tt.kind, u.kind)
		})
	}
}

func TestButtonInput(t *testing.T) {
	u := newUpdate(&models.Update{ID: 5, CallbackQuery: &models.CallbackQuery{ID: "q", From: models.User{ID: 42, LanguageCode: "en"},
		Message: models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage,
			Message: &models.Message{ID: 9, Chat: models.Chat{ID: 42, Type: models.ChatTypePrivate}}}}})
	assert.Equal(t, dialogs.Input{Kind: dialogs.InButton, Data: "ck:ok.0", Seq: 3, MessageID: 9, LanguageCode: "en", Returning: true},
		buttonInput(u, 3, "ck:ok.0"))
}

// TestMessageInputReturning: only a chat's first message (id 1) is not
// from a chat that talked with the bot before.
func TestMessageInputReturning(t *testing.T) {
	private := models.Chat{ID: 42, Type: models.ChatTypePrivate}
	assert.False(t, messageInput(&models.Message{ID: 1, Chat: private, Text: "hi"}).Returning)
	assert.True(t, messageInput(&models.Message{ID: 2, Chat: private, Text: "hi"}).Returning)
}
