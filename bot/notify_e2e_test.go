package bot

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/bot/notify"
)

func approved(app string) backend.Event {
	return backend.Event{ID: app + ":approved", Application: app, MerchantNo: "822100050110001",
		Status: backend.StatusApproved, CardMasked: "622202*********0128", At: time.Now().UTC()}
}

// TestStatusEventReachesTheMerchantOnce: a status change, pushed twice (or
// pushed and polled), is one message in the merchant's language, sent
// through the chat's queue and outbox.
func TestStatusEventReachesTheMerchantOnce(t *testing.T) {
	h := newHarness(t)
	const chat = 620
	h.walkToCard(chat) // binds merchant 822100050110001 to the chat, in English
	n := notify.New(h.rdb, h.prefix, h.bot)
	ctx := context.Background()
	for range 2 {
		_, err := n.Apply(ctx, approved("CC620"))
		require.NoError(t, err)
	}
	h.waitText(chat, "is approved")
	h.settle()
	assert.Equal(t, 1, countText(h.fake.Sent(chat), "Application CC620 is approved"))
}

// TestStatusEventSurvivesACrash: the process dies right after the turn that
// holds the notification was committed; the next process sends it, once.
func TestStatusEventSurvivesACrash(t *testing.T) {
	var crash atomic.Bool
	a := newHarness(t, append(short, botOptions(withCrashHook(func(int64) bool { return crash.Load() })))...)
	const chat = 621
	a.walkToCard(chat)
	crash.Store(true)
	n := notify.New(a.rdb, a.prefix, a.bot)
	_, err := n.Apply(context.Background(), approved("CC621"))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		q, _ := a.q.QueueLen(context.Background(), chat)
		o, _ := a.q.OutboxLen(context.Background(), chat)
		return q == 0 && o > 0
	}, 10*time.Second, 5*time.Millisecond, "committed, not sent")
	a.stop()

	b := newHarness(t, append(short, replicaOf(a))...)
	b.waitText(chat, "is approved")
	b.settle()
	n2 := 0
	for _, m := range b.fake.Sent(chat) {
		if strings.Contains(m.Text, "Application CC621 is approved") {
			n2++
		}
	}
	assert.Equal(t, 1, n2)
}

// TestBlockedMerchantHearsTheNewestStatusOnly: while the merchant has
// blocked the bot nothing is sent; when they unblock it, of two status
// changes of one application only the newer is told.
func TestBlockedMerchantHearsTheNewestStatusOnly(t *testing.T) {
	h := newHarness(t)
	const chat = 622
	h.walkToCard(chat)
	member := func(typ models.ChatMemberType) {
		u := models.ChatMemberUpdated{Chat: models.Chat{ID: chat, Type: models.ChatTypePrivate}, From: models.User{ID: chat}}
		banned := models.ChatMember{Type: models.ChatMemberTypeBanned, Banned: &models.ChatMemberBanned{}}
		member := models.ChatMember{Type: models.ChatMemberTypeMember, Member: &models.ChatMemberMember{}}
		u.OldChatMember, u.NewChatMember = member, banned
		if typ == models.ChatMemberTypeMember {
			u.OldChatMember, u.NewChatMember = banned, member
		}
		h.fake.PushUpdate(models.Update{MyChatMember: &u})
		h.settle()
	}
	h.fake.SetBlocked(chat, true)
	member(models.ChatMemberTypeBanned)
	calls := h.fake.CallCount("sendMessage")
	n := notify.New(h.rdb, h.prefix, h.bot)
	ctx := context.Background()
	ev := approved("CC622")
	_, err := n.Apply(ctx, ev)
	require.NoError(t, err)
	ev.ID, ev.Status = "CC622:effective", backend.StatusEffective
	_, err = n.Apply(ctx, ev)
	require.NoError(t, err)
	h.settle()
	assert.Equal(t, calls, h.fake.CallCount("sendMessage"), "nothing sent to a chat that blocked the bot")

	h.fake.SetBlocked(chat, false)
	member(models.ChatMemberTypeMember)
	all := ""
	for _, m := range h.fake.Sent(chat) {
		all += m.Text + "\n"
	}
	assert.Contains(t, all, "application CC622 is in effect")
	assert.NotContains(t, all, "Application CC622 is approved", "superseded by the newer status")
}
