package handoff

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs"
)

type parsedTag struct {
	kind  string
	chat  int64
	ids   []int
	first int // a combined relay: the first merchant message of the batch
}

func parseTag(t string) (parsedTag, bool) {
	rest, ok := strings.CutPrefix(t, TagPrefix)
	if !ok {
		return parsedTag{}, false
	}
	f := strings.Split(rest, ":")
	if len(f) < 2 {
		return parsedTag{}, false
	}
	chat, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return parsedTag{}, false
	}
	p := parsedTag{kind: f[0], chat: chat}
	if len(f) > 2 {
		for _, s := range strings.Split(f[2], ",") {
			if id, err := strconv.Atoi(s); err == nil {
				p.ids = append(p.ids, id)
			}
		}
	}
	if len(f) > 3 {
		p.first, _ = strconv.Atoi(f[3])
	}
	return p, true
}

// HandleResult takes the answer to a sent call tagged TagPrefix (the lead's
// sender calls it at least once after a successful send): it keeps the map
// between merchant and group message ids that edits are followed by, and
// marks the merchant's message as received by support.
func (d *Desk) HandleResult(ctx context.Context, _ int64, c outbox.Call, result json.RawMessage) error {
	t, ok := parseTag(c.Tag)
	if !ok {
		return nil
	}
	switch t.kind {
	case tagTopic:
		dead := 0
		if len(t.ids) > 0 {
			dead = t.ids[0]
		}
		err := d.topicMade(ctx, t.chat, dead, result)
		d.waiting(ctx, t.chat, -1)
		return err
	case tagCard, tagM2G:
		d.waiting(ctx, t.chat, -1)
	}
	if len(t.ids) == 0 {
		return nil
	}
	got := decodeIDs(result)
	if len(got) == 0 {
		return nil
	}
	switch t.kind {
	case tagM2G:
		fields := map[string]any{}
		for i, id := range t.ids {
			switch {
			case t.first != 0:
				fields[strconv.Itoa(id)] = strconv.Itoa(got[0]) + "/" + strconv.Itoa(t.first)
			case i < len(got):
				fields[strconv.Itoa(id)] = strconv.Itoa(got[i])
			}
		}
		pipe := d.rdb.TxPipeline()
		pipe.HSet(ctx, d.keyM2G(t.chat), fields)
		pipe.Expire(ctx, d.keyM2G(t.chat), mapTTL)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("save message map: %w", err)
		}
		if d.reaction == "" {
			return nil
		}
		// One mark on the last message of the batch: it reached support.
		last := t.ids[len(t.ids)-1]
		_, err := d.out.Enqueue(ctx, t.chat, "ho:seen:"+itoa(t.chat)+":"+strconv.Itoa(last), call("setMessageReaction",
			reaction{ChatID: t.chat, MessageID: last, Reaction: []emojiReaction{{Type: "emoji", Emoji: d.reaction}}},
			outbox.Reply, tag(tagMerch, t.chat), true))
		if err != nil {
			return fmt.Errorf("enqueue reaction: %w", err)
		}
	case tagG2M:
		fields := map[string]any{}
		for i, id := range t.ids {
			if i < len(got) {
				fields[strconv.Itoa(id)] = strconv.Itoa(got[i])
			}
		}
		pipe := d.rdb.TxPipeline()
		pipe.HSet(ctx, d.keyG2M(t.chat), fields)
		pipe.Expire(ctx, d.keyG2M(t.chat), mapTTL)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("save message map: %w", err)
		}
	}
	return nil
}

// HandleFailed takes a call tagged TagPrefix that Telegram refused for good
// (the lead's sender calls it instead of retrying). A group call into a
// topic an agent deleted makes a new topic, with a new context card, and
// goes there; a call to a merchant who blocked the bot is reported in the
// topic. It reports whether it dealt with the failure.
func (d *Desk) HandleFailed(ctx context.Context, _ int64, c outbox.Call, failure error) (handled bool, err error) {
	t, ok := parseTag(c.Tag)
	if !ok || failure == nil || t.chat == 0 {
		// chat 0: a notice in the General topic, nobody's topic to remake.
		return false, nil
	}
	owed := t.kind == tagTopic || t.kind == tagCard || t.kind == tagM2G
	defer func() {
		if owed && !handled {
			d.waiting(ctx, t.chat, -1) // dropped: no longer on its way
		}
	}()
	msg := failure.Error()
	switch {
	case t.kind == tagTopic:
		return true, d.topicRefused(ctx, t.chat, t.ids, failure)
	case (t.kind == tagGroup || t.kind == tagM2G || t.kind == tagCard) && topicGone(failure):
		kept, err := d.topicLost(ctx, t.chat, c)
		if owed && !kept {
			d.waiting(ctx, t.chat, -1) // a card the new topic replaces
		}
		return true, err
	case (t.kind == tagGroup || t.kind == tagM2G || t.kind == tagCard) && strings.Contains(msg, "TOPIC_CLOSED"):
		// An agent closed the topic in the app while the hand-off was open.
		return true, d.resendOpen(ctx, t.chat, c)
	case (t.kind == tagG2M || t.kind == tagMerch) && strings.Contains(msg, "Forbidden") && strings.Contains(msg, "blocked"):
		return true, d.MerchantBlocked(ctx, t.chat)
	}
	return false, nil
}

