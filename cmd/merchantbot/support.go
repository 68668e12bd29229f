package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // SUPPORT_TZ on the distroless image, which has no zoneinfo

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/bot"
	"github.com/merchantbot/merchantbot/bot/handoff"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/locales"
)

// supportConfig is the support desk's settings (SUPPORT_CHAT_ID is read
// with the rest of serveConfig).
type supportConfig struct {
	hours      dialogs.SupportHours
	sign       bool
	reannounce time.Duration
	lang       string
	agents     []int64 // SUPPORT_AGENTS: agents besides the group's administrators
}

// supportSettings are the desk's settings besides SUPPORT_CHAT_ID: given
// without it, they would be silently ignored, so they are refused.
var supportSettings = []string{"SUPPORT_HOURS", "SUPPORT_TZ", "SUPPORT_SIGN", "SUPPORT_REANNOUNCE", "SUPPORT_LANG"}

// loadSupportConfig reads SUPPORT_HOURS (in SUPPORT_TZ, Asia/Shanghai by
// default), SUPPORT_SIGN, SUPPORT_REANNOUNCE and SUPPORT_LANG; errors name
// the variable.
func loadSupportConfig(getenv func(string) string) (supportConfig, error) {
	c := supportConfig{reannounce: 5 * time.Minute, lang: locales.Chinese}
	tz := strings.TrimSpace(getenv("SUPPORT_TZ"))
	if tz == "" {
		tz = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return c, fmt.Errorf("SUPPORT_TZ: %q is not a time zone (e.g. Asia/Shanghai)", tz)
	}
	if raw := strings.TrimSpace(getenv("SUPPORT_HOURS")); raw != "" {
		if c.hours, err = dialogs.ParseSupportHours(raw, loc); err != nil {
			return c, fmt.Errorf("SUPPORT_HOURS: %w", err)
		}
	}
	if raw := strings.TrimSpace(getenv("SUPPORT_SIGN")); raw != "" {
		if c.sign, err = strconv.ParseBool(raw); err != nil {
			return c, fmt.Errorf("SUPPORT_SIGN: %q is not true or false", raw)
		}
	}
	if raw := strings.TrimSpace(getenv("SUPPORT_REANNOUNCE")); raw != "" {
		if c.reannounce, err = time.ParseDuration(raw); err != nil || c.reannounce < 0 {
			return c, fmt.Errorf("SUPPORT_REANNOUNCE: %q is not a duration like 5m (0 turns it off)", raw)
		}
	}
	if raw := strings.TrimSpace(getenv("SUPPORT_LANG")); raw != "" {
		if raw != locales.Chinese && raw != locales.English {
			return c, fmt.Errorf("SUPPORT_LANG: %q is not zh-Hans or en", raw)
		}
		c.lang = raw
	}
	if raw := strings.TrimSpace(getenv("SUPPORT_AGENTS")); raw != "" {
		for _, f := range strings.Split(raw, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil || id <= 0 {
				return c, fmt.Errorf("SUPPORT_AGENTS: %q is not a Telegram user id (a comma-separated list of positive numbers, like 12345678,87654321)", strings.TrimSpace(f))
			}
			c.agents = append(c.agents, id)
		}
	}
	return c, nil
}

// newDesk makes the support desk in group, writing through out, and checks
// at start that the group is a forum the bot may manage.
func newDesk(ctx context.Context, c supportConfig, api handoff.API, out *bot.Writer, rdb redis.UniversalClient, group int64, prefix string,
	catalog *locales.Catalog, acquirer handoff.Backend, buttons bot.ButtonCodec, send handoff.Sender, log *slog.Logger) (*handoff.Desk, error) {
	desk := handoff.New(api, out, out, rdb, group, catalog,
		handoff.WithPrefix(prefix), handoff.WithBackend(acquirer), handoff.WithLogger(log),
		handoff.WithButtons(buttons), handoff.WithAgents(c.agents...), handoff.WithSender(send),
		handoff.WithSignature(c.sign), handoff.WithReannounce(c.reannounce), handoff.WithGroupLanguage(c.lang))
	if err := desk.Check(ctx); err != nil {
		return nil, err // names SUPPORT_CHAT_ID and what to change
	}
	return desk, nil
}

// startDesk runs the desk's timers (batched relays, re-announcements) until
// ctx ends.
func startDesk(ctx context.Context, desk *handoff.Desk, log *slog.Logger) {
	go func() {
		if err := desk.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("support desk stopped", "err", err)
		}
	}()
}
