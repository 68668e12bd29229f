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
func (b *Bot) handOff(ctx context.Context, u *update) {
	step := b.stepLeft(ctx, u.chat)
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

// stepLeft is the step the merchant was at before asking for support.
func (b *Bot) stepLeft(ctx context.Context, chat int64) string {
	if b.states == nil {
		return "unknown"
	}
	st, err := b.states.Load(ctx, chat)
	if err != nil || st == nil {
		return "unknown"
	}
	if st.Step == dialogs.StepSupport && st.Ret != "" {
		return st.Ret
	}
	return st.Step
}
