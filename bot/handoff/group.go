package handoff

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/bot/sender"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// EventAgentOpen is posted into a merchant's chat when an agent opens a
// conversation from the group (/open, or writing in a closed topic): the
// dialog hands the chat off as if the merchant had asked.
const EventAgentOpen = dialogs.EventAgentOpen

// agentCache is how long a membership answer is trusted.
const agentCache = 5 * time.Minute

// HandleGroup takes every update from the support group: agents' messages
// and edits in a merchant's topic, the card's buttons, and the commands
// /claim, /close, /t <template>, /open <merchant number>. Only agents act
// (isAgent); a member who is not one and taps a button or writes a command
// is told so and changes nothing; other updates are ignored. An error
// (Redis, or Telegram not answering who is an agent) means the update was
// not dealt with: the adapter tries it again.
func (d *Desk) HandleGroup(ctx context.Context, u *models.Update) error {
	switch {
	case u.Message != nil && u.Message.Chat.ID == d.group:
		return d.agentMessage(ctx, u.Message)
	case u.EditedMessage != nil && u.EditedMessage.Chat.ID == d.group:
		return d.agentEdit(ctx, u.EditedMessage)
	case u.CallbackQuery != nil:
		return d.button(ctx, u.CallbackQuery)
	}
	return nil
}

// isAgent reports whether user is an agent: an administrator (or the
// owner) of the support group, or listed in SUPPORT_AGENTS. Plain and
// restricted members are not. Telegram's answers are cached in Redis for a
// few minutes.
func (d *Desk) isAgent(ctx context.Context, user *models.User) (bool, error) {
	if user == nil || user.IsBot {
		return false, nil
	}
	if d.agents[user.ID] {
		return true, nil
	}
	switch v, err := d.rdb.Get(ctx, d.keyAgent(user.ID)).Result(); {
	case err == nil:
		return v == "1", nil
	case !errors.Is(err, redis.Nil):
		return false, fmt.Errorf("read agent: %w", err)
	}
	var m *models.ChatMember
	ask := func(ctx context.Context) (err error) {
		m, err = d.api.GetChatMember(ctx, &tg.GetChatMemberParams{ChatID: d.group, UserID: user.ID})
		return err
	}
	var err error
	if d.send != nil {
		err = d.send.Do(ctx, d.group, sender.Unlimited, ask)
	} else {
		err = ask(ctx)
	}
	if err != nil {
		return false, fmt.Errorf("get chat member: %w", err)
	}
	ok := m.Type == models.ChatMemberTypeOwner || m.Type == models.ChatMemberTypeAdministrator
	v := "0"
	if ok {
		v = "1"
	}
	d.rdb.Set(ctx, d.keyAgent(user.ID), v, agentCache)
	return ok, nil
}

// chatOfThread finds the merchant a topic belongs to (0: none).
func (d *Desk) chatOfThread(ctx context.Context, thread int) (int64, error) {
	if thread == 0 {
		return 0, nil
	}
	v, err := d.rdb.Get(ctx, d.keyThread(thread)).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read topic: %w", err)
	}
	return strconv.ParseInt(v, 10, 64)
}

func command(m *models.Message) (name, arg string, ok bool) {
	text := strings.TrimSpace(m.Text)
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	word, rest, _ := strings.Cut(text[1:], " ")
	word, _, _ = strings.Cut(word, "@")
	return strings.ToLower(word), strings.TrimSpace(rest), true
}

