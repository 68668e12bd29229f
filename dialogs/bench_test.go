package dialogs_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

// BenchmarkEngine is the dialog alone: one answer at the summary step.
func BenchmarkEngine(b *testing.B) {
	f := newFixture(b, nil)
	c := &chat{t: b, f: f, id: 1}
	throughSummary(c)
	st, err := f.store.Load(context.Background(), 1)
	require.NoError(b, err)
	in := dialogs.Input{Kind: dialogs.InText, Text: "hello"}
	b.ReportAllocs()
	for b.Loop() {
		s := *st
		f.engine.Handle(context.Background(), &s, in)
	}
}

// BenchmarkRunnerRedis is one update through lock, load, engine and save on
// the real Redis, many chats in parallel: the state path of every update.
func BenchmarkRunnerRedis(b *testing.B) {
	opts := redistest.Options(b)
	opts.PoolSize = 64
	rdb := redistest.Connect(b, opts)
	prefix := redistest.Prefix(b, rdb)
	cipher, err := store.NewCipher(store.RandomKey())
	require.NoError(b, err)
	rs := store.NewRedis(rdb, cipher, store.WithPrefix(prefix))
	require.NoError(b, rs.Preload(context.Background()))
	f := newFixture(b, sandbox.New())
	r := dialogs.NewRunner(rs, f.engine, time.Second)
	var next atomic.Int64
	var update atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16) // 32 chats in flight on 2 cores, as a busy bot has
	b.RunParallel(func(pb *testing.PB) {
		chat := next.Add(1)
		ctx := context.Background()
		in := dialogs.Input{Kind: dialogs.InText, Text: "hello"}
		for pb.Next() {
			if _, err := r.Handle(ctx, chat, update.Add(1), in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