// topicRefused: Telegram refused to make the merchant's topic for good (not
// a passing failure: those the sender retries). The operator is told in
// the log, the merchant keeps waiting with their messages kept (and is told
// so once the hand-off is late), and the creation is asked again later.
func (d *Desk) topicRefused(ctx context.Context, chat int64, ids []int, failure error) error {
	dead := 0
	if len(ids) > 0 {
		dead = ids[0]
	}
	d.log.Error("support topic refused by Telegram; asked again later", "chat_id", chat, "err", failure)
	if err := d.rdb.HSet(ctx, d.keyConv(chat), "mkdead", dead).Err(); err != nil {
		return fmt.Errorf("save topic retry: %w", err)
	}
	return d.rdb.ZAdd(ctx, d.keyRemake(), zmember(d.now().Add(d.remakeAfter).UnixMilli(), chat)).Err()
}

// remake asks again for a topic Telegram refused to make.
func (d *Desk) remake(ctx context.Context, chat int64) error {
	c, err := d.loadConv(ctx, chat)
	if err != nil || c.Thread != 0 {
		return err
	}
	dead, _ := d.rdb.HGet(ctx, d.keyConv(chat), "mkdead").Int()
	return d.makeTopic(ctx, chat, c, dead, "ho:mk:"+itoa(chat)+":"+strconv.Itoa(dead)+":"+strconv.FormatInt(d.now().UnixMilli(), 10), true)
}

// topicLost: a call was refused because the merchant's topic was deleted.
// A new topic is asked for (once per deleted thread); the refused call
// waits for it and is sent there, in order with the others that wait.
// Calls that only dress the old topic (its title, its card: a new topic
// gets its own) are dropped.
// kept reports whether the call will still be sent.
func (d *Desk) topicLost(ctx context.Context, chat int64, failed outbox.Call) (kept bool, err error) {
	c, err := d.loadConv(ctx, chat)
	if err != nil {
		return true, err // counted as still on its way: at worst the merchant hears the desk is late
	}
	dead := failedThread(failed)
	keep := failed.Method != "editForumTopic" && failed.Method != "reopenForumTopic" &&
		failed.Method != "closeForumTopic" && !strings.HasPrefix(failed.Tag, tag(tagCard, chat))
	if c.Thread != 0 && c.Thread != dead {
		// Already made again (another refused call got here first).
		if !keep {
			return false, nil
		}
		return true, d.resend(ctx, chat, c.Thread, failed)
	}
	if keep {
		raw, err := json.Marshal(failed)
		if err != nil {
			return false, fmt.Errorf("encode refused call: %w", err)
		}
		pipe := d.rdb.TxPipeline()
		pipe.RPush(ctx, d.keyHeld(chat), raw)
		pipe.Expire(ctx, d.keyHeld(chat), mapTTL)
		if _, err := pipe.Exec(ctx); err != nil {
			return false, fmt.Errorf("keep refused call: %w", err)
		}
	}
	if c.Thread == 0 {
		return keep, nil // a topic is on its way
	}
	d.log.Info("support topic was deleted; making a new one", "chat_id", chat, "thread", dead)
	if err := d.rdb.HSet(ctx, d.keyConv(chat), "th", 0).Err(); err != nil {
		return keep, fmt.Errorf("forget deleted topic: %w", err)
	}
	return keep, d.makeTopic(ctx, chat, c, dead, "", false)
}

// resendOpen reopens the topic and sends the refused call again.
func (d *Desk) resendOpen(ctx context.Context, chat int64, failed outbox.Call) error {
	c, err := d.loadConv(ctx, chat)
	if err != nil || c.Thread == 0 {
		return err
	}
	_, err = d.out.Enqueue(ctx, d.group, "", call("reopenForumTopic", topicParams{ChatID: d.group, MessageThreadID: c.Thread},
		outbox.Group, tag(tagGroup, chat), true))
	if err != nil {
		return fmt.Errorf("enqueue reopen: %w", err)
	}
	return d.resend(ctx, chat, c.Thread, failed)
}

func failedThread(c outbox.Call) int {
	var p struct {
		Thread int `json:"message_thread_id"`
	}
	_ = json.Unmarshal(c.Params, &p)
	return p.Thread
}

// resend queues c again into thread. Edits of messages that went with the
// old topic are dropped.
func (d *Desk) resend(ctx context.Context, chat int64, thread int, c outbox.Call) error {
	c, ok := withThread(c, thread)
	if !ok {
		return nil
	}
	if _, err := d.out.Enqueue(ctx, d.group, "", c); err != nil {
		return fmt.Errorf("enqueue resend: %w", err)
	}
	return nil
}

// withThread is c with message_thread_id set to thread; false for a call
// that names no thread (an edit of a message in the old topic).
func withThread(c outbox.Call, thread int) (outbox.Call, bool) {
	var p map[string]json.RawMessage
	if err := json.Unmarshal(c.Params, &p); err != nil {
		return c, false
	}
	if _, ok := p["message_thread_id"]; !ok {
		return c, false
	}
	p["message_thread_id"] = json.RawMessage(strconv.Itoa(thread))
	raw, err := json.Marshal(p)
	if err != nil {
		return c, false
	}
	c.Params = raw
	return c, true
}

// stateOf is the conversation's state as the topic's title shows it.
func stateOf(c conv) dialogs.MsgID {
	switch {
	case !c.Open:
		return dialogs.MsgHOStateClosed
	case c.Agent != 0:
		return dialogs.MsgHOStateClaim
	}
	return dialogs.MsgHOStateOpen
}

// infoOf is what is kept of a hand-off for a context card made again: the
// answers are not kept (they live in the dialog's sealed state).
func infoOf(c conv) dialogs.HandOffInfo {
	return dialogs.HandOffInfo{MerchantNo: c.No, MerchantName: c.Name, Lang: c.Lang, Step: c.Step}
}

func (d *Desk) recent(ctx context.Context, chat int64) []string {
	lines, err := d.rdb.LRange(ctx, d.keyRecent(chat), 0, -1).Result()
	if err != nil {
		d.log.Warn("recent messages not read", "chat_id", chat, "err", err)
	}
	return lines
}
