package telegramtest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

func TestBotGetMeAndUnauthorized(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)

	b := newBot(t, srv) // calls getMe
	me, err := b.GetMe(ctx)
	require.NoError(t, err)
	assert.True(t, me.IsBot)
	assert.Equal(t, b.ID(), me.ID)
	assert.Equal(t, "test_bot", me.Username)

	_, err = bot.New("42:wrong", bot.WithServerURL(srv.URL()))
	require.ErrorIs(t, err, bot.ErrorUnauthorized)

	test := newBot(t, srv, bot.UseTestEnvironment(), bot.WithSkipGetMe())
	_, err = test.GetMe(ctx)
	require.NoError(t, err, "the /bot<token>/test/<method> path works")
}

func TestBotSendEditDelete(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	b := newBot(t, srv, bot.WithSkipGetMe())
	const chatID = 1001

	keyboard := &inlineKeyboard{InlineKeyboard: [][]inlineButton{
		{{Text: "Pay", CallbackData: "pay:1"}, {Text: "Cancel", CallbackData: "cancel"}},
		{{Text: "Site", URL: "https://example.com"}},
	}}
	first, err := b.SendMessage(ctx, &bot.SendMessageParams{
		ChatID:      chatID,
		Text:        "Order <b>#1</b> &amp; co",
		ParseMode:   models.ParseModeHTML,
		ReplyMarkup: keyboard,
	})
	require.NoError(t, err)
	assert.Equal(t, 1, first.ID)
	assert.Equal(t, int64(chatID), first.Chat.ID)
	assert.Equal(t, models.ChatTypePrivate, first.Chat.Type)
	assert.NotZero(t, first.Date)
	assert.Equal(t, "Order #1 & co", first.Text)
	assert.Equal(t, []models.MessageEntity{{Type: models.MessageEntityTypeBold, Offset: 6, Length: 2}}, first.Entities)
	require.NotNil(t, first.ReplyMarkup)
	assert.Equal(t, "pay:1", first.ReplyMarkup.InlineKeyboard[0][0].CallbackData)

	second, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chatID, Text: "second"})
	require.NoError(t, err)
	assert.Equal(t, 2, second.ID, "message ids increase per chat")
	other, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 2002, Text: "elsewhere"})
	require.NoError(t, err)
	assert.Equal(t, 1, other.ID)

	edited, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: chatID, MessageID: first.ID, Text: "Paid"})
	require.NoError(t, err)
	assert.Equal(t, "Paid", edited.Text)
	assert.Nil(t, edited.ReplyMarkup, "an edit without reply_markup drops the keyboard")
	assert.NotZero(t, edited.EditDate)

	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: chatID, MessageID: first.ID, Text: "Paid"})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	assert.Contains(t, err.Error(), "message is not modified")

	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: chatID, MessageID: 99, Text: "x"})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	assert.Contains(t, err.Error(), "Bad Request: message to edit not found")

	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: chatID, MessageID: second.ID, Text: "second", ReplyMarkup: keyboard})
	require.NoError(t, err, "the same text with a new keyboard is a change")

	ok, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: chatID, MessageID: first.ID})
	require.NoError(t, err)
	assert.True(t, ok)
	_, err = b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: chatID, MessageID: first.ID})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	assert.Contains(t, err.Error(), "message to delete not found")

	sent := srv.Sent(chatID)
	require.Len(t, sent, 1)
	assert.Equal(t, "second", sent[0].Text)
	btn, found := sent[0].Button("Pay")
	require.True(t, found)
	assert.Equal(t, "pay:1", btn.CallbackData)
	assert.Equal(t, 1, sent[0].Edits)
	assert.Equal(t, []int{first.ID}, srv.Deleted(chatID))

	calls := srv.CallsTo("sendMessage")
	require.Len(t, calls, 3)
	assert.Equal(t, "Order <b>#1</b> &amp; co", calls[0].Params.String("text"))
	var markup models.InlineKeyboardMarkup
	require.NoError(t, calls[0].Params.JSON("reply_markup", &markup), "reply_markup arrives as a JSON form field")
	assert.Equal(t, "cancel", markup.InlineKeyboard[0][1].CallbackData)
	id, ok := calls[0].Params.Int64("chat_id")
	assert.True(t, ok)
	assert.Equal(t, int64(chatID), id)
}

