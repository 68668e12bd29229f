package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/dialogs"
	"github.com/merchantbot/merchantbot/dialogs/cardbin"
	"github.com/merchantbot/merchantbot/dialogs/store"
	"github.com/merchantbot/merchantbot/locales"
)

// runConsole is a merchant chat in the terminal: each stdin line is one
// message; each bot message is printed with its buttons as "  [N] label";
// typing N presses button N of the last message; EOF ends.
func runConsole(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lang := fs.String("lang", locales.Chinese, "language on first contact: zh-Hans or en")
	chat := fs.Int64("chat", 1, "chat id (with REDIS_URL, the same id resumes the same dialog)")
	reviewDelay := fs.Duration("review-delay", sandbox.DefaultReviewDelay, "how long the sandbox takes to review an application")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("console takes flags only, got %q", fs.Arg(0))
	}
	if *lang != locales.Chinese && *lang != locales.English {
		return fmt.Errorf("-lang: %q is not zh-Hans or en", *lang)
	}
	if *reviewDelay < 0 {
		return fmt.Errorf("-review-delay: %s is negative", *reviewDelay)
	}
	acq, err := loadBackendConfig(getenv)
	if err != nil {
		return err
	}
	if acq.url != "" && flagSet(fs, "review-delay") {
		return errors.New("-review-delay: only for the sandbox acquirer (BACKEND_URL unset or sandbox); the acquirer at BACKEND_URL reviews at its own pace")
	}
	log, err := newLogger(getenv, stderr, slog.LevelWarn)
	if err != nil {
		return err
	}
	if getenv("REDIS_URL") != "" && getenv("DATA_KEY") == "" {
		// A key made for one run could not read the dialog back after a restart.
		return errors.New("DATA_KEY: required with REDIS_URL (32 bytes, base64 or 64 hex characters)")
	}
	cipher, err := dataCipher(getenv, stderr)
	if err != nil {
		return err
	}
	var st dialogs.Store
	if url := getenv("REDIS_URL"); url != "" {
		rdb, err := openRedis(ctx, url)
		if err != nil {
			return err
		}
		defer rdb.Close()
		prefix := getenv("REDIS_PREFIX")
		if prefix == "" {
			prefix = "mbconsole:" // never a Telegram chat's dialog of the same id
		}
		st = store.NewRedis(rdb, cipher, store.WithPrefix(prefix))
	} else {
		st = store.NewMemory(cipher)
	}
	catalog, err := locales.Load()
	if err != nil {
		return err
	}
	bins, err := cardbin.Load()
	if err != nil {
		return err
	}
	acquirer, err := newAcquirer(acq, getenv, stderr, log, nil, sandbox.WithReviewDelay(*reviewDelay))
	if err != nil {
		return err
	}
	hotline, err := loadHotline(getenv)
	if err != nil {
		return err
	}
	// A terminal has no support desk: asking for a person gives the hotline.
	engine := dialogs.NewEngine(acquirer, bins, dialogs.WithLogger(log), dialogs.WithoutDesk(hotline))
	c := newConsole(engine, st, catalog, *chat, *lang, stdout)
	fmt.Fprintln(stderr, "merchantbot console: type /start to begin, a number to press a button, Ctrl-D to quit.")
	if err := c.resume(ctx); err != nil {
		return err
	}
	return c.loop(ctx, stdin)
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// dataCipher reads DATA_KEY, or makes a key for this run only.
func dataCipher(getenv func(string) string, stderr io.Writer) (*store.Cipher, error) {
	raw := getenv("DATA_KEY")
	var key []byte
	if raw == "" {
		fmt.Fprintln(stderr, "warning: DATA_KEY is not set; card data is encrypted with a random key for this run only.")
		key = store.RandomKey()
	} else {
		var err error
		if key, err = store.ParseKey(raw); err != nil {
			return nil, fmt.Errorf("DATA_KEY: %w", err)
		}
	}
	old, err := oldDataKeys(getenv)
	if err != nil {
		return nil, err
	}
	return store.NewCipher(key, old...)
}

// consoleLockWait is how long a console line waits for the chat's lock. It
// is held only by a process that was killed mid-turn (until the lock runs
// out) or another console on the same chat: a person at the terminal is
// better told at once to try again than kept waiting in silence.
const consoleLockWait = 2 * time.Second

