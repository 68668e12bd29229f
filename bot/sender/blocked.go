package sender

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
)

// BlockedKey is the Redis key that exists while chatID has blocked the bot: the outbox holds
// back a blocked chat's calls in the same script that would send them.
func (s *Sender) BlockedKey(chatID int64) string { return s.blockedKey(chatID) }

func (s *Sender) blockedKey(chatID int64) string {
	return s.prefix + "blocked:" + s.chatTag(chatID) + strconv.FormatInt(chatID, 10)
}

// markBlocked records when chatID answered 403. Do returns ErrBlocked whether or not this
// succeeds, so a Redis error is logged, not returned.
func (s *Sender) markBlocked(ctx context.Context, chatID int64) {
	if chatID == 0 {
		return
	}
	err := s.rdb.Set(ctx, s.blockedKey(chatID), s.now().Unix(), blockedTTL).Err()
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "record blocked chat",
			slog.Int64("chat_id", chatID), slog.String("error", err.Error()))
		return
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "chat blocked the bot", slog.Int64("chat_id", chatID))
}

// Blocked reports whether chatID blocked the bot (a 403 was seen and Unblock was not called since).
func (s *Sender) Blocked(ctx context.Context, chatID int64) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.blockedKey(chatID)).Result()
	if err != nil {
		return false, fmt.Errorf("read blocked chat: %w", err)
	}
	return n > 0, nil
}

// Unblock forgets that chatID blocked the bot: call it when the merchant writes again.
func (s *Sender) Unblock(ctx context.Context, chatID int64) error {
	if err := s.rdb.Del(ctx, s.blockedKey(chatID)).Err(); err != nil {
		return fmt.Errorf("unblock chat: %w", err)
	}
	return nil
}

// Block records that chatID blocked the bot (Telegram said so in my_chat_member): nothing is
// sent to it until Unblock.
func (s *Sender) Block(ctx context.Context, chatID int64) error {
	if err := s.rdb.Set(ctx, s.blockedKey(chatID), s.now().Unix(), blockedTTL).Err(); err != nil {
		return fmt.Errorf("record blocked chat: %w", err)
	}
	return nil
}
