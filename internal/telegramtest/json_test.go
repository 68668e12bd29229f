package telegramtest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// TestJSONBodyEveryMethod calls every method the fake answers with an application/json body, the
// way an outbox sender posts a stored call, and checks each did what it says.
func TestJSONBodyEveryMethod(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	const (
		chat  = 41
		group = int64(-1001234567890)
	)
	call := func(method string, params map[string]any) json.RawMessage {
		t.Helper()
		r := postJSON(t, ctx, srv, method, params)
		require.True(t, r.OK, "%s: %s", method, r.Description)
		return r.Result
	}
	message := func(raw json.RawMessage) models.Message {
		t.Helper()
		var m models.Message
		require.NoError(t, json.Unmarshal(raw, &m))
		return m
	}
	keyboard := map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "Go", "callback_data": "go"}}}}

	var me models.User
	require.NoError(t, json.Unmarshal(call("getMe", map[string]any{}), &me))
	assert.Equal(t, srv.BotUser().ID, me.ID)

	srv.SendText(chat, chat, "hello")
	var updates []models.Update
	require.NoError(t, json.Unmarshal(call("getUpdates", map[string]any{"offset": 0, "timeout": 0, "allowed_updates": []string{"message"}}), &updates))
	require.Len(t, updates, 1)
	call("getUpdates", map[string]any{"offset": updates[0].ID + 1, "timeout": 0})

	call("setWebhook", map[string]any{"url": "http://127.0.0.1:1/hook", "secret_token": "s-1", "allowed_updates": []string{"message"}})
	call("deleteWebhook", map[string]any{"drop_pending_updates": true})

	sent := message(call("sendMessage", map[string]any{
		"chat_id": chat, "text": "<b>Pick</b>", "parse_mode": "HTML", "reply_markup": keyboard,
		"link_preview_options": map[string]any{"is_disabled": true}, "disable_notification": true,
	}))
	assert.Equal(t, "Pick", sent.Text)
	require.NotNil(t, sent.ReplyMarkup)
	assert.Equal(t, "go", sent.ReplyMarkup.InlineKeyboard[0][0].CallbackData)
	// A nested object may also come as a string holding its JSON, as in a form.
	asText, err := json.Marshal(keyboard)
	require.NoError(t, err)
	reply := message(call("sendMessage", map[string]any{
		"chat_id": chat, "text": "again", "reply_markup": string(asText),
		"reply_parameters": map[string]any{"message_id": sent.ID},
	}))
	require.NotNil(t, reply.ReplyToMessage)
	assert.Equal(t, sent.ID, reply.ReplyToMessage.ID)

	edited := message(call("editMessageText", map[string]any{"chat_id": chat, "message_id": sent.ID, "text": "Picked", "reply_markup": keyboard}))
	assert.Equal(t, "Picked", edited.Text)

	var topic models.ForumTopic
	require.NoError(t, json.Unmarshal(call("createForumTopic", map[string]any{"chat_id": group, "name": "Merchant 41"}), &topic))
	var copied models.MessageID
	require.NoError(t, json.Unmarshal(call("copyMessage", map[string]any{
		"chat_id": group, "from_chat_id": chat, "message_id": sent.ID, "message_thread_id": topic.MessageThreadID,
	}), &copied))
	assert.NotZero(t, copied.ID)
	_, photo := srv.Send(chat, chat, telegramtest.UserMessage{Kind: "photo", Text: "pic"})
	var copiedPhoto models.MessageID
	require.NoError(t, json.Unmarshal(call("copyMessage", map[string]any{
		"chat_id": group, "from_chat_id": chat, "message_id": photo, "message_thread_id": topic.MessageThreadID,
	}), &copiedPhoto))
	assert.Equal(t, "new", message(call("editMessageCaption", map[string]any{"chat_id": group, "message_id": copiedPhoto.ID, "caption": "new"})).Caption)
	var copiedBoth []models.MessageID
	require.NoError(t, json.Unmarshal(call("copyMessages", map[string]any{
		"chat_id": group, "from_chat_id": chat, "message_ids": []int{sent.ID, photo},
	}), &copiedBoth))
	assert.Len(t, copiedBoth, 2)
	call("setMessageReaction", map[string]any{"chat_id": chat, "message_id": photo, "reaction": []map[string]any{{"type": "emoji", "emoji": "👀"}}})
	call("editForumTopic", map[string]any{"chat_id": group, "message_thread_id": topic.MessageThreadID, "name": "Merchant 41 ✓"})
	var info models.ChatFullInfo
	require.NoError(t, json.Unmarshal(call("getChat", map[string]any{"chat_id": group}), &info))
	assert.True(t, info.IsForum)
	var member models.ChatMember
	require.NoError(t, json.Unmarshal(call("getChatMember", map[string]any{"chat_id": group, "user_id": srv.BotUser().ID}), &member))
	call("closeForumTopic", map[string]any{"chat_id": group, "message_thread_id": topic.MessageThreadID})
	call("reopenForumTopic", map[string]any{"chat_id": group, "message_thread_id": topic.MessageThreadID})

	query := srv.PressButton(chat, chat, sent.ID, "go")
	call("answerCallbackQuery", map[string]any{"callback_query_id": itoa(query), "text": "Done", "show_alert": true})
	answers := srv.CallbackAnswers()
	require.Len(t, answers, 1)
	assert.True(t, answers[0].ShowAlert)

	commands := []map[string]string{{"command": "start", "description": "Start"}}
	call("setMyCommands", map[string]any{"commands": commands, "scope": map[string]any{"type": "all_private_chats"}, "language_code": "en"})
	assert.Equal(t, []models.BotCommand{{Command: "start", Description: "Start"}}, srv.Commands("all_private_chats", "en"))

	call("deleteMessage", map[string]any{"chat_id": chat, "message_id": reply.ID})
	assert.Equal(t, []int{reply.ID}, srv.Deleted(chat))

	call("deleteForumTopic", map[string]any{"chat_id": group, "message_thread_id": topic.MessageThreadID})

	for _, c := range srv.Calls() {
		assert.Equal(t, 200, c.Code, "%s: %s", c.Method, c.Description)
	}
}