func newConsole(e *dialogs.Engine, st dialogs.Store, c *locales.Catalog, chat int64, lang string, out io.Writer) *console {
	return &console{
		engine: e,
		store:  st,
		runner: dialogs.NewRunner(st, e, consoleLockWait),
		render: dialogs.NewRenderer(c, nil),
		chat:   chat,
		lang:   lang,
		out:    out,
	}
}

type console struct {
	engine *dialogs.Engine
	store  dialogs.Store
	runner *dialogs.Runner
	render *dialogs.Renderer
	chat   int64
	lang   string
	out    io.Writer

	msgID   int
	spoke   string           // the language of the bot's last answer
	buttons []dialogs.Button // of the last message
	seq     int
}

func (c *console) loop(ctx context.Context, stdin io.Reader) error {
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return nil
		}
		if err := c.say(ctx, c.input(strings.TrimRight(sc.Text(), "\r"))); err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	return nil
}

// resume shows the question a saved dialog is at (after a restart with
// Redis), so its buttons work again.
func (c *console) resume(ctx context.Context) error {
	st, err := c.store.Load(ctx, c.chat)
	if err != nil {
		return fmt.Errorf("load state: %w", err)
	}
	if st != nil {
		c.print(c.engine.Resume(ctx, st, true)) // a terminal shares no contact
	}
	return nil
}

// say hands one merchant input to the dialog and prints the answer. A chat
// locked by another process is not an error of the console: the line is
// answered "busy, try again" and nothing is changed.
func (c *console) say(ctx context.Context, in dialogs.Input) error {
	out, err := c.runner.Handle(ctx, c.chat, 0, in)
	if errors.Is(err, dialogs.ErrBusy) || errors.Is(err, dialogs.ErrLockLost) {
		fmt.Fprintf(c.out, "%s\n\n", c.render.Text(c.lastLang(), dialogs.MsgConsoleBusy, nil))
		return nil
	}
	if err != nil {
		return fmt.Errorf("handle message: %w", err)
	}
	c.print(out)
	return nil
}

// lastLang is the language the bot last spoke, or the -lang of first contact.
func (c *console) lastLang() string {
	if c.spoke != "" {
		return c.spoke
	}
	return c.lang
}

// input turns one line into what a Telegram client would have sent.
func (c *console) input(line string) dialogs.Input {
	c.msgID++
	in := dialogs.Input{Kind: dialogs.InText, Text: line, MessageID: c.msgID, LanguageCode: c.lang, NoContact: true}
	trimmed := strings.TrimSpace(line)
	if strings.HasPrefix(trimmed, "/") {
		name, arg, _ := strings.Cut(trimmed[1:], " ")
		name, _, _ = strings.Cut(name, "@")
		in.Kind, in.Text, in.Arg = dialogs.InCommand, name, strings.TrimSpace(arg)
		return in
	}
	// Only a plain number presses a button: "000001" is a code, not button 1.
	if n, err := strconv.Atoi(trimmed); err == nil && strconv.Itoa(n) == trimmed && n >= 1 && n <= len(c.buttons) {
		in.Kind, in.Data, in.Seq = dialogs.InButton, c.buttons[n-1].Data, c.seq
	}
	return in
}

func (c *console) print(out dialogs.Outcome) {
	if out.Lang != "" {
		c.spoke = out.Lang
	}
	for _, e := range out.Effects {
		switch e.Kind {
		case dialogs.DeleteMessage:
			fmt.Fprintf(c.out, "%s\n\n", c.render.Text(out.Lang, dialogs.MsgMessageDeleted, nil))
		case dialogs.HandOff, dialogs.Relay:
			// No desk here: say so, rather than leave a relayed message unanswered.
			fmt.Fprintf(c.out, "%s\n\n", c.render.Text(out.Lang, dialogs.MsgNoSupportDesk, nil))
		}
	}
	for _, r := range out.Replies {
		fmt.Fprintln(c.out, c.render.Reply(out.Lang, r))
		c.buttons = c.buttons[:0]
		for _, row := range r.Buttons {
			for _, b := range row {
				if b.RequestContact {
					continue // a terminal cannot share a contact: the merchant types the phone
				}
				c.buttons = append(c.buttons, b)
				fmt.Fprintf(c.out, "  [%d] %s\n", len(c.buttons), c.render.Button(out.Lang, b))
			}
		}
		fmt.Fprintln(c.out)
	}
	c.seq = out.Seq
}