func TestBotValidationErrors(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	b := newBot(t, srv, bot.WithSkipGetMe())

	tests := []struct {
		name   string
		params *bot.SendMessageParams
		want   string
	}{
		{"empty text", &bot.SendMessageParams{ChatID: 1, Text: ""}, "Bad Request: message text is empty"},
		{"blank text", &bot.SendMessageParams{ChatID: 1, Text: " \n "}, "Bad Request: message text is empty"},
		{"no chat", &bot.SendMessageParams{Text: "hi"}, "Bad Request: chat_id is empty"},
		{"too long", &bot.SendMessageParams{ChatID: 1, Text: string(make([]rune, 4097))}, "Bad Request: message is too long"},
		{"unescaped merchant input", &bot.SendMessageParams{ChatID: 1, Text: "Shop <Best> Ltd", ParseMode: models.ParseModeHTML},
			`Bad Request: can't parse entities: Unsupported start tag "best" at byte offset 5`},
		{"callback data too long", &bot.SendMessageParams{ChatID: 1, Text: "x", ReplyMarkup: &inlineKeyboard{
			InlineKeyboard: [][]inlineButton{{{Text: "b", CallbackData: string(make([]byte, 65))}}}}},
			"Bad Request: BUTTON_DATA_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.SendMessage(ctx, tt.params)
			require.ErrorIs(t, err, bot.ErrorBadRequest)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.Empty(t, srv.Sent(1))
}

func TestBotInjectedFailures(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	b := newBot(t, srv, bot.WithSkipGetMe())
	send := func() error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 7, Text: "hi"})
		return err
	}

	srv.FailNext("sendMessage", http.StatusTooManyRequests, "", 3, 1)
	err := send()
	var flood *bot.TooManyRequestsError
	require.ErrorAs(t, err, &flood)
	assert.Equal(t, 3, flood.RetryAfter)
	assert.Contains(t, flood.Message, "Too Many Requests: retry after 3")

	srv.FailNext("SENDMESSAGE", http.StatusForbidden, "", 0, 2)
	require.ErrorIs(t, send(), bot.ErrorForbidden)
	err = send()
	require.ErrorIs(t, err, bot.ErrorForbidden)
	assert.Contains(t, err.Error(), "Forbidden: bot was blocked by the user")

	srv.FailNext("*", http.StatusBadGateway, "", 0, 1)
	err = send()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "502 Bad Gateway")

	require.NoError(t, send(), "failures are used up")
	assert.Len(t, srv.Sent(7), 1, "failed calls have no effect")

	srv.SetBlocked(7, true)
	require.ErrorIs(t, send(), bot.ErrorForbidden)
	srv.SetBlocked(7, false)
	require.NoError(t, send())

	codes := []int{}
	for _, c := range srv.CallsTo("sendMessage") {
		codes = append(codes, c.Code)
	}
	assert.Equal(t, []int{429, 403, 403, 502, 200, 403, 200}, codes)
}

func TestBotUnknownMethod(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	r := postJSON(t, ctx, srv, "sendTelepathy", map[string]any{"chat_id": 1})
	assert.False(t, r.OK)
	assert.Equal(t, 404, r.ErrorCode)
	assert.Equal(t, "Not Found: method not found", r.Description)

	r = do(t, ctx, srv.URL()+"/bot123:nope/getMe", "application/json", nil)
	assert.Equal(t, 401, r.ErrorCode)
	assert.Equal(t, "Unauthorized", r.Description)
}

