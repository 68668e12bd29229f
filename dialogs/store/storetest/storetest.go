// Package storetest is the conformance suite every dialogs.Store passes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/merchantbot/merchantbot/dialogs"
)

// Controls lets the suite act on a store's surroundings.
type Controls interface {
	// Advance moves the store's time forward by d: every lock, state and
	// update-id TTL comes d closer to its end, and what reaches it is gone.
	Advance(d time.Duration)
	// LockTTL is the lock lifetime the store was made with.
	LockTTL() time.Duration
	// OtherKey returns a store over the same data with another data key.
	OtherKey() dialogs.Store
}

// Test data. The card and phone are fake but shaped like real ones.
const (
	CardNumber    = "6222021234567890123"
	ReservedPhone = "13812345678"
)

// FullDraft returns a state with every field filled as long as a real
// dialog fills it: the largest record a store keeps. It fills fields by
// reflection so that a field added to dialogs.State is counted too.
func FullDraft() *dialogs.State {
	st := &dialogs.State{}
	fill(reflect.ValueOf(st).Elem())
	return st
}

// draftAt is FullDraft's time: nanoseconds make the longest JSON time.
var draftAt = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// realistic holds the longest plausible value of each field by name; names
// that State no longer has are skipped.
var realistic = map[string]any{
	"Step":         "confirm_summary",
	"Lang":         "zh-Hans",
	"MerchantNo":   "898310048161234",
	"MerchantName": "上海市浦东新区张江镇老王家常菜馆（个体工商户）",
	"PendingNo":    "898310048165678",
	"PhoneOnFile":  "138****5678",
	"CardBIN":      "622202",
	"CardLast":     "0123",
	"CardType":     "debit",
	"BankCode":     "0102",
	"BankName":     "中国工商银行",
	"Holder":       "欧阳王小明",
	"Branch":       "中国工商银行股份有限公司上海市分行张江高科技园区支行营业部",
	"Ret":          "enter_branch",
	"DraftID":      "9f86d081884c7d659a2feaa0c55ad015", // randomKey: 16 bytes in hex
	"LastApp":      "APP-20250314-000123456",
	"CodeSentAt":   draftAt,
	"Touched":      draftAt.Add(3 * time.Minute),

	"CardNumber":    CardNumber,
	"ReservedPhone": ReservedPhone,
	"PendingCard":   "6222021234567890124",
}

var timeType = reflect.TypeFor[time.Time]()

func fill(v reflect.Value) {
	for i := range v.NumField() {
		f, field := v.Field(i), v.Type().Field(i)
		if !field.IsExported() {
			continue
		}
		if val, ok := realistic[field.Name]; ok && reflect.TypeOf(val).AssignableTo(f.Type()) {
			f.Set(reflect.ValueOf(val))
			continue
		}
		switch {
		case f.Type() == timeType:
			f.Set(reflect.ValueOf(draftAt))
		case f.Kind() == reflect.Struct:
			fill(f)
		case f.Kind() == reflect.String:
			f.SetString("unknown-field-of-24-chars")
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.CanInt():
			f.SetInt(1234)
		case f.CanUint():
			f.SetUint(0x7f)
		}
	}
}

