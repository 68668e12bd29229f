package bot

import (
	"context"
	"errors"
	"fmt"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/bot/sender"
)

// commandMenu is the command list a client shows, in each language Telegram
// can pick by the user's language_code ("" is the default list, for every
// other language). The texts live here rather than in locales/ because only
// Telegram shows them, and its limits (3-256 characters) apply.
func commandMenu() map[string][]models.BotCommand {
	zh := []models.BotCommand{
		{Command: "start", Description: "主菜单 · 更换结算卡"},
		{Command: "status", Description: "查询审核进度"},
		{Command: "help", Description: "帮助：我现在在哪一步"},
		{Command: "back", Description: "返回上一步"},
		{Command: "cancel", Description: "取消当前操作"},
		{Command: "support", Description: "联系人工客服"},
		{Command: "language", Description: "切换语言 / Language"},
	}
	en := []models.BotCommand{
		{Command: "start", Description: "Menu · change settlement card"},
		{Command: "status", Description: "Check review status"},
		{Command: "help", Description: "Help: where am I"},
		{Command: "back", Description: "Previous question"},
		{Command: "cancel", Description: "Stop what I am doing"},
		{Command: "support", Description: "Talk to support"},
		{Command: "language", Description: "Language / 切换语言"},
	}
	// Most merchants write in Chinese: it is the default list too.
	return map[string][]models.BotCommand{"": zh, "zh": zh, "en": en}
}

// setCommands sets the command menu for every language of commandMenu.
func (b *Bot) setCommands(ctx context.Context) error {
	var errs []error
	for lang, cmds := range commandMenu() {
		p := &tg.SetMyCommandsParams{Commands: cmds, Scope: &models.BotCommandScopeDefault{}, LanguageCode: lang}
		err := b.send.Do(ctx, 0, sender.Unlimited, func(ctx context.Context) error {
			_, err := b.api.SetMyCommands(ctx, p)
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("language %q: %w", lang, err))
		}
	}
	return errors.Join(errs...)
}
