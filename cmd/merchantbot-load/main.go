// Command merchantbot-load measures merchantbot serve from outside: simulated
// merchants talk to it through a fake Telegram Bot API on loopback
// (internal/telegramtest), beside a do-nothing go-telegram/bot bot run in
// the same harness. It is a tool, not the product: the merchantbot binary
// links neither it nor the fake (cmd/merchantbot's TestProductionDeps).
// See docs/LOADTEST.md and docs/PERFORMANCE.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "merchantbot-load:", err)
		os.Exit(1)
	}
}

// run is the whole program; main only wires the process to it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runLoadtest(ctx, args[1:], getenv, stdout, stderr)
}
