package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// pending is a merchant message waiting for its batch to be relayed. Only
// the masked text is kept, never what the merchant typed.
type pending struct {
	ID        int    `json:"i"`
	Media     string `json:"m,omitempty"` // "" for text, else the kind ("photo", ...)
	Text      string `json:"x,omitempty"` // text or caption, masked
	Sensitive bool   `json:"s,omitempty"` // something was masked: send our text, not a copy
	Card      bool   `json:"c,omitempty"` // a card number in a caption: the dialog deletes the message
	Edited    bool   `json:"e,omitempty"` // an edit of a message not (yet) mapped
	ByValue   bool   `json:"v,omitempty"` // not copied: what it says (Text, masked) is posted instead
}

// Batching limits: texts up to shortText runes are combined into one group
// message of at most batchText runes.
const (
	shortText = 500
	batchText = 3500
	maxCopy   = 100 // copyMessages takes at most 100 ids
)

// Relay passes a merchant's message (or an edit of one) to their topic,
// while the chat is handed off (the dialog's Relay effect). New messages
// wait a short window so that a burst becomes one group message and an album
// is relayed in order; edits of relayed messages are followed at once. Card,
// ID numbers, codes and phones are masked, and text is always sent as the
// masked text read here, never copied (see batch).
func (d *Desk) Relay(ctx context.Context, chat int64, msg *models.Message, edited bool) error {
	if msg == nil {
		return nil
	}
	c, err := d.loadConv(ctx, chat)
	if err != nil {
		return err
	}
	p := pendingOf(msg)
	p.Edited = edited
	if edited && c.Thread != 0 {
		p = d.maskEdit(ctx, chat, c, p)
		done, err := d.followEdit(ctx, chat, c, p)
		if err != nil || done {
			if done {
				d.remember(ctx, chat, "👤 ✏️ "+describe(p))
			}
			return err
		}
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode relay: %w", err)
	}
	// An update applied again (a redelivery, a retry) relays once.
	seen := strconv.Itoa(msg.ID)
	if edited {
		seen += "e" + strconv.Itoa(msg.EditDate)
	}
	due := strconv.FormatInt(d.now().Add(d.window).UnixMilli(), 10)
	added, err := queueScript.Run(ctx, d.rdb, []string{d.keyPending(chat), d.keyDue(), d.keySeen(chat)},
		raw, due, itoa(chat), seen, int((24 * time.Hour).Seconds())).Int()
	if err != nil {
		return fmt.Errorf("queue relay: %w", err)
	}
	if added == 1 {
		d.remember(ctx, chat, "👤 "+describe(p))
	}
	return nil
}

var queueScript = redis.NewScript(`
if redis.call("SADD", KEYS[3], ARGV[4]) == 0 then return 0 end
redis.call("EXPIRE", KEYS[3], ARGV[5])
redis.call("RPUSH", KEYS[1], ARGV[1])
redis.call("EXPIRE", KEYS[1], ARGV[5])
redis.call("ZADD", KEYS[2], "NX", ARGV[2], ARGV[3])
return 1`)

func pendingOf(msg *models.Message) pending {
	p := pending{ID: msg.ID, Text: msg.Text}
	switch {
	case msg.Text != "":
	case len(msg.Photo) > 0:
		p.Media = "photo"
	case msg.Document != nil:
		p.Media = "document"
	case msg.Voice != nil:
		p.Media = "voice"
	case msg.Video != nil:
		p.Media = "video"
	case msg.Sticker != nil:
		p.Media = "sticker"
	case msg.Audio != nil:
		p.Media = "audio"
	case msg.VideoNote != nil:
		p.Media = "video_note"
	case msg.Animation != nil:
		p.Media = "animation"
	case msg.Location != nil && msg.Venue == nil:
		p.Media = "location"
	default:
		// A poll, a checklist, a contact, a venue or a kind the bot does
		// not know may say anything, where no caption can replace it: it is
		// posted by value, what it says masked.
		p.Media, p.ByValue = "message", true
	}
	if p.Media != "" {
		p.Text = msg.Caption
	}
	p.Card = dialogs.LooksLikeCard(p.Text) // a text or caption the dialog deletes
	if p.ByValue {
		p.Media, p.Text = byValue(msg)
	}
	if msg.Document != nil && len(parse.Sensitive(msg.Document.FileName)) > 0 {
		// The file name travels with a copy: one holding a number is not copied.
		p.ByValue = true
		p.Text = strings.TrimSpace(msg.Document.FileName + "\n" + p.Text)
	}
	p.Text, p.Sensitive = maskSensitive(p.Text)
	return p
}

