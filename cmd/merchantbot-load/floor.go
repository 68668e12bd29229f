package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// floorReady is the log line the floor bot prints once it takes updates.
const floorReady = "floor bot serving"

// runFloorBot is the do-nothing bot the load test compares merchantbot with:
// go-telegram/bot with its defaults, answering every update with one
// sendMessage and keeping no state. It runs as a child of merchantbot-load
// (-floor-bot) with the same environment as serve (TELEGRAM_TOKEN,
// TELEGRAM_API_URL, HTTP_ADDR and, for webhook mode, WEBHOOK_URL +
// WEBHOOK_SECRET).
func runFloorBot(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	answer := func(ctx context.Context, b *tg.Bot, u *models.Update) {
		var chat int64
		switch {
		case u.Message != nil:
			chat = u.Message.Chat.ID
		case u.CallbackQuery != nil && u.CallbackQuery.Message.Message != nil:
			chat = u.CallbackQuery.Message.Message.Chat.ID
		case u.CallbackQuery != nil && u.CallbackQuery.Message.InaccessibleMessage != nil:
			chat = u.CallbackQuery.Message.InaccessibleMessage.Chat.ID
		default:
			return
		}
		if _, err := b.SendMessage(ctx, &tg.SendMessageParams{ChatID: chat, Text: "ok"}); err != nil {
			log.Error("send", "err", err)
		}
	}
	webhookURL, secret := getenv("WEBHOOK_URL"), getenv("WEBHOOK_SECRET")
	opts := []tg.Option{
		tg.WithServerURL(getenv("TELEGRAM_API_URL")),
		tg.WithDefaultHandler(answer),
		tg.WithErrorsHandler(func(err error) {
			log.Error("go-telegram/bot", "err", err)
		}),
	}
	if webhookURL != "" {
		opts = append(opts, tg.WithWebhookSecretToken(secret))
	}
	b, err := tg.New(getenv("TELEGRAM_TOKEN"), opts...)
	if err != nil {
		return fmt.Errorf("floor bot: %w", err)
	}
	if webhookURL == "" {
		if _, err := b.DeleteWebhook(ctx, &tg.DeleteWebhookParams{}); err != nil {
			return fmt.Errorf("floor bot: delete webhook: %w", err)
		}
		log.Info(floorReady, "mode", "long polling")
		b.Start(ctx)
		return nil
	}
	ln, err := net.Listen("tcp", getenv("HTTP_ADDR"))
	if err != nil {
		return fmt.Errorf("floor bot: %w", err)
	}
	srv := &http.Server{Handler: b.WebhookHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	if _, err := b.SetWebhook(ctx, &tg.SetWebhookParams{URL: webhookURL, SecretToken: secret}); err != nil {
		return fmt.Errorf("floor bot: set webhook: %w", err)
	}
	log.Info(floorReady, "mode", "webhook")
	b.StartWebhook(ctx)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
