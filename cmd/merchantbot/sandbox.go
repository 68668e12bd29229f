package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// runSandbox serves the sandbox acquirer over HTTP (backend/openapi.yaml).
func runSandbox(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on")
	delay := fs.Duration("review-delay", sandbox.DefaultReviewDelay, "how long a review takes")
	eventsURL := fs.String("events-url", "", "push every status change there, signed with BACKEND_EVENTS_SECRET (the bot's /backend/events)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(getenv, stderr, slog.LevelInfo)
	if err != nil {
		return err
	}
	var pusher *sandbox.Pusher
	if *eventsURL != "" {
		u, err := url.Parse(*eventsURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("-events-url: want an http(s) URL such as http://127.0.0.1:8080/backend/events")
		}
		secret := getenv("BACKEND_EVENTS_SECRET")
		if len(secret) < 16 {
			return errors.New("BACKEND_EVENTS_SECRET: required with -events-url, at least 16 characters (the bot verifies events with it)")
		}
		pusher = sandbox.NewPusher(u.String(), []byte(secret), sandbox.PushLogger(log))
		go pusher.Run(ctx)
	}
	opts, err := sandboxOptions(getenv, stderr)
	if err != nil {
		return err
	}
	opts = append(opts, sandbox.WithReviewDelay(*delay), sandbox.WithEvents(func(r backend.Receipt) {
		log.Info("application status", "id", r.ID, "merchant", r.MerchantNo, "status", r.Status, "reason", r.Reason)
		if pusher != nil {
			pusher.Push(r)
		}
	}))
	sb := sandbox.New(opts...)
	var hopts []sandbox.HandlerOption
	if key := getenv("SANDBOX_API_KEY"); key != "" {
		hopts = append(hopts, sandbox.RequireAPIKey(key))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	srv := &http.Server{Handler: sandbox.Handler(sb, hopts...), ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(stdout, "sandbox acquirer listening on http://%s\n", ln.Addr())
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				sb.Tick() // reviews advance, and their events go out, without waiting for a request
			}
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// sandboxOptions reads the sandbox's own settings: SANDBOX_CODE fixes every
// SMS code and SANDBOX_RESEND_AFTER shortens the wait for a new one (demos,
// scripted tests); codes are printed to sms, marked as sandbox, as no SMS
// is sent (stderr for console and sandbox, stdout for serve, whose stderr is
// the log).
func sandboxOptions(getenv func(string) string, sms io.Writer) ([]sandbox.Option, error) {
	opts := []sandbox.Option{sandbox.WithCodeSink(func(phone, code string) {
		fmt.Fprintf(sms, "[sandbox SMS to %s] verification code %s\n", phone, code)
	})}
	if code := getenv("SANDBOX_CODE"); code != "" {
		if err := checkSandboxCode(code); err != nil {
			return nil, err
		}
		opts = append(opts, sandbox.WithCodes(func() string { return code }))
	}
	if v := getenv("SANDBOX_RESEND_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("SANDBOX_RESEND_AFTER: %q is not a duration like 60s", v)
		}
		opts = append(opts, sandbox.WithResendAfter(d))
	}
	if v := getenv("SANDBOX_LOAD_MERCHANTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > sandbox.MaxLoadMerchants {
			return nil, fmt.Errorf("SANDBOX_LOAD_MERCHANTS: %q is not a count from 0 to %d", v, sandbox.MaxLoadMerchants)
		}
		opts = append(opts, sandbox.WithLoadMerchants(n)) // load-test merchants beside the demo ones
	}
	return opts, nil
}

// checkSandboxCode accepts exactly 6 ASCII digits, as the sandbox sends.
func checkSandboxCode(code string) error {
	if d, err := parse.Code(code); err != nil || d != code {
		return errors.New("SANDBOX_CODE: want 6 digits")
	}
	return nil
}