// byValue names a message that is not copied and writes what it says.
func byValue(msg *models.Message) (kind, text string) {
	var lines []string
	add := func(s ...string) {
		if t := strings.TrimSpace(strings.Join(s, " ")); t != "" {
			lines = append(lines, t)
		}
	}
	switch {
	case msg.Poll != nil:
		kind = "poll"
		add(msg.Poll.Question)
		for _, o := range msg.Poll.Options {
			add("•", o.Text)
		}
	case msg.Checklist != nil:
		kind = "checklist"
		add(msg.Checklist.Title)
		for _, t := range msg.Checklist.Tasks {
			add("•", t.Text)
		}
	case msg.Contact != nil:
		kind = "contact"
		add(msg.Contact.FirstName, msg.Contact.LastName)
		add(msg.Contact.PhoneNumber)
	case msg.Venue != nil:
		kind = "venue"
		add(msg.Venue.Title)
		add(msg.Venue.Address)
	default:
		kind = "message"
	}
	add(msg.Caption)
	return kind, strings.Join(lines, "\n")
}

func describe(p pending) string {
	if p.Media == "" {
		return p.Text
	}
	if p.Text == "" {
		return "[" + p.Media + "]"
	}
	return "[" + p.Media + "] " + p.Text
}

// followEdit edits the group's copy of a merchant message; done is false
// when there is no copy yet (the edit is then relayed as a new message).
func (d *Desk) followEdit(ctx context.Context, chat int64, c conv, p pending) (bool, error) {
	v, err := d.rdb.HGet(ctx, d.keyM2G(chat), strconv.Itoa(p.ID)).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read message map: %w", err)
	}
	gid, first, batched := strings.Cut(v, "/")
	groupID, _ := strconv.Atoi(gid)
	var cl outbox.Call
	switch {
	case batched:
		text, err := d.editParts(ctx, chat, first, p)
		if err != nil {
			return false, err
		}
		cl = call("editMessageText", editText{ChatID: d.group, MessageID: groupID, Text: text}, outbox.Group, tag(tagGroup, chat), true)
	case p.Media == "":
		text := p.Text
		if p.Sensitive {
			text = d.text(d.lang, dialogs.MsgHOMasked, nil) + "\n" + text
		}
		cl = call("editMessageText", editText{ChatID: d.group, MessageID: groupID, Text: clip(text, 4000)}, outbox.Group, tag(tagGroup, chat), true)
	case p.Card || p.ByValue:
		// Not copied: the group was told what it was in a text of ours
		// (batch), which is edited.
		cl = call("editMessageText", editText{ChatID: d.group, MessageID: groupID, Text: d.standIn(p)}, outbox.Group, tag(tagGroup, chat), true)
	default:
		cl = call("editMessageCaption", editCaption{ChatID: d.group, MessageID: groupID, Caption: clip(p.Text, 1000)}, outbox.Group, tag(tagGroup, chat), true)
	}
	if _, err := d.out.Enqueue(ctx, d.group, "", cl); err != nil {
		return false, fmt.Errorf("enqueue edit: %w", err)
	}
	return true, nil
}

type part struct {
	ID   int    `json:"i"`
	Text string `json:"x"` // masked
}

// editParts replaces one message of a combined relay and returns the new
// combined text.
func (d *Desk) editParts(ctx context.Context, chat int64, first string, p pending) (string, error) {
	n, _ := strconv.Atoi(first)
	raw, err := d.rdb.Get(ctx, d.keyParts(chat, n)).Bytes()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("read batch: %w", err)
	}
	var parts []part
	_ = json.Unmarshal(raw, &parts) // gone or damaged: the edit alone
	found := false
	for i := range parts {
		if parts[i].ID == p.ID {
			parts[i].Text, found = p.Text, true
		}
	}
	if !found {
		parts = append(parts, part{ID: p.ID, Text: p.Text})
	}
	if raw, err := json.Marshal(parts); err == nil {
		d.rdb.Set(ctx, d.keyParts(chat, n), raw, mapTTL)
	}
	return d.joinParts(parts, p.Sensitive), nil
}

