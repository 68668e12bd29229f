package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseRedisURLSentinel(t *testing.T) {
	tests := []struct {
		name                 string
		url                  string
		sentinels            []string
		master               string
		sentinelUser, sentPw string
		user, pw             string
		db                   int
		tls                  bool
	}{
		{
			name:      "three sentinels",
			url:       "redis://sentinel-1:26379/0?master_name=mymaster&addr=sentinel-2:26379&addr=sentinel-3:26379",
			sentinels: []string{"sentinel-1:26379", "sentinel-2:26379", "sentinel-3:26379"},
			master:    "mymaster",
		},
		{
			name:         "sentinel and master credentials, db 2",
			url:          "redis://sentuser:sentpass@10.0.0.1:26379/2?master_name=mb&password=masterpass&username=bot",
			sentinels:    []string{"10.0.0.1:26379"},
			master:       "mb",
			sentinelUser: "sentuser", sentPw: "sentpass",
			user: "bot", pw: "masterpass",
			db: 2,
		},
		{
			name:      "TLS, default port",
			url:       "rediss://sentinel.example/0?master_name=mymaster&dial_timeout=3",
			sentinels: []string{"sentinel.example:6379"},
			master:    "mymaster",
			tls:       true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseRedisURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if c.mode != redisSentinel || c.failover == nil {
				t.Fatalf("mode %s, want sentinel", c.mode)
			}
			o := c.failover
			if !slices.Equal(o.SentinelAddrs, tt.sentinels) || o.MasterName != tt.master || o.DB != tt.db {
				t.Fatalf("sentinels %q master %q db %d", o.SentinelAddrs, o.MasterName, o.DB)
			}
			if o.SentinelUsername != tt.sentinelUser || o.SentinelPassword != tt.sentPw || o.Username != tt.user || o.Password != tt.pw {
				t.Fatalf("credentials: sentinel %q/%q master %q/%q", o.SentinelUsername, o.SentinelPassword, o.Username, o.Password)
			}
			if (o.TLSConfig != nil) != tt.tls {
				t.Fatalf("TLS %v, want %v", o.TLSConfig != nil, tt.tls)
			}
			if strings.Contains(tt.url, "dial_timeout=3") && o.DialTimeout != 3*time.Second {
				t.Fatalf("dial_timeout = %v", o.DialTimeout)
			}
			_ = c.client().Close() // builds a failover client without dialling
		})
	}
}

func TestParseRedisURLClusterAndSingle(t *testing.T) {
	c, err := parseRedisURL("redis://:secret@node-1:7000?addr=node-2:7000&addr=node-3:7000&read_timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	if c.mode != redisCluster || !slices.Equal(c.cluster.Addrs, []string{"node-1:7000", "node-2:7000", "node-3:7000"}) ||
		c.cluster.Password != "secret" || c.cluster.ReadTimeout != 2*time.Second {
		t.Fatalf("cluster: %s %+v", c.mode, c.cluster)
	}
	c, err = parseRedisURL("redis://node-1:7000?cluster=true")
	if err != nil {
		t.Fatal(err)
	}
	if c.mode != redisCluster || !slices.Equal(c.cluster.Addrs, []string{"node-1:7000"}) {
		t.Fatalf("one seed with cluster=true: %s %+v", c.mode, c.cluster)
	}
	for url, addr := range map[string]string{
		"redis://127.0.0.1:6379/3":          "127.0.0.1:6379",
		"redis://redis?cluster=false":       "redis:6379",
		"rediss://u:p@cache.example:6380/0": "cache.example:6380",
		"unix:///run/redis/redis.sock?db=1": "/run/redis/redis.sock",
		"redis://localhost/0?pool_size=20":  "localhost:6379",
	} {
		c, err := parseRedisURL(url)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if c.mode != redisSingle || c.single.Addr != addr {
			t.Fatalf("%s: %s %q, want single %q", url, c.mode, c.single.Addr, addr)
		}
	}
}

func TestParseRedisURLErrorsHideThePassword(t *testing.T) {
	for _, url := range []string{
		"redis://u:hunter2secret@sentinel:26379/0?master_name=",
		"redis://u:hunter2secret@sentinel:26379/0?master_name=m&cluster=true",
		"redis://u:hunter2secret@sentinel:26379/0?master_name=m&no_such_option=1",
		"redis://u:hunter2secret@node:7000?addr=node2:7000&no_such_option=1",
		"redis://u:hunter2secret@host:6379/notadb",
		"http://u:hunter2secret@host:6379",
		"redis://host?cluster=maybe",
		"redis://h/0?master_name=m&password=hunter2secret&bogus=1",
		"\x7f://",
	} {
		_, err := parseRedisURL(url)
		if err == nil {
			t.Errorf("%q parsed", url)
			continue
		}
		if strings.Contains(err.Error(), "hunter2secret") {
			t.Errorf("%q: error quotes the password: %v", url, err)
		}
	}
}

func TestOpenRedisSingle(t *testing.T) {
	rdb, err := openRedis(context.Background(), "redis://127.0.0.1:6379/0")
	if err != nil {
		t.Fatalf("the tests need Redis at 127.0.0.1:6379: %v", err)
	}
	defer rdb.Close()
	if _, err := openRedis(context.Background(), "redis://127.0.0.1:1/0?dial_timeout=1&max_retries=-1"); err == nil ||
		!strings.Contains(err.Error(), "REDIS_URL") {
		t.Fatalf("unreachable Redis: %v", err)
	}
}
