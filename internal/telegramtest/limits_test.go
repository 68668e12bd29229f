package telegramtest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestRateLimits(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := newServer(t, telegramtest.WithRateLimits(), telegramtest.WithClock(clock.Now))
	ctx := testContext(t)
	b := newBot(t, srv, bot.WithSkipGetMe())
	send := func(chatID int64) error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chatID, Text: "x"})
		return err
	}

	// A private chat: a burst of 3, then one a second.
	for range 3 {
		require.NoError(t, send(1))
	}
	err := send(1)
	var flood *bot.TooManyRequestsError
	require.ErrorAs(t, err, &flood)
	assert.Equal(t, 1, flood.RetryAfter)
	clock.Advance(time.Second)
	require.NoError(t, send(1))

	// A group: 20 a minute.
	for range 20 {
		require.NoError(t, send(-100500))
	}
	require.ErrorAs(t, send(-100500), &flood)
	assert.Equal(t, 3, flood.RetryAfter)

	// All chats: 30 a second.
	clock.Advance(time.Minute)
	for i := range 30 {
		require.NoError(t, send(int64(1000+i)))
	}
	require.ErrorAs(t, send(2000), &flood)
	assert.Equal(t, 3, srv.Violations())
	assert.Len(t, srv.Sent(1), 4, "a refused message is not sent")

	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 1, MessageID: 1, Text: "edit"})
	require.NoError(t, err, "edits are not counted")
}