func TestBotCommandsAndCallbacks(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	b := newBot(t, srv, bot.WithSkipGetMe())

	en := []models.BotCommand{{Command: "start", Description: "Start"}, {Command: "help", Description: "Help"}}
	zh := []models.BotCommand{{Command: "start", Description: "开始"}}
	_, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: en, Scope: &models.BotCommandScopeAllPrivateChats{}})
	require.NoError(t, err)
	_, err = b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: zh, Scope: &models.BotCommandScopeAllPrivateChats{}, LanguageCode: "zh"})
	require.NoError(t, err)
	_, err = b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: en, Scope: &models.BotCommandScopeChat{ChatID: -100123}})
	require.NoError(t, err)
	_, err = b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "Start", Description: "x"}}})
	require.ErrorIs(t, err, bot.ErrorBadRequest)

	assert.Equal(t, en, srv.Commands("all_private_chats", ""))
	assert.Equal(t, zh, srv.Commands("all_private_chats", "zh"))
	assert.Equal(t, en, srv.Commands("chat:-100123", ""))
	assert.Empty(t, srv.Commands("default", ""))

	msg, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 5, Text: "Confirm?", ReplyMarkup: &inlineKeyboard{
		InlineKeyboard: [][]inlineButton{{{Text: "Yes", CallbackData: "yes"}}}}})
	require.NoError(t, err)
	updateID := srv.PressButton(5, 5, msg.ID, "yes")
	ok, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: itoa(updateID), Text: "Done"})
	require.NoError(t, err)
	assert.True(t, ok)
	_, err = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: "nope"})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	answers := srv.CallbackAnswers()
	require.Len(t, answers, 1)
	assert.Equal(t, "Done", answers[0].Text)
}

func TestBotWebhookMethods(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	b := newBot(t, srv, bot.WithSkipGetMe())

	ok, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: "http://127.0.0.1:1/hook", SecretToken: "s3cret", DropPendingUpdates: true})
	require.NoError(t, err)
	assert.True(t, ok)
	_, err = b.SetWebhook(ctx, &bot.SetWebhookParams{URL: "http://127.0.0.1:1/hook", SecretToken: "bad secret!"})
	require.ErrorIs(t, err, bot.ErrorBadRequest)

	r := postJSON(t, ctx, srv, "getUpdates", map[string]any{"timeout": 0})
	assert.Equal(t, http.StatusConflict, r.ErrorCode)
	assert.Contains(t, r.Description, "can't use getUpdates method while webhook is active")

	_, err = b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{})
	require.NoError(t, err)
	r = postJSON(t, ctx, srv, "getUpdates", map[string]any{"timeout": 0})
	assert.True(t, r.OK)
}

func TestBotTopicsCopyAndMedia(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	b := newBot(t, srv, bot.WithSkipGetMe())
	const group = -1001234567890

	topic, err := b.CreateForumTopic(ctx, &bot.CreateForumTopicParams{ChatID: group, Name: "Merchant 42"})
	require.NoError(t, err)
	assert.NotZero(t, topic.MessageThreadID)
	m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: group, MessageThreadID: topic.MessageThreadID, Text: "hello"})
	require.NoError(t, err)
	assert.Equal(t, topic.MessageThreadID, m.MessageThreadID)
	assert.Equal(t, models.ChatTypeSupergroup, m.Chat.Type)
	assert.True(t, m.Chat.IsForum)

	_, err = b.CloseForumTopic(ctx, &bot.CloseForumTopicParams{ChatID: group, MessageThreadID: topic.MessageThreadID})
	require.NoError(t, err)
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: group, MessageThreadID: topic.MessageThreadID, Text: "x"})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	assert.Contains(t, err.Error(), "TOPIC_CLOSED")
	_, err = b.ReopenForumTopic(ctx, &bot.ReopenForumTopicParams{ChatID: group, MessageThreadID: topic.MessageThreadID})
	require.NoError(t, err)
	assert.Equal(t, []telegramtest.Topic{{ThreadID: topic.MessageThreadID, Name: "Merchant 42", IconColor: 7322096}}, srv.Topics(group))

	srv.SendText(9, 9, "my shop")
	userMsg := srv.Transcript(9)[0]
	copied, err := b.CopyMessage(ctx, &bot.CopyMessageParams{ChatID: group, FromChatID: 9, MessageID: userMsg.ID, MessageThreadID: topic.MessageThreadID})
	require.NoError(t, err)
	_, err = b.CopyMessage(ctx, &bot.CopyMessageParams{ChatID: group, FromChatID: 9, MessageID: 77})
	require.ErrorIs(t, err, bot.ErrorBadRequest)

	_, photoID := srv.Send(9, 9, telegramtest.UserMessage{Kind: "photo", Text: "QR"})
	photo, err := b.CopyMessage(ctx, &bot.CopyMessageParams{ChatID: group, FromChatID: 9, MessageID: photoID,
		Caption: "<i>QR</i>", ParseMode: models.ParseModeHTML})
	require.NoError(t, err)

	sent := srv.Sent(group)
	require.Len(t, sent, 3)
	assert.Equal(t, copied.ID, sent[1].ID)
	assert.Equal(t, "my shop", sent[1].Text)
	assert.Equal(t, photo.ID, sent[2].ID)
	assert.Equal(t, "photo", sent[2].Kind)
	assert.Equal(t, "QR", sent[2].Caption)
	assert.Equal(t, "<i>QR</i>", sent[2].Source)
}

