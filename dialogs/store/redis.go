package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/dialogs"
)

// Redis is a dialogs.Store in Redis, shared by every replica. A chat has
// three keys, hash-tagged so that they sit in one cluster slot and one script
// can touch them all:
//
//	<prefix>{<chat>}:s  the encoded state, with the state's TTL
//	<prefix>{<chat>}:l  the lock: a holder's random token, with the lock TTL
//	<prefix>{<chat>}:u  applied update ids: a ZSET scored by id, newest 64, 24h TTL
//
// Acquire and Commit are one script call, so one round trip, each.
type Redis struct {
	rdb     redis.UniversalClient
	c       *Cipher
	prefix  string
	lockTTL time.Duration

	acquire, commit, release *redis.Script
}

// NewRedis returns a store over rdb. Of the options it uses WithPrefix and
// WithLockTTL.
func NewRedis(rdb redis.UniversalClient, c *Cipher, opts ...Option) *Redis {
	cfg := newConfig(opts)
	return &Redis{
		rdb:     rdb,
		c:       c,
		prefix:  cfg.prefix,
		lockTTL: cfg.lockTTL,
		acquire: redis.NewScript(acquireLua),
		commit:  redis.NewScript(commitLua),
		release: redis.NewScript(releaseLua),
	}
}

var _ dialogs.Store = (*Redis)(nil)

// Script replies that are not data.
const (
	replyDuplicate = 1
	replyBusy      = 2
)

// KEYS: state, lock, applied. ARGV: update id ("0": none), token, lock TTL ms.
// Replies replyDuplicate, replyBusy, or the state record ("" when none).
const acquireLua = `
if ARGV[1] ~= '0' and redis.call('ZSCORE', KEYS[3], ARGV[1]) then
	return 1
end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
	return 2
end
return redis.call('GET', KEYS[1]) or ''
`

// KEYS: state, lock, applied. ARGV: token, record ("": delete), state TTL ms,
// update id ("0": none), ids to keep, applied TTL ms.
// Replies 1 when saved, 0 when the token no longer holds the lock.
const commitLua = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
	return 0
end
if ARGV[2] == '' then
	redis.call('DEL', KEYS[1])
else
	redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
if ARGV[4] ~= '0' then
	redis.call('ZADD', KEYS[3], ARGV[4], ARGV[4])
	redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -1 - tonumber(ARGV[5]))
	redis.call('PEXPIRE', KEYS[3], ARGV[6])
end
redis.call('DEL', KEYS[2])
return 1
`

// KEYS: lock. ARGV: token. Replies 1 when released, 0 when not held.
const releaseLua = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`

// Preload loads the scripts into Redis so that the first Acquire and Commit
// take one round trip too (otherwise the first of each is EVALSHA, NOSCRIPT,
// EVAL). Calling it at start also proves Redis is reachable and runs Lua.
func (r *Redis) Preload(ctx context.Context) error {
	for _, s := range []*redis.Script{r.acquire, r.commit, r.release} {
		if err := s.Load(ctx, r.rdb).Err(); err != nil {
			return fmt.Errorf("load redis scripts: %w", err)
		}
	}
	return nil
}

// Acquire implements dialogs.Store.
func (r *Redis) Acquire(ctx context.Context, chat, update int64) (*dialogs.Lease, error) {
	token := newToken()
	reply, err := r.acquire.Run(ctx, r.rdb, r.keys(chat),
		strconv.FormatInt(update, 10), token, r.lockTTL.Milliseconds()).Result()
	if err != nil {
		return nil, fmt.Errorf("acquire chat lock: %w", err)
	}
	var rec string
	switch v := reply.(type) {
	case int64:
		switch v {
		case replyDuplicate:
			return nil, dialogs.ErrDuplicate
		case replyBusy:
			return nil, dialogs.ErrBusy
		}
		return nil, fmt.Errorf("acquire chat lock: unexpected reply %d", v)
	case string:
		rec = v
	default:
		return nil, fmt.Errorf("acquire chat lock: unexpected reply of type %T", reply)
	}
	l := &dialogs.Lease{Chat: chat, Update: update, Token: token}
	if rec == "" {
		return l, nil
	}
	if l.State, err = decodeState(r.c, chat, []byte(rec)); err != nil {
		// Nobody can use the lock: give it back rather than block the
		// chat for a lock TTL. This costs a round trip off the happy path.
		_ = r.Release(ctx, l)
		return nil, fmt.Errorf("acquire chat lock: %w", err)
	}
	return l, nil
}

// Commit implements dialogs.Store.
func (r *Redis) Commit(ctx context.Context, l *dialogs.Lease, st *dialogs.State) error {
	var (
		rec []byte
		ttl int64
	)
	if st != nil {
		var err error
		if rec, err = encodeState(r.c, l.Chat, st); err != nil {
			return fmt.Errorf("commit chat state: %w", err)
		}
		ttl = st.TTL().Milliseconds()
	}
	saved, err := r.commit.Run(ctx, r.rdb, r.keys(l.Chat),
		l.Token, rec, ttl, strconv.FormatInt(l.Update, 10),
		appliedKeep, appliedTTL.Milliseconds()).Int64()
	if err != nil {
		return fmt.Errorf("commit chat state: %w", err)
	}
	if saved == 0 {
		return dialogs.ErrLockLost
	}
	return nil
}

// Release implements dialogs.Store. It returns dialogs.ErrLockLost when the
// lock had already expired.
func (r *Redis) Release(ctx context.Context, l *dialogs.Lease) error {
	released, err := r.release.Run(ctx, r.rdb, []string{r.key(l.Chat, "l")}, l.Token).Int64()
	if err != nil {
		return fmt.Errorf("release chat lock: %w", err)
	}
	if released == 0 {
		return dialogs.ErrLockLost
	}
	return nil
}

// Reset implements dialogs.Store.
func (r *Redis) Reset(ctx context.Context, chat int64) error {
	if err := r.rdb.Del(ctx, r.key(chat, "s")).Err(); err != nil {
		return fmt.Errorf("reset chat state: %w", err)
	}
	return nil
}

// Load implements dialogs.Store.
func (r *Redis) Load(ctx context.Context, chat int64) (*dialogs.State, error) {
	rec, err := r.rdb.Get(ctx, r.key(chat, "s")).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load chat state: %w", err)
	}
	st, err := decodeState(r.c, chat, rec)
	if err != nil {
		return nil, fmt.Errorf("load chat state: %w", err)
	}
	return st, nil
}

// keys are the script's KEYS: state, lock, applied.
func (r *Redis) keys(chat int64) []string {
	return []string{r.key(chat, "s"), r.key(chat, "l"), r.key(chat, "u")}
}

func (r *Redis) key(chat int64, kind string) string {
	return r.prefix + "{" + strconv.FormatInt(chat, 10) + "}:" + kind
}
