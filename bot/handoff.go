package bot

import (
	"context"
	"fmt"
	"html"

	"github.com/merchantbot/merchantbot/dialogs"
)

// handOff tells support that a merchant asked for a person. For now it only
// logs and, with a support group set, posts the chat id and the step the
// merchant left there: never card data. The relay of messages through forum
// topics comes with the support hand-off.
func (b *Bot) handOff(ctx context.Context, u *update, step string) {
	if step == "" {
		step = dialogs.StepMenu
	}
	b.log.Info("merchant asked for support", "update_id", u.ID, "chat_id", u.chat, "step", step)
	if b.supportChat == 0 {
		return
	}
	text := fmt.Sprintf("🆘 商户请求人工客服 / A merchant asked for support\nchat: %d\nstep: %s", u.chat, step)
	m := outgoing{texts: []string{html.EscapeString(text)}}
	if err := b.post(ctx, b.supportChat, m); err != nil {
		b.log.Warn("support notice not sent", "chat_id", u.chat, "support_chat_id", b.supportChat)
	}
}