func (d *Desk) agentMessage(ctx context.Context, m *models.Message) error {
	if m.From == nil || m.From.IsBot || isService(m) {
		return nil
	}
	name, arg, isCommand := command(m)
	if ok, err := d.isAgent(ctx, m.From); err != nil {
		return err
	} else if !ok {
		if isCommand && deskCommand(name) {
			thread := 0
			if m.IsTopicMessage {
				thread = m.MessageThreadID
			}
			return d.say(ctx, 0, thread, d.text(d.lang, dialogs.MsgHOOnlyAgents, nil), m.ID)
		}
		return nil // members may talk among themselves: nothing reaches a merchant
	}
	if isCommand && name == "open" {
		return d.openByAgent(ctx, m, arg)
	}
	thread := 0
	if m.IsTopicMessage {
		thread = m.MessageThreadID
	}
	chat, err := d.chatOfThread(ctx, thread)
	if err != nil || thread == 0 {
		return err
	}
	if chat == 0 {
		if isCommand {
			return d.say(ctx, 0, thread, d.text(d.lang, dialogs.MsgHONoMerchant, nil), m.ID)
		}
		return nil
	}
	c, err := d.loadConv(ctx, chat)
	if err != nil {
		return err
	}
	if isCommand {
		switch name {
		case "claim":
			return d.claim(ctx, chat, c, m.From, "", m.ID)
		case "close", "handback":
			if owner, ok := d.owns(c, m.From); !ok {
				return d.say(ctx, chat, thread, d.text(d.lang, dialogs.MsgHOOwnedBy, dialogs.Arg{"Name": owner}), m.ID)
			}
			return d.handBack(ctx, chat, c, m.From.FirstName)
		case "t", "template", "templates":
			return d.template(ctx, chat, c, m, arg)
		}
		return nil
	}
	if !c.Open {
		// Writing in a closed topic opens the conversation again.
		if err := d.agentOpens(ctx, chat, c, m.From); err != nil {
			return err
		}
		c.Open, c.Agent, c.AgentName = true, m.From.ID, m.From.FirstName
	}
	owner, ok := d.owns(c, m.From)
	if !ok {
		return d.say(ctx, chat, thread, d.text(d.lang, dialogs.MsgHOOwnedBy, dialogs.Arg{"Name": owner}), m.ID)
	}
	if c.Agent == 0 {
		// The first agent to answer takes the conversation.
		won, err := d.takeClaim(ctx, chat, c, m.From)
		if err != nil {
			return err
		}
		if !won {
			c, _ = d.loadConv(ctx, chat)
			return d.say(ctx, chat, thread, d.text(d.lang, dialogs.MsgHOOwnedBy, dialogs.Arg{"Name": c.AgentName}), m.ID)
		}
	}
	return d.deliver(ctx, chat, m)
}

// deskCommand tells the desk's commands (answered "only agents" when a
// member who is not one writes them) from other bots' or chatter.
func deskCommand(name string) bool {
	switch name {
	case "claim", "close", "handback", "t", "template", "templates", "open":
		return true
	}
	return false
}

// isService is a message Telegram writes itself (topic created, closed, …).
func isService(m *models.Message) bool {
	return m.ForumTopicCreated != nil || m.ForumTopicClosed != nil || m.ForumTopicReopened != nil ||
		m.ForumTopicEdited != nil || m.NewChatMembers != nil || m.LeftChatMember != nil || m.PinnedMessage != nil
}

// owns reports whether agent may act on the conversation: nobody owns it
// yet, or they do. Otherwise it names the owner.
func (d *Desk) owns(c conv, agent *models.User) (string, bool) {
	if c.Agent == 0 || c.Agent == agent.ID {
		return "", true
	}
	return c.AgentName, false
}

var claimScript = redis.NewScript(`
local cur = redis.call("HGET", KEYS[1], "ag")
if cur and cur ~= "" then return cur end
redis.call("HSET", KEYS[1], "ag", ARGV[1], "an", ARGV[2])
redis.call("ZREM", KEYS[2], ARGV[3])
return ARGV[1]`)

// takeClaim makes agent the owner unless someone was first.
func (d *Desk) takeClaim(ctx context.Context, chat int64, c conv, agent *models.User) (bool, error) {
	owner, err := claimScript.Run(ctx, d.rdb, []string{d.keyConv(chat), d.keyAnnounce()},
		agent.ID, agent.FirstName, itoa(chat)).Text()
	if err != nil {
		return false, fmt.Errorf("claim: %w", err)
	}
	if owner != itoa(agent.ID) {
		return false, nil
	}
	c.Agent, c.AgentName = agent.ID, agent.FirstName
	_, err = d.out.Enqueue(ctx, d.group, "",
		d.groupText(chat, c.Thread, d.text(d.lang, dialogs.MsgHOClaimed, dialogs.Arg{"Name": agent.FirstName})),
		d.retitle(chat, c, dialogs.MsgHOStateClaim))
	if err != nil {
		return false, fmt.Errorf("enqueue claim: %w", err)
	}
	return true, nil
}

