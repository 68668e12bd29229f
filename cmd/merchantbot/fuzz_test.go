package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/merchantbot/merchantbot/dialogs/parse/leaktest"
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

// FuzzScrubDigits: whatever a log line holds, scrub is stable and the
// independent oracle (leaktest) reads no card, ID, phone or code digit
// string in its output — unless the line has digits scrub leaves on
// purpose (an identifier's, after a letter or _; an address's, after a
// colon or in a dotted quad), where only stability is checked.
func FuzzScrubDigits(f *testing.F) {
	for _, s := range []string{"card 6222021234567890123", "CC202611270001", "１３８ ００１３ ８０００", "-1001234567890", "\xff1234567890123", "a1 2 3 4 5 6 7 8 9 0 1",
		"6228.4800.0012.3456.782", "６２２８ ４８００-0012．3456／782", "*13800000001", "123456*", "(123456)", "123 456", "12-34-56",
		"+86 138-0000-0001", "11010519491231002X", "622202******1234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := redact(s)
		if redact(out) != out {
			t.Fatalf("scrub is not stable on %q: %q", s, out)
		}
		if keptOnPurpose.MatchString(s) {
			return
		}
		if leaks := leaktest.Leaks(s, out); len(leaks) > 0 {
			t.Fatalf("redact(%q) = %q: %q readable", s, out, leaks)
		}
	})
}

// keptOnPurpose finds digits scrub leaves: after a letter or an underscore,
// after a colon, or dotted like an address.
var keptOnPurpose = regexp.MustCompile(`[\p{L}_:][0-9０-９]|(^|[^0-9])[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}([^0-9]|$)`)
