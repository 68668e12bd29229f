package handoff

import "context"

// CloseStale closes merchant chat's conversation as a caller that read it
// while the hand-off opened at since was the current one (an agent's hand
// back racing the merchant's new hand-off).
func (d *Desk) CloseStale(ctx context.Context, chat int64, since int64) error {
	c, err := d.loadConv(ctx, chat)
	if err != nil {
		return err
	}
	c.Since = since
	return d.closeConv(ctx, chat, c, "stale close")
}

// OpenSince reports whether chat's conversation is open, and since when.
func (d *Desk) OpenSince(ctx context.Context, chat int64) (bool, int64, error) {
	c, err := d.loadConv(ctx, chat)
	return c.Open, c.Since, err
}
