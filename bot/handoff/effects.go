package handoff

import (
	"context"
	"errors"

	"github.com/go-telegram/bot/models"

	"github.com/merchantbot/merchantbot/dialogs"
)

// Apply carries out the hand-off effects of one dialog outcome for merchant
// chat: HandOff opens, Relay relays msg (the update's message, or its
// edited message with edited set), HandOffEnd tells the agent the merchant
// left, Rated marks the topic. Other effects are not the desk's. Every
// effect is tried; the errors are joined.
func (d *Desk) Apply(ctx context.Context, chat int64, effects []dialogs.Effect, msg *models.Message, edited bool) error {
	var errs []error
	for _, e := range effects {
		var err error
		switch e.Kind {
		case dialogs.HandOff:
			info := dialogs.HandOffInfo{Step: e.Step}
			if e.Info != nil {
				info = *e.Info
			}
			err = d.Open(ctx, chat, info)
		case dialogs.Relay:
			if msg != nil && msg.ID == e.MessageID {
				err = d.Relay(ctx, chat, msg, edited)
			}
		case dialogs.HandOffEnd:
			err = d.Left(ctx, chat)
		case dialogs.Rated:
			err = d.Rated(ctx, chat, e.Rating)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
