package chatq_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

func testQueue(t testing.TB) (*chatq.Redis, *redis.Client, string) {
	t.Helper()
	rdb, prefix := redistest.New(t)
	q := chatq.New(rdb, chatq.WithPrefix(prefix), chatq.WithLockTTL(2*time.Second))
	require.NoError(t, q.Preload(context.Background()))
	return q, rdb, prefix
}

func msg(text string) outbox.Call {
	return outbox.Call{Method: "sendMessage", Params: []byte(`{"chat_id":1,"text":"` + text + `"}`)}
}

// Entries come out in update_id order whatever order they arrived in, a
// redelivered id is refused before and after it was applied, and an event
// goes after every update received before it.
func TestOrderDedupeAndEvents(t *testing.T) {
	q, _, _ := testQueue(t)
	ctx := context.Background()
	const chat = 42
	now := time.Now()
	for _, id := range []int64{12, 10, 11} {
		added, err := q.AddUpdate(ctx, chat, id, []byte{byte(id)}, now)
		require.NoError(t, err)
		assert.True(t, added)
	}
	added, err := q.AddUpdate(ctx, chat, 11, []byte{11}, now)
	require.NoError(t, err)
	assert.False(t, added, "queued twice")
	added, err = q.AddEvent(ctx, chat, "once-1", []byte("ev"), now)
	require.NoError(t, err)
	assert.True(t, added)
	added, err = q.AddEvent(ctx, chat, "once-1", []byte("ev again"), now)
	require.NoError(t, err)
	assert.False(t, added, "same once key")

	c, err := q.Claim(ctx, chat, "tok")
	require.NoError(t, err)
	_, err = q.Claim(ctx, chat, "other")
	assert.ErrorIs(t, err, chatq.ErrBusy)
	var got []string
	for c.Head != nil {
		got = append(got, string(c.Head.Payload))
		id := int64(0)
		if len(c.Head.Payload) == 1 {
			id = int64(c.Head.Payload[0])
		}
		_, err := q.Commit(ctx, c, chatq.Turn{State: []byte("s"), StateTTL: time.Minute, UpdateID: id, KeepWake: true}, "ot")
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"\x0a", "\x0b", "\x0c", "ev"}, got)
	added, err = q.AddUpdate(ctx, chat, 12, []byte{12}, now)
	require.NoError(t, err)
	assert.False(t, added, "applied before")
	n, err := q.QueueLen(ctx, chat)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// A commit writes the outbox and hands it to the committer; MarkSent walks
// it in order and gives the lease back at the end.
func TestOutboxInOrder(t *testing.T) {
	q, _, _ := testQueue(t)
	ctx := context.Background()
	const chat = 43
	_, err := q.AddUpdate(ctx, chat, 1, []byte("u1"), time.Now())
	require.NoError(t, err)
	c, err := q.Claim(ctx, chat, "tok")
	require.NoError(t, err)
	done, err := q.Commit(ctx, c, chatq.Turn{UpdateID: 1, KeepWake: true, Calls: []outbox.Call{msg("a"), msg("b")}}, "send-1")
	require.NoError(t, err)
	require.NotNil(t, done.Outbox)
	_, err = q.ClaimOutbox(ctx, chat, "send-2")
	assert.ErrorIs(t, err, chatq.ErrNotSender, "one sender at a time")

	calls, chats, err := q.Depth(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(2), calls)
	assert.Equal(t, int64(1), chats)

	var texts []string
	raw := done.Outbox
	for raw != nil {
		texts = append(texts, string(raw))
		raw, err = q.MarkSent(ctx, chat, "send-1", raw)
		require.NoError(t, err)
	}
	require.Len(t, texts, 2)
	assert.Contains(t, texts[0], `"text":"a"`)
	assert.Contains(t, texts[1], `"text":"b"`)
	first, err := q.ClaimOutbox(ctx, chat, "send-3")
	require.NoError(t, err)
	assert.Nil(t, first, "nothing left")
	due, err := q.Due(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, due, "no work left anywhere")
	calls, chats, err = q.Depth(ctx)
	require.NoError(t, err)
	assert.Zero(t, calls)
	assert.Zero(t, chats)
}

// An entry handed out more often than allowed can be dead-lettered: it
// leaves the queue, counts as applied, and lands in the dead list.
func TestDeadLetter(t *testing.T) {
	q, _, _ := testQueue(t)
	ctx := context.Background()
	const chat = 44
	_, err := q.AddUpdate(ctx, chat, 7, []byte("poison"), time.Now())
	require.NoError(t, err)
	for i := 1; i <= 3; i++ {
		c, err := q.Claim(ctx, chat, "tok")
		require.NoError(t, err)
		require.Equal(t, i, c.Head.Attempts)
		if i < 3 {
			require.NoError(t, q.Release(ctx, c, time.Now()))
			continue
		}
		_, err = q.Commit(ctx, c, chatq.Turn{UpdateID: 7, Dead: "failed repeatedly", KeepWake: true}, "ot")
		require.NoError(t, err)
	}
	dead, err := q.Dead(ctx, 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, "poison", string(dead[0].Payload))
	assert.Equal(t, 3, dead[0].Attempts)
	added, err := q.AddUpdate(ctx, chat, 7, []byte("poison"), time.Now())
	require.NoError(t, err)
	assert.False(t, added, "a redelivery of a dead update is not applied again")
}

