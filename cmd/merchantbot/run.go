package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

const usage = `usage: merchantbot <command> [flags]

commands:
  console   chat with the bot in this terminal (embedded defaults: in-memory
            state unless REDIS_URL is set, the sandbox acquirer in-process)
  serve     run the Telegram bot (see README for the environment)
  sandbox   run the sandbox acquirer API as an HTTP server
  healthcheck
            exit 0 if the server at HTTP_ADDR answers /healthz (for
            container health checks; -path /readyz checks Redis too)
  desk resume
            send the support desk's waiting calls again after the support
            group refused the bot (docs/SUPPORT.md)
  directory import FILE
            replace the operator's merchant directory (CSV) for an acquirer
            that does not know its merchants' phones (docs/ACQUIRERS.md)

The load tool is its own command, merchantbot-load (docs/LOADTEST.md).
`

// run is the whole program; main only wires the process to it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "console":
		return runConsole(ctx, rest, getenv, stdin, stdout, stderr)
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "sandbox":
		return runSandbox(ctx, rest, getenv, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, rest, getenv, stdout, stderr)
	case "desk":
		return runDesk(ctx, rest, getenv, stdout, stderr)
	case "directory":
		return runDirectory(ctx, rest, getenv, stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// newLogger logs JSON to w at LOG_LEVEL (debug, info, warn, error), with
// ids hashed and personal data scrubbed (logprivacy.go).
func newLogger(getenv func(string) string, w io.Writer, fallback slog.Level) (*slog.Logger, error) {
	level := fallback
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(strings.ToLower(v))); err != nil {
			return nil, fmt.Errorf("LOG_LEVEL: %q is not one of debug, info, warn, error", v)
		}
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: privateLogAttrs(logIDKey(getenv))})), nil
}
