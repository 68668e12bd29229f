package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// REDIS_URL takes the forms of go-redis's URL parsers, told apart as
// follows (docs/OPERATIONS.md shows each):
//
//	redis://[user:pass@]host:6379/0, rediss://…, unix:///run/redis.sock
//	    one server (redis.ParseURL)
//	redis://[sentinel-user:pass@]sentinel1:26379/0?master_name=mymaster&addr=sentinel2:26379&password=…
//	    Redis Sentinel: the host and every addr are sentinels; master_name
//	    picks the group; password (and username) are the master's
//	    (redis.ParseFailoverURL)
//	redis://[user:pass@]node1:6379?addr=node2:6379&addr=node3:6379, or with cluster=true
//	    Redis Cluster: the host and every addr are seed nodes
//	    (redis.ParseClusterURL); cluster=true marks a cluster given by one
//	    seed node
//
// Every other query parameter is go-redis's (dial_timeout, pool_size, …).

// redisMode is the kind of deployment a REDIS_URL names.
type redisMode string

const (
	redisSingle   redisMode = "single"
	redisSentinel redisMode = "sentinel"
	redisCluster  redisMode = "cluster"
)

// redisConfig is a parsed REDIS_URL: the options of exactly one of the
// three clients, as go-redis's own parser gave them (nothing is lost in a
// translation to UniversalOptions).
type redisConfig struct {
	mode     redisMode
	single   *redis.Options
	failover *redis.FailoverOptions
	cluster  *redis.ClusterOptions
}

// parseRedisURL reads REDIS_URL. Errors explain the problem but never quote
// the URL, which may hold a password.
func parseRedisURL(raw string) (redisConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return redisConfig{}, errors.New("not a URL (want redis://host:6379/0; see docs/OPERATIONS.md)")
	}
	q := u.Query()
	cluster := false
	if q.Has("cluster") {
		if cluster, err = strconv.ParseBool(q.Get("cluster")); err != nil {
			return redisConfig{}, errors.New("cluster: want true or false")
		}
		q.Del("cluster") // ours, unknown to go-redis
		u.RawQuery = q.Encode()
	}
	switch {
	case q.Has("master_name"):
		if cluster {
			return redisConfig{}, errors.New("master_name (Sentinel) and cluster=true exclude each other")
		}
		if q.Get("master_name") == "" {
			return redisConfig{}, errors.New("master_name is empty")
		}
		o, err := redis.ParseFailoverURL(u.String())
		if err != nil {
			return redisConfig{}, redactRedisError(err)
		}
		return redisConfig{mode: redisSentinel, failover: o}, nil
	case cluster || q.Has("addr"):
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return redisConfig{}, redactRedisError(err)
		}
		return redisConfig{mode: redisCluster, cluster: o}, nil
	}
	o, err := redis.ParseURL(u.String())
	if err != nil {
		return redisConfig{}, redactRedisError(err)
	}
	return redisConfig{mode: redisSingle, single: o}, nil
}

// client makes the client c describes.
func (c redisConfig) client() redis.UniversalClient {
	switch c.mode {
	case redisSentinel:
		return redis.NewFailoverClient(c.failover)
	case redisCluster:
		return redis.NewClusterClient(c.cluster)
	}
	return redis.NewClient(c.single)
}

// redactRedisError keeps go-redis's reason but not the part of the URL it
// quotes after it ("redis: invalid database number: <path>"): any part may
// hold a password, wherever a typo put it.
func redactRedisError(err error) error {
	parts := strings.SplitN(err.Error(), ": ", 3)
	if len(parts) > 2 {
		parts = parts[:2]
	}
	return errors.New(strings.Join(parts, ": ") + " (see docs/OPERATIONS.md for the REDIS_URL forms)")
}

// newRedisClient is the client REDIS_URL names (one server, Sentinel or
// Cluster), not yet connected.
func newRedisClient(raw string) (redis.UniversalClient, redisMode, error) {
	c, err := parseRedisURL(raw)
	if err != nil {
		return nil, "", fmt.Errorf("REDIS_URL: %w", err)
	}
	return c.client(), c.mode, nil
}

// openRedis connects to REDIS_URL and checks that Redis answers.
func openRedis(ctx context.Context, raw string) (redis.UniversalClient, error) {
	rdb, mode, err := newRedisClient(raw)
	if err != nil {
		return nil, err
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("REDIS_URL: cannot reach redis (%s): %w", mode, err)
	}
	return rdb, nil
}
