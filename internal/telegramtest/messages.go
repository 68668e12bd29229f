package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// Telegram's limits on text, in characters after entity parsing.
const (
	maxTextLen         = 4096
	maxCaptionLen      = 1024
	maxCallbackDataLen = 64 // bytes
	maxCallbackAnswer  = 200
)

// Message kinds.
const (
	kindText     = "text"
	kindPhoto    = "photo"
	kindDocument = "document"
	kindSticker  = "sticker"
	kindContact  = "contact"
	kindPoll     = "poll"
)

// Message is a message in a chat as it is now, after edits.
type Message struct {
	ID       int
	ChatID   int64
	ThreadID int
	FromBot  bool
	Kind     string // "text", "photo", "document", "sticker" or "contact"

	Text      string // what a client shows: HTML tags removed, entities decoded
	Caption   string // likewise, for media
	Entities  []models.MessageEntity
	Source    string // the text (or caption) exactly as the bot sent it
	ParseMode string

	InlineKeyboard *models.InlineKeyboardMarkup // nil without one
	ReplyMarkup    json.RawMessage              // reply_markup as sent, of any type

	Edits    int
	Date     time.Time
	EditDate time.Time // zero until edited

	APIMessage models.Message // the message as the Bot API returns it
}

// Buttons lists the inline keyboard's buttons row by row.
func (m Message) Buttons() []models.InlineKeyboardButton {
	if m.InlineKeyboard == nil {
		return nil
	}
	var out []models.InlineKeyboardButton
	for _, row := range m.InlineKeyboard.InlineKeyboard {
		out = append(out, row...)
	}
	return out
}

// Button finds the inline button whose text is label.
func (m Message) Button(label string) (models.InlineKeyboardButton, bool) {
	for _, b := range m.Buttons() {
		if b.Text == label {
			return b, true
		}
	}
	return models.InlineKeyboardButton{}, false
}

// record is a message as the server keeps it. wire is replaced, never changed in place, so a
// copy handed out under the lock stays valid after it is released.
type record struct {
	wire      models.Message
	fromBot   bool
	kind      string
	source    string
	parseMode string
	markup    json.RawMessage
	edits     int
}

func (r *record) view() Message {
	m := Message{
		ID:             r.wire.ID,
		ChatID:         r.wire.Chat.ID,
		ThreadID:       r.wire.MessageThreadID,
		FromBot:        r.fromBot,
		Kind:           r.kind,
		Text:           r.wire.Text,
		Caption:        r.wire.Caption,
		Entities:       r.wire.Entities,
		Source:         r.source,
		ParseMode:      r.parseMode,
		InlineKeyboard: r.wire.ReplyMarkup,
		ReplyMarkup:    r.markup,
		Edits:          r.edits,
		Date:           time.Unix(int64(r.wire.Date), 0),
		APIMessage:     r.wire,
	}
	if r.kind != kindText {
		m.Entities = r.wire.CaptionEntities
	}
	if r.wire.EditDate != 0 {
		m.EditDate = time.Unix(int64(r.wire.EditDate), 0)
	}
	return m
}

// chat indexes its messages by id; message ids are per chat and shared by the bot and the user,
// as in a Telegram private chat.
type chat struct {
	id       int64
	lastID   int
	msgs     map[int]*record
	order    []int // ids in the order they were sent, deleted ones included
	deleted  []int
	botAlive int // messages from the bot not deleted
	topics   map[int]*Topic
}

func (s *Server) chatLocked(id int64) *chat {
	c := s.chats[id]
	if c == nil {
		c = &chat{id: id, msgs: map[int]*record{}, topics: map[int]*Topic{}}
		s.chats[id] = c
	}
	return c
}

// chatObjectLocked describes a chat by its id the way Telegram numbers them: positive ids are
// private chats with that user, -100… are supergroups, other negative ids basic groups.
func (s *Server) chatObjectLocked(id int64) models.Chat {
	if id > 0 {
		u := s.userLocked(id)
		return models.Chat{ID: id, Type: models.ChatTypePrivate, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username}
	}
	ch := models.Chat{ID: id, Type: models.ChatTypeGroup, Title: "Group " + strconv.FormatInt(-id, 10)}
	if id <= -1_000_000_000_000 {
		ch.Type = models.ChatTypeSupergroup
		if c := s.chats[id]; c != nil && len(c.topics) > 0 {
			ch.IsForum = true
		}
	}
	return ch
}