func (d *Desk) joinParts(parts []part, sensitive bool) string {
	texts := make([]string, 0, len(parts)+1)
	if sensitive {
		texts = append(texts, d.text(d.lang, dialogs.MsgHOMasked, nil))
	}
	for _, p := range parts {
		texts = append(texts, p.Text)
	}
	return clip(strings.Join(texts, "\n"), 4000)
}

func zmember(score int64, chat int64) redis.Z {
	return redis.Z{Score: float64(score), Member: itoa(chat)}
}

// Run relays batches whose window has passed and announces hand-offs
// nobody claimed, until ctx ends. Every replica runs it: a due entry is
// taken by exactly one (ZREM decides).
func (d *Desk) Run(ctx context.Context) error {
	t := time.NewTicker(d.tick)
	defer t.Stop()
	for {
		d.due(ctx, d.keyDue(), d.flush)
		d.due(ctx, d.keyAnnounce(), d.reannounce)
		d.due(ctx, d.keyRemake(), d.remake)
		d.tellLate(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// due runs fn for every chat due in zset, each on one replica only.
func (d *Desk) due(ctx context.Context, zset string, fn func(context.Context, int64) error) {
	now := strconv.FormatInt(d.now().UnixMilli(), 10)
	members, err := d.rdb.ZRangeByScore(ctx, zset, &redis.ZRangeBy{Min: "-inf", Max: now, Count: 100}).Result()
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("support schedule not read", "err", err)
		}
		return
	}
	for _, m := range members {
		won, err := d.rdb.ZRem(ctx, zset, m).Result()
		if err != nil || won == 0 {
			continue
		}
		chat, _ := strconv.ParseInt(m, 10, 64)
		if err := fn(ctx, chat); err != nil {
			d.log.Warn("support task failed; retried", "chat_id", chat, "err", err)
			d.rdb.ZAdd(ctx, zset, zmember(d.now().Add(time.Second).UnixMilli(), chat))
		}
	}
}

var popScript = redis.NewScript(`local v = redis.call("LRANGE", KEYS[1], 0, -1) redis.call("DEL", KEYS[1]) return v`)

// Flush relays the merchant's waiting messages now (Run does it when their
// window has passed).
func (d *Desk) Flush(ctx context.Context, chat int64) error { return d.flush(ctx, chat) }

func (d *Desk) flush(ctx context.Context, chat int64) error {
	c, err := d.loadConv(ctx, chat)
	if err != nil {
		return err
	}
	if err := d.flushAlbum(ctx, chat); err != nil {
		return err
	}
	if c.Thread == 0 {
		// The topic is not made yet (Telegram is slow or down, or refused
		// it): the messages stay, masked, in order, and go when it is made
		// (topicMade schedules this again); a look now and then in case.
		return d.rdb.ZAdd(ctx, d.keyDue(), zmember(d.now().Add(10*d.window).UnixMilli(), chat)).Err()
	}
	// Taken and removed in one step: a batch goes out once.
	vals, err := popScript.Run(ctx, d.rdb, []string{d.keyPending(chat)}).StringSlice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("take relays: %w", err)
	}
	if len(vals) == 0 {
		return nil
	}
	var list []pending
	for _, v := range vals {
		var p pending
		if json.Unmarshal([]byte(v), &p) == nil {
			list = append(list, p)
		}
	}
	// On a failure they are put back for the retry rather than lost; the
	// tail is saved only once the batch is on its way, so the retry reads
	// the tail as it was (each piece once) and re-masks its pieces again.
	putBack := func() {
		back := make([]any, len(vals))
		for i, v := range vals {
			back[i] = v
		}
		d.rdb.LPush(ctx, d.keyPending(chat), reverse(back)...)
	}
	list, tail, err := d.maskAcross(ctx, chat, c, list)
	if err != nil {
		putBack()
		return err
	}
	calls, parts := d.batch(chat, c.Thread, list)
	pipe := d.rdb.TxPipeline()
	for first, ps := range parts {
		raw, _ := json.Marshal(ps)
		pipe.Set(ctx, d.keyParts(chat, first), raw, mapTTL)
	}
	if _, err := pipe.Exec(ctx); err != nil && len(parts) > 0 {
		putBack()
		return fmt.Errorf("save batch: %w", err)
	}
	if _, err := d.out.Enqueue(ctx, d.group, "", calls...); err != nil {
		putBack()
		return fmt.Errorf("enqueue relay: %w", err)
	}
	d.saveTail(ctx, chat, tail)
	d.waiting(ctx, chat, len(calls))
	return nil
}

