// Package handoff is the support desk: a merchant who asks for a person gets
// one forum topic in the support supergroup, opened with a context card, and
// messages are copied both ways between the merchant's chat and the topic
// until an agent hands the chat back to the dialog.
//
// Everything it sends goes through the durable outbox (group traffic with
// priority Group, the merchant's with Reply), topic creation included: the
// sender's budgets, retries and retry_after apply, and an outage delays the
// desk, never loses what a merchant said. Only getChat and getChatMember
// (the check at start, and who is an agent) are asked directly, the latter
// through the sender's retries (WithSender); a membership check that still
// fails fails the group update's turn, which the queue tries again. Its state (topic per merchant, claims, the map of
// copied message ids, messages waiting to be relayed) lives in Redis, so any
// replica can carry on a hand-off another one started.
package handoff

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/bot/sender"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/locales"
)

// Outbox appends Bot API calls to chat's durable outbox in one Redis commit
// and wakes its sender. With once != "", the calls are appended only if
// nothing was appended under that once key in the last 30 days.
type Outbox interface {
	Enqueue(ctx context.Context, chat int64, once string, calls ...outbox.Call) (added bool, err error)
}

// Poster posts an internal event into a merchant chat's queue; the dialog
// receives it in order with the merchant's updates.
type Poster interface {
	Post(ctx context.Context, chat int64, once, event, arg string) (added bool, err error)
}

// API is the few Bot API calls whose answer the desk needs at once
// (the go-telegram/bot client of bot.NewClient has them): the check at
// start, and who is an agent.
type API interface {
	GetMe(ctx context.Context) (*models.User, error)
	GetChat(ctx context.Context, p *tg.GetChatParams) (*models.ChatFullInfo, error)
	GetChatMember(ctx context.Context, p *tg.GetChatMemberParams) (*models.ChatMember, error)
}

// Backend tells the context card the merchant's business name and their
// applications (backend.Client has both).
type Backend interface {
	Merchant(ctx context.Context, no string) (backend.Merchant, error)
	Applications(ctx context.Context, no string) ([]backend.Receipt, error)
}

// Desk runs the hand-off for one support group.
type Desk struct {
	api      API
	out      Outbox
	post     Poster
	rdb      redis.UniversalClient
	group    int64
	render   *dialogs.Renderer
	backend  Backend
	prefix   string
	lang     string // the group's language
	sign     bool
	announce time.Duration
	window   time.Duration
	reaction string
	tick     time.Duration
	late     time.Duration
	send     Sender
	buttons  Buttons
	// remakeAfter is how long after Telegram refused to make a topic (the
	// bot lost the right to manage topics, say) it is asked again.
	remakeAfter time.Duration
	agents      map[int64]bool
	now         func() time.Time
	log         *slog.Logger
}

// Sender makes a Bot API call with the bot's retries and budgets
// (bot/sender.Sender): the desk's direct calls go through it too.
type Sender interface {
	Do(ctx context.Context, chatID int64, kind sender.Kind, call func(ctx context.Context) error) error
}

// Buttons signs the data of the group's buttons and checks it, as the
// merchant's buttons are (bot.ButtonCodec): a forged or replayed button
// changes nothing.
type Buttons interface {
	Sign(chat int64, data string) (string, error)
	Verify(chat int64, signed string) (data string, ok bool)
}

// Option configures a Desk.
type Option func(*Desk)

// WithPrefix sets the Redis key prefix (REDIS_PREFIX; default "mb:").
func WithPrefix(p string) Option { return func(d *Desk) { d.prefix = p } }

// WithGroupLanguage sets the language of what the group is shown (default
// zh-Hans).
func WithGroupLanguage(lang string) Option { return func(d *Desk) { d.lang = lang } }

// WithSignature signs an agent's messages to the merchant with the agent's
// first name (off by default: the merchant sees only the bot).
func WithSignature(on bool) Option { return func(d *Desk) { d.sign = on } }

// WithReannounce sets how long a hand-off may wait unclaimed before it is
// announced again in its topic (default 5 minutes; 0 turns it off).
func WithReannounce(every time.Duration) Option { return func(d *Desk) { d.announce = every } }

// WithBatchWindow sets how long a merchant's messages wait to be relayed
// together (default 2 s): several short texts become one group message,
// which spares the group's ~20 messages/minute.
func WithBatchWindow(w time.Duration) Option { return func(d *Desk) { d.window = w } }

// WithReaction sets the reaction that tells the merchant their message
// reached support (default 👀; "" turns it off).
func WithReaction(emoji string) Option { return func(d *Desk) { d.reaction = emoji } }

// WithBackend lets the desk name the merchant's business in the topic's
// title and list their applications on the context card.
func WithBackend(b Backend) Option { return func(d *Desk) { d.backend = b } }

// WithButtons sets the signer of the group's buttons (DATA_KEY's, the
// same as the merchant's). Without it no group button is honoured.
func WithButtons(b Buttons) Option { return func(d *Desk) { d.buttons = b } }

