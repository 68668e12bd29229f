// Command merchantbot is the settlement-card change bot: `console` (a chat
// in the terminal), `serve` (Telegram) and `sandbox` (the acquirer sandbox
// as an HTTP server).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "merchantbot:", err)
		os.Exit(1)
	}
}