func (s *Server) userLocked(id int64) models.User {
	if u, ok := s.users[id]; ok {
		return u
	}
	return models.User{
		ID:           id,
		FirstName:    "User",
		LastName:     strconv.FormatInt(id, 10),
		Username:     "user" + strconv.FormatInt(id, 10),
		LanguageCode: s.defaultLanguage,
	}
}

// addLocked gives rec the chat's next message id and stores it.
func (s *Server) addLocked(c *chat, rec *record) {
	c.lastID++
	rec.wire.ID = c.lastID
	rec.wire.Date = int(s.now().Unix())
	rec.wire.Chat = s.chatObjectLocked(c.id)
	if rec.fromBot {
		bot := s.BotUser()
		rec.wire.From = &bot
		c.botAlive++
	}
	c.msgs[rec.wire.ID] = rec
	c.order = append(c.order, rec.wire.ID)
	s.notifyChangedLocked()
}

// formatted is text (or a caption) after parse_mode.
type formatted struct {
	plain     string
	source    string
	parseMode string
	entities  []models.MessageEntity
}

type textRules struct {
	textKey, entitiesKey string
	limit                int
	required             bool
	emptyDesc, longDesc  string
}

func messageText() textRules {
	return textRules{textKey: "text", entitiesKey: "entities", limit: maxTextLen, required: true,
		emptyDesc: "message text is empty", longDesc: "message is too long"}
}

func mediaCaption() textRules {
	return textRules{textKey: "caption", entitiesKey: "caption_entities", limit: maxCaptionLen,
		longDesc: "message caption is too long"}
}

// readFormatted applies parse_mode. HTML is checked as Telegram checks it; Markdown is taken as
// plain text, unchecked.
func readFormatted(p Params, rules textRules) (formatted, *apiError) {
	f := formatted{source: p.String(rules.textKey), parseMode: p.String("parse_mode")}
	if !utf8.ValidString(f.source) {
		return f, badRequest("strings must be encoded in UTF-8")
	}
	switch strings.ToLower(f.parseMode) {
	case "html":
		plain, entities, err := ParseHTML(f.source)
		if err != nil {
			return f, badRequest("can't parse entities: " + err.Error())
		}
		f.plain, f.entities = plain, entities
	case "", "markdown", "markdownv2":
		f.plain = f.source
		if f.parseMode == "" && p.Has(rules.entitiesKey) {
			if err := p.JSON(rules.entitiesKey, &f.entities); err != nil {
				return f, badRequest("can't parse entities JSON object")
			}
		}
	default:
		return f, badRequest("unsupported parse_mode")
	}
	if rules.required && strings.TrimSpace(f.plain) == "" {
		return f, badRequest(rules.emptyDesc)
	}
	// Telegram counts characters as UTF-16 code units: an emoji outside the BMP is two.
	if utf16Count(f.plain) > rules.limit {
		return f, badRequest(rules.longDesc)
	}
	return f, nil
}

type markup struct {
	raw    json.RawMessage
	inline *models.InlineKeyboardMarkup // nil unless an inline keyboard with buttons
}

func readMarkup(p Params) (markup, *apiError) {
	text := strings.TrimSpace(p.String("reply_markup"))
	if text == "" {
		return markup{}, nil
	}
	var probe struct {
		InlineKeyboard json.RawMessage `json:"inline_keyboard"`
		Keyboard       json.RawMessage `json:"keyboard"`
		RemoveKeyboard bool            `json:"remove_keyboard"`
		ForceReply     bool            `json:"force_reply"`
	}
	if err := json.Unmarshal([]byte(text), &probe); err != nil {
		return markup{}, badRequest("can't parse reply keyboard markup JSON object")
	}
	m := markup{raw: json.RawMessage(text)}
	switch {
	case probe.InlineKeyboard != nil:
		if e := checkInlineButtons(probe.InlineKeyboard); e != nil {
			return markup{}, e
		}
		var kb models.InlineKeyboardMarkup
		if err := json.Unmarshal([]byte(text), &kb); err != nil {
			return markup{}, badRequest("can't parse inline keyboard button: " + err.Error())
		}
		if len(kb.InlineKeyboard) > 0 {
			m.inline = &kb
		}
	case probe.Keyboard != nil:
		var kb models.ReplyKeyboardMarkup
		if err := json.Unmarshal([]byte(text), &kb); err != nil {
			return markup{}, badRequest("can't parse keyboard button: " + err.Error())
		}
	case probe.RemoveKeyboard, probe.ForceReply:
	default:
		return markup{}, badRequest("can't parse reply keyboard markup JSON object")
	}
	return m, nil
}

