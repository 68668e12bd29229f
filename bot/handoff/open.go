package handoff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/parse"
	"github.com/merchantbot/merchantbot/locales"
)

// Open hands merchant chat to support (the dialog's HandOff effect): the
// merchant's topic is made ready (created, reopened or recreated) and the
// context card is queued first in it, with Claim and Hand back buttons.
func (d *Desk) Open(ctx context.Context, chat int64, info dialogs.HandOffInfo) error {
	before, err := d.loadConv(ctx, chat)
	if err != nil {
		return err
	}
	c := before
	if info.MerchantNo != "" {
		c.No = info.MerchantNo
	}
	if info.MerchantName != "" {
		c.Name = info.MerchantName
	}
	var apps []backend.Receipt
	if d.backend != nil && c.No != "" {
		// The title names the shop; the dialog knows only the registered
		// person. Without the backend the card says less, and that is all.
		if m, err := d.backend.Merchant(ctx, c.No); err == nil && m.Business != "" {
			c.Name = m.Business
		} else if err != nil {
			d.log.Warn("merchant for the context card", "chat_id", chat, "err", err)
		}
		if apps, err = d.backend.Applications(ctx, c.No); err != nil {
			d.log.Warn("applications for the context card", "chat_id", chat, "err", err)
			apps = nil
		}
	}
	if info.Lang != "" {
		c.Lang = info.Lang
	}
	if info.Step != "" {
		c.Step = info.Step
	}
	fields := map[string]any{"no": c.No, "nm": c.Name, "l": c.Lang, "st": c.Step}
	state := dialogs.MsgHOStateOpen
	if !before.Open {
		// A new hand-off: nobody owns it yet. One an agent opened is
		// already open and stays theirs.
		c.Since = d.now().UnixMilli()
		if c.Since <= before.Since {
			// Since names the hand-off (its card's once key): a new one
			// within the same millisecond as the last still gets its card.
			c.Since = before.Since + 1
		}
		fields["open"], fields["since"], fields["ag"], fields["an"], fields["rate"] = "1", c.Since, "", "", ""
		c.Agent, c.AgentName, c.Rating = 0, "", ""
	} else if c.Agent != 0 {
		state = dialogs.MsgHOStateClaim
	}
	recent, err := d.rdb.LRange(ctx, d.keyRecent(chat), 0, -1).Result()
	if err != nil {
		return fmt.Errorf("read recent messages: %w", err)
	}
	c.Open = true
	c.Card = d.card(c, info, apps, recent)
	fields["cd"] = c.Card // masked: a topic made later posts it
	pipe := d.rdb.TxPipeline()
	pipe.HSet(ctx, d.keyConv(chat), fields)
	if !before.Open {
		pipe.HDel(ctx, d.keyConv(chat), "told")
	}
	pipe.Expire(ctx, d.keyConv(chat), mapTTL)
	if c.Agent == 0 && d.announce > 0 {
		pipe.ZAdd(ctx, d.keyAnnounce(), zmember(d.now().Add(d.announce).UnixMilli(), chat))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("save hand-off: %w", err)
	}
	if c.Thread == 0 {
		// No topic yet: its creation is queued like any group call, and the
		// card goes with the answer (topicMade).
		if err := d.makeTopic(ctx, chat, c, 0, "", false); err != nil {
			return err
		}
		d.log.Info("hand-off opened; topic requested", "chat_id", chat, "step", c.Step)
		return nil
	}
	// The topic may be closed (reopened here) or deleted (the refusal
	// makes a new one: HandleFailed). One card per hand-off: Open applied
	// twice (a turn tried again, an agent's /open then the dialog's
	// hand-off) posts it once.
	calls := []outbox.Call{
		call("reopenForumTopic", topicParams{ChatID: d.group, MessageThreadID: c.Thread}, outbox.Group, tag(tagGroup, chat), true),
		d.retitle(chat, c, state),
		d.cardCall(chat, c, c.Thread, c.Card),
	}
	added, err := d.out.Enqueue(ctx, d.group, "ho:card:"+itoa(chat)+":"+strconv.FormatInt(c.Since, 10), calls...)
	if err != nil {
		return fmt.Errorf("enqueue context card: %w", err)
	}
	if added {
		d.waiting(ctx, chat, 1)
	}
	d.log.Info("hand-off opened", "chat_id", chat, "thread", c.Thread, "step", c.Step, "card", added)
	return nil
}

