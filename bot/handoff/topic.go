package handoff

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs"
)

// Check makes sure the support group can hold the hand-off: a supergroup
// with topics on, where the bot is an administrator allowed to manage
// topics. The error names what the operator must change.
func (d *Desk) Check(ctx context.Context) error {
	me, err := d.api.GetMe(ctx)
	if err != nil {
		return fmt.Errorf("support group check: getMe: %w", err)
	}
	chat, err := d.api.GetChat(ctx, &tg.GetChatParams{ChatID: d.group})
	if err != nil {
		return fmt.Errorf("SUPPORT_CHAT_ID %d: the bot cannot see this chat (%v): add the bot to the support group and check the id (a supergroup id starts with -100)", d.group, err)
	}
	if chat.Type != models.ChatTypeSupergroup {
		return fmt.Errorf("SUPPORT_CHAT_ID %d: is a %s, not a supergroup: turn on Topics in the group's settings (that makes it a supergroup) and use its new -100… id", d.group, chat.Type)
	}
	if !chat.IsForum {
		return fmt.Errorf("SUPPORT_CHAT_ID %d: topics are off: turn on Topics in the group's settings (Edit → Topics)", d.group)
	}
	m, err := d.api.GetChatMember(ctx, &tg.GetChatMemberParams{ChatID: d.group, UserID: me.ID})
	if err != nil {
		return fmt.Errorf("SUPPORT_CHAT_ID %d: cannot read the bot's rights: %w", d.group, err)
	}
	switch {
	case m.Type == models.ChatMemberTypeOwner:
	case m.Type == models.ChatMemberTypeAdministrator && m.Administrator != nil && m.Administrator.CanManageTopics:
	case m.Type == models.ChatMemberTypeAdministrator:
		return fmt.Errorf("SUPPORT_CHAT_ID %d: the bot is an administrator without the right to manage topics: give it \"Manage topics\"", d.group)
	default:
		return fmt.Errorf("SUPPORT_CHAT_ID %d: the bot is %q there: make it an administrator with the right \"Manage topics\"", d.group, m.Type)
	}
	return nil
}

// Topic errors as Telegram words them.
func topicGone(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "message thread not found") || strings.Contains(s, "TOPIC_ID_INVALID") ||
		strings.Contains(s, "TOPIC_DELETED")
}

func notModified(err error) bool {
	return err != nil && strings.Contains(err.Error(), "TOPIC_NOT_MODIFIED")
}

// lockWait bounds how long a replica waits for another one creating the
// same merchant's topic.
const lockWait = 15 * time.Second

// ensureTopic returns the merchant's open topic: the one they had, reopened
// if it was closed, or a new one when there was none or it was deleted.
// Creation is under a Redis lock, so two replicas never make two topics for
// one merchant. lost reports that an earlier topic was found deleted.
func (d *Desk) ensureTopic(ctx context.Context, chat int64, title string) (thread int, lost bool, err error) {
	c, err := d.loadConv(ctx, chat)
	if err != nil {
		return 0, false, err
	}
	if c.Thread != 0 {
		_, err := d.api.ReopenForumTopic(ctx, &tg.ReopenForumTopicParams{ChatID: d.group, MessageThreadID: c.Thread})
		switch {
		case err == nil || notModified(err):
			return c.Thread, false, nil
		case !topicGone(err):
			return 0, false, fmt.Errorf("reopen topic: %w", err)
		}
		d.log.Info("support topic was deleted; making a new one", "chat_id", chat, "thread", c.Thread)
		lost = true
	}
	thread, err = d.createTopic(ctx, chat, c.Thread, title)
	return thread, lost, err
}

// createTopic makes the merchant's topic unless another replica did while
// this one waited for the lock; dead is a deleted thread not to reuse.
func (d *Desk) createTopic(ctx context.Context, chat int64, dead int, title string) (int, error) {
	token := randomToken()
	deadline := time.Now().Add(lockWait)
	for {
		c, err := d.loadConv(ctx, chat)
		if err != nil {
			return 0, err
		}
		if c.Thread != 0 && c.Thread != dead {
			return c.Thread, nil
		}
		ok, err := d.rdb.SetNX(ctx, d.keyLock(chat), token, 30*time.Second).Result()
		if err != nil {
			return 0, fmt.Errorf("topic lock: %w", err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			return 0, errors.New("topic lock: another replica holds it too long")
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	defer d.unlock(chat, token)
	// Read again under the lock: the holder before us may have finished.
	c, err := d.loadConv(ctx, chat)
	if err != nil {
		return 0, err
	}
	if c.Thread != 0 && c.Thread != dead {
		return c.Thread, nil
	}
	t, err := d.api.CreateForumTopic(ctx, &tg.CreateForumTopicParams{ChatID: d.group, Name: title})
	if err != nil {
		return 0, fmt.Errorf("create topic: %w", err)
	}
	pipe := d.rdb.TxPipeline()
	pipe.HSet(ctx, d.keyConv(chat), "th", t.MessageThreadID)
	pipe.Expire(ctx, d.keyConv(chat), mapTTL)
	pipe.Set(ctx, d.keyThread(t.MessageThreadID), chat, mapTTL)
	if dead != 0 {
		pipe.Del(ctx, d.keyThread(dead))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("save topic: %w", err)
	}
	return t.MessageThreadID, nil
}

var unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

func (d *Desk) unlock(chat int64, token string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := unlockScript.Run(ctx, d.rdb, []string{d.keyLock(chat)}, token).Err(); err != nil {
		d.log.Warn("topic lock not released (it expires)", "chat_id", chat, "err", err)
	}
}

func randomToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// title is the topic's name: the business, the last 4 digits of the
// merchant number, and where the hand-off stands.
func (d *Desk) title(c conv, chat int64, state dialogs.MsgID) string {
	name := c.Name
	if name == "" {
		name = d.text(d.lang, dialogs.MsgHOUnbound, nil)
	}
	last4 := "----"
	if n := len(c.No); n >= 4 {
		last4 = c.No[n-4:]
	}
	s := d.text(d.lang, state, nil)
	if state == dialogs.MsgHOStateClosed && c.Rating != "" {
		s += " ⭐" + c.Rating
	}
	tail := " · " + last4 + " · " + s
	return clip(name, 128-len([]rune(tail))) + tail
}

// retitle queues the topic's new name; an unchanged name is refused by
// Telegram and dropped.
func (d *Desk) retitle(chat int64, c conv, state dialogs.MsgID) outbox.Call {
	return call("editForumTopic", topicParams{ChatID: d.group, MessageThreadID: c.Thread, Name: d.title(c, chat, state)},
		outbox.Group, tag(tagGroup, chat), true)
}