// WithSender makes the desk's direct Bot API calls (getChatMember: who is
// an agent) through the bot's sender, with its retries and backoff; without
// it they are made once.
func WithSender(s Sender) Option { return func(d *Desk) { d.send = s } }

// WithAgents names users who are agents without being administrators of the
// group (SUPPORT_AGENTS).
func WithAgents(ids ...int64) Option {
	return func(d *Desk) {
		for _, id := range ids {
			d.agents[id] = true
		}
	}
}

// WithLateAfter sets how long a merchant's hand-off may wait for the group
// to take it (its topic, card and messages) before the merchant is told
// that no agent has been reached yet (default 30 s: past the sender's own
// retries).
func WithLateAfter(after time.Duration) Option { return func(d *Desk) { d.late = after } }

// WithTopicRetry sets how long after Telegram refused to make a topic it is
// asked again (default 1 minute).
func WithTopicRetry(after time.Duration) Option { return func(d *Desk) { d.remakeAfter = after } }

// WithClock sets the clock.
func WithClock(now func() time.Time) Option { return func(d *Desk) { d.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(d *Desk) { d.log = l } }

// WithTick sets how often Run looks for due relays and announcements
// (default 500 ms).
func WithTick(t time.Duration) Option { return func(d *Desk) { d.tick = t } }

// New returns a Desk for support group group (SUPPORT_CHAT_ID). Call Check
// at start, and Run for batched relays and re-announcements.
func New(api API, out Outbox, post Poster, rdb redis.UniversalClient, group int64, catalog *locales.Catalog, opts ...Option) *Desk {
	d := &Desk{
		api: api, out: out, post: post, rdb: rdb, group: group,
		render:      dialogs.NewRenderer(catalog, nil),
		prefix:      "mb:",
		lang:        locales.Chinese,
		announce:    5 * time.Minute,
		window:      2 * time.Second,
		reaction:    "👀",
		tick:        500 * time.Millisecond,
		late:        30 * time.Second,
		remakeAfter: time.Minute,
		agents:      map[int64]bool{},
		now:         time.Now,
		log:         slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Redis keys, all under prefix + "ho:".
func (d *Desk) keyConv(chat int64) string    { return d.prefix + "{ho}:c:" + itoa(chat) }
func (d *Desk) keyThread(thread int) string  { return d.prefix + "{ho}:th:" + strconv.Itoa(thread) }
func (d *Desk) keyPending(chat int64) string { return d.prefix + "{ho}:pend:" + itoa(chat) }
func (d *Desk) keySeen(chat int64) string    { return d.prefix + "{ho}:seen:" + itoa(chat) }
func (d *Desk) keyAlbum(chat int64) string   { return d.prefix + "{ho}:alb:" + itoa(chat) }
func (d *Desk) keyM2G(chat int64) string     { return d.prefix + "{ho}:m2g:" + itoa(chat) }
func (d *Desk) keyG2M(chat int64) string     { return d.prefix + "{ho}:g2m:" + itoa(chat) }
func (d *Desk) keyParts(chat int64, first int) string {
	return d.prefix + "{ho}:parts:" + itoa(chat) + ":" + strconv.Itoa(first)
}
func (d *Desk) keyTail(chat int64) string   { return d.prefix + "{ho}:tail:" + itoa(chat) }
func (d *Desk) keyRecent(chat int64) string { return d.prefix + "{ho}:recent:" + itoa(chat) }
func (d *Desk) keyAgent(user int64) string  { return d.prefix + "{ho}:agent:" + itoa(user) }
func (d *Desk) keyHeld(chat int64) string   { return d.prefix + "{ho}:held:" + itoa(chat) }
func (d *Desk) keyWait() string             { return d.prefix + "{ho}:wait" }
func (d *Desk) keyOwed() string             { return d.prefix + "{ho}:owed" }
func (d *Desk) keyRemake() string           { return d.prefix + "{ho}:remake" }
func (d *Desk) keyDue() string              { return d.prefix + "{ho}:due" }
func (d *Desk) keyAnnounce() string         { return d.prefix + "{ho}:ann" }

// mapTTL is how long copied message ids, recent lines and conversations are
// kept: edits of older messages are not followed.
const mapTTL = 30 * 24 * time.Hour

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// conv is a merchant's conversation with support as kept in Redis.
type conv struct {
	Thread     int
	No, Name   string
	Lang, Step string
	Open       bool
	Since      int64 // unix ms the hand-off opened
	Agent      int64
	AgentName  string
	Rating     string
	Card       string // the context card's text, masked, for a topic made later
	Told       bool   // the merchant was told no agent has been reached yet
}

func (d *Desk) loadConv(ctx context.Context, chat int64) (conv, error) {
	m, err := d.rdb.HGetAll(ctx, d.keyConv(chat)).Result()
	if err != nil {
		return conv{}, fmt.Errorf("load conversation: %w", err)
	}
	c := conv{No: m["no"], Name: m["nm"], Lang: m["l"], Step: m["st"], Open: m["open"] == "1",
		AgentName: m["an"], Rating: m["rate"], Card: m["cd"], Told: m["told"] == "1"}
	c.Thread, _ = strconv.Atoi(m["th"])
	c.Since, _ = strconv.ParseInt(m["since"], 10, 64)
	c.Agent, _ = strconv.ParseInt(m["ag"], 10, 64)
	return c, nil
}

// call builds one outbox call; params are marshalled as they are, so only
// the fields set are sent.
func call(method string, params any, pri outbox.Priority, tag string, optional bool) outbox.Call {
	c := outbox.MustCall(method, params, pri)
	c.Tag, c.Optional = tag, optional
	return c
}

// Tags name the calls the desk wants to hear back about: "ho:<kind>:<merchant chat>[:<ids>]".
const (
	tagGroup = "g"   // group traffic about a merchant: re-sent into a new topic if the old one is gone
	tagTopic = "mk"  // createForumTopic: keep the thread, post the card and what waited (ho:mk:<chat>:<dead thread>)
	tagCard  = "cd"  // the context card: a new topic gets its own
	tagM2G   = "m2g" // merchant messages copied to the group: map the ids
	tagG2M   = "g2m" // an agent's message copied to the merchant: map the ids
	tagMerch = "m"   // other traffic to the merchant: a 403 is reported in the topic
)

// TagPrefix is the tag prefix under which the lead registers HandleResult
// and HandleFailed.
const TagPrefix = "ho:"

func tag(kind string, chat int64, rest ...string) string {
	t := TagPrefix + kind + ":" + itoa(chat)
	for _, r := range rest {
		t += ":" + r
	}
	return t
}

type sendMessage struct {
	ChatID          int64           `json:"chat_id"`
	MessageThreadID int             `json:"message_thread_id,omitempty"`
	Text            string          `json:"text"`
	ReplyMarkup     *inlineKeyboard `json:"reply_markup,omitempty"`
	ReplyParameters *replyTo        `json:"reply_parameters,omitempty"`
}

type replyTo struct {
	MessageID                int  `json:"message_id"`
	AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
}

// inlineKeyboard holds only callback buttons: one action field each, as the
// Bot API wants.
type inlineKeyboard struct {
	InlineKeyboard [][]callbackButton `json:"inline_keyboard"`
}

type callbackButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

type copyMessage struct {
	ChatID          int64   `json:"chat_id"`
	MessageThreadID int     `json:"message_thread_id,omitempty"`
	FromChatID      int64   `json:"from_chat_id"`
	MessageID       int     `json:"message_id"`
	Caption         *string `json:"caption,omitempty"`
}

type copyMessages struct {
	ChatID          int64 `json:"chat_id"`
	MessageThreadID int   `json:"message_thread_id,omitempty"`
	FromChatID      int64 `json:"from_chat_id"`
	MessageIDs      []int `json:"message_ids"`
}

type editText struct {
	ChatID    int64  `json:"chat_id"`
	MessageID int    `json:"message_id"`
	Text      string `json:"text"`
}

type editCaption struct {
	ChatID    int64  `json:"chat_id"`
	MessageID int    `json:"message_id"`
	Caption   string `json:"caption"`
}

type topicParams struct {
	ChatID          int64  `json:"chat_id"`
	MessageThreadID int    `json:"message_thread_id"`
	Name            string `json:"name,omitempty"`
}

type reaction struct {
	ChatID    int64           `json:"chat_id"`
	MessageID int             `json:"message_id"`
	Reaction  []emojiReaction `json:"reaction"`
}

type emojiReaction struct {
	Type  string `json:"type"`
	Emoji string `json:"emoji"`
}

type answerCallback struct {
	CallbackQueryID string `json:"callback_query_id"`
	Text            string `json:"text,omitempty"`
}

// text renders a message id in lang.
func (d *Desk) text(lang string, key dialogs.MsgID, args dialogs.Arg) string {
	return d.render.Text(lang, key, args)
}

// say posts text into the merchant's topic.
func (d *Desk) say(ctx context.Context, chat int64, thread int, text string, replyID int) error {
	p := sendMessage{ChatID: d.group, MessageThreadID: thread, Text: clip(text, 4000)}
	if replyID != 0 {
		p.ReplyParameters = &replyTo{MessageID: replyID, AllowSendingWithoutReply: true}
	}
	_, err := d.out.Enqueue(ctx, d.group, "", call("sendMessage", p, outbox.Group, tag(tagGroup, chat), false))
	if err != nil {
		return fmt.Errorf("enqueue group message: %w", err)
	}
	return nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// decodeIDs reads a copy's answer: one MessageId, a list of them, or a Message.
func decodeIDs(raw json.RawMessage) []int {
	var list []struct {
		ID int `json:"message_id"`
	}
	if json.Unmarshal(raw, &list) == nil {
		ids := make([]int, len(list))
		for i, m := range list {
			ids[i] = m.ID
		}
		return ids
	}
	var one struct {
		ID int `json:"message_id"`
	}
	if json.Unmarshal(raw, &one) == nil && one.ID != 0 {
		return []int{one.ID}
	}
	return nil
}
