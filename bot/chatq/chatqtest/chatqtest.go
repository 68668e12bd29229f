// Package chatqtest is the conformance suite of the chat record (bot's
// ChatStore): Run puts a store through every promise the pipeline relies
// on — order by update_id, dedupe before and after applying, events after
// the updates seen, a late commit refused, leases renewed and lost, the
// outbox sent in order and marked once, a blocked chat's outbox held, the
// ready set swept. chatq runs it over Redis and over Memory.
package chatqtest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/outbox"
)

// Store is what the suite drives: the pipeline's contract and the
// readings tests make.
type Store interface {
	chatq.Renewer
	AddUpdate(ctx context.Context, chat, id int64, payload []byte, readyAt time.Time, calls ...outbox.Call) (bool, error)
	AddUpdates(ctx context.Context, ps []chatq.Pending, readyAt time.Time, newToken func() string) ([]bool, []*chatq.Claim, error)
	AddEvent(ctx context.Context, chat int64, once string, payload []byte, readyAt time.Time) (bool, error)
	Claim(ctx context.Context, chat int64, token string) (*chatq.Claim, error)
	Commit(ctx context.Context, c *chatq.Claim, t chatq.Turn, outboxToken string) (chatq.Committed, error)
	Release(ctx context.Context, c *chatq.Claim, retryAt time.Time) error
	Enqueue(ctx context.Context, chat int64, once string, calls ...outbox.Call) (bool, error)
	ClaimOutbox(ctx context.Context, chat int64, token string) ([][]byte, error)
	MarkSent(ctx context.Context, chat int64, token string, sent [][]byte) ([][]byte, error)
	ReleaseOutbox(ctx context.Context, chat int64, token string, retryAt time.Time, sent ...[]byte) error
	DropSuperseded(ctx context.Context, chat int64, prefix string) (int64, error)
	Depth(ctx context.Context) (calls, chats int64, err error)
	Due(ctx context.Context, n int64) ([]int64, error)
	Wake(ctx context.Context, chat int64) error
	Dead(ctx context.Context, n int64) ([]chatq.DeadEntry, error)
	OutboxLen(ctx context.Context, chat int64) (int64, error)
	QueueLen(ctx context.Context, chat int64) (int64, error)
	State(ctx context.Context, chat int64) ([]byte, error)
	Relay(ctx context.Context, chat int64) error
}

// Harness makes the stores under test and reaches into them where no
// method of the contract can.
type Harness struct {
	// New returns an empty store whose leases live ttl.
	New func(t testing.TB, ttl time.Duration) Store
	// SetLease gives chat's chat lock (outbox false) or outbox lease to
	// token, or deletes it when token is "" (as if it ran out).
	SetLease func(t testing.TB, s Store, chat int64, outbox bool, token string)
	// Block marks chat as having blocked the bot.
	Block func(t testing.TB, s Store, chat int64)
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	for _, c := range []struct {
		name string
		f    func(*testing.T, Harness)
	}{
		{"OrderDedupeAndEvents", testOrderDedupeAndEvents},
		{"OutboxInOrder", testOutboxInOrder},
		{"OutboxBatches", testOutboxBatches},
		{"MarkRepeated", testMarkRepeated},
		{"DeadLetter", testDeadLetter},
		{"AttemptsPerEntry", testAttemptsPerEntry},
		{"LateCommitRefused", testLateCommitRefused},
		{"MarkAfterTheLeaseRanOut", testMarkAfterTheLeaseRanOut},
		{"LeaseRenewedWhileHeld", testLeaseRenewedWhileHeld},
		{"LeaseLostWhenTaken", testLeaseLostWhenTaken},
		{"RenewEachLeaseOfABatch", testRenewEachLeaseOfABatch},
		{"AddUpdatesClaims", testAddUpdatesClaims},
		{"HoldersThatDieAreSwept", testHoldersThatDieAreSwept},
		{"StateKeptAndDropped", testStateKeptAndDropped},
		{"BlockedOutboxHeld", testBlockedOutboxHeld},
		{"ReadySweep", testReadySweep},
		{"DropSuperseded", testDropSuperseded},
		{"GroupCalls", testGroupCalls},
	} {
		t.Run(c.name, func(t *testing.T) { c.f(t, h) })
	}
}

