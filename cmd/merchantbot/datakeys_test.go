package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
)

func TestOldDataKeys(t *testing.T) {
	a, b := store.RandomKey(), store.RandomKey()
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "DATA_KEY_OLD" {
				return v
			}
			return ""
		}
	}
	keys, err := oldDataKeys(env(base64.StdEncoding.EncodeToString(a) + ", " + hex.EncodeToString(b)))
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0], a) || !bytes.Equal(keys[1], b) {
		t.Fatalf("two keys: %x, %v", keys, err)
	}
	if keys, err := oldDataKeys(env("")); err != nil || keys != nil {
		t.Fatalf("unset: %x, %v", keys, err)
	}
	_, err = oldDataKeys(env(hex.EncodeToString(a) + ",shortsecretvalue"))
	if err == nil || !strings.Contains(err.Error(), "DATA_KEY_OLD: key 2") || strings.Contains(err.Error(), "shortsecret") {
		t.Fatalf("a bad second key: %v", err)
	}
}

// TestConsoleResumesAcrossKeyRotation stores a draft holding a card number
// with one DATA_KEY, rotates, and resumes it through run: with the old key
// in DATA_KEY_OLD the draft opens; without it, it does not (so the first
// half proves something).
func TestConsoleResumesAcrossKeyRotation(t *testing.T) {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("the tests need Redis at 127.0.0.1:6379: %v", err)
	}
	prefix := "mbtest:rotate:" + strings.ToLower(rand.Text()) + ":"
	t.Cleanup(func() {
		if keys, _ := rdb.Keys(ctx, prefix+"*").Result(); len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	oldKey, newKey := store.RandomKey(), store.RandomKey()
	oldCipher, err := store.NewCipher(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	s := store.NewRedis(rdb, oldCipher, store.WithPrefix(prefix))
	l, err := s.Acquire(ctx, 5, 0)
	if err != nil {
		t.Fatal(err)
	}
	draft := &dialogs.State{Step: dialogs.StepHolder, Lang: "en", MerchantNo: "822100050110001", Bound: true,
		Consent: true, Secrets: dialogs.Secrets{CardNumber: "6222021234567890128"}}
	if err := s.Commit(ctx, l, draft); err != nil {
		t.Fatal(err)
	}

	console := func(dataKey, oldKeys string) (string, error) {
		env := map[string]string{
			"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_PREFIX": prefix,
			"DATA_KEY": dataKey, "DATA_KEY_OLD": oldKeys,
		}
		var out, errs bytes.Buffer
		err := run(ctx, []string{"merchantbot", "console", "-lang", "en", "-chat", "5"},
			func(k string) string { return env[k] }, strings.NewReader(""), &out, &errs)
		return out.String(), err
	}
	out, err := console(hex.EncodeToString(newKey), base64.StdEncoding.EncodeToString(oldKey))
	if err != nil || out == "" {
		t.Fatalf("after rotation with DATA_KEY_OLD: %v\n%s", err, out)
	}
	if _, err := console(hex.EncodeToString(newKey), ""); err == nil {
		t.Fatal("without DATA_KEY_OLD the draft still opened")
	}
}