// claim is /claim or the Claim button; query is the button's callback id.
func (d *Desk) claim(ctx context.Context, chat int64, c conv, agent *models.User, query string, replyTo int) error {
	if !c.Open {
		return d.toast(ctx, query, d.text(d.lang, dialogs.MsgHOStateClosed, nil))
	}
	if owner, ok := d.owns(c, agent); !ok {
		text := d.text(d.lang, dialogs.MsgHOOwnedBy, dialogs.Arg{"Name": owner})
		if query != "" {
			return d.toast(ctx, query, text)
		}
		return d.say(ctx, chat, c.Thread, text, replyTo)
	}
	if c.Agent == agent.ID {
		return d.toast(ctx, query, d.text(d.lang, dialogs.MsgHOClaimed, dialogs.Arg{"Name": agent.FirstName}))
	}
	won, err := d.takeClaim(ctx, chat, c, agent)
	if err != nil {
		return err
	}
	if !won {
		c, _ = d.loadConv(ctx, chat)
		return d.toast(ctx, query, d.text(d.lang, dialogs.MsgHOOwnedBy, dialogs.Arg{"Name": c.AgentName}))
	}
	return d.toast(ctx, query, "")
}

// toast answers a button press (nothing to do for a command).
func (d *Desk) toast(ctx context.Context, query, text string) error {
	if query == "" {
		return nil
	}
	// An answer is no message in the group: it is not held to the
	// group's budget, so the agent's spinner stops at once.
	_, err := d.out.Enqueue(ctx, d.group, "", call("answerCallbackQuery",
		answerCallback{CallbackQueryID: query, Text: clip(text, 200)}, outbox.Reply, "", true))
	if err != nil {
		return fmt.Errorf("enqueue callback answer: %w", err)
	}
	return nil
}

func (d *Desk) button(ctx context.Context, q *models.CallbackQuery) error {
	msg := q.Message.Message
	if msg == nil {
		// A card too old for Telegram to show: still stop the spinner.
		return d.toast(ctx, q.ID, "")
	}
	if msg.Chat.ID != d.group {
		return nil
	}
	stale := d.text(d.lang, dialogs.MsgHOStaleButton, nil)
	data, ok := "", false
	if d.buttons != nil {
		data, ok = d.buttons.Verify(d.group, q.Data)
	}
	parts := strings.Split(data, ":")
	if !ok || len(parts) != 4 || parts[0] != "ho" {
		d.log.Info("support group button not ours; nothing changed", "data_len", len(q.Data))
		return d.toast(ctx, q.ID, stale)
	}
	if ok, err := d.isAgent(ctx, &q.From); err != nil {
		return err
	} else if !ok {
		return d.toast(ctx, q.ID, d.text(d.lang, dialogs.MsgHOOnlyAgents, nil))
	}
	chat, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return d.toast(ctx, q.ID, stale)
	}
	c, err := d.loadConv(ctx, chat)
	if err != nil {
		return err
	}
	if since, err := strconv.ParseInt(parts[3], 36, 64); err != nil || since != c.Since {
		return d.toast(ctx, q.ID, stale) // the card of an earlier hand-off
	}
	switch parts[1] {
	case "claim":
		return d.claim(ctx, chat, c, &q.From, q.ID, 0)
	case "back":
		if owner, ok := d.owns(c, &q.From); !ok {
			return d.toast(ctx, q.ID, d.text(d.lang, dialogs.MsgHOOwnedBy, dialogs.Arg{"Name": owner}))
		}
		if !c.Open {
			return d.toast(ctx, q.ID, d.text(d.lang, dialogs.MsgHOStateClosed, nil))
		}
		if err := d.handBack(ctx, chat, c, q.From.FirstName); err != nil {
			return err
		}
		return d.toast(ctx, q.ID, "")
	}
	return d.toast(ctx, q.ID, stale)
}

// deliver copies an agent's message to the merchant as the bot's, signed
// with the agent's first name when the desk signs. An album waits for its
// other parts and goes as one.
func (d *Desk) deliver(ctx context.Context, chat int64, m *models.Message) error {
	d.remember(ctx, chat, "🎧 "+describe(pendingOf(m)))
	if m.MediaGroupID != "" && !d.sign {
		pipe := d.rdb.TxPipeline()
		pipe.RPush(ctx, d.keyAlbum(chat), m.ID)
		pipe.Expire(ctx, d.keyAlbum(chat), 24*time.Hour)
		pipe.ZAddNX(ctx, d.keyDue(), zmember(d.now().Add(d.window).UnixMilli(), chat))
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("queue album: %w", err)
		}
		return nil
	}
	var cl outbox.Call
	t := tag(tagG2M, chat, strconv.Itoa(m.ID))
	switch {
	case m.Text != "" && d.sign:
		cl = call("sendMessage", sendMessage{ChatID: chat, Text: clip(m.Text+"\n\n"+d.signature(ctx, chat, m.From), 4096)}, outbox.Reply, t, false)
	case m.Text == "" && d.sign && hasCaption(m):
		caption := d.signature(ctx, chat, m.From)
		if m.Caption != "" {
			caption = m.Caption + "\n\n" + caption
		}
		caption = clip(caption, 1024)
		cl = call("copyMessage", copyMessage{ChatID: chat, FromChatID: d.group, MessageID: m.ID, Caption: &caption}, outbox.Reply, t, false)
	default:
		cl = call("copyMessage", copyMessage{ChatID: chat, FromChatID: d.group, MessageID: m.ID}, outbox.Reply, t, false)
	}
	if _, err := d.out.Enqueue(ctx, chat, "", cl); err != nil {
		return fmt.Errorf("enqueue agent message: %w", err)
	}
	return nil
}