// buttonActions are the optional fields of an InlineKeyboardButton that say what it does. The Bot
// API: "Exactly one of the optional fields must be used to specify type of the button."
var buttonActions = []string{
	"url", "callback_data", "web_app", "login_url", "switch_inline_query",
	"switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
	"callback_game", "pay",
}

// checkInlineButtons refuses, with Telegram's texts, the buttons Telegram refuses: one without an
// action or with more than one (go-telegram/bot's empty "copy_text" beside "callback_data"), and
// callback data outside 1-64 bytes. It reads the raw JSON because a decoded
// models.InlineKeyboardButton cannot tell an absent field from an empty one.
func checkInlineButtons(raw json.RawMessage) *apiError {
	var rows [][]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
	}
	for _, row := range rows {
		for _, button := range row {
			if e := checkInlineButton(button); e != nil {
				return e
			}
		}
	}
	return nil
}

func checkInlineButton(button map[string]json.RawMessage) *apiError {
	var text string
	if raw, ok := button["text"]; !ok || json.Unmarshal(raw, &text) != nil {
		return badRequest(`can't parse inline keyboard button: Field "text" must be of type String`)
	}
	actions := 0
	for _, field := range buttonActions {
		if raw, ok := button[field]; ok && actionSet(field, raw) {
			actions++
		}
	}
	switch {
	case actions == 0:
		return badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
	case actions > 1:
		return badRequest("can't parse inline keyboard button: exactly one of the optional fields must be used to specify type of the button")
	}
	if raw, ok := button["callback_data"]; ok {
		var data string
		if json.Unmarshal(raw, &data) != nil {
			return badRequest(`can't parse inline keyboard button: Field "callback_data" must be of type String`)
		}
		if len(data) > maxCallbackDataLen {
			return badRequest("BUTTON_DATA_INVALID")
		}
	}
	return nil
}

// actionSet reports whether an action field is used: Telegram reads a null, an empty url or
// callback_data and a false pay as absent; an empty switch_inline_query is a documented use.
func actionSet(field string, raw json.RawMessage) bool {
	switch v := strings.TrimSpace(string(raw)); {
	case v == "null":
		return false
	case v == `""`:
		return field != "url" && field != "callback_data"
	case v == "false":
		return field != "pay"
	}
	return true
}

func chatParam(p Params, key string) (int64, *apiError) {
	// go-telegram/bot sends a nil ChatID as the text "null".
	if v := strings.TrimSpace(p.String(key)); v == "" || v == "null" {
		return 0, badRequest(key + " is empty")
	}
	id, ok := p.Int64(key)
	if !ok || id == 0 {
		return 0, badRequest("chat not found")
	}
	return id, nil
}

// writableLocked is where the bot may post in chatID: not blocked, not into a closed topic.
func (s *Server) writableLocked(chatID int64, thread int) (*chat, *apiError) {
	if e := s.blockedLocked(chatID); e != nil {
		return nil, e
	}
	c := s.chatLocked(chatID)
	if e := threadErr(c, thread); e != nil {
		return nil, e
	}
	return c, nil
}

// replyToLocked resolves reply_parameters (or the older reply_to_message_id).
func (s *Server) replyToLocked(c *chat, p Params) (*models.Message, *apiError) {
	var rp struct {
		MessageID                int  `json:"message_id"`
		AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
	}
	if p.Has("reply_parameters") {
		if err := p.JSON("reply_parameters", &rp); err != nil {
			return nil, badRequest("can't parse reply parameters JSON object")
		}
	} else if id, ok := p.Int("reply_to_message_id"); ok {
		rp.MessageID = id
		rp.AllowSendingWithoutReply = p.Bool("allow_sending_without_reply")
	}
	if rp.MessageID == 0 {
		return nil, nil
	}
	target := c.msgs[rp.MessageID]
	if target == nil {
		if rp.AllowSendingWithoutReply {
			return nil, nil
		}
		return nil, badRequest("message to be replied not found")
	}
	reply := target.wire
	reply.ReplyToMessage = nil
	return &reply, nil
}

