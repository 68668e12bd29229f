package bot

import (
	"context"
	"time"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/outbox"
)

// ChatStore is the chat record the pipeline runs on: each chat's queue
// (ordered by update_id, deduplicated against the applied ids), its state,
// its outbox, and the locks and ready set that let any replica take a chat
// up. chatq.Redis is the production one, chatq.Memory the one-process one;
// both pass the conformance suite bot/chatq/chatqtest.
type ChatStore interface {
	chatq.Renewer
	AddUpdates(ctx context.Context, ps []chatq.Pending, readyAt time.Time, newToken func() string) ([]bool, []*chatq.Claim, error)
	AddEvent(ctx context.Context, chat int64, once string, payload []byte, readyAt time.Time) (bool, error)
	Claim(ctx context.Context, chat int64, token string) (*chatq.Claim, error)
	Commit(ctx context.Context, c *chatq.Claim, t chatq.Turn, outboxToken string) (chatq.Committed, error)
	Release(ctx context.Context, c *chatq.Claim, retryAt time.Time) error
	Enqueue(ctx context.Context, chat int64, once string, calls ...outbox.Call) (bool, error)
	ClaimOutbox(ctx context.Context, chat int64, token string) ([][]byte, error)
	MarkSent(ctx context.Context, chat int64, token string, sent [][]byte) ([][]byte, error)
	MarkSentFold(ctx context.Context, chat int64, token string, sent [][]byte, fold *chatq.Fold) ([][]byte, bool, error)
	ReleaseOutbox(ctx context.Context, chat int64, token string, retryAt time.Time, sent ...[]byte) error
	DropSuperseded(ctx context.Context, chat int64, prefix string) (int64, error)
	Depth(ctx context.Context) (calls, chats int64, err error)
	// State reads chat's state record as the last commit left it (nil:
	// none), without the lock: what the card form's handler checks.
	State(ctx context.Context, chat int64) ([]byte, error)
	Sweep(ctx context.Context, token string, n int64) ([]int64, error)
	StopSweeping(ctx context.Context, token string) error
	Relay(ctx context.Context, chat int64) error
}

var (
	_ ChatStore = (*chatq.Redis)(nil)
	_ ChatStore = (*chatq.Memory)(nil)
)