// hasCaption reports media that can carry a caption (a sticker cannot).
func hasCaption(m *models.Message) bool {
	return len(m.Photo) > 0 || m.Document != nil || m.Video != nil || m.Voice != nil || m.Audio != nil || m.Animation != nil
}

// signature is the agent's name under their message, in the merchant's
// language (the default language when it cannot be read).
func (d *Desk) signature(ctx context.Context, chat int64, agent *models.User) string {
	lang, _ := d.rdb.HGet(ctx, d.keyConv(chat), "l").Result()
	return d.text(lang, dialogs.MsgSupportSignature, dialogs.Arg{"Name": agent.FirstName})
}

// flushAlbum copies an agent's album to the merchant in one call.
func (d *Desk) flushAlbum(ctx context.Context, chat int64) error {
	vals, err := popScript.Run(ctx, d.rdb, []string{d.keyAlbum(chat)}).StringSlice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("take album: %w", err)
	}
	if len(vals) == 0 {
		return nil
	}
	ids := make([]int, 0, len(vals))
	for _, v := range vals {
		if id, err := strconv.Atoi(v); err == nil && (len(ids) == 0 || id > ids[len(ids)-1]) && len(ids) < maxCopy {
			ids = append(ids, id)
		}
	}
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = strconv.Itoa(id)
	}
	_, err = d.out.Enqueue(ctx, chat, "", call("copyMessages", copyMessages{ChatID: chat, FromChatID: d.group, MessageIDs: ids},
		outbox.Reply, tag(tagG2M, chat, strings.Join(strs, ",")), false))
	if err != nil {
		return fmt.Errorf("enqueue album: %w", err)
	}
	return nil
}

// agentEdit follows an agent's edit into the merchant's chat.
func (d *Desk) agentEdit(ctx context.Context, m *models.Message) error {
	if m.From == nil || m.From.IsBot || !m.IsTopicMessage {
		return nil
	}
	if ok, err := d.isAgent(ctx, m.From); err != nil || !ok {
		return err
	}
	chat, err := d.chatOfThread(ctx, m.MessageThreadID)
	if err != nil || chat == 0 {
		return err
	}
	c, err := d.loadConv(ctx, chat)
	if err != nil {
		return err
	}
	if _, ok := d.owns(c, m.From); !ok {
		return nil // never delivered, so nothing to edit
	}
	v, err := d.rdb.HGet(ctx, d.keyG2M(chat), strconv.Itoa(m.ID)).Result()
	if errors.Is(err, redis.Nil) {
		return nil // not delivered (yet): the copy will carry the new text
	}
	if err != nil {
		return fmt.Errorf("read message map: %w", err)
	}
	mid, _ := strconv.Atoi(v)
	var cl outbox.Call
	t := tag(tagMerch, chat)
	if m.Text != "" {
		text := m.Text
		if d.sign {
			text += "\n\n" + d.signature(ctx, chat, m.From)
		}
		cl = call("editMessageText", editText{ChatID: chat, MessageID: mid, Text: clip(text, 4096)}, outbox.Reply, t, true)
	} else {
		caption := m.Caption
		if d.sign {
			caption += "\n\n" + d.signature(ctx, chat, m.From)
		}
		cl = call("editMessageCaption", editCaption{ChatID: chat, MessageID: mid, Caption: clip(caption, 1024)}, outbox.Reply, t, true)
	}
	if _, err := d.out.Enqueue(ctx, chat, "", cl); err != nil {
		return fmt.Errorf("enqueue agent edit: %w", err)
	}
	return nil
}

