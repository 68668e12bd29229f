package main

import (
	"context"
	"errors"
	"io"
)

// runServe runs the Telegram bot. It is built in bot/ and wired here.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("serve: not built yet")
}
