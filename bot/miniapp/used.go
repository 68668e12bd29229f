package miniapp

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisUsed keeps the used launches in Redis, one key each under prefix,
// named by the hash of the launch data's signature (nothing the merchant
// typed), gone after the ttl Spend is given.
type RedisUsed struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedisUsed keeps the marks in rdb under prefix (REDIS_PREFIX).
func NewRedisUsed(rdb redis.UniversalClient, prefix string) *RedisUsed {
	return &RedisUsed{rdb: rdb, prefix: prefix + "miniapp:used:"}
}

// Spend is Used.Spend: SET NX with ttl.
func (u *RedisUsed) Spend(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	err := u.rdb.SetArgs(ctx, u.prefix+key, "1", redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	switch {
	case err == redis.Nil:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("mark launch used: %w", err)
	}
	return true, nil
}

// Spent is Used.Spent.
func (u *RedisUsed) Spent(ctx context.Context, key string) (bool, error) {
	n, err := u.rdb.Exists(ctx, u.prefix+key).Result()
	if err != nil {
		return false, fmt.Errorf("read launch mark: %w", err)
	}
	return n > 0, nil
}

// Unspend is Used.Unspend.
func (u *RedisUsed) Unspend(ctx context.Context, key string) error {
	if err := u.rdb.Del(ctx, u.prefix+key).Err(); err != nil {
		return fmt.Errorf("unmark launch: %w", err)
	}
	return nil
}
