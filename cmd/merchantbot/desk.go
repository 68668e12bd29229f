package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/merchantbot/merchantbot/bot/chatq"
	"github.com/merchantbot/merchantbot/bot/sender"
	"github.com/merchantbot/merchantbot/dialogs/store"
)

const deskUsage = `usage: merchantbot desk resume

  resume   the support group refused the bot (403: it was removed, or may not
           post) and the desk's calls wait; once the bot is back with its
           rights, send them again. Reads REDIS_URL, REDIS_PREFIX and
           SUPPORT_CHAT_ID as serve does; a running serve sends within a
           second. (Adding the bot back to the group does the same on its own.)
`

// runDesk is `merchantbot desk <subcommand>`: the operator's levers on the
// support desk.
func runDesk(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "resume" {
		fmt.Fprint(stderr, deskUsage)
		return errors.New("desk: want `merchantbot desk resume`")
	}
	raw := getenv("SUPPORT_CHAT_ID")
	group, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || group >= 0 {
		return fmt.Errorf("SUPPORT_CHAT_ID: %q is not a group chat id (a negative number like -1001234567890)", raw)
	}
	url := getenv("REDIS_URL")
	if url == "" {
		return errors.New("REDIS_URL: required (the Redis serve uses)")
	}
	prefix := getenv("REDIS_PREFIX")
	if prefix == "" {
		prefix = store.DefaultPrefix
	}
	rdb, err := openRedis(ctx, url)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	defer rdb.Close()
	send := sender.New(rdb, sender.WithPrefix(prefix+"rl:"), sender.WithChatTag(chatq.ChatTag))
	was, err := send.Blocked(ctx, group)
	if err != nil {
		return err
	}
	if err := send.Unblock(ctx, group); err != nil {
		return err
	}
	q := chatq.New(rdb, chatq.WithPrefix(prefix), chatq.WithBlockedKey(send.BlockedKey))
	if err := q.Wake(ctx, group); err != nil {
		return err
	}
	waiting, err := q.OutboxLen(ctx, group)
	if err != nil {
		return err
	}
	state := "was not marked refused"
	if was {
		state = "was marked refused; cleared"
	}
	fmt.Fprintf(stdout, "support group %d %s; %d calls waiting are sent again\n", group, state, waiting)
	return nil
}