// cardCall posts the context card text in thread, with Claim and Hand back.
func (d *Desk) cardCall(chat int64, c conv, thread int, text string) outbox.Call {
	return call("sendMessage", sendMessage{ChatID: d.group, MessageThreadID: thread, Text: text,
		ReplyMarkup: d.cardButtons(chat, c.Since)}, outbox.Group, tag(tagCard, chat), false)
}

// cardButtons are the card's Claim and Hand back, signed for the group and
// bound to this hand-off (since): a card of an earlier one is stale.
func (d *Desk) cardButtons(chat int64, since int64) *inlineKeyboard {
	row := []callbackButton{}
	for _, b := range []struct {
		label dialogs.MsgID
		act   string
	}{{dialogs.MsgHOBtnClaim, "claim"}, {dialogs.MsgHOBtnHandBack, "back"}} {
		data := "ho:" + b.act + ":" + itoa(chat) + ":" + strconv.FormatInt(since, 36)
		if d.buttons != nil {
			signed, err := d.buttons.Sign(d.group, data)
			if err != nil {
				continue // longer than Telegram takes: cannot happen with these ids
			}
			data = signed
		}
		row = append(row, callbackButton{Text: d.text(d.lang, b.label, nil), CallbackData: data})
	}
	return &inlineKeyboard{InlineKeyboard: [][]callbackButton{row}}
}

// card is the context card: who, where they were, their answers (masked
// by the dialog, and masked again here), their applications and the last
// messages (masked when kept, and again here). It holds nothing that may
// not be in the group. What the desk writes itself (the merchant number,
// application ids and dates) is not masked: what the merchant wrote is.
func (d *Desk) card(c conv, info dialogs.HandOffInfo, apps []backend.Receipt, recent []string) string {
	lang := d.lang
	name, no := c.Name, c.No
	if info.MerchantName != "" && info.MerchantName != name {
		name += " (" + info.MerchantName + ")"
	}
	name, _ = maskSensitive(name) // from the backend or the dialog; masked all the same, like all the group sees
	if name == "" {
		name = d.text(lang, dialogs.MsgHOUnbound, nil)
	}
	if no == "" {
		no = d.text(lang, dialogs.MsgHOUnbound, nil)
	}
	langName := "中文"
	if c.Lang == locales.English {
		langName = "English"
	}
	lines := []string{d.text(lang, dialogs.MsgHOCard, dialogs.Arg{"Name": name, "MerchantNo": no, "Value": langName,
		"Step": dialogs.Text{Key: dialogs.MsgID("step_" + stepOrMenu(c.Step))}})}
	if info.Stuck {
		lines = append(lines, d.text(lang, dialogs.MsgHOCardStuck, nil))
	}
	if len(info.Answers) > 0 {
		lines = append(lines, "", d.text(lang, dialogs.MsgHOCardAnswers, nil))
		for _, a := range info.Answers {
			v, _ := maskSensitive(a.Value)
			lines = append(lines, d.text(lang, dialogs.MsgHOCardAnswer, dialogs.Arg{
				"Step": dialogs.Text{Key: dialogs.MsgID("step_" + stepOrMenu(a.Step))}, "Value": clip(v, 100)}))
		}
	}
	if d.backend != nil && c.No != "" {
		lines = append(lines, "", d.text(lang, dialogs.MsgHOCardApps, nil))
		if len(apps) == 0 {
			lines = append(lines, d.text(lang, dialogs.MsgHOCardNone, nil))
		}
		for i, a := range apps {
			if i == 5 {
				break
			}
			lines = append(lines, d.text(lang, dialogs.MsgHOCardApp, dialogs.Arg{"ID": a.ID,
				"Status": dialogs.Text{Key: dialogs.MsgID("status_" + string(a.Status))},
				"Card":   parse.MaskPAN(a.CardMasked), "When": a.SubmittedAt.Format("2006-01-02")}))
		}
	}
	if len(recent) > 0 {
		lines = append(lines, "", d.text(lang, dialogs.MsgHOCardRecent, nil))
		// Kept newest first, masked (lines kept before the list was
		// masked as a whole are masked again here).
		oldest := slices.Clone(recent)
		slices.Reverse(oldest)
		lines = append(lines, maskLines(oldest)...)
	}
	lines = append(lines, "", d.text(lang, dialogs.MsgHOCardHelp, nil))
	return clip(strings.Join(lines, "\n"), 4000)
}

