package bot

import (
	"fmt"
	"html"

	"github.com/merchantbot/merchantbot/bot/outbox"
	"github.com/merchantbot/merchantbot/dialogs"
)

// handOff tells support that a merchant asked for a person: with a support
// group set, a notice with the chat id and the step the merchant left
// (never card data) goes to the group's own outbox, committed with the turn.
func (b *Bot) handOff(chat int64, step string) []outbox.Call {
	if step == "" {
		step = dialogs.StepMenu
	}
	b.log.Info("merchant asked for support", "chat_id", chat, "step", step)
	if b.supportChat == 0 {
		return nil
	}
	text := fmt.Sprintf("🆘 商户请求人工客服 / A merchant asked for support\nchat: %d\nstep: %s", chat, step)
	return []outbox.Call{call("sendMessage", sendMessageParams{
		ChatID: b.supportChat, Text: html.EscapeString(text), ParseMode: "HTML", LinkPreviewOptions: noPreview,
	}, outbox.Group)}
}
