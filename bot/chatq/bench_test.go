package chatq_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

// BenchmarkTurn is one update's life in the queue, as the pipeline lives it
// with the send limits lifted: intake stores and claims it, the commit writes
// a state of dialog size and two replies and hands the outbox over, and the
// replies are marked sent (one batch: one mark). Reported per update: Redis
// round trips in all, and those of intake + commit alone (the bar: ≤ 2, and
// ≤ 1 per message).
func BenchmarkTurn(b *testing.B) {
	q, rdb, _ := testQueue(b)
	hook := &redistest.RoundTrips{}
	rdb.AddHook(hook)
	ctx := context.Background()
	state := make([]byte, 450)   // a sealed state of a dialog at the card step
	payload := make([]byte, 600) // a sealed update
	calls := []outbox.Call{
		{Method: "sendMessage", Params: []byte(`{"chat_id":1,"text":"Card 622202*********0128 noted. Bank: Industrial and Commercial Bank of China."}`)},
		{Method: "sendMessage", Params: []byte(`{"chat_id":1,"text":"Please type the card holder's name exactly as registered for your merchant account.","reply_markup":{"inline_keyboard":[[{"text":"张三","callback_data":"h:0"}]]}}`)},
	}
	var (
		queueTrips, sentTrips int64
		next                  atomic.Int64
	)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		chat := 1000 + next.Add(1)%500
		id := int64(i + 1)
		hook.Reset()
		_, claims, err := q.AddUpdates(ctx, []chatq.Pending{{Chat: chat, ID: id, Payload: payload}}, time.Now(), func() string { return "w" + strconv.Itoa(i) })
		if err != nil || len(claims) != 1 {
			b.Fatalf("add: %v, %d claims", err, len(claims))
		}
		done, err := q.Commit(ctx, claims[0], chatq.Turn{State: state, StateTTL: time.Hour, UpdateID: id, KeepWake: true, Calls: calls}, "s"+strconv.Itoa(i))
		if err != nil || done.Outbox == nil {
			b.Fatalf("commit: %v", err)
		}
		queueTrips += hook.Reset()
		for batch := done.Outbox; batch != nil; {
			if batch, err = q.MarkSent(ctx, chat, "s"+strconv.Itoa(i), batch); err != nil {
				b.Fatalf("mark: %v", err)
			}
		}
		sentTrips += hook.N()
	}
	b.StopTimer()
	b.ReportMetric(float64(queueTrips)/float64(b.N), "intake+commit-rtt/op")
	b.ReportMetric(float64(sentTrips)/float64(len(calls)*b.N), "mark-rtt/msg")
}

func testQueue(t testing.TB) (*chatq.Redis, *redis.Client, string) {
	t.Helper()
	rdb, prefix := redistest.New(t)
	q := chatq.New(rdb, chatq.WithPrefix(prefix), chatq.WithLockTTL(2*time.Second))
	require.NoError(t, q.Preload(context.Background()))
	return q, rdb, prefix
}