// tailSize is how many of the merchant's last relayed messages are read
// with the next batch (parse.MaskAcross reads up to three pieces together).
const tailSize = 2

// maskAcross masks the batch's texts read together, and with the last
// messages relayed before it: a card, ID number or code split over
// messages, lines or commas (each piece alone no sensitive number) is
// hidden in every piece. A piece already in the group is edited there; an
// edit that cannot be queued fails the batch (retried). It returns the
// batch masked and the new tail, for flush to save once the batch is queued.
func (d *Desk) maskAcross(ctx context.Context, chat int64, c conv, list []pending) (batch, newTail []pending, err error) {
	tail := d.tailOf(ctx, chat)
	all := append(tail, list...)
	for i, changed := range maskTogether(all) {
		if !changed || i >= len(tail) {
			continue
		}
		done, err := d.followEdit(ctx, chat, c, all[i])
		if err != nil {
			return nil, nil, fmt.Errorf("re-mask relay: %w", err)
		}
		if !done {
			// Its group message is not known (yet, or ever): it stays as sent.
			d.log.Warn("support relay not re-masked: its group message is not known", "chat_id", chat)
		}
	}
	return all[len(tail):], all[max(0, len(all)-tailSize):], nil
}

// tailOf is the merchant's last relayed messages, kept to read a number
// split over them (none when missing or damaged).
func (d *Desk) tailOf(ctx context.Context, chat int64) []pending {
	var tail []pending
	if raw, err := d.rdb.Get(ctx, d.keyTail(chat)).Bytes(); err == nil {
		_ = json.Unmarshal(raw, &tail) // damaged: none
	}
	return tail
}

// maskTogether masks the pieces' texts read together (parse.MaskAcross),
// in place, and reports which changed.
func maskTogether(ps []pending) []bool {
	texts := make([]string, len(ps))
	for i, p := range ps {
		texts[i] = p.Text
	}
	masked, _ := parse.MaskAcross(texts)
	changed := make([]bool, len(ps))
	for i := range ps {
		if masked[i] != ps[i].Text {
			ps[i].Text, ps[i].Sensitive, changed[i] = masked[i], true, true
		}
	}
	return changed
}

// maskEdit masks an edit of one of the merchant's last relayed messages
// read together with the others kept in the tail, as maskAcross does for a
// batch: an edit that completes a number split over messages hides it in
// every piece (those in the group are edited there). The tail keeps the
// edited text, so a later edit or batch reads it too. An edit of an older
// message is masked alone.
func (d *Desk) maskEdit(ctx context.Context, chat int64, c conv, p pending) pending {
	tail := d.tailOf(ctx, chat)
	at := slices.IndexFunc(tail, func(t pending) bool { return t.ID == p.ID })
	if at < 0 {
		return p
	}
	tail[at] = p
	for i, changed := range maskTogether(tail) {
		if !changed || i == at {
			continue
		}
		if _, err := d.followEdit(ctx, chat, c, tail[i]); err != nil {
			d.log.Warn("support relay not re-masked", "chat_id", chat, "err", err)
		}
	}
	d.saveTail(ctx, chat, tail)
	return tail[at]
}

// standIn is the text of ours that stands in the group for a message not
// copied: what it was (a card's media, a poll, a contact...) and what it
// says, masked.
func (d *Desk) standIn(p pending) string {
	head := dialogs.MsgHONotCopied
	if p.Card {
		head = dialogs.MsgHOMediaMasked
	}
	return clip(d.text(d.lang, head, dialogs.Arg{"Value": p.Media})+"\n"+p.Text, 4000)
}

