package handoff

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

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

// createForumTopic's parameters.
type createTopic struct {
	ChatID int64  `json:"chat_id"`
	Name   string `json:"name"`
}

// makeTopic queues the creation of the merchant's topic in the group's
// outbox, so it goes through the sender's budgets, retries and retry_after
// like every other group call, and survives a crash or an outage. dead is
// the deleted thread it replaces (0: the merchant's first topic). The once
// key lets one creation per dead thread in: two replicas opening the same
// hand-off queue one. When the answer comes, HandleResult keeps the thread,
// posts the context card and the messages that waited for it (topicMade).
// retry is an earlier creation Telegram refused, asked again: it was
// counted as on its way already.
func (d *Desk) makeTopic(ctx context.Context, chat int64, c conv, dead int, once string, retry bool) error {
	if once == "" {
		once = "ho:mk:" + itoa(chat) + ":" + strconv.Itoa(dead)
	}
	cl := call("createForumTopic", createTopic{ChatID: d.group, Name: d.title(c, chat, stateOf(c))}, outbox.Group,
		tag(tagTopic, chat, strconv.Itoa(max(dead, 0))), false)
	added, err := d.out.Enqueue(ctx, d.group, once, cl)
	if err != nil {
		return fmt.Errorf("enqueue topic creation: %w", err)
	}
	if added && !retry {
		d.waiting(ctx, chat, 1)
	}
	return nil
}

// topicMade takes createForumTopic's answer: the thread becomes the
// merchant's, and the context card, the calls refused by the deleted topic
// and the relays that waited are sent there, in that order. A second topic
// (the creation was sent twice: a crash between sending and marking it)
// is deleted.
func (d *Desk) topicMade(ctx context.Context, chat int64, dead int, result json.RawMessage) error {
	var t struct {
		Thread int `json:"message_thread_id"`
	}
	if err := json.Unmarshal(result, &t); err != nil || t.Thread == 0 {
		return fmt.Errorf("createForumTopic answer without a thread")
	}
	c, err := d.loadConv(ctx, chat)
	if err != nil {
		return err
	}
	if c.Thread != 0 && c.Thread != t.Thread {
		_, err := d.out.Enqueue(ctx, d.group, "", call("deleteForumTopic",
			topicParams{ChatID: d.group, MessageThreadID: t.Thread}, outbox.Group, "", true))
		return err
	}
	pipe := d.rdb.TxPipeline()
	pipe.HSet(ctx, d.keyConv(chat), "th", t.Thread)
	pipe.Expire(ctx, d.keyConv(chat), mapTTL)
	pipe.Set(ctx, d.keyThread(t.Thread), chat, mapTTL)
	if dead != 0 {
		pipe.Del(ctx, d.keyThread(dead))
	}
	held := pipe.LRange(ctx, d.keyHeld(chat), 0, -1)
	pipe.Del(ctx, d.keyHeld(chat))
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("save topic: %w", err)
	}
	c.Thread = t.Thread
	d.log.Info("support topic made", "chat_id", chat, "thread", t.Thread, "replaces", dead)
	text := c.Card
	if dead != 0 {
		text = d.text(d.lang, dialogs.MsgHOTopicLost, nil) + "\n\n" + text
	}
	if text == "" {
		text = d.card(c, infoOf(c), nil, d.recent(ctx, chat))
	}
	calls := []outbox.Call{d.cardCall(chat, c, t.Thread, clip(text, 4000))}
	for _, raw := range held.Val() {
		var h outbox.Call
		if json.Unmarshal([]byte(raw), &h) == nil {
			if h, ok := withThread(h, t.Thread); ok {
				calls = append(calls, h)
			}
		}
	}
	// One card per hand-off (Open may have posted it if the topic was
	// there); a topic made again after a deletion gets its own.
	once := "ho:card:" + itoa(chat) + ":" + strconv.FormatInt(c.Since, 10)
	if dead != 0 {
		once += ":" + strconv.Itoa(t.Thread)
	}
	if _, err := d.out.Enqueue(ctx, d.group, once, calls...); err != nil {
		return fmt.Errorf("enqueue context card: %w", err)
	}
	d.waiting(ctx, chat, 1)
	// Relays that waited for the topic go now, after the card.
	return d.rdb.ZAdd(ctx, d.keyDue(), zmember(d.now().UnixMilli(), chat)).Err()
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
