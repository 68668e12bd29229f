package dialogs_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs"
)

// BenchmarkCardStep is the dialog's side of the step that collects a card
// (load and decrypt the state, engine with Luhn and BIN lookup, encrypt and
// keep it), many chats in parallel; the Redis side of a turn is
// bot/chatq's BenchmarkTurn. A chat can give its card only once per visit
// of the step, so one op is the pair a merchant does from the summary:
// "Edit card" (back to the card step) and the card number (parsed, checked,
// sealed, back to the summary); ns/update is half of it.
func BenchmarkCardStep(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, nil)

	const parallelism = 16 // 32 chats in flight on 2 cores, as a busy bot has
	chats := make([]*chat, parallelism*runtime.GOMAXPROCS(0))
	for i := range chats {
		c := &chat{t: b, f: f, id: int64(9_000_000 + i)}
		throughSummary(c)
		chats[i] = c
		f.advance(15 * time.Minute) // the next chat is the same merchant: past the SMS code limits
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := chats[int(next.Add(1)-1)%len(chats)]
		seq := c.seq
		for pb.Next() {
			out, err := f.handle(c.id, dialogs.Input{Kind: dialogs.InButton, Data: "sum:edit.card", Seq: seq})
			if err != nil || out.Stale {
				b.Errorf("edit card: %v, stale %v", err, out.Stale)
				return
			}
			out, err = f.handle(c.id, dialogs.Input{Kind: dialogs.InText, Text: card})
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
	st, err := f.store.Load(ctx, chats[0].id)
	require.NoError(b, err)
	require.Equal(b, card, st.Secrets.CardNumber, "the card was collected")
	require.Equal(b, dialogs.StepSummary, st.Step, "back at the summary")
}