// template sends a prepared answer in the merchant's language; /t alone
// lists them.
func (d *Desk) template(ctx context.Context, chat int64, c conv, m *models.Message, name string) error {
	key, ok := dialogs.Template(strings.ToLower(name))
	if !ok {
		return d.say(ctx, chat, c.Thread, d.text(d.lang, dialogs.MsgHOTemplates, nil), m.ID)
	}
	if owner, ok := d.owns(c, m.From); !ok {
		return d.say(ctx, chat, c.Thread, d.text(d.lang, dialogs.MsgHOOwnedBy, dialogs.Arg{"Name": owner}), m.ID)
	}
	if !c.Open {
		if err := d.agentOpens(ctx, chat, c, m.From); err != nil {
			return err
		}
	} else if c.Agent == 0 {
		if won, err := d.takeClaim(ctx, chat, c, m.From); err != nil || !won {
			return err
		}
	}
	text := d.text(c.Lang, key, nil)
	if d.sign {
		text += "\n\n" + d.signature(ctx, chat, m.From)
	}
	d.remember(ctx, chat, "🎧 "+text)
	_, err := d.out.Enqueue(ctx, chat, "", call("sendMessage", sendMessage{ChatID: chat, Text: text}, outbox.Reply,
		tag(tagG2M, chat, strconv.Itoa(m.ID)), false))
	if err != nil {
		return fmt.Errorf("enqueue template: %w", err)
	}
	return nil
}

// openByAgent is /open <merchant number>: the agent starts a conversation
// with a merchant who did not ask (a callback, a follow-up).
func (d *Desk) openByAgent(ctx context.Context, m *models.Message, arg string) error {
	thread := 0
	if m.IsTopicMessage {
		thread = m.MessageThreadID
	}
	chat, err := d.chatOfThread(ctx, thread)
	if err != nil {
		return err
	}
	if arg != "" {
		no, err := parse.MerchantNo(arg)
		if err != nil {
			return d.say(ctx, 0, thread, d.text(d.lang, dialogs.MsgHOOpenUsage, nil), m.ID)
		}
		bound, ok, err := chatq.FindMerchant(ctx, d.rdb, d.prefix, no)
		if err != nil {
			return fmt.Errorf("read merchant binding: %w", err)
		}
		if !ok {
			return d.say(ctx, 0, thread, d.text(d.lang, dialogs.MsgHOOpenUnknown, dialogs.Arg{"MerchantNo": no}), m.ID)
		}
		chat = bound
	}
	if chat == 0 {
		return d.say(ctx, 0, thread, d.text(d.lang, dialogs.MsgHOOpenUsage, nil), m.ID)
	}
	c, err := d.loadConv(ctx, chat)
	if err != nil {
		return err
	}
	if c.Open {
		if owner, ok := d.owns(c, m.From); !ok {
			return d.say(ctx, chat, thread, d.text(d.lang, dialogs.MsgHOOwnedBy, dialogs.Arg{"Name": owner}), m.ID)
		}
		return nil
	}
	return d.agentOpens(ctx, chat, c, m.From)
}

// agentOpens opens the conversation for agent, who owns it, and has the
// dialog hand the chat off (so the merchant's answers are relayed); the
// dialog's HandOff then calls Open, which keeps this claim.
func (d *Desk) agentOpens(ctx context.Context, chat int64, c conv, agent *models.User) error {
	pipe := d.rdb.TxPipeline()
	pipe.HSet(ctx, d.keyConv(chat), "open", "1", "since", d.now().UnixMilli(), "ag", agent.ID, "an", agent.FirstName, "rate", "")
	pipe.Expire(ctx, d.keyConv(chat), mapTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("open conversation: %w", err)
	}
	once := "ho:open:" + itoa(chat) + ":" + strconv.FormatInt(d.now().UnixMilli(), 10)
	if _, err := d.post.Post(ctx, chat, once, EventAgentOpen, agent.FirstName); err != nil {
		return fmt.Errorf("post agent open: %w", err)
	}
	if c.Thread != 0 {
		c.Agent, c.AgentName = agent.ID, agent.FirstName
		if _, err := d.out.Enqueue(ctx, d.group, "",
			call("reopenForumTopic", topicParams{ChatID: d.group, MessageThreadID: c.Thread}, outbox.Group, tag(tagGroup, chat), true),
			d.groupText(chat, c.Thread,
				d.text(d.lang, dialogs.MsgHOOpened, dialogs.Arg{"Name": agent.FirstName})),
			d.retitle(chat, c, dialogs.MsgHOStateClaim)); err != nil {
			return fmt.Errorf("enqueue opened: %w", err)
		}
	}
	return nil
}
