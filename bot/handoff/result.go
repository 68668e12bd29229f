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
	if !ok || len(t.ids) == 0 {
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
func (d *Desk) HandleFailed(ctx context.Context, _ int64, c outbox.Call, failure error) (bool, error) {
	t, ok := parseTag(c.Tag)
	if !ok || failure == nil || t.chat == 0 {
		// chat 0: a notice in the General topic, nobody's topic to remake.
		return false, nil
	}
	msg := failure.Error()
	switch {
	case (t.kind == tagGroup || t.kind == tagM2G) && topicGone(failure):
		return true, d.topicLost(ctx, t.chat, c)
	case (t.kind == tagGroup || t.kind == tagM2G) && strings.Contains(msg, "TOPIC_CLOSED"):
		// An agent closed the topic in the app while the hand-off was open.
		return true, d.resendOpen(ctx, t.chat, c)
	case (t.kind == tagG2M || t.kind == tagMerch) && strings.Contains(msg, "Forbidden") && strings.Contains(msg, "blocked"):
		return true, d.MerchantBlocked(ctx, t.chat)
	}
	return false, nil
}

// topicLost recreates the merchant's topic (with a context card from what
// is kept) and sends the refused call there.
func (d *Desk) topicLost(ctx context.Context, chat int64, failed outbox.Call) error {
	c, err := d.loadConv(ctx, chat)
	if err != nil {
		return err
	}
	if c.Thread != 0 && failedThread(failed) != c.Thread {
		// Already recreated (another failed call got here first).
		return d.resend(ctx, chat, c.Thread, failed)
	}
	thread, err := d.createTopic(ctx, chat, c.Thread, d.title(c, chat, stateOf(c)))
	if err != nil {
		return err
	}
	c.Thread = thread
	card := sendMessage{ChatID: d.group, MessageThreadID: thread, ReplyMarkup: d.cardButtons(chat),
		Text: d.text(d.lang, dialogs.MsgHOTopicLost, nil) + "\n\n" + d.card(c, infoOf(c), nil, d.recent(ctx, chat))}
	if _, err := d.out.Enqueue(ctx, d.group, "", call("sendMessage", card, outbox.Group, tag(tagGroup, chat), false)); err != nil {
		return fmt.Errorf("enqueue context card: %w", err)
	}
	return d.resend(ctx, chat, thread, failed)
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

// resend queues c again with message_thread_id set to thread. Edits of
// messages that went with the old topic are dropped.
func (d *Desk) resend(ctx context.Context, chat int64, thread int, c outbox.Call) error {
	var p map[string]json.RawMessage
	if err := json.Unmarshal(c.Params, &p); err != nil {
		return fmt.Errorf("decode refused call: %w", err)
	}
	if _, ok := p["message_thread_id"]; !ok {
		return nil
	}
	p["message_thread_id"] = json.RawMessage(strconv.Itoa(thread))
	raw, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode call: %w", err)
	}
	c.Params = raw
	if _, err := d.out.Enqueue(ctx, d.group, "", c); err != nil {
		return fmt.Errorf("enqueue resend: %w", err)
	}
	return nil
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