func stepOrMenu(s string) string {
	if s == "" || !slices.Contains(dialogs.Steps(), s) {
		return dialogs.StepMenu
	}
	return s
}

func (d *Desk) groupText(chat int64, thread int, text string) outbox.Call {
	return call("sendMessage", sendMessage{ChatID: d.group, MessageThreadID: thread, Text: clip(text, 4000)},
		outbox.Group, tag(tagGroup, chat), false)
}

// remember keeps the last few lines of the conversation, masked, for the
// next context card: the new line is masked together with the two kept
// before it, which are masked again in Redis when it completes a number
// split over them (parse.MaskAcross), so no list of kept lines holds one.
func (d *Desk) remember(ctx context.Context, chat int64, line string) {
	line = clip(strings.ReplaceAll(line, "\n", " "), 200)
	key := d.keyRecent(chat)
	var err error
	for range 3 { // the agent's lines and the merchant's may come at once
		err = d.rdb.Watch(ctx, func(tx *redis.Tx) error {
			prev, err := tx.LRange(ctx, key, 0, 1).Result() // newest first
			if err != nil {
				return err
			}
			lines := append(slices.Clone(prev), line)
			slices.Reverse(lines[:len(prev)]) // oldest first, the new line last
			masked := maskLines(lines)
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for i, m := range masked[:len(prev)] {
					if m != lines[i] {
						p.LSet(ctx, key, int64(len(prev)-1-i), m)
					}
				}
				p.LPush(ctx, key, masked[len(prev)])
				p.LTrim(ctx, key, 0, 4)
				p.Expire(ctx, key, mapTTL)
				return nil
			})
			return err
		}, key)
		if !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	if err != nil {
		d.log.Warn("recent messages not kept", "chat_id", chat, "err", err)
	}
}

// maskLines masks kept lines (oldest first) read together, as a number
// split over them would be read, without the 👤/🎧 in front of each.
func maskLines(lines []string) []string {
	heads, bodies := make([]string, len(lines)), make([]string, len(lines))
	for i, line := range lines {
		heads[i], bodies[i] = "", line
		for _, h := range []string{"👤 ", "🎧 "} {
			if rest, ok := strings.CutPrefix(line, h); ok {
				heads[i], bodies[i] = h, rest
			}
		}
	}
	bodies, _ = parse.MaskAcross(bodies)
	for i := range bodies {
		bodies[i] = heads[i] + bodies[i]
	}
	return bodies
}

// handBack ends the hand-off from the group (/close or the button): the
// dialog is told through the chat's queue, so the merchant resumes at their
// step in order with whatever they sent meanwhile; the topic is closed and
// its title marked.
func (d *Desk) handBack(ctx context.Context, chat int64, c conv, agentName string) error {
	if !c.Open {
		return nil
	}
	if _, err := d.post.Post(ctx, chat, "ho:back:"+itoa(chat)+":"+strconv.FormatInt(c.Since, 10), dialogs.EventHandBack, agentName); err != nil {
		return fmt.Errorf("post hand-back: %w", err)
	}
	return d.closeConv(ctx, chat, c, d.text(d.lang, dialogs.MsgHOHandedBack, dialogs.Arg{"Name": agentName,
		"Step": dialogs.Text{Key: dialogs.MsgID("step_" + stepOrMenu(c.Step))}}))
}

