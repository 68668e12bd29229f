package sender

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

func benchmarkDo(b *testing.B, kind Kind, lifted bool) {
	rdb, prefix := redistest.New(b)
	hook := &redistest.RoundTrips{}
	rdb.AddHook(hook)
	// Budgets no benchmark can exhaust: this measures the cost of the path, not the waiting.
	huge := redis_rate.Limit{Rate: 1 << 30, Burst: 1 << 30, Period: time.Second}
	limits := Limits{Global: huge, PerChat: huge, PerGroup: huge, NoGlobal: lifted, NoPerChat: lifted}
	s := New(rdb, WithPrefix(prefix), WithLimits(limits))
	ok := func(context.Context) error { return nil }
	ctx := context.Background()
	if err := s.Do(ctx, 1, kind, ok); err != nil { // loads the budget script
		b.Fatal(err)
	}
	var chat atomic.Int64

	hook.Reset()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Do(ctx, chat.Add(1)%1000+1, kind, ok); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(hook.N())/float64(b.N), "redis-rtt/op")
}

// BenchmarkDoMessage is a message under limits that never bind: the cooldown
// and both budgets in one script.
func BenchmarkDoMessage(b *testing.B) { benchmarkDo(b, Budgeted, false) }

// BenchmarkDoMessageLifted is SEND_RATE=0 SEND_RATE_CHAT=0: no Redis at all.
func BenchmarkDoMessageLifted(b *testing.B) { benchmarkDo(b, Budgeted, true) }
func BenchmarkDoUnlimited(b *testing.B)     { benchmarkDo(b, Unlimited, false) }
