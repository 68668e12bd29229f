package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"
)

// tokenWatch remembers that Telegram refused the bot's token (401) on some
// call: the token was revoked or replaced, and nothing the process does
// can succeed any more, so serve must end instead of running deaf and mute.
type tokenWatch struct {
	mu  sync.Mutex
	ch  chan struct{} // closed once the token was refused
	err error         // the first refusal
}

func (w *tokenWatch) done() chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	return w.ch
}

// TokenRejected is closed once a Bot API call answered 401: the token was
// revoked. TokenErr says which call.
func (b *Bot) TokenRejected() <-chan struct{} { return b.tokenGone.done() }

// TokenErr is why TokenRejected closed (nil while it is open): it wraps
// ErrTokenRejected.
func (b *Bot) TokenErr() error {
	b.tokenGone.mu.Lock()
	defer b.tokenGone.mu.Unlock()
	return b.tokenGone.err
}

// tokenRefused records err when it is Telegram refusing the token, and
// reports whether it was.
func (b *Bot) tokenRefused(method string, err error) bool {
	if !errors.Is(err, tg.ErrorUnauthorized) {
		return false
	}
	ch := b.tokenGone.done()
	b.tokenGone.mu.Lock()
	defer b.tokenGone.mu.Unlock()
	if b.tokenGone.err == nil {
		b.tokenGone.err = fmt.Errorf("%w (%s: %s)", ErrTokenRejected, method, hideToken(err.Error(), b.token))
		b.log.Error("telegram refuses the bot token: it was revoked or replaced", "method", method)
		close(ch)
	}
	return true
}

// WatchToken asks Telegram who the bot is every `every` and returns an
// error wrapping ErrTokenRejected as soon as the token is refused, by that
// getMe or by any other call (TokenRejected); nil when ctx ends. In webhook
// mode nothing else would notice: a revoked token's webhook simply falls
// silent. Other failures of getMe (a network hiccup) are only logged.
func (b *Bot) WatchToken(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-b.TokenRejected():
			return b.TokenErr()
		case <-t.C:
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			_, err := b.api.GetMe(cctx)
			cancel()
			switch {
			case err == nil, ctx.Err() != nil:
			case errors.Is(err, tg.ErrorUnauthorized):
				b.tokenRefused("getMe", err)
			default:
				b.log.Warn("getMe (token check) failed", "err", hideToken(err.Error(), b.token))
			}
		}
	}
}
