package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/redis/go-redis/v9"
)

// floorReady is the log line the floor bot prints once it takes updates.
const floorReady = "floor bot serving"

// runFloorBot is the do-nothing bot the load test compares merchantbot with:
// go-telegram/bot with its defaults, answering every update with one
// sendMessage and keeping no state. It runs as a child of merchantbot-load
// (-floor-bot) with the same environment as serve (TELEGRAM_TOKEN,
// TELEGRAM_API_URL, HTTP_ADDR and, for webhook mode, WEBHOOK_URL +
// WEBHOOK_SECRET).
//
// With FLOOR_REDIS_URL set (-durable-floor) it is the durable floor: the
// same bot doing the least that merchantbot's delivery contract asks of
// Redis (DESIGN.md §5), and nothing else: each update is stored in its
// chat's list before the webhook is answered (one round trip), and the
// reply is written to the chat's outbox with the chat's new state in one
// MULTI before it is sent (a second). No dialog, no pipelining across
// chats, no marks: what any bot that keeps those two promises pays at least.
//
// With FLOOR_CONTRACT=1 as well (-contract-floor) it is the contract floor:
// the durable floor that also keeps what README promises beyond those two
// writes, in the fewest commands that can: the update is stored by its id
// (ZADD NX: a redelivery still queued is not stored twice); the MULTI also
// takes the applied update off the queue and records its id (what a
// redelivery is recognised by); and the reply, once Telegram took it, is
// removed from the outbox (LPOP: the mark, a third round trip), so that
// nothing grows without end and a crash repeats at most the reply in
// flight. Still no dialog, no encryption, no locks, no failover, no check of
// the recorded id: less than any bot that keeps README's guarantees does.
func runFloorBot(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	var rdb redis.UniversalClient
	prefix := getenv("REDIS_PREFIX")
	contract := getenv("FLOOR_CONTRACT") == "1"
	if url := getenv("FLOOR_REDIS_URL"); url != "" {
		var err error
		if rdb, err = loadRedis(url); err != nil {
			return fmt.Errorf("floor bot: %w", err)
		}
		defer rdb.Close()
	}
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
		if rdb != nil {
			tag := "{" + strconv.FormatInt(chat, 10) + "}"
			if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				if contract {
					id := strconv.FormatInt(u.ID, 10)
					p.ZRemRangeByScore(ctx, prefix+"fq:"+tag, id, id)
					p.Set(ctx, prefix+"fu:"+tag, id, 0)
				}
				p.Set(ctx, prefix+"fs:"+tag, u.ID, 0)
				p.RPush(ctx, prefix+"fo:"+tag, "ok")
				return nil
			}); err != nil {
				log.Error("commit", "err", err)
				return
			}
		}
		if _, err := b.SendMessage(ctx, &tg.SendMessageParams{ChatID: chat, Text: "ok"}); err != nil {
			log.Error("send", "err", err)
			return
		}
		if contract && rdb != nil {
			if err := rdb.LPop(ctx, prefix+"fo:{"+strconv.FormatInt(chat, 10)+"}").Err(); err != nil {
				log.Error("mark sent", "err", err)
			}
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
	var handler http.Handler = b.WebhookHandler()
	if rdb != nil {
		handler = storeFirst(rdb, prefix, contract, handler, log)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
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

// storeFirst is the durable floor's intake: the update goes to its chat's
// list in Redis (the contract floor's: its queue, by update id) before next
// (go-telegram/bot's handler) takes it and the webhook is answered; when
// Redis fails, Telegram is asked to deliver again.
func storeFirst(rdb redis.UniversalClient, prefix string, contract bool, next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		var u struct {
			ID      int64 `json:"update_id"`
			Message *struct {
				Chat struct {
					ID int64 `json:"id"`
				} `json:"chat"`
			} `json:"message"`
			CallbackQuery *struct {
				From struct {
					ID int64 `json:"id"`
				} `json:"from"`
			} `json:"callback_query"`
		}
		_ = json.Unmarshal(body, &u)
		var chat int64
		switch {
		case u.Message != nil:
			chat = u.Message.Chat.ID
		case u.CallbackQuery != nil:
			chat = u.CallbackQuery.From.ID // a private chat's id is its user's
		}
		key := prefix + "fq:{" + strconv.FormatInt(chat, 10) + "}"
		var stored *redis.IntCmd
		if contract {
			stored = rdb.ZAddNX(r.Context(), key, redis.Z{Score: float64(u.ID), Member: body})
		} else {
			stored = rdb.RPush(r.Context(), key, body)
		}
		if err := stored.Err(); err != nil {
			log.Error("store update", "err", err)
			http.Error(w, "store", http.StatusInternalServerError)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}
