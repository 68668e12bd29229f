package metrics

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
)

// RedisHook returns a go-redis hook that counts every failed command (in a
// pipeline too) and dial of the client it is added to (rdb.AddHook(m.RedisHook())).
// redis.Nil, a missing key, is an answer rather than a failure, and a
// command cut short by its caller's context is not Redis's fault.
func (m *Metrics) RedisHook() redis.Hook { return redisHook{m} }

type redisHook struct{ m *Metrics }

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if redisFailure(err) {
			h.m.RedisError("dial")
		}
		return conn, err
	}
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if redisFailure(err) {
			h.m.RedisError(strings.ToLower(cmd.Name()))
		}
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		// A pipeline (or MULTI) reports its commands' failures on the
		// commands; err alone is the connection's.
		failed := false
		for _, cmd := range cmds {
			if redisFailure(cmd.Err()) {
				h.m.RedisError(strings.ToLower(cmd.Name()))
				failed = true
			}
		}
		if !failed && redisFailure(err) {
			h.m.RedisError("pipeline")
		}
		return err
	}
}

func redisFailure(err error) bool {
	return err != nil && !errors.Is(err, redis.Nil) && !errors.Is(err, context.Canceled)
}