// TestJSONBodyShapes: a JSON body reads as the same parameters as a form with the same values.
func TestJSONBodyShapes(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	r := postJSON(t, ctx, srv, "sendMessage", map[string]any{
		"chat_id": 7, "text": "a \"quoted\" <text> \u00e9 🎉\n", "disable_notification": true,
		"protect_content": false, "message_thread_id": nil, "entities": []map[string]any{{"type": "bold", "offset": 0, "length": 1}},
	})
	require.True(t, r.OK, r.Description)
	p := srv.CallsTo("sendMessage")[0].Params
	assert.Equal(t, "a \"quoted\" <text> é 🎉\n", p.String("text"))
	assert.Equal(t, "true", p.String("disable_notification"))
	assert.True(t, p.Bool("disable_notification"))
	assert.False(t, p.Bool("protect_content"))
	assert.False(t, p.Has("message_thread_id"), "null is absent")
	var entities []models.MessageEntity
	require.NoError(t, p.JSON("entities", &entities))
	assert.Equal(t, []models.MessageEntity{{Type: models.MessageEntityTypeBold, Offset: 0, Length: 1}}, entities)
	got, _ := srv.LastSent(7)
	assert.Equal(t, entities, got.Entities)

	for _, ct := range []string{"application/json; charset=utf-8", "", "text/plain"} {
		r := do(t, ctx, srv.URL()+"/bot"+srv.Token()+"/sendMessage", ct, strings.NewReader(`{"chat_id":7,"text":"typed `+ct+`"}`))
		assert.True(t, r.OK, "%q: %s", ct, r.Description)
	}
	for _, body := range []string{`[1,2]`, `{"chat_id":7,`, `"text"`} {
		r := do(t, ctx, srv.URL()+"/bot"+srv.Token()+"/sendMessage", "application/json", strings.NewReader(body))
		assert.Equal(t, 400, r.ErrorCode, body)
	}
}
