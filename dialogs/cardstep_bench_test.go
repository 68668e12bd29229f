package dialogs_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
)

// BenchmarkCardStepRedis is the real path of the step that collects a card:
// through dialogs.Runner with the Redis store (lock, load, decrypt, engine
// with Luhn and BIN lookup, encrypt, commit), many chats in parallel. A chat
// can give its card only once per visit of the step, so one op is the pair a
// merchant does from the summary: "Edit card" (back to the card step) and the
// card number (parsed, checked, sealed, back to the summary); ns/update is
// half of it.
func BenchmarkCardStepRedis(b *testing.B) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", PoolSize: 64})
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		b.Skipf("no Redis at 127.0.0.1:6379: %v", err)
	}
	cipher, err := store.NewCipher(store.RandomKey())
	require.NoError(b, err)
	prefix := "mbbench:card:" + time.Now().Format("150405.000000") + ":"
	rs := store.NewRedis(rdb, cipher, store.WithPrefix(prefix))
	require.NoError(b, rs.Preload(ctx))
	defer func() {
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	}()
	f := newFixture(b, nil)
	f.store = rs
	f.runner = dialogs.NewRunner(rs, f.engine, time.Second)

	const parallelism = 16 // 32 chats in flight on 2 cores, as a busy bot has
	chats := make([]*chat, parallelism*runtime.GOMAXPROCS(0))
	for i := range chats {
		c := &chat{t: b, f: f, id: int64(9_000_000 + i)}
		throughSummary(c)
		chats[i] = c
	}
	var next atomic.Int64
	var update atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := chats[int(next.Add(1)-1)%len(chats)]
		seq := c.seq
		for pb.Next() {
			out, err := f.runner.Handle(ctx, c.id, update.Add(1),
				dialogs.Input{Kind: dialogs.InButton, Data: "sum:edit.card", Seq: seq})
			if err != nil || out.Stale {
				b.Errorf("edit card: %v, stale %v", err, out.Stale)
				return
			}
			out, err = f.runner.Handle(ctx, c.id, update.Add(1), dialogs.Input{Kind: dialogs.InText, Text: card})
			if err != nil || out.Stale || len(out.Replies) == 0 {
				b.Errorf("card step: %v, stale %v, %d replies", err, out.Stale, len(out.Replies))
				return
			}
			seq = out.Seq
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/update")
	// The loop must have gone through the card step, not bounced off it.
	st, err := rs.Load(ctx, chats[0].id)
	require.NoError(b, err)
	require.Equal(b, card, st.Secrets.CardNumber, "the card was collected")
	require.Equal(b, dialogs.StepSummary, st.Step, "back at the summary")
}