// closeConv says why in the topic, marks the title, closes the topic and
// then marks the conversation closed. In that order: a caller whose turn
// failed half-way is tried again (Left, handBack) and does nothing for a
// conversation marked closed, so the agent may be told twice but not
// never.
func (d *Desk) closeConv(ctx context.Context, chat int64, c conv, why string) error {
	_, err := d.out.Enqueue(ctx, d.group, "",
		d.groupText(chat, c.Thread, why),
		d.retitle(chat, c, dialogs.MsgHOStateClosed),
		call("closeForumTopic", topicParams{ChatID: d.group, MessageThreadID: c.Thread}, outbox.Group, tag(tagGroup, chat), true))
	if err != nil {
		return fmt.Errorf("enqueue close: %w", err)
	}
	// Only this hand-off (its Since): one the merchant opened since is not
	// closed by the mark.
	err = closeScript.Run(ctx, d.rdb, []string{d.keyConv(chat), d.keyAnnounce()},
		strconv.FormatInt(c.Since, 10), itoa(chat)).Err()
	if err != nil {
		return fmt.Errorf("close hand-off: %w", err)
	}
	d.log.Info("hand-off closed", "chat_id", chat, "thread", c.Thread)
	return nil
}

var closeScript = redis.NewScript(`
if (redis.call("HGET", KEYS[1], "since") or "0") ~= ARGV[1] then return 0 end
redis.call("HSET", KEYS[1], "open", "", "ag", "", "an", "")
redis.call("ZREM", KEYS[2], ARGV[2])
return 1`)

// Left is the dialog's HandOffEnd effect: the merchant went back to the bot
// on their own. The agent is told and the topic closed.
func (d *Desk) Left(ctx context.Context, chat int64) error {
	c, err := d.loadConv(ctx, chat)
	if err != nil || !c.Open || c.Thread == 0 {
		return err
	}
	return d.closeConv(ctx, chat, c, d.text(d.lang, dialogs.MsgHOLeft, nil))
}

// Rated is the dialog's Rated effect: the rating goes into the topic's
// title (the topic is closed by then, and a title can still change).
func (d *Desk) Rated(ctx context.Context, chat int64, rating int) error {
	if rating < 1 || rating > 5 {
		return nil
	}
	c, err := d.loadConv(ctx, chat)
	if err != nil || c.Thread == 0 {
		return err
	}
	c.Rating = strconv.Itoa(rating)
	if err := d.rdb.HSet(ctx, d.keyConv(chat), "rate", c.Rating).Err(); err != nil {
		return fmt.Errorf("save rating: %w", err)
	}
	state := dialogs.MsgHOStateClosed
	if c.Open {
		state = dialogs.MsgHOStateOpen
	}
	if _, err := d.out.Enqueue(ctx, d.group, "", d.retitle(chat, c, state)); err != nil {
		return fmt.Errorf("enqueue rating: %w", err)
	}
	d.log.Info("hand-off rated", "chat_id", chat, "rating", rating)
	return nil
}

// MerchantBlocked reports in the topic that the merchant blocked the bot
// (a 403 on a call to them, or my_chat_member).
func (d *Desk) MerchantBlocked(ctx context.Context, chat int64) error {
	c, err := d.loadConv(ctx, chat)
	if err != nil || c.Thread == 0 {
		return err
	}
	if _, err := d.out.Enqueue(ctx, d.group, "", d.groupText(chat, c.Thread, d.text(d.lang, dialogs.MsgHOBlocked, nil))); err != nil {
		return fmt.Errorf("enqueue blocked notice: %w", err)
	}
	return nil
}
