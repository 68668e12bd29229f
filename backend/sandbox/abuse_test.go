package sandbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
)

// TestCodeBruteForceIsLockedOut guesses codes as fast as the rules allow for
// an hour: no more than MaxCodeAttempts guesses per lockout, and the wait
// is said (so the merchant is told when to come back).
func TestCodeBruteForceIsLockedOut(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		guesses, sends := 0, 0
		for elapsed := time.Duration(0); elapsed < time.Hour; elapsed += time.Minute {
			err := e.api.SendCode(ctx, zhangSan)
			if err == nil {
				sends++
				for range 10 {
					if err := e.api.CheckCode(ctx, zhangSan, "000000"); errors.Is(err, backend.ErrWrongCode) {
						guesses++
					}
				}
			} else if wait, ok := backend.RetryAfter(err); !ok || wait <= 0 || wait > sandbox.CodeLockout {
				t.Fatalf("refused send: %v (wait %v, %v)", err, wait, ok)
			}
			e.clock.Advance(time.Minute)
		}
		// Locked 15 minutes after every 5 wrong: at most 4 rounds an hour.
		if max := 4 * sandbox.MaxCodeAttempts; guesses > max {
			t.Fatalf("%d wrong guesses checked in an hour, want at most %d", guesses, max)
		}
		if sends > 4 {
			t.Fatalf("%d codes sent while brute-forcing, want at most 4", sends)
		}
	})
}

// TestCodeResendFloodIsCapped asks for a code every time the resend wait
// allows: at most MaxCodesPerHour reach the phone in any hour.
func TestCodeResendFloodIsCapped(t *testing.T) {
	both(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		var refusedWait time.Duration
		for range 20 {
			err := e.api.SendCode(ctx, wangWu)
			if err != nil && refusedWait == 0 && len(e.sms.all()) == sandbox.MaxCodesPerHour {
				refusedWait, _ = backend.RetryAfter(err)
			}
			e.clock.Advance(sandbox.CodeResendAfter)
		}
		// 20 minutes of asking: exactly the hourly cap went out.
		if got := len(e.sms.all()); got != sandbox.MaxCodesPerHour {
			t.Fatalf("%d codes sent in 20 minutes of resends, want %d", got, sandbox.MaxCodesPerHour)
		}
		// The refusal says when the oldest send leaves the hour: 55 min.
		if want := time.Hour - time.Duration(sandbox.MaxCodesPerHour)*sandbox.CodeResendAfter; refusedWait != want {
			t.Fatalf("refusal says wait %v, want %v", refusedWait, want)
		}
		// Once the hour has passed, codes flow again, and to one merchant
		// only: the cap is per merchant.
		e.clock.Advance(time.Hour)
		if err := e.api.SendCode(ctx, wangWu); err != nil {
			t.Fatalf("after the hour: %v", err)
		}
		if err := e.api.SendCode(ctx, zhangSan); err != nil {
			t.Fatalf("another merchant: %v", err)
		}
	})
}
