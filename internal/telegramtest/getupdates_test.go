package telegramtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

func updatesOf(t *testing.T, r response) []models.Update {
	t.Helper()
	require.True(t, r.OK, r.Description)
	var updates []models.Update
	require.NoError(t, json.Unmarshal(r.Result, &updates))
	return updates
}

func TestGetUpdatesOffsetConfirms(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)

	first := srv.SendText(1, 1, "one")
	srv.SendText(1, 1, "two")
	srv.SendText(2, 2, "three")

	got := updatesOf(t, postJSON(t, ctx, srv, "getUpdates", map[string]any{"limit": 2}))
	require.Len(t, got, 2)
	assert.Equal(t, first, got[0].ID)
	assert.Equal(t, "one", got[0].Message.Text)
	assert.Equal(t, "two", got[1].Message.Text)
	assert.Equal(t, models.ChatTypePrivate, got[0].Message.Chat.Type)
	assert.Equal(t, "en", got[0].Message.From.LanguageCode)

	again := updatesOf(t, postJSON(t, ctx, srv, "getUpdates", map[string]any{"offset": 0}))
	assert.Len(t, again, 3, "without offset nothing is confirmed")

	rest := updatesOf(t, postJSON(t, ctx, srv, "getUpdates", map[string]any{"offset": got[1].ID + 1}))
	require.Len(t, rest, 1)
	assert.Equal(t, "three", rest[0].Message.Text)
	assert.Equal(t, 1, srv.Pending())

	assert.Empty(t, updatesOf(t, postJSON(t, ctx, srv, "getUpdates", map[string]any{"offset": rest[0].ID + 1})))
	assert.Zero(t, srv.Pending())
}

func TestGetUpdatesLongPollWakesOnPush(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)

	go func() {
		if srv.WaitFor(ctx, (*telegramtest.Snapshot).Polling) == nil {
			srv.SendCommand(3, 3, "start ref_9")
		}
	}()
	start := time.Now()
	got := updatesOf(t, postJSON(t, ctx, srv, "getUpdates", map[string]any{"timeout": 5}))
	assert.Less(t, time.Since(start), 4*time.Second)
	require.Len(t, got, 1)
	assert.Equal(t, "/start ref_9", got[0].Message.Text)
	assert.Equal(t, []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Length: 6}}, got[0].Message.Entities)
}

func TestGetUpdatesTimeoutAndCancel(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)

	start := time.Now()
	assert.Empty(t, updatesOf(t, postJSON(t, ctx, srv, "getUpdates", map[string]any{"timeout": 1})))
	assert.GreaterOrEqual(t, time.Since(start), time.Second)

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(short, http.MethodPost,
		srv.URL()+"/bot"+srv.Token()+"/getUpdates?timeout=30", nil)
	require.NoError(t, err)
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// The server noticed the client left: a new poll is not in conflict with it.
	_, err = srv.WaitCalls(ctx, "getUpdates", 2)
	require.NoError(t, err)
}

func TestGetUpdatesSecondPollerEndsFirst(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)

	first := make(chan response, 1)
	go func() { first <- postJSON(t, ctx, srv, "getUpdates", map[string]any{"timeout": 5}) }()
	require.NoError(t, srv.WaitFor(ctx, (*telegramtest.Snapshot).Polling))
	second := make(chan response, 1)
	go func() { second <- postJSON(t, ctx, srv, "getUpdates", map[string]any{"timeout": 5}) }()

	r := <-first
	assert.Equal(t, http.StatusConflict, r.ErrorCode)
	assert.Contains(t, r.Description, "terminated by other getUpdates request")
	srv.SendText(1, 1, "hi")
	assert.Len(t, updatesOf(t, <-second), 1)
}

func TestGetUpdatesNegativeOffsetAndAllowed(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)
	for range 5 {
		srv.SendText(1, 1, "x")
	}
	got := updatesOf(t, postJSON(t, ctx, srv, "getUpdates", map[string]any{"offset": -2}))
	assert.Len(t, got, 2)
	assert.Equal(t, 2, srv.Pending())

	r := postJSON(t, ctx, srv, "getUpdates", map[string]any{"offset": got[1].ID + 1, "allowed_updates": []string{"callback_query"}})
	assert.Empty(t, updatesOf(t, r))
	srv.SendText(1, 1, "dropped: not allowed")
	srv.PressButton(1, 1, 1, "data")
	got = updatesOf(t, postJSON(t, ctx, srv, "getUpdates", map[string]any{}))
	require.Len(t, got, 1)
	require.NotNil(t, got[0].CallbackQuery)
	assert.Equal(t, "data", got[0].CallbackQuery.Data)
	assert.Equal(t, models.MaybeInaccessibleMessageTypeMessage, got[0].CallbackQuery.Message.Type)
}

func TestPushRawAndPushUpdate(t *testing.T) {
	srv := newServer(t)
	ctx := testContext(t)

	id, err := srv.PushRaw([]byte(`{"message":{"message_id":5,"date":1,"chat":{"id":1,"type":"private"},"text":"hi","future_field":{"x":1}}}`))
	require.NoError(t, err)
	_, err = srv.PushRaw([]byte(`[1,2]`))
	require.Error(t, err)
	explicit, err := srv.PushRaw([]byte(`{"update_id":1000,"edited_message":{"message_id":5,"date":1,"chat":{"id":1,"type":"private"}}}`))
	require.NoError(t, err)
	assert.Equal(t, int64(1000), explicit)
	next := srv.PushUpdate(models.Update{CallbackQuery: &models.CallbackQuery{ID: "q1", Data: "d",
		Message: models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeInaccessibleMessage,
			InaccessibleMessage: &models.InaccessibleMessage{Chat: models.Chat{ID: 1}, MessageID: 3}}}})
	assert.Equal(t, int64(1001), next)

	got := updatesOf(t, postJSON(t, ctx, srv, "getUpdates", map[string]any{}))
	require.Len(t, got, 3)
	assert.Equal(t, id, got[0].ID)
	assert.Equal(t, "hi", got[0].Message.Text)
	assert.Equal(t, int64(1000), got[1].ID)
	assert.NotNil(t, got[1].EditedMessage)
	assert.Equal(t, models.MaybeInaccessibleMessageTypeInaccessibleMessage, got[2].CallbackQuery.Message.Type)

	r := postJSON(t, ctx, srv, "answerCallbackQuery", map[string]any{"callback_query_id": "q1"})
	assert.True(t, r.OK, "queries pushed by hand can be answered")
}