func msg(text string) outbox.Call {
	return outbox.Call{Method: "sendMessage", Params: []byte(`{"chat_id":1,"text":"` + text + `"}`)}
}

// Entries come out in update_id order whatever order they arrived in, a
// redelivered id is refused before and after it was applied, and an event
// goes after every update received before it.
func testOrderDedupeAndEvents(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
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

// texts are the texts of calls made by msg, in order.
func texts(calls [][]byte) []string {
	var out []string
	for _, raw := range calls {
		var c struct {
			P struct {
				Text string `json:"text"`
			} `json:"p"`
		}
		if json.Unmarshal(raw, &c) != nil {
			out = append(out, "?")
			continue
		}
		out = append(out, c.P.Text)
	}
	return out
}

// sendAll marks every batch sent, whole, from batch on, as a sender that
// met no failure does, and returns the texts in the order handed out.
func sendAll(t *testing.T, q Store, chat int64, token string, batch [][]byte) []string {
	t.Helper()
	var got []string
	for batch != nil {
		got = append(got, texts(batch)...)
		var err error
		batch, err = q.MarkSent(context.Background(), chat, token, batch)
		require.NoError(t, err)
	}
	return got
}

// A commit writes the outbox and hands it to the committer; MarkSent walks
// it in order and gives the lease back at the end.
func testOutboxInOrder(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
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

	assert.Equal(t, []string{"a", "b"}, texts(done.Outbox), "the commit hands out both")
	assert.Equal(t, []string{"a", "b"}, sendAll(t, q, chat, "send-1", done.Outbox))
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

// The outbox is handed out in batches of OutboxBatch calls from its head:
// a mark of k calls pops exactly those k and hands out the next batch; a
// call removed meanwhile is skipped, never another popped in its place; a
// release marks the calls sent before the one given back.
func testOutboxBatches(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
	ctx := context.Background()
	const chat = 57
	var calls []outbox.Call
	var all []string
	for i := range chatq.OutboxBatch + 4 {
		text := fmt.Sprint("c", i)
		c := msg(text)
		if i == 3 {
			c.Tag = "st:old:X" // superseded by the last call
		}
		calls = append(calls, c)
		all = append(all, text)
	}
	calls[len(calls)-1].Tag = "st:new:X"
	_, err := q.AddUpdate(ctx, chat, 1, []byte("u1"), time.Now())
	require.NoError(t, err)
	c, err := q.Claim(ctx, chat, "tok")
	require.NoError(t, err)
	done, err := q.Commit(ctx, c, chatq.Turn{UpdateID: 1, KeepWake: true, Calls: calls}, "s")
	require.NoError(t, err)
	assert.Equal(t, all[:chatq.OutboxBatch], texts(done.Outbox), "the commit hands out a batch from the head")

	next, err := q.MarkSent(ctx, chat, "s", done.Outbox[:3])
	require.NoError(t, err)
	assert.Equal(t, all[3:3+chatq.OutboxBatch], texts(next), "c0-c2 marked: the next batch")
	n, err := q.OutboxLen(ctx, chat)
	require.NoError(t, err)
	assert.Equal(t, int64(len(all)-3), n, "exactly those three popped")
	depth, _, err := q.Depth(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(len(all)-3), depth)

	// The lease runs out unclaimed and c3 is dropped meanwhile: the late
	// mark of c3 and c4 pops c4 only, not c5 in c3's place.
	h.SetLease(t, q, chat, true, "")
	dropped, err := q.DropSuperseded(ctx, chat, "st:")
	require.NoError(t, err)
	require.Equal(t, int64(1), dropped)
	next, err = q.MarkSent(ctx, chat, "s", next[:2])
	require.NoError(t, err)
	assert.Equal(t, all[5:], texts(next), "c5 heads the outbox")

	// c5 sent, c6 to be tried later: the release marks c5.
	require.NoError(t, q.ReleaseOutbox(ctx, chat, "s", time.Now(), next[0]))
	first, err := q.ClaimOutbox(ctx, chat, "s2")
	require.NoError(t, err)
	assert.Equal(t, all[6:], texts(first))
	// A release by a sender whose lease another took marks nothing.
	require.NoError(t, q.ReleaseOutbox(ctx, chat, "s", time.Now(), first[0]))
	assert.Equal(t, all[6:], sendAll(t, q, chat, "s2", first))
	depth, _, err = q.Depth(ctx)
	require.NoError(t, err)
	assert.Zero(t, depth)
}

// A mark repeated after its reply was lost (Redis slow, the caller's
// context ended, retryWhileRedisDown) marks nothing more: not even a later
// call that says the same (a second "this button is no longer valid"),
// now at the head, which was never sent.
func testMarkRepeated(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
	ctx := context.Background()
	const chat = 58
	commit := func(id int64) chatq.Committed {
		t.Helper()
		_, err := q.AddUpdate(ctx, chat, id, []byte{byte(id)}, time.Now())
		require.NoError(t, err)
		c, err := q.Claim(ctx, chat, fmt.Sprint("tok", id))
		require.NoError(t, err)
		done, err := q.Commit(ctx, c, chatq.Turn{UpdateID: id, KeepWake: true, Calls: []outbox.Call{msg("same")}}, "s")
		require.NoError(t, err)
		return done
	}
	first := commit(1)
	require.Len(t, first.Outbox, 1)
	require.Nil(t, commit(2).Outbox, "the sender holds the outbox")
	next, err := q.MarkSent(ctx, chat, "s", first.Outbox)
	require.NoError(t, err)
	assert.Equal(t, []string{"same"}, texts(next), "the twin heads the outbox")
	again, err := q.MarkSent(ctx, chat, "s", first.Outbox)
	require.NoError(t, err)
	n, err := q.OutboxLen(ctx, chat)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the twin, never sent, is still there")
	assert.Equal(t, []string{"same"}, sendAll(t, q, chat, "s", again))
}

// An entry handed out more often than allowed can be dead-lettered: it
// leaves the queue, counts as applied, and lands in the dead list.
func testDeadLetter(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
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

// An entry's hand-outs are its own: an event that comes after an applied
// one (the same place in the queue) starts again at one attempt, whether
// the queue emptied in between or the next entry was handed out by the
// commit.
func testAttemptsPerEntry(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
	ctx := context.Background()
	const chat = 49
	for round := range 3 {
		_, err := q.AddEvent(ctx, chat, "", []byte("ev"), time.Now())
		require.NoError(t, err)
		if round == 2 {
			_, err = q.AddEvent(ctx, chat, "", []byte("ev2"), time.Now())
			require.NoError(t, err)
		}
		c, err := q.Claim(ctx, chat, "tok")
		require.NoError(t, err)
		require.Equal(t, 1, c.Head.Attempts, "round %d", round)
		require.NoError(t, q.Release(ctx, c, time.Now()))
		c, err = q.Claim(ctx, chat, "tok")
		require.NoError(t, err)
		require.Equal(t, 2, c.Head.Attempts, "round %d", round)
		done, err := q.Commit(ctx, c, chatq.Turn{KeepWake: true}, "ot")
		require.NoError(t, err)
		if round == 2 {
			require.NotNil(t, done.Next)
			assert.Equal(t, 1, done.Next.Attempts, "the next entry's own count")
		} else {
			assert.Nil(t, done.Next)
		}
	}
}

// A lock that ran out under its holder refuses the late commit: nothing of
// it is written, and the next holder applies the entry.
func testLateCommitRefused(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
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
func testMarkAfterTheLeaseRanOut(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
	ctx := context.Background()
	const chat = 46
	_, err := q.AddUpdate(ctx, chat, 1, []byte("u1"), time.Now())
	require.NoError(t, err)
	c, err := q.Claim(ctx, chat, "tok")
	require.NoError(t, err)
	done, err := q.Commit(ctx, c, chatq.Turn{UpdateID: 1, KeepWake: true, Calls: []outbox.Call{msg("a"), msg("b")}}, "slow")
	require.NoError(t, err)
	h.SetLease(t, q, chat, true, "") // as if its 2 s had passed
	require.Equal(t, []string{"a", "b"}, texts(done.Outbox))
	next, err := q.MarkSent(ctx, chat, "slow", done.Outbox[:1])
	require.NoError(t, err)
	assert.Equal(t, []string{"b"}, texts(next), "a marked, b next")
	h.SetLease(t, q, chat, true, "other") // now another sender holds it
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
func testLeaseRenewedWhileHeld(t *testing.T, h Harness) {
	q := h.New(t, 400*time.Millisecond)
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
func testLeaseLostWhenTaken(t *testing.T, h Harness) {
	q := h.New(t, 400*time.Millisecond)
	k := chatq.NewKeeper(q)
	ctx := context.Background()
	const chat = 48
	_, err := q.Enqueue(ctx, chat, "", msg("a"))
	require.NoError(t, err)
	_, err = q.ClaimOutbox(ctx, chat, "mine")
	require.NoError(t, err)
	out := k.HoldOutbox(chat, "mine", time.Now())
	require.True(t, out.Held())
	h.SetLease(t, q, chat, true, "theirs")
	select {
	case <-out.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the lost lease's context never ended")
	}
	assert.ErrorIs(t, context.Cause(out.Context()), chatq.ErrLeaseLost)
	assert.False(t, out.Held())
	_, err = q.ClaimOutbox(ctx, chat, "mine again")
	assert.ErrorIs(t, err, chatq.ErrNotSender, "a lost lease is not renewed: the other holder keeps it")
}

// One renewal round answers for each lease of the batch: a lease another
// holder took (or nobody holds) is lost, the others are renewed, chat locks
// and outbox leases alike, whatever their shards.
func testRenewEachLeaseOfABatch(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
	ctx := context.Background()
	h.SetLease(t, q, 60, false, "a")
	h.SetLease(t, q, 61, true, "b")
	h.SetLease(t, q, 62, false, "theirs")
	h.SetLease(t, q, -100500, true, "c")
	errs := q.Renew(ctx, []chatq.LeaseRef{
		{Chat: 60, Token: "a"},
		{Chat: 62, Token: "mine"},
		{Chat: 61, Outbox: true, Token: "b"},
		{Chat: 63, Token: "nobody's"},
		{Chat: -100500, Outbox: true, Token: "c"},
		{Chat: 61, Token: "b"}, // b holds 61's outbox, not its lock
	})
	require.Len(t, errs, 6)
	assert.NoError(t, errs[0])
	assert.ErrorIs(t, errs[1], chatq.ErrLeaseLost)
	assert.NoError(t, errs[2])
	assert.ErrorIs(t, errs[3], chatq.ErrLeaseLost)
	assert.NoError(t, errs[4])
	assert.ErrorIs(t, errs[5], chatq.ErrLeaseLost)
	_, err := q.Claim(ctx, 60, "other")
	assert.ErrorIs(t, err, chatq.ErrBusy, "still a's")
}

// AddUpdates stores a batch and claims each chat it touches once, under a
// new token, handing the head and the state to the caller; a chat held
// elsewhere is left to its holder, and a redelivered id is refused.
func testAddUpdatesClaims(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
	ctx := context.Background()
	_, err := q.AddUpdate(ctx, 51, 1, []byte("held"), time.Now())
	require.NoError(t, err)
	held, err := q.Claim(ctx, 51, "elsewhere")
	require.NoError(t, err)
	require.NotNil(t, held.Head)
	n := 0
	token := func() string { n++; return "t" + string(rune('0'+n)) }
	added, claims, err := q.AddUpdates(ctx, []chatq.Pending{
		{Chat: 50, ID: 5, Payload: []byte("a")},
		{Chat: 50, ID: 4, Payload: []byte("b")},
		{Chat: 51, ID: 2, Payload: []byte("c")},
		{Chat: 50, ID: 5, Payload: []byte("a again")},
	}, time.Now(), token)
	require.NoError(t, err)
	assert.Equal(t, []bool{true, true, true, false}, added)
	require.Len(t, claims, 1, "chat 51 is held elsewhere")
	assert.Equal(t, int64(50), claims[0].Chat)
	assert.Equal(t, "b", string(claims[0].Head.Payload), "the lowest id first")
	assert.Equal(t, 1, claims[0].Head.Attempts)
	_, err = q.Claim(ctx, 50, "other")
	assert.ErrorIs(t, err, chatq.ErrBusy)
}

// A chat claimed at intake, and the sender its commit made, are looked at
// again once their leases run out unrenewed (a crash): the ready set names
// the chat (the claim's entry stands for both, Redis writes no other), and
// whoever sweeps it next takes it up.
func testHoldersThatDieAreSwept(t *testing.T, h Harness) {
	q := h.New(t, 300*time.Millisecond)
	ctx := context.Background()
	const chat, other = 57, 58
	later := time.Now().Add(time.Hour) // the intake's own ready time is far off
	token := func() string { return "intake" }
	_, claims, err := q.AddUpdates(ctx, []chatq.Pending{{Chat: chat, ID: 1, Payload: []byte("u1")},
		{Chat: other, ID: 1, Payload: []byte("o1")}}, later, token)
	require.NoError(t, err)
	require.Len(t, claims, 2)
	due, err := q.Due(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, due, "held")
	// chat's holder commits and becomes its sender, then dies; other's
	// holder dies before its commit.
	c := claims[0]
	if c.Chat != chat {
		c = claims[1]
	}
	done, err := q.Commit(ctx, c, chatq.Turn{UpdateID: 1, KeepWake: true, Calls: []outbox.Call{msg("a")}}, "dead sender")
	require.NoError(t, err)
	require.NotNil(t, done.Outbox)
	require.Eventually(t, func() bool {
		due, err := q.Due(ctx, 10)
		return err == nil && len(due) == 2
	}, 5*time.Second, 20*time.Millisecond, "both chats come due once the leases run out")
	require.Eventually(t, func() bool {
		first, err := q.ClaimOutbox(ctx, chat, "next sender")
		return err == nil && first != nil
	}, 5*time.Second, 20*time.Millisecond, "the outbox is taken up")
	c2, err := q.Claim(ctx, other, "next")
	require.NoError(t, err)
	require.NotNil(t, c2.Head)
	assert.Equal(t, "o1", string(c2.Head.Payload))
	assert.Equal(t, 2, c2.Head.Attempts, "the intake's claim counted")
}

// A committed state comes back with the next claim; Delete drops it, and a
// state without a TTL is refused.
func testStateKeptAndDropped(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
	ctx := context.Background()
	const chat = 52
	for id := int64(1); id <= 3; id++ {
		_, err := q.AddUpdate(ctx, chat, id, []byte{byte(id)}, time.Now())
		require.NoError(t, err)
	}
	c, err := q.Claim(ctx, chat, "tok")
	require.NoError(t, err)
	assert.Nil(t, c.State, "no state yet")
	rec, err := q.State(ctx, chat)
	require.NoError(t, err)
	assert.Nil(t, rec, "State: none yet")
	_, err = q.Commit(ctx, c, chatq.Turn{State: []byte("x"), UpdateID: 1, KeepWake: true}, "ot")
	require.Error(t, err, "a state without a TTL")
	_, err = q.Commit(ctx, c, chatq.Turn{State: []byte("s1"), StateTTL: time.Minute, UpdateID: 1, KeepWake: true}, "ot")
	require.NoError(t, err)
	_, err = q.Commit(ctx, c, chatq.Turn{UpdateID: 2, KeepWake: true}, "ot")
	require.NoError(t, err, "nil keeps the state")
	require.NoError(t, q.Release(ctx, c, time.Now()))
	c, err = q.Claim(ctx, chat, "tok2")
	require.NoError(t, err)
	assert.Equal(t, "s1", string(c.State))
	rec, err = q.State(ctx, chat)
	require.NoError(t, err)
	assert.Equal(t, "s1", string(rec), "State reads what was committed, lock held or not")
	_, err = q.Commit(ctx, c, chatq.Turn{Delete: true, UpdateID: 3, KeepWake: true}, "ot")
	require.NoError(t, err)
	_, err = q.AddUpdate(ctx, chat, 4, []byte{4}, time.Now())
	require.NoError(t, err)
	c, err = q.Claim(ctx, chat, "tok3")
	require.NoError(t, err)
	assert.Nil(t, c.State, "deleted")
	rec, err = q.State(ctx, chat)
	require.NoError(t, err)
	assert.Nil(t, rec, "State: deleted")
}

// A chat that blocked the bot keeps its outbox: no sender claims it, a
// commit does not hand it out, and an update the merchant wrote (Unblock)
// lifts the mark, the calls that waited first.
func testBlockedOutboxHeld(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
	ctx := context.Background()
	const chat = 53
	_, err := q.Enqueue(ctx, chat, "", msg("waited"))
	require.NoError(t, err)
	h.Block(t, q, chat)
	_, err = q.ClaimOutbox(ctx, chat, "s")
	assert.ErrorIs(t, err, chatq.ErrNotSender)
	_, err = q.AddUpdate(ctx, chat, 1, []byte("u1"), time.Now())
	require.NoError(t, err)
	c, err := q.Claim(ctx, chat, "tok")
	require.NoError(t, err)
	done, err := q.Commit(ctx, c, chatq.Turn{UpdateID: 1, KeepWake: true, Calls: []outbox.Call{msg("reply")}}, "s")
	require.NoError(t, err)
	assert.Nil(t, done.Outbox, "blocked: nothing handed out")
	_, claims, err := q.AddUpdates(ctx, []chatq.Pending{{Chat: chat, ID: 2, Payload: []byte("u2"), Unblock: true}}, time.Now(), nil)
	require.NoError(t, err)
	assert.Empty(t, claims, "no token, no claim")
	first, err := q.ClaimOutbox(ctx, chat, "s")
	require.NoError(t, err)
	assert.Equal(t, []string{"waited", "reply"}, texts(first), "the calls that waited first")
}

// The ready set names the chats with work left: a released chat at its
// retry time, an outbox given back with a retry; Wake makes a chat due now,
// and a chat with nothing left leaves the set.
func testReadySweep(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
	ctx := context.Background()
	const chat = 54
	_, err := q.AddUpdate(ctx, chat, 1, []byte("u1"), time.Now().Add(time.Hour))
	require.NoError(t, err)
	due, err := q.Due(ctx, 10)
	require.NoError(t, err)
	assert.NotContains(t, due, int64(chat), "not before its ready time")
	c, err := q.Claim(ctx, chat, "tok")
	require.NoError(t, err)
	require.NoError(t, q.Release(ctx, c, time.Now().Add(-time.Millisecond)))
	due, err = q.Due(ctx, 10)
	require.NoError(t, err)
	assert.Contains(t, due, int64(chat), "a released chat is due at its retry time")
	c, err = q.Claim(ctx, chat, "tok")
	require.NoError(t, err)
	assert.Equal(t, 2, c.Head.Attempts)
	done, err := q.Commit(ctx, c, chatq.Turn{UpdateID: 1, KeepWake: true, Calls: []outbox.Call{msg("a")}}, "s")
	require.NoError(t, err)
	require.NotNil(t, done.Outbox)
	require.NoError(t, q.ReleaseOutbox(ctx, chat, "s", time.Now().Add(-time.Millisecond)))
	due, err = q.Due(ctx, 10)
	require.NoError(t, err)
	assert.Contains(t, due, int64(chat), "an outbox given back with a retry")
	first, err := q.ClaimOutbox(ctx, chat, "s2")
	require.NoError(t, err)
	next, err := q.MarkSent(ctx, chat, "s2", first)
	require.NoError(t, err)
	assert.Nil(t, next)
	due, err = q.Due(ctx, 10)
	require.NoError(t, err)
	assert.NotContains(t, due, int64(chat), "nothing left")
	require.NoError(t, q.Wake(ctx, chat))
	due, err = q.Due(ctx, 10)
	require.NoError(t, err)
	assert.Contains(t, due, int64(chat), "woken")
	_, err = q.ClaimOutbox(ctx, chat, "s3")
	require.NoError(t, err)
	due, err = q.Due(ctx, 10)
	require.NoError(t, err)
	assert.NotContains(t, due, int64(chat), "looked at, nothing to do")
}

// DropSuperseded keeps only the newest status call of each application,
// and leaves an outbox a sender holds alone.
func testDropSuperseded(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
	ctx := context.Background()
	const chat = 55
	tagged := func(tag, text string) outbox.Call { c := msg(text); c.Tag = tag; return c }
	_, err := q.Enqueue(ctx, chat, "", tagged("st:review:A", "1"), msg("2"), tagged("st:review:B", "3"),
		tagged("st:done:A", "4"), tagged("other:x:A", "5"))
	require.NoError(t, err)
	h.SetLease(t, q, chat, true, "sender")
	n, err := q.DropSuperseded(ctx, chat, "st:")
	require.NoError(t, err)
	assert.Zero(t, n, "held by a sender")
	h.SetLease(t, q, chat, true, "")
	n, err = q.DropSuperseded(ctx, chat, "st:")
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	first, err := q.ClaimOutbox(ctx, chat, "s")
	require.NoError(t, err)
	assert.Equal(t, []string{"2", "3", "4", "5"}, sendAll(t, q, chat, "s", first))
	calls, _, err := q.Depth(ctx)
	require.NoError(t, err)
	assert.Zero(t, calls)
}

// Group calls go to the group's own outbox, due at once, not into the
// chat's.
func testGroupCalls(t *testing.T, h Harness) {
	q := h.New(t, 2*time.Second)
	ctx := context.Background()
	const chat, group = 56, -100
	_, err := q.AddUpdate(ctx, chat, 1, []byte("u1"), time.Now().Add(time.Hour))
	require.NoError(t, err)
	c, err := q.Claim(ctx, chat, "tok")
	require.NoError(t, err)
	_, err = q.Commit(ctx, c, chatq.Turn{UpdateID: 1, KeepWake: true, Group: []outbox.Call{msg("card")}}, "s")
	require.Error(t, err, "group calls need a group chat")
	done, err := q.Commit(ctx, c, chatq.Turn{UpdateID: 1, KeepWake: true, Calls: []outbox.Call{msg("mine")},
		Group: []outbox.Call{msg("card")}, GroupChat: group}, "s")
	require.NoError(t, err)
	assert.Equal(t, []string{"mine"}, texts(done.Outbox))
	// The group's outbox may be in another shard: the calls are relayed
	// after the commit, and a relay done twice (a crash between its two
	// steps, then the sweep's) appends them once.
	require.NoError(t, q.Relay(ctx, chat))
	require.NoError(t, q.Relay(ctx, chat))
	n, err := q.OutboxLen(ctx, group)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	due, err := q.Due(ctx, 10)
	require.NoError(t, err)
	assert.Contains(t, due, int64(group))
	first, err := q.ClaimOutbox(ctx, group, "g")
	require.NoError(t, err)
	assert.Equal(t, []string{"card"}, texts(first))
}
