package chatq_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/chatq/chatqtest"
	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

// The Redis chat record keeps every promise of the conformance suite, on
// one instance.
func TestRedisConformance(t *testing.T) {
	runRedisConformance(t, func(t testing.TB) (redis.UniversalClient, string) {
		rdb, prefix := redistest.New(t)
		return rdb, prefix
	})
}

// And on a 3-master Redis Cluster (REDIS_CLUSTER_ADDRS; .ci/run starts
// one): every script's keys are in one slot, or the cluster refuses it
// (CROSSSLOT).
func TestClusterConformance(t *testing.T) {
	redistest.Cluster(t)
	runRedisConformance(t, func(t testing.TB) (redis.UniversalClient, string) {
		rdb, prefix := redistest.NewCluster(t)
		return rdb, prefix
	})
}

func runRedisConformance(t *testing.T, connect func(testing.TB) (redis.UniversalClient, string)) {
	type redisStore struct {
		*chatq.Redis
		rdb    redis.UniversalClient
		prefix string
	}
	stores := map[chatqtest.Store]redisStore{}
	chatqtest.Run(t, chatqtest.Harness{
		New: func(t testing.TB, ttl time.Duration) chatqtest.Store {
			rdb, prefix := connect(t)
			q := chatq.New(rdb, chatq.WithPrefix(prefix), chatq.WithLockTTL(ttl))
			require.NoError(t, q.Preload(context.Background()))
			stores[q] = redisStore{q, rdb, prefix}
			return q
		},
		SetLease: func(t testing.TB, s chatqtest.Store, chat int64, outbox bool, token string) {
			r := stores[s]
			key := r.prefix + chatq.ChatTag(chat) + ":" + strconv.FormatInt(chat, 10) + ":"
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
			require.NoError(t, r.rdb.Set(context.Background(), r.prefix+"blocked:"+chatq.ChatTag(chat)+strconv.FormatInt(chat, 10), "1", 0).Err())
		},
	})
}

// The shards' tags spread their slots evenly: shard i's slot lies in
// [i*256, (i+1)*256), and Slot is Redis's own CRC16 (the cluster's
// CLUSTER KEYSLOT agrees, checked in TestClusterSlots).
func TestShardTags(t *testing.T) {
	seen := map[string]bool{}
	for i := range chatq.Shards {
		tag := chatq.ShardTag(i)
		slot := int(chatq.Slot("x" + tag + "y"))
		require.GreaterOrEqual(t, slot, i*256, tag)
		require.Less(t, slot, (i+1)*256, tag)
		require.False(t, seen[tag])
		seen[tag] = true
	}
	// Redis's documented example: CRC16("123456789") = 0x31C3.
	require.Equal(t, uint16(0x31C3%16384), chatq.Slot("123456789"))
	counts := make([]int, chatq.Shards)
	for chat := int64(-5000); chat < 5000; chat++ {
		counts[chatq.ShardOf(chat)]++
	}
	for i, n := range counts {
		require.Greater(t, n, 10000/chatq.Shards/2, "shard %d gets %d of 10,000 chats", i, n)
	}
}

func TestClusterSlots(t *testing.T) {
	rdb := redistest.Cluster(t)
	for i := range chatq.Shards {
		slot, err := rdb.ClusterKeySlot(context.Background(), "mb:"+chatq.ShardTag(i)+":ready").Result()
		require.NoError(t, err)
		require.Equal(t, int64(chatq.Slot(chatq.ShardTag(i))), slot)
	}
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

// One sweeper per shard: the holder of a shard's sweep lease reads its due
// chats, another token gets none of them until the lease is given back or
// runs out; on one instance and on the cluster.
func TestSweepLeases(t *testing.T) {
	for name, connect := range redistest.InstanceAndCluster() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			ctx := context.Background()
			q := chatq.New(rdb, chatq.WithPrefix(prefix), chatq.WithLockTTL(300*time.Millisecond))
			require.NoError(t, q.Preload(ctx))
			chats := []int64{11, 12, 13, -100500}
			for _, c := range chats {
				require.NoError(t, q.Wake(ctx, c))
			}
			a, err := q.Sweep(ctx, "A", 10)
			require.NoError(t, err)
			assert.ElementsMatch(t, chats, a, "the first sweeper wins every shard")
			b, err := q.Sweep(ctx, "B", 10)
			require.NoError(t, err)
			assert.Empty(t, b, "held by A")
			a, err = q.Sweep(ctx, "A", 10)
			require.NoError(t, err)
			assert.ElementsMatch(t, chats, a, "renewed by its holder")
			require.NoError(t, q.StopSweeping(ctx, "A"))
			b, err = q.Sweep(ctx, "B", 10)
			require.NoError(t, err)
			assert.ElementsMatch(t, chats, b, "given back: B sweeps")
			time.Sleep(400 * time.Millisecond) // B stops renewing: its leases run out (300 ms)
			a, err = q.Sweep(ctx, "A", 10)
			require.NoError(t, err)
			assert.ElementsMatch(t, chats, a, "run out: A sweeps again")
		})
	}
}

// The scripts append an outbox's calls in one RPUSH per 500: a long batch
// keeps every call, in order.
func TestLongBatchAppendedInOrder(t *testing.T) {
	rdb, prefix := redistest.New(t)
	ctx := context.Background()
	q := chatq.New(rdb, chatq.WithPrefix(prefix))
	const chat, n = 70, 1201
	calls := make([]outbox.Call, n)
	for i := range calls {
		calls[i] = outbox.Call{Method: "sendMessage", Params: []byte(`{"chat_id":70,"text":"` + strconv.Itoa(i) + `"}`)}
	}
	_, err := q.Enqueue(ctx, chat, "", calls...)
	require.NoError(t, err)
	got, err := rdb.LRange(ctx, chatq.KeyOf(prefix, chat, "o"), 0, -1).Result()
	require.NoError(t, err)
	require.Len(t, got, n)
	for i, raw := range got {
		require.Contains(t, raw, `"text":"`+strconv.Itoa(i)+`"`)
	}
	depth, _, err := q.Depth(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(n), depth)
}

// Renewals go in batches (one script per shard, at most 256 leases each):
// each of 600 leases gets its own answer, on one instance and on the
// cluster.
func TestRenewManyLeases(t *testing.T) {
	for name, connect := range redistest.InstanceAndCluster() {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := connect(t)
			ctx := context.Background()
			q := chatq.New(rdb, chatq.WithPrefix(prefix))
			require.NoError(t, q.Preload(ctx))
			refs := make([]chatq.LeaseRef, 600)
			for i := range refs {
				chat := int64(1000 + i)
				refs[i] = chatq.LeaseRef{Chat: chat, Token: "t"}
				token := "t"
				if i%97 == 0 {
					token = "other"
				}
				require.NoError(t, rdb.Set(ctx, chatq.KeyOf(prefix, chat, "l"), token, 0).Err())
			}
			errs := q.Renew(ctx, refs)
			require.Len(t, errs, len(refs))
			for i, err := range errs {
				if i%97 == 0 {
					assert.ErrorIs(t, err, chatq.ErrLeaseLost, "lease %d", i)
				} else {
					assert.NoError(t, err, "lease %d", i)
				}
			}
			ttl, err := rdb.PTTL(ctx, chatq.KeyOf(prefix, 1599, "l")).Result()
			require.NoError(t, err)
			assert.Positive(t, ttl, "renewed: it has the lease's TTL now")
		})
	}
}
