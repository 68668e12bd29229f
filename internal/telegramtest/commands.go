package telegramtest

import (
	"context"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// CommandsKey names one command list: Telegram keeps one per scope and language.
// Scope is "default", "all_private_chats", "all_group_chats", "all_chat_administrators",
// "chat:<chat_id>", "chat_administrators:<chat_id>" or "chat_member:<chat_id>:<user_id>".
type CommandsKey struct {
	Scope        string
	LanguageCode string
}

const maxCommands = 100

func commandsKey(p Params) (CommandsKey, *apiError) {
	key := CommandsKey{Scope: "default", LanguageCode: p.String("language_code")}
	if !p.Has("scope") {
		return key, nil
	}
	var scope struct {
		Type   string          `json:"type"`
		ChatID json.RawMessage `json:"chat_id"`
		UserID int64           `json:"user_id"`
	}
	if err := p.JSON("scope", &scope); err != nil {
		return key, badRequest("can't parse BotCommandScope JSON object")
	}
	chatID := string(scope.ChatID)
	if s, err := strconv.Unquote(chatID); err == nil {
		chatID = s
	}
	switch scope.Type {
	case "default", "all_private_chats", "all_group_chats", "all_chat_administrators":
		key.Scope = scope.Type
	case "chat", "chat_administrators":
		key.Scope = scope.Type + ":" + chatID
	case "chat_member":
		key.Scope = "chat_member:" + chatID + ":" + strconv.FormatInt(scope.UserID, 10)
	default:
		return key, badRequest("wrong BotCommandScope type specified")
	}
	return key, nil
}

func (s *Server) setMyCommands(_ context.Context, p Params) (any, *apiError) {
	var commands []models.BotCommand
	if err := p.JSON("commands", &commands); err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(commands) > maxCommands {
		return nil, badRequest("too many commands")
	}
	for _, c := range commands {
		if !validCommand(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf8.RuneCountInString(c.Description); n == 0 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	key, e := commandsKey(p)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(commands) == 0 {
		delete(s.commands, key)
	} else {
		s.commands[key] = commands
	}
	s.notifyChangedLocked()
	return true, nil
}

// validCommand: 1-32 lowercase letters, digits and underscores.
func validCommand(c string) bool {
	if c == "" || len(c) > 32 {
		return false
	}
	for _, r := range []byte(c) {
		if !(r >= 'a' && r <= 'z') && !(r >= '0' && r <= '9') && r != '_' {
			return false
		}
	}
	return true
}

// Commands returns the command list the bot set for scope and languageCode (see CommandsKey).
func (s *Server) Commands(scope, languageCode string) []models.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]models.BotCommand(nil), s.commands[CommandsKey{Scope: scope, LanguageCode: languageCode}]...)
}

// AllCommands returns every command list the bot set.
func (s *Server) AllCommands() map[CommandsKey][]models.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[CommandsKey][]models.BotCommand, len(s.commands))
	for k, v := range s.commands {
		out[k] = append([]models.BotCommand(nil), v...)
	}
	return out
}
