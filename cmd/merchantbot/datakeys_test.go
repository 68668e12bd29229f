package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
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
// in DATA_KEY_OLD the draft opens and its question shows again; without
// it, it does not (the unreadable record is dropped, so the first half
// proves something).
func TestConsoleResumesAcrossKeyRotation(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.New(t)
	oldKey, newKey := store.RandomKey(), store.RandomKey()
	oldCipher, err := store.NewCipher(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	draft := &dialogs.State{Step: dialogs.StepHolder, Lang: "en", MerchantNo: "822100050110001", Bound: true,
		Consent: true, Secrets: dialogs.Secrets{CardNumber: "6222021234567890128"}}
	save := func() {
		rec, err := store.EncodeState(oldCipher, 5, draft)
		if err != nil {
			t.Fatal(err)
		}
		if err := rdb.Set(ctx, chatq.KeyOf(prefix, 5, "s"), rec, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	console := func(dataKey, oldKeys string) string {
		env := map[string]string{
			"REDIS_URL": redistest.URL(), "REDIS_PREFIX": prefix,
			"DATA_KEY": dataKey, "DATA_KEY_OLD": oldKeys,
		}
		var out, errs bytes.Buffer
		err := run(ctx, []string{"merchantbot", "console", "-lang", "en", "-chat", "5"},
			func(k string) string { return env[k] }, strings.NewReader(""), &out, &errs)
		if err != nil {
			t.Fatalf("console: %v\n%s", err, errs.String())
		}
		return out.String()
	}
	const resumed = "Welcome back"
	save()
	if out := console(hex.EncodeToString(newKey), base64.StdEncoding.EncodeToString(oldKey)); !strings.Contains(out, resumed) {
		t.Fatalf("after rotation with DATA_KEY_OLD the draft did not resume:\n%s", out)
	}
	save()
	if out := console(hex.EncodeToString(newKey), ""); strings.Contains(out, resumed) {
		t.Fatalf("without DATA_KEY_OLD the draft still opened:\n%s", out)
	}
}

// TestDataKeys: DATA_KEY and DATA_KEY_OLD read together, as serve, the
// console and `directory import` read them: unset is no key and no error
// (each command says whether it needs one), blanks around a key are
// ignored, and an error names the setting but not the value.
func TestDataKeys(t *testing.T) {
	a, b := store.RandomKey(), store.RandomKey()
	env := func(key, old string) func(string) string {
		return func(k string) string {
			return map[string]string{"DATA_KEY": key, "DATA_KEY_OLD": old}[k]
		}
	}
	key, old, err := dataKeys(env(" "+hex.EncodeToString(a)+"\n", base64.StdEncoding.EncodeToString(b)))
	if err != nil || !bytes.Equal(key, a) || len(old) != 1 || !bytes.Equal(old[0], b) {
		t.Fatalf("both set: %x %x %v", key, old, err)
	}
	if key, old, err := dataKeys(env(" ", "")); err != nil || key != nil || old != nil {
		t.Fatalf("unset: %x %x %v", key, old, err)
	}
	for _, c := range []struct{ key, old, want string }{
		{"shortsecretvalue", "", "DATA_KEY: "},
		{hex.EncodeToString(a), "shortsecretvalue", "DATA_KEY_OLD: key 1"},
	} {
		_, _, err := dataKeys(env(c.key, c.old))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "shortsecret") {
			t.Fatalf("%q, %q: %v", c.key, c.old, err)
		}
	}
}
