package redistest

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrefixKeysAreDeletedWhenTheTestEnds(t *testing.T) {
	rdb := Client(t)
	ctx := context.Background()
	outside, _ := New(t) // a neighbour's keys, which must survive
	neighbour := Prefix(t, outside) + "kept"
	require.NoError(t, rdb.Set(ctx, neighbour, "1", 0).Err())

	var prefix string
	t.Run("writer", func(t *testing.T) {
		prefix = Prefix(t, rdb)
		for i := range 1200 { // more than one SCAN page and one DEL batch
			require.NoError(t, rdb.Set(ctx, prefix+strings.Repeat("k", i%7)+string(rune('a'+i%26))+strconv.Itoa(i), "v", 0).Err())
		}
		require.NoError(t, rdb.Set(ctx, "rate:"+prefix+"limiter", "v", 0).Err())
		require.NoError(t, rdb.HSet(ctx, prefix+"{42}:s", "f", "v").Err())
	})
	assert.True(t, strings.HasPrefix(prefix, "mbtest:testprefixkeysaredeleted"), "the test's name, to tell whose keys are left: %s", prefix)
	n, err := rdb.Exists(ctx, "rate:"+prefix+"limiter", prefix+"{42}:s", prefix+"a0").Result()
	require.NoError(t, err)
	assert.Zero(t, n, "the subtest's keys are gone")
	keys, _, err := rdb.Scan(ctx, 0, prefix+"*", 10000).Result()
	require.NoError(t, err)
	assert.Empty(t, keys)
	assert.Equal(t, int64(1), rdb.Exists(ctx, neighbour).Val(), "another prefix's key is kept")
}

func TestPrefixesAreUnique(t *testing.T) {
	rdb := Client(t)
	a, b := Prefix(t, rdb), Prefix(t, rdb)
	assert.NotEqual(t, a, b)
	assert.False(t, strings.HasPrefix(a, b) || strings.HasPrefix(b, a), "one prefix holds the other")
}

func TestDeletePrefixRefusesPatterns(t *testing.T) {
	rdb := Client(t)
	for _, p := range []string{"", "*", "mb:*", "mb?", "mb[1]", `mb\`} {
		assert.Error(t, DeletePrefix(context.Background(), rdb, p), "%q", p)
	}
}

func TestURL(t *testing.T) {
	t.Setenv("REDIS_TEST_URL", "")
	assert.Equal(t, DefaultURL, URL())
	t.Setenv("REDIS_TEST_URL", " redis://10.0.0.9:6380/3 ")
	assert.Equal(t, "redis://10.0.0.9:6380/3", URL())
	assert.Equal(t, "10.0.0.9:6380", Options(t).Addr)
	assert.Equal(t, 3, Options(t).DB)
}

func TestSlug(t *testing.T) {
	assert.Equal(t, "testserve-webhook-zh-polling", slug("TestServe/webhook zh/polling"))
	assert.Equal(t, "test", slug("Test/{}*?"))
	assert.Len(t, slug(strings.Repeat("TestLong", 20)), 40)
}

func TestDumpReadsEveryKind(t *testing.T) {
	rdb, prefix := New(t)
	ctx := context.Background()
	require.NoError(t, rdb.Set(ctx, prefix+"s", "string value", 0).Err())
	require.NoError(t, rdb.RPush(ctx, prefix+"l", "list item").Err())
	require.NoError(t, rdb.HSet(ctx, prefix+"h", "field", "hash value").Err())
	require.NoError(t, rdb.SAdd(ctx, prefix+"set", "member").Err())
	require.NoError(t, rdb.ZAdd(ctx, prefix+"z", redis.Z{Score: 1, Member: "zmember"}).Err())
	require.NoError(t, rdb.XAdd(ctx, &redis.XAddArgs{Stream: prefix + "x", Values: []string{"k", "stream value"}}).Err())
	got, err := Dump(ctx, rdb, prefix)
	require.NoError(t, err)
	for _, want := range []string{prefix + "s", "string value", "list item", "field", "hash value", "member", "zmember", "stream value"} {
		assert.Contains(t, got, want)
	}
	_, err = Dump(ctx, rdb, "")
	assert.Error(t, err)
}
