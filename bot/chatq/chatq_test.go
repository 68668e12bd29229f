package chatq_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/chatq/chatqtest"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

// The Redis chat record keeps every promise of the conformance suite.
func TestRedisConformance(t *testing.T) {
	type redisStore struct {
		*chatq.Redis
		rdb    *redis.Client
		prefix string
	}
	stores := map[chatqtest.Store]redisStore{}
	chatqtest.Run(t, chatqtest.Harness{
		New: func(t testing.TB, ttl time.Duration) chatqtest.Store {
			rdb, prefix := redistest.New(t)
			q := chatq.New(rdb, chatq.WithPrefix(prefix), chatq.WithLockTTL(ttl))
			require.NoError(t, q.Preload(context.Background()))
			stores[q] = redisStore{q, rdb, prefix}
			return q
		},
		SetLease: func(t testing.TB, s chatqtest.Store, chat int64, outbox bool, token string) {
			r := stores[s]
			key := r.prefix + "{" + strconv.FormatInt(chat, 10) + "}:"
			if outbox {
				key += "o"
			}
			key += "l"
			if token == "" {
				require.NoError(t, r.rdb.Del(context.Background(), key).Err())
				return
			}
			require.NoError(t, r.rdb.Set(context.Background(), key, token, 0).Err())
		},
		Block: func(t testing.TB, s chatqtest.Store, chat int64) {
			r := stores[s]
			require.NoError(t, r.rdb.Set(context.Background(), r.prefix+"blocked:"+strconv.FormatInt(chat, 10), "1", 0).Err())
		},
	})
}

// The in-memory chat record keeps the same promises.
func TestMemoryConformance(t *testing.T) {
	chatqtest.Run(t, chatqtest.Harness{
		New: func(_ testing.TB, ttl time.Duration) chatqtest.Store {
			return chatq.NewMemory(chatq.WithLockTTL(ttl))
		},
		SetLease: func(_ testing.TB, s chatqtest.Store, chat int64, outbox bool, token string) {
			s.(*chatq.Memory).SetLease(chat, outbox, token)
		},
		Block: func(_ testing.TB, s chatqtest.Store, chat int64) { s.(*chatq.Memory).Block(chat) },
	})
}