func (s *Server) sendMessage(_ context.Context, p Params) (any, *apiError) {
	chatID, e := chatParam(p, "chat_id")
	if e != nil {
		return nil, e
	}
	text, e := readFormatted(p, messageText())
	if e != nil {
		return nil, e
	}
	mk, e := readMarkup(p)
	if e != nil {
		return nil, e
	}
	thread, _ := p.Int("message_thread_id")

	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.writableLocked(chatID, thread)
	if e != nil {
		return nil, e
	}
	reply, e := s.replyToLocked(c, p)
	if e != nil {
		return nil, e
	}
	rec := &record{fromBot: true, kind: kindText, source: text.source, parseMode: text.parseMode, markup: mk.raw}
	rec.wire = models.Message{
		MessageThreadID: thread,
		Text:            text.plain,
		Entities:        text.entities,
		ReplyMarkup:     mk.inline,
		ReplyToMessage:  reply,
	}
	s.addLocked(c, rec)
	return rec.wire, nil
}

func (s *Server) attachMediaLocked(m *models.Message, kind string) {
	s.fileSeq++
	id := "fake-" + kind + "-" + strconv.Itoa(s.fileSeq)
	switch kind {
	case kindPhoto:
		m.Photo = []models.PhotoSize{
			{FileID: id + "-s", FileUniqueID: id + "-us", Width: 90, Height: 90, FileSize: 1200},
			{FileID: id + "-m", FileUniqueID: id + "-um", Width: 800, Height: 800, FileSize: 48000},
		}
	case kindDocument:
		m.Document = &models.Document{FileID: id, FileUniqueID: "u" + id, FileSize: 1024}
	case kindSticker:
		m.Sticker = &models.Sticker{FileID: id, FileUniqueID: "u" + id, Type: "regular", Width: 512, Height: 512, Emoji: "🙂"}
	}
}

// sourceLocked finds the message copyMessage takes.
func (s *Server) sourceLocked(p Params) (*record, *apiError) {
	fromID, e := chatParam(p, "from_chat_id")
	if e != nil {
		return nil, e
	}
	msgID, ok := p.Int("message_id")
	if !ok {
		return nil, badRequest("message identifier is not specified")
	}
	c := s.chats[fromID]
	if c == nil || c.msgs[msgID] == nil {
		return nil, badRequest("message to copy not found")
	}
	return c.msgs[msgID], nil
}

// copyMessage copies the content, not the keyboard, and answers only the new message id.
func (s *Server) copyMessage(_ context.Context, p Params) (any, *apiError) {
	chatID, e := chatParam(p, "chat_id")
	if e != nil {
		return nil, e
	}
	mk, e := readMarkup(p)
	if e != nil {
		return nil, e
	}
	var caption formatted
	if p.Has("caption") {
		if caption, e = readFormatted(p, mediaCaption()); e != nil {
			return nil, e
		}
	}
	thread, _ := p.Int("message_thread_id")

	s.mu.Lock()
	defer s.mu.Unlock()
	src, e := s.sourceLocked(p)
	if e != nil {
		return nil, e
	}
	c, e := s.writableLocked(chatID, thread)
	if e != nil {
		return nil, e
	}
	rec := copyRecord(src, thread)
	rec.wire.ReplyMarkup, rec.markup = mk.inline, mk.raw
	if p.Has("caption") && src.kind != kindText {
		rec.wire.Caption, rec.wire.CaptionEntities = caption.plain, caption.entities
		rec.source, rec.parseMode = caption.source, caption.parseMode
	}
	s.addLocked(c, rec)
	return models.MessageID{ID: rec.wire.ID}, nil
}

func copyRecord(src *record, thread int) *record {
	w := src.wire
	return &record{
		fromBot:   true,
		kind:      src.kind,
		source:    src.source,
		parseMode: src.parseMode,
		wire: models.Message{
			MessageThreadID: thread,
			Text:            w.Text,
			Entities:        w.Entities,
			Caption:         w.Caption,
			CaptionEntities: w.CaptionEntities,
			Photo:           w.Photo,
			Document:        w.Document,
			Sticker:         w.Sticker,
			Contact:         w.Contact,
			Poll:            w.Poll,
			Voice:           w.Voice,
			Video:           w.Video,
		},
	}
}

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

// editTargetLocked finds the bot's message chat_id/message_id name.
func (s *Server) editTargetLocked(p Params) (*chat, *record, *apiError) {
	chatID, e := chatParam(p, "chat_id")
	if e != nil {
		return nil, nil, e
	}
	msgID, ok := p.Int("message_id")
	if !ok {
		return nil, nil, badRequest("message identifier is not specified")
	}
	c := s.chats[chatID]
	if c == nil || c.msgs[msgID] == nil {
		return nil, nil, badRequest("message to edit not found")
	}
	rec := c.msgs[msgID]
	if !rec.fromBot {
		return nil, nil, badRequest("message can't be edited")
	}
	return c, rec, nil
}