// Run runs the suite. newStore makes an empty store for one case.
func Run(t *testing.T, newStore func(t *testing.T) (dialogs.Store, Controls)) {
	ctx := context.Background()
	const chat, other = int64(42), int64(-1001234567890)

	t.Run("NewChatHasNoState", func(t *testing.T) {
		s, _ := newStore(t)
		l := acquire(t, s, chat, 1)
		if l.State != nil || l.Chat != chat || l.Update != 1 || l.Token == "" {
			t.Fatalf("lease = %+v, want chat %d, update 1, a token and no state", l, chat)
		}
		release(t, s, l)
		if st := load(t, s, chat); st != nil {
			t.Fatalf("Load = %+v, want nil", st)
		}
	})

	t.Run("CommitThenAcquireReturnsState", func(t *testing.T) {
		s, _ := newStore(t)
		want := FullDraft()
		commit(t, s, acquire(t, s, chat, 1), want)
		l := acquire(t, s, chat, 2)
		equalState(t, "Acquire", l.State, want)
		equalState(t, "Load", load(t, s, chat), want)
		release(t, s, l)
	})

	t.Run("LoadDoesNotTakeLock", func(t *testing.T) {
		s, _ := newStore(t)
		commit(t, s, acquire(t, s, chat, 1), &dialogs.State{Step: "menu"})
		l := acquire(t, s, chat, 2)
		equalState(t, "Load under someone's lock", load(t, s, chat), &dialogs.State{Step: "menu"})
		commit(t, s, l, &dialogs.State{Step: "menu", Seq: 1})
	})

	t.Run("SecondAcquireIsBusy", func(t *testing.T) {
		s, _ := newStore(t)
		l := acquire(t, s, chat, 1)
		for _, update := range []int64{1, 2, 0} {
			if _, err := s.Acquire(ctx, chat, update); !errors.Is(err, dialogs.ErrBusy) {
				t.Fatalf("Acquire(update %d) while held: err = %v, want ErrBusy", update, err)
			}
		}
		release(t, s, acquire(t, s, other, 1)) // other chats go on
		release(t, s, l)
	})

	t.Run("ReleaseFreesLock", func(t *testing.T) {
		s, _ := newStore(t)
		commit(t, s, acquire(t, s, chat, 1), &dialogs.State{Step: "a"})
		release(t, s, acquire(t, s, chat, 2))
		l := acquire(t, s, chat, 2) // a released update is not applied
		equalState(t, "after Release", l.State, &dialogs.State{Step: "a"})
		release(t, s, l)
		if err := s.Release(ctx, l); !errors.Is(err, dialogs.ErrLockLost) {
			t.Fatalf("second Release: err = %v, want ErrLockLost", err)
		}
	})

	t.Run("CommittedUpdateIsDuplicate", func(t *testing.T) {
		s, _ := newStore(t)
		commit(t, s, acquire(t, s, chat, 7), &dialogs.State{Step: "a"})
		if _, err := s.Acquire(ctx, chat, 7); !errors.Is(err, dialogs.ErrDuplicate) {
			t.Fatalf("Acquire(7) after commit: err = %v, want ErrDuplicate", err)
		}
		commit(t, s, acquire(t, s, chat, 8), nil) // deleting still records 8
		if _, err := s.Acquire(ctx, chat, 8); !errors.Is(err, dialogs.ErrDuplicate) {
			t.Fatalf("Acquire(8) after commit(nil): err = %v, want ErrDuplicate", err)
		}
		commit(t, s, acquire(t, s, chat, 0), &dialogs.State{Step: "b"})
		commit(t, s, acquire(t, s, chat, 0), &dialogs.State{Step: "c"}) // 0 never dedups
		release(t, s, acquire(t, s, other, 7))                          // ids are per chat
	})

	t.Run("NewestUpdateIdsAreKept", func(t *testing.T) {
		s, _ := newStore(t)
		for u := int64(1); u <= 100; u++ {
			commit(t, s, acquire(t, s, chat, u), &dialogs.State{Step: "a", Seq: int(u)})
		}
		for _, u := range []int64{37, 64, 99, 100} {
			if _, err := s.Acquire(ctx, chat, u); !errors.Is(err, dialogs.ErrDuplicate) {
				t.Fatalf("Acquire(%d) of the newest 64: err = %v, want ErrDuplicate", u, err)
			}
		}
		release(t, s, acquire(t, s, chat, 36)) // older ones are forgotten
	})

	t.Run("UpdateIdsForgottenAfterADay", func(t *testing.T) {
		s, c := newStore(t)
		commit(t, s, acquire(t, s, chat, 7), &dialogs.State{Step: "a"})
		c.Advance(23 * time.Hour)
		if _, err := s.Acquire(ctx, chat, 7); !errors.Is(err, dialogs.ErrDuplicate) {
			t.Fatalf("Acquire(7) 23h on: err = %v, want ErrDuplicate", err)
		}
		c.Advance(time.Hour)
		release(t, s, acquire(t, s, chat, 7))
	})

	t.Run("DraftKeep", func(t *testing.T) {
		s, c := newStore(t)
		commit(t, s, acquire(t, s, chat, 1), draft(t))
		c.Advance(dialogs.DraftKeep - time.Minute)
		if load(t, s, chat) == nil {
			t.Fatal("draft gone before DraftKeep")
		}
		c.Advance(2 * time.Minute)
		if st := load(t, s, chat); st != nil {
			t.Fatalf("draft still there after DraftKeep: %+v", st)
		}
		if l := acquire(t, s, chat, 2); l.State != nil {
			t.Fatalf("Acquire after DraftKeep: state %+v, want nil", l.State)
		}
	})

	t.Run("IdleTTL", func(t *testing.T) {
		s, c := newStore(t)
		commit(t, s, acquire(t, s, chat, 1), idle(t))
		c.Advance(dialogs.IdleTTL - time.Minute)
		if load(t, s, chat) == nil {
			t.Fatal("idle state gone before IdleTTL")
		}
		c.Advance(2 * time.Minute)
		if st := load(t, s, chat); st != nil {
			t.Fatalf("idle state still there after IdleTTL: %+v", st)
		}
	})

	t.Run("CommitRefreshesTTL", func(t *testing.T) {
		s, c := newStore(t)
		commit(t, s, acquire(t, s, chat, 1), draft(t))
		c.Advance(dialogs.DraftKeep - time.Minute)
		commit(t, s, acquire(t, s, chat, 2), draft(t))
		c.Advance(dialogs.DraftKeep - time.Minute)
		if load(t, s, chat) == nil {
			t.Fatal("draft gone less than DraftKeep after its last commit")
		}
		// Finishing the draft moves the state to IdleTTL.
		commit(t, s, acquire(t, s, chat, 3), idle(t))
		c.Advance(dialogs.DraftKeep + time.Hour)
		if load(t, s, chat) == nil {
			t.Fatal("idle state gone after DraftKeep")
		}
	})

	t.Run("LockHeldUntilLockTTL", func(t *testing.T) {
		s, c := newStore(t)
		l := acquire(t, s, chat, 1)
		c.Advance(c.LockTTL() * 9 / 10)
		if _, err := s.Acquire(ctx, chat, 2); !errors.Is(err, dialogs.ErrBusy) {
			t.Fatalf("Acquire before LockTTL: err = %v, want ErrBusy", err)
		}
		commit(t, s, l, &dialogs.State{Step: "a"})
	})

	t.Run("ExpiredLockIsLost", func(t *testing.T) {
		s, c := newStore(t)
		commit(t, s, acquire(t, s, chat, 1), &dialogs.State{Step: "start", Seq: 1})
		first := acquire(t, s, chat, 2)
		c.Advance(c.LockTTL())
		second := acquire(t, s, chat, 3)

		stale := *first.State
		stale.Seq++
		stale.Secrets.CardNumber = CardNumber
		if err := s.Commit(ctx, first, &stale); !errors.Is(err, dialogs.ErrLockLost) {
			t.Fatalf("Commit after the lock expired: err = %v, want ErrLockLost", err)
		}
		if err := s.Release(ctx, first); !errors.Is(err, dialogs.ErrLockLost) {
			t.Fatalf("Release after the lock expired: err = %v, want ErrLockLost", err)
		}
		if _, err := s.Acquire(ctx, chat, 4); !errors.Is(err, dialogs.ErrBusy) {
			t.Fatalf("the stale holder freed the new holder's lock: err = %v, want ErrBusy", err)
		}
		equalState(t, "after the stale Commit", load(t, s, chat), &dialogs.State{Step: "start", Seq: 1})
		commit(t, s, second, &dialogs.State{Step: "second"})
		release(t, s, acquire(t, s, chat, 2)) // the stale update was not recorded
		equalState(t, "after both", load(t, s, chat), &dialogs.State{Step: "second"})
	})

	t.Run("ExpiredLockWithoutRivalIsLost", func(t *testing.T) {
		s, c := newStore(t)
		l := acquire(t, s, chat, 1)
		c.Advance(c.LockTTL())
		if err := s.Commit(ctx, l, &dialogs.State{Step: "late"}); !errors.Is(err, dialogs.ErrLockLost) {
			t.Fatalf("Commit after the lock expired: err = %v, want ErrLockLost", err)
		}
		if st := load(t, s, chat); st != nil {
			t.Fatalf("the late Commit saved %+v", st)
		}
	})

	t.Run("CommitNilDeletes", func(t *testing.T) {
		s, _ := newStore(t)
		commit(t, s, acquire(t, s, chat, 1), FullDraft())
		commit(t, s, acquire(t, s, chat, 2), nil)
		if st := load(t, s, chat); st != nil {
			t.Fatalf("Load after Commit(nil) = %+v, want nil", st)
		}
		l := acquire(t, s, chat, 3)
		if l.State != nil {
			t.Fatalf("Acquire after Commit(nil): state %+v, want nil", l.State)
		}
		release(t, s, l)
	})

	t.Run("ConcurrentWritersLoseNoUpdate", func(t *testing.T) {
		s, _ := newStore(t)
		const workers, each = 8, 25
		// A failing worker stops the others rather than leave them to spin
		// on a lock it may still hold.
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					update := int64(w*1000 + i + 1)
					if err := increment(ctx, s, chat, update); err != nil {
						errs <- err
						cancel()
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		st := load(t, s, chat)
		if st == nil || st.Seq != workers*each {
			t.Fatalf("after %d increments state = %+v", workers*each, st)
		}
	})

	t.Run("OtherKeyCannotRead", func(t *testing.T) {
		s, c := newStore(t)
		commit(t, s, acquire(t, s, chat, 1), FullDraft())
		wrong := c.OtherKey()
		_, loadErr := wrong.Load(ctx, chat)
		l, acqErr := wrong.Acquire(ctx, chat, 2)
		for name, err := range map[string]error{"Load": loadErr, "Acquire": acqErr} {
			if err == nil || errors.Is(err, dialogs.ErrBusy) || errors.Is(err, dialogs.ErrDuplicate) {
				t.Fatalf("%s with another key: err = %v, want a decode error", name, err)
			}
			noSecrets(t, name, err.Error())
		}
		if l != nil {
			t.Fatalf("Acquire with another key returned a lease: %+v", l)
		}
		// The failed Acquire does not leave the chat locked.
		l = acquire(t, s, chat, 2)
		equalState(t, "with the right key", l.State, FullDraft())
		release(t, s, l)
	})

	t.Run("ResetClearsAnUnreadableState", func(t *testing.T) {
		s, c := newStore(t)
		commit(t, s, acquire(t, s, chat, 1), FullDraft())
		wrong := c.OtherKey()
		if _, err := wrong.Acquire(ctx, chat, 2); !errors.Is(err, dialogs.ErrUnreadable) {
			t.Fatalf("Acquire with another key: err = %v, want ErrUnreadable", err)
		}
		if err := wrong.Reset(ctx, chat); err != nil {
			t.Fatalf("Reset: %v", err)
		}
		l := acquire(t, wrong, chat, 2)
		if l.State != nil {
			t.Fatalf("after Reset the chat has state %+v, want none", l.State)
		}
		release(t, wrong, l)
	})
}

// draft returns a state that holds card data.
func draft(t *testing.T) *dialogs.State {
	t.Helper()
	st := &dialogs.State{Step: "enter_holder", Secrets: dialogs.Secrets{CardNumber: CardNumber}}
	if st.TTL() != dialogs.DraftKeep {
		t.Fatalf("TTL of a state with a card number = %v, want DraftKeep", st.TTL())
	}
	return st
}

// idle returns a state that holds a binding only.
func idle(t *testing.T) *dialogs.State {
	t.Helper()
	st := &dialogs.State{Step: "menu", Lang: "en", MerchantNo: "898310048161234", Bound: true}
	if st.TTL() != dialogs.IdleTTL {
		t.Fatalf("TTL of a bound state = %v, want IdleTTL", st.TTL())
	}
	return st
}

// increment adds one to chat's Seq, retrying while another holds the lock.
func increment(ctx context.Context, s dialogs.Store, chat, update int64) error {
	for {
		l, err := s.Acquire(ctx, chat, update)
		if errors.Is(err, dialogs.ErrBusy) && ctx.Err() == nil {
			time.Sleep(time.Duration(rand.N(200)) * time.Microsecond)
			continue
		}
		if err != nil {
			return err
		}
		st := l.State
		if st == nil {
			st = &dialogs.State{Step: "count"}
		}
		st.Seq++
		if err := s.Commit(ctx, l, st); err != nil {
			return fmt.Errorf("update %d: %w", update, err)
		}
		return nil
	}
}

func acquire(t *testing.T, s dialogs.Store, chat, update int64) *dialogs.Lease {
	t.Helper()
	l, err := s.Acquire(context.Background(), chat, update)
	if err != nil {
		t.Fatalf("Acquire(chat %d, update %d): %v", chat, update, err)
	}
	return l
}

func commit(t *testing.T, s dialogs.Store, l *dialogs.Lease, st *dialogs.State) {
	t.Helper()
	if err := s.Commit(context.Background(), l, st); err != nil {
		t.Fatalf("Commit(chat %d, update %d): %v", l.Chat, l.Update, err)
	}
}

func release(t *testing.T, s dialogs.Store, l *dialogs.Lease) {
	t.Helper()
	if err := s.Release(context.Background(), l); err != nil {
		t.Fatalf("Release(chat %d): %v", l.Chat, err)
	}
}

func load(t *testing.T, s dialogs.Store, chat int64) *dialogs.State {
	t.Helper()
	st, err := s.Load(context.Background(), chat)
	if err != nil {
		t.Fatalf("Load(chat %d): %v", chat, err)
	}
	return st
}

func equalState(t *testing.T, what string, got, want *dialogs.State) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: state\n got %+v\nwant %+v", what, got, want)
	}
}

func noSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{CardNumber, CardNumber[len(CardNumber)-10:], ReservedPhone} {
		if strings.Contains(s, secret) {
			t.Fatalf("%s: %q shows card data", what, s)
		}
	}
}