// saveTail keeps the merchant's last relayed messages (masked) for the
// next batch or edit to read with.
func (d *Desk) saveTail(ctx context.Context, chat int64, tail []pending) {
	if raw, err := json.Marshal(tail); err == nil {
		d.rdb.Set(ctx, d.keyTail(chat), raw, 24*time.Hour)
	}
}

func reverse(v []any) []any {
	out := make([]any, len(v))
	for i := range v {
		out[len(v)-1-i] = v[i]
	}
	return out
}

// batch turns waiting messages into group calls. Everything goes by value,
// never by reference to the merchant's message as it is at send time (an
// edit made before the copy leaves would reach the group unmasked):
// consecutive short texts become one sendMessage of the masked text the bot
// read; each medium is copied alone with its caption replaced by the masked
// one (copyMessages cannot replace captions, so an album arrives as its
// photos one after another, each costing the group budget it really costs).
func (d *Desk) batch(chat int64, thread int, list []pending) ([]outbox.Call, map[int][]part) {
	var calls []outbox.Call
	parts := map[int][]part{}
	masked := d.text(d.lang, dialogs.MsgHOMasked, nil)
	for i := 0; i < len(list); {
		p := list[i]
		switch {
		case p.Media == "" && !p.Edited:
			j, size, sensitive := i, 0, false
			for j < len(list) && list[j].Media == "" && !list[j].Edited &&
				len([]rune(list[j].Text)) <= shortText && size+len([]rune(list[j].Text)) <= batchText {
				size += len([]rune(list[j].Text))
				sensitive = sensitive || list[j].Sensitive
				j++
			}
			if j == i { // one long text
				j, sensitive = i+1, p.Sensitive
			}
			run := list[i:j]
			ps := make([]part, len(run))
			ids := make([]string, len(run))
			for k, r := range run {
				ps[k], ids[k] = part{ID: r.ID, Text: r.Text}, strconv.Itoa(r.ID)
			}
			t := tag(tagM2G, chat, strings.Join(ids, ","))
			if len(run) > 1 {
				parts[p.ID] = ps
				t = tag(tagM2G, chat, strings.Join(ids, ","), strconv.Itoa(p.ID))
			}
			calls = append(calls, call("sendMessage", sendMessage{ChatID: d.group, MessageThreadID: thread,
				Text: d.joinParts(ps, sensitive)}, outbox.Group, t, false))
			i = j
		case p.Edited:
			text := d.text(d.lang, dialogs.MsgHOEdited, nil) + "\n" + describe(p)
			calls = append(calls, call("sendMessage", sendMessage{ChatID: d.group, MessageThreadID: thread, Text: clip(text, 4000)},
				outbox.Group, tag(tagM2G, chat, strconv.Itoa(p.ID)), false))
			i++
		case p.Card || p.ByValue:
			// Not copied (the dialog removes a card's message from the
			// merchant's chat; a poll or a contact says what no caption can
			// replace): the group is told what it was, masked.
			calls = append(calls, call("sendMessage", sendMessage{ChatID: d.group, MessageThreadID: thread, Text: d.standIn(p)},
				outbox.Group, tag(tagM2G, chat, strconv.Itoa(p.ID)), false))
			i++
		default:
			// The caption is always given: the masked one the bot read, or
			// an empty one, so a caption added by an edit before the copy
			// leaves never travels with it.
			caption := clip(p.Text, 1000)
			if p.Sensitive {
				caption = masked + " " + clip(p.Text, 900)
			}
			calls = append(calls, call("copyMessage", copyMessage{ChatID: d.group, MessageThreadID: thread,
				FromChatID: chat, MessageID: p.ID, Caption: &caption}, outbox.Group, tag(tagM2G, chat, strconv.Itoa(p.ID)), false))
			i++
		}
	}
	return calls, parts
}

