package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Dump returns everything stored under prefix (and "rate:" and prefix), as
// Redis holds it: each key's name, then its raw values, one string each —
// a string's value, a list's items, a set's members, a hash's fields and
// values, a sorted set's members and scores, a stream's entries' fields and
// values. Tests search it for what must never be stored (card data in
// clear). prefix is a test's own (Prefix).
func Dump(ctx context.Context, rdb redis.UniversalClient, prefix string) ([]string, error) {
	if prefix == "" || strings.ContainsAny(prefix, `*?[]\`) {
		return nil, fmt.Errorf("redistest: refusing to dump by an empty or pattern prefix")
	}
	var out []string
	for _, p := range []string{prefix, "rate:" + prefix} {
		keys, err := Keys(ctx, rdb, p+"*")
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			vals, err := dumpKey(ctx, rdb, k)
			if err != nil {
				return nil, fmt.Errorf("redistest: dump %s: %w", k, err)
			}
			out = append(out, k)
			out = append(out, vals...)
		}
	}
	return out, nil
}

func dumpKey(ctx context.Context, rdb redis.UniversalClient, key string) ([]string, error) {
	kind, err := rdb.Type(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	switch kind {
	case "none": // gone since the scan
		return nil, nil
	case "string":
		v, err := rdb.Get(ctx, key).Result()
		if err == redis.Nil {
			return nil, nil
		}
		return []string{v}, err
	case "list":
		return rdb.LRange(ctx, key, 0, -1).Result()
	case "set":
		return rdb.SMembers(ctx, key).Result()
	case "hash":
		m, err := rdb.HGetAll(ctx, key).Result()
		var out []string
		for k, v := range m {
			out = append(out, k, v)
		}
		return out, err
	case "zset":
		zs, err := rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
		var out []string
		for _, z := range zs {
			out = append(out, fmt.Sprint(z.Member), strconv.FormatFloat(z.Score, 'f', -1, 64))
		}
		return out, err
	case "stream":
		xs, err := rdb.XRange(ctx, key, "-", "+").Result()
		var out []string
		for _, x := range xs {
			out = append(out, x.ID)
			for k, v := range x.Values {
				out = append(out, k, fmt.Sprint(v))
			}
		}
		return out, err
	}
	return nil, fmt.Errorf("type %s", kind)
}