// An edit without reply_markup removes the inline keyboard, as on Telegram.
func (s *Server) editMessageText(_ context.Context, p Params) (any, *apiError) {
	text, e := readFormatted(p, messageText())
	if e != nil {
		return nil, e
	}
	mk, e := readMarkup(p)
	if e != nil {
		return nil, e
	}
	if p.String("inline_message_id") != "" {
		return true, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, rec, e := s.editTargetLocked(p)
	if e != nil {
		return nil, e
	}
	if rec.kind != kindText {
		return nil, badRequest("there is no text in the message to edit")
	}
	if rec.wire.Text == text.plain && entitiesEqual(rec.wire.Entities, text.entities) && keyboardsEqual(rec.wire.ReplyMarkup, mk.inline) {
		return nil, badRequest(notModified)
	}
	w := rec.wire
	w.Text, w.Entities, w.ReplyMarkup = text.plain, text.entities, mk.inline
	s.editedLocked(rec, w, text.source, text.parseMode, mk.raw)
	return rec.wire, nil
}

func (s *Server) editMessageCaption(_ context.Context, p Params) (any, *apiError) {
	caption, e := readFormatted(p, mediaCaption())
	if e != nil {
		return nil, e
	}
	mk, e := readMarkup(p)
	if e != nil {
		return nil, e
	}
	if p.String("inline_message_id") != "" {
		return true, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, rec, e := s.editTargetLocked(p)
	if e != nil {
		return nil, e
	}
	if rec.kind == kindText {
		return nil, badRequest("there is no caption in the message to edit")
	}
	if rec.wire.Caption == caption.plain && entitiesEqual(rec.wire.CaptionEntities, caption.entities) && keyboardsEqual(rec.wire.ReplyMarkup, mk.inline) {
		return nil, badRequest(notModified)
	}
	w := rec.wire
	w.Caption, w.CaptionEntities, w.ReplyMarkup = caption.plain, caption.entities, mk.inline
	s.editedLocked(rec, w, caption.source, caption.parseMode, mk.raw)
	return rec.wire, nil
}

func (s *Server) editedLocked(rec *record, w models.Message, source, parseMode string, raw json.RawMessage) {
	w.EditDate = int(s.now().Unix())
	rec.wire, rec.source, rec.parseMode, rec.markup = w, source, parseMode, raw
	rec.edits++
	s.notifyChangedLocked()
}

func entitiesEqual(a, b []models.MessageEntity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Type != y.Type || x.Offset != y.Offset || x.Length != y.Length || x.URL != y.URL ||
			x.Language != y.Language || x.CustomEmojiID != y.CustomEmojiID {
			return false
		}
	}
	return true
}

func keyboardsEqual(a, b *models.InlineKeyboardMarkup) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, errX := json.Marshal(a)
	y, errY := json.Marshal(b)
	return errX == nil && errY == nil && bytes.Equal(x, y)
}

func (s *Server) deleteMessage(_ context.Context, p Params) (any, *apiError) {
	chatID, e := chatParam(p, "chat_id")
	if e != nil {
		return nil, e
	}
	msgID, ok := p.Int("message_id")
	if !ok {
		return nil, badRequest("message identifier is not specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil || !s.deleteLocked(c, msgID) {
		return nil, badRequest("message to delete not found")
	}
	return true, nil
}

func (s *Server) deleteLocked(c *chat, msgID int) bool {
	rec := c.msgs[msgID]
	if rec == nil {
		return false
	}
	delete(c.msgs, msgID)
	c.deleted = append(c.deleted, msgID)
	if rec.fromBot {
		c.botAlive--
	}
	s.notifyChangedLocked()
	return true
}

// CallbackAnswer is what the bot answered to a callback query.
type CallbackAnswer struct {
	QueryID   string
	Text      string
	ShowAlert bool
	URL       string
	CacheTime int
	At        time.Time
}

func (s *Server) answerCallbackQuery(_ context.Context, p Params) (any, *apiError) {
	answer := CallbackAnswer{
		QueryID:   p.String("callback_query_id"),
		Text:      p.String("text"),
		ShowAlert: p.Bool("show_alert"),
		URL:       p.String("url"),
	}
	answer.CacheTime, _ = p.Int("cache_time")
	if utf16Count(answer.Text) > maxCallbackAnswer {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.queries[answer.QueryID] {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	answer.At = s.now()
	s.answers = append(s.answers, answer)
	s.notifyChangedLocked()
	return true, nil
}