// reannounce says again in the topic that nobody has claimed the hand-off,
// and schedules the next reminder.
func (d *Desk) reannounce(ctx context.Context, chat int64) error {
	c, err := d.loadConv(ctx, chat)
	if err != nil {
		return err
	}
	if !c.Open || c.Agent != 0 || c.Thread == 0 || d.announce <= 0 {
		return nil
	}
	mins := int(d.now().Sub(time.UnixMilli(c.Since)).Round(time.Minute) / time.Minute)
	if _, err := d.out.Enqueue(ctx, d.group, "", d.groupText(chat, c.Thread,
		d.text(d.lang, dialogs.MsgHOUnclaimed, dialogs.Arg{"N": mins}))); err != nil {
		return fmt.Errorf("enqueue announcement: %w", err)
	}
	return d.rdb.ZAdd(ctx, d.keyAnnounce(), zmember(d.now().Add(d.announce).UnixMilli(), chat)).Err()
}

// waitScript counts a chat's group calls on their way (ARGV[2] more, or
// fewer when negative) and keeps, in a ZSET, since when it has been owed
// any. Replies the count left.
var waitScript = redis.NewScript(`
local v = redis.call("HINCRBY", KEYS[1], ARGV[1], ARGV[2])
if v <= 0 then
	redis.call("HDEL", KEYS[1], ARGV[1])
	redis.call("ZREM", KEYS[2], ARGV[1])
	return 0
end
if tonumber(ARGV[2]) > 0 then
	redis.call("ZADD", KEYS[2], "NX", ARGV[3], ARGV[1])
else
	redis.call("ZADD", KEYS[2], "XX", ARGV[3], ARGV[1])
end
return v`)

// waiting counts n more (or, negative, fewer) of chat's hand-off calls on
// their way to the group: its topic, its card, its relays. A merchant who
// was told no agent has been reached is told when everything arrived.
func (d *Desk) waiting(ctx context.Context, chat int64, n int) {
	if n == 0 {
		return
	}
	left, err := waitScript.Run(ctx, d.rdb, []string{d.keyOwed(), d.keyWait()}, itoa(chat), n,
		d.now().UnixMilli()).Int()
	if err != nil {
		d.log.Warn("support delivery not counted", "chat_id", chat, "err", err)
		return
	}
	if left > 0 {
		return
	}
	told, err := d.rdb.HDel(ctx, d.keyConv(chat), "told").Result()
	if err != nil || told == 0 {
		return
	}
	c, err := d.loadConv(ctx, chat)
	if err != nil {
		return
	}
	d.tellMerchant(ctx, chat, c, dialogs.MsgSupportReached)
}

// tellLate tells every merchant whose hand-off has waited longer than
// d.late for the group (its topic, card or relays: the sender retried and
// is waiting for Telegram, or the bot was removed from the group) the
// truth, once: no agent has their messages yet; they are kept and passed
// on when the desk is reachable.
func (d *Desk) tellLate(ctx context.Context) {
	if d.late <= 0 {
		return
	}
	upTo := strconv.FormatInt(d.now().Add(-d.late).UnixMilli(), 10)
	chats, err := d.rdb.ZRangeByScore(ctx, d.keyWait(), &redis.ZRangeBy{Min: "-inf", Max: upTo, Count: 100}).Result()
	if err != nil {
		return
	}
	for _, m := range chats {
		chat, _ := strconv.ParseInt(m, 10, 64)
		c, err := d.loadConv(ctx, chat)
		if err != nil || !c.Open || c.Told {
			continue
		}
		// One replica tells: the first to set the mark.
		if set, err := d.rdb.HSetNX(ctx, d.keyConv(chat), "told", "1").Result(); err != nil || !set {
			continue
		}
		d.log.Warn("support desk late: merchant told no agent has their messages yet", "chat_id", chat)
		d.tellMerchant(ctx, chat, c, dialogs.MsgSupportNotReached)
	}
}

// tellMerchant says key to the merchant, in their language.
func (d *Desk) tellMerchant(ctx context.Context, chat int64, c conv, key dialogs.MsgID) {
	_, err := d.out.Enqueue(ctx, chat, "", call("sendMessage", sendMessage{ChatID: chat, Text: d.text(c.Lang, key, nil)},
		outbox.Reply, tag(tagMerch, chat), false))
	if err != nil {
		d.log.Warn("support notice to the merchant not queued", "chat_id", chat, "err", err)
	}
}