// A lock that ran out under its holder refuses the late commit: nothing of
// it is written, and the next holder applies the entry.
func TestLateCommitRefused(t *testing.T) {
	q, _, _ := testQueue(t)
	ctx := context.Background()
	const chat = 45
	_, err := q.AddUpdate(ctx, chat, 1, []byte("u1"), time.Now())
	require.NoError(t, err)
	c, err := q.Claim(ctx, chat, "slow")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := q.Claim(ctx, chat, "fast")
		return err == nil
	}, 5*time.Second, 50*time.Millisecond, "the lock runs out")
	_, err = q.Commit(ctx, c, chatq.Turn{UpdateID: 1, KeepWake: true, Calls: []outbox.Call{msg("late")}}, "ot")
	assert.ErrorIs(t, err, chatq.ErrLockLost)
	n, err := q.OutboxLen(ctx, chat)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// A sender whose lease ran out while it waited for a send budget, with
// nobody else taking it, marks its call sent all the same: the next sender
// must not send it again. One that lost the lease to another sender stops.
func TestMarkAfterTheLeaseRanOut(t *testing.T) {
	q, rdb, prefix := testQueue(t)
	ctx := context.Background()
	const chat = 46
	_, err := q.AddUpdate(ctx, chat, 1, []byte("u1"), time.Now())
	require.NoError(t, err)
	c, err := q.Claim(ctx, chat, "tok")
	require.NoError(t, err)
	done, err := q.Commit(ctx, c, chatq.Turn{UpdateID: 1, KeepWake: true, Calls: []outbox.Call{msg("a"), msg("b")}}, "slow")
	require.NoError(t, err)
	lease := prefix + "{46}:ol"
	require.NoError(t, rdb.Del(ctx, lease).Err()) // as if its 2 s had passed
	next, err := q.MarkSent(ctx, chat, "slow", done.Outbox)
	require.NoError(t, err)
	assert.Contains(t, string(next), `"text":"b"`, "a marked, b next")
	require.NoError(t, rdb.Set(ctx, lease, "other", 0).Err()) // now another sender holds it
	_, err = q.MarkSent(ctx, chat, "slow", next)
	assert.ErrorIs(t, err, chatq.ErrNotSender)
	n, err := q.OutboxLen(ctx, chat)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "b stays for its sender")
}

// A held lease outlives its TTL as long as its holder renews it: nobody
// else claims the chat or its outbox meanwhile, and the holder's commit
// goes through. Once renewals stop (a crash), the lock runs out within its
// TTL and another holder claims the chat.
func TestLeaseRenewedWhileHeld(t *testing.T) {
	rdb, prefix := redistest.New(t)
	q := chatq.New(rdb, chatq.WithPrefix(prefix), chatq.WithLockTTL(400*time.Millisecond))
	require.NoError(t, q.Preload(context.Background()))
	k := chatq.NewKeeper(q)
	ctx := context.Background()
	const chat = 47
	_, err := q.AddUpdate(ctx, chat, 1, []byte("u1"), time.Now())
	require.NoError(t, err)
	_, err = q.AddUpdate(ctx, chat, 2, []byte("u2"), time.Now())
	require.NoError(t, err)
	c, err := q.Claim(ctx, chat, "slow")
	require.NoError(t, err)
	lease := k.HoldChat(c, time.Now())
	_, err = q.Enqueue(ctx, chat, "", msg("waiting"))
	require.NoError(t, err)
	_, err = q.ClaimOutbox(ctx, chat, "sender")
	require.NoError(t, err)
	out := k.HoldOutbox(chat, "sender", time.Now())
	for range 8 { // five lifetimes of the lease
		time.Sleep(250 * time.Millisecond)
		_, err := q.Claim(ctx, chat, "other")
		require.ErrorIs(t, err, chatq.ErrBusy, "the chat lock is renewed")
		_, err = q.ClaimOutbox(ctx, chat, "other sender")
		require.ErrorIs(t, err, chatq.ErrNotSender, "the outbox lease is renewed")
	}
	assert.True(t, lease.Held())
	assert.True(t, out.Held())
	done, err := q.Commit(ctx, c, chatq.Turn{UpdateID: 1, KeepWake: true}, "ot")
	require.NoError(t, err, "the holder commits after more than its TTL")
	require.NotNil(t, done.Next)
	lease.Stop() // as a killed process: nothing renews, nothing is released
	out.Stop()
	require.Eventually(t, func() bool {
		c2, err := q.Claim(ctx, chat, "next")
		return err == nil && string(c2.Head.Payload) == "u2"
	}, 5*time.Second, 20*time.Millisecond, "the lock runs out once nobody renews it")
	require.Eventually(t, func() bool {
		_, err := q.ClaimOutbox(ctx, chat, "next sender")
		return err == nil
	}, 5*time.Second, 20*time.Millisecond)
	assert.Zero(t, k.Held())
}

// A lease another holder took over is lost: Held says so and its Context
// ends with ErrLeaseLost.
func TestLeaseLostWhenTaken(t *testing.T) {
	rdb, prefix := redistest.New(t)
	q := chatq.New(rdb, chatq.WithPrefix(prefix), chatq.WithLockTTL(400*time.Millisecond))
	require.NoError(t, q.Preload(context.Background()))
	k := chatq.NewKeeper(q)
	ctx := context.Background()
	const chat = 48
	_, err := q.Enqueue(ctx, chat, "", msg("a"))
	require.NoError(t, err)
	_, err = q.ClaimOutbox(ctx, chat, "mine")
	require.NoError(t, err)
	out := k.HoldOutbox(chat, "mine", time.Now())
	require.True(t, out.Held())
	require.NoError(t, rdb.Set(ctx, prefix+"{48}:ol", "theirs", 0).Err())
	select {
	case <-out.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the lost lease's context never ended")
	}
	assert.ErrorIs(t, context.Cause(out.Context()), chatq.ErrLeaseLost)
	assert.False(t, out.Held())
	v, err := rdb.Get(ctx, prefix+"{48}:ol").Result()
	require.NoError(t, err)
	assert.Equal(t, "theirs", v, "a lost lease is not renewed")
}