// TestBotLongPolling runs the real bot's getUpdates loop against the fake, end to end.
func TestBotLongPolling(t *testing.T) {
	srv := newServer(t)
	srv.SetUserLanguage(77, "zh-hans")
	ctx, cancel := context.WithCancel(testContext(t))
	languages := make(chan string, 1)
	b := newBot(t, srv,
		bot.WithDefaultHandler(func(ctx context.Context, b *bot.Bot, u *models.Update) {
			switch {
			case u.Message != nil && u.Message.Text == "/start":
				languages <- u.Message.From.LanguageCode
				_, _ = b.SendMessage(ctx, &bot.SendMessageParams{
					ChatID: u.Message.Chat.ID, Text: "Welcome",
					ReplyMarkup: &inlineKeyboard{InlineKeyboard: [][]inlineButton{
						{{Text: "Register", CallbackData: "reg"}}}},
				})
			case u.Message != nil && u.Message.Contact != nil:
				_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "Got " + u.Message.Contact.PhoneNumber})
			case u.CallbackQuery != nil:
				msg := u.CallbackQuery.Message.Message
				_, _ = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: u.CallbackQuery.ID})
				_, _ = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: msg.Chat.ID, MessageID: msg.ID, Text: "Send your phone"})
			}
		}),
		bot.WithHTTPClient(2*time.Second, &http.Client{Timeout: 3 * time.Second}),
	)
	done := make(chan struct{})
	go func() {
		b.Start(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	srv.SendCommand(77, 77, "/start")
	sent, err := srv.WaitSent(ctx, 77, 1)
	require.NoError(t, err)
	assert.Equal(t, "zh-hans", <-languages)
	assert.Equal(t, "Welcome", sent[0].Text)

	_, err = srv.PressButtonLabeled(77, 77, "Register")
	require.NoError(t, err)
	require.NoError(t, srv.WaitFor(ctx, func(s *telegramtest.Snapshot) bool {
		m, ok := s.LastSent(77)
		return ok && m.Text == "Send your phone" && len(s.CallbackAnswers()) == 1
	}))

	srv.ShareContact(77, 77, "+8613800000000", 77)
	sent, err = srv.WaitSent(ctx, 77, 2)
	require.NoError(t, err)
	assert.Equal(t, "Got +8613800000000", sent[1].Text)

	require.NoError(t, srv.WaitFor(ctx, func(s *telegramtest.Snapshot) bool { return s.Pending() == 0 }),
		"the bot confirmed every update")
	assert.Len(t, srv.Transcript(77), 4)
}

func TestWaitSentTimesOut(t *testing.T) {
	srv := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := srv.WaitSent(ctx, 1, 1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
	assert.Contains(t, err.Error(), "want 1 messages in chat 1, have 0")
}
