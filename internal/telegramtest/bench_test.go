package telegramtest_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// BenchmarkUpdatesThroughPolling measures pushing updates while a plain HTTP loop polls them
// with offset; the load tool needs thousands a second.
func BenchmarkUpdatesThroughPolling(b *testing.B) {
	srv := telegramtest.New(telegramtest.WithoutCallLog())
	defer srv.Close()
	ctx := context.Background()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var offset int64
		for seen := 0; seen < b.N; {
			r := postJSON(b, ctx, srv, "getUpdates", map[string]any{"offset": offset, "timeout": 5})
			var updates []models.Update
			if err := json.Unmarshal(r.Result, &updates); err != nil {
				b.Error(err)
				return
			}
			for _, u := range updates {
				offset = u.ID + 1
			}
			seen += len(updates)
		}
	}()
	b.ResetTimer()
	for i := range b.N {
		srv.SendText(int64(i%1000+1), int64(i%1000+1), "hello")
	}
	wg.Wait()
}

// BenchmarkSendMessage measures the real bot's sendMessage against the fake.
func BenchmarkSendMessage(b *testing.B) {
	srv := telegramtest.New(telegramtest.WithoutCallLog())
	defer srv.Close()
	tb, err := bot.New(srv.Token(), bot.WithServerURL(srv.URL()), bot.WithSkipGetMe())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tb.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "<b>hi</b>", ParseMode: models.ParseModeHTML}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
