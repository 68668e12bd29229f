package main

import (
	"strings"
	"testing"
	"unicode"
)

func FuzzParseRedisURL(f *testing.F) {
	for _, s := range []string{
		"redis://127.0.0.1:6379/0",
		"redis://u:secretpw@s1:26379/0?master_name=m&addr=s2:26379",
		"redis://n1:7000?addr=n2:7000&cluster=true",
		"unix:///run/redis.sock",
		"rediss://h?master_name=&cluster=1",
		"redis://h/0?pool_size=-1&dial_timeout=x",
		"%zz", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := parseRedisURL(raw)
		if err != nil {
			if i := strings.Index(raw, ":secretpw@"); i >= 0 && strings.Contains(err.Error(), "secretpw") {
				t.Fatalf("error quotes the password: %v", err)
			}
			return
		}
		switch c.mode {
		case redisSingle:
			if c.single == nil {
				t.Fatal("single without options")
			}
		case redisSentinel:
			if c.failover == nil || c.failover.MasterName == "" || len(c.failover.SentinelAddrs) == 0 {
				t.Fatalf("sentinel options %+v", c.failover)
			}
		case redisCluster:
			if c.cluster == nil || len(c.cluster.Addrs) == 0 {
				t.Fatalf("cluster options %+v", c.cluster)
			}
		default:
			t.Fatalf("mode %q", c.mode)
		}
	})
}

// FuzzScrubDigits: whatever a log line holds, no run of 11 or more
// consecutive digits survives unless it is an identifier's (after a letter).
func FuzzScrubDigits(f *testing.F) {
	for _, s := range []string{"card 6222021234567890123", "CC202611270001", "１３８ ００１３ ８０００", "-1001234567890", "\xff1234567890123", "a1 2 3 4 5 6 7 8 9 0 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := scrub(s)
		if scrub(out) != out {
			t.Fatalf("scrub is not stable on %q: %q", s, out)
		}
		rs := []rune(out)
		for i := 0; i < len(rs); {
			if !isDigit(rs[i]) {
				i++
				continue
			}
			j := i
			for j < len(rs) && isDigit(rs[j]) {
				j++
			}
			identifier := i > 0 && (unicode.IsLetter(rs[i-1]) || rs[i-1] == '_')
			if j-i >= minPersonalDigits && !identifier {
				t.Fatalf("scrub(%q) = %q keeps a digit run", s, out)
			}
			i = j
		}
	})
}
