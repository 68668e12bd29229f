package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/bot"
	"github.com/merchantbot/merchantbot/bot/chatq"
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
	if (acq.url != "" || acq.wechatpay != nil) && flagSet(fs, "review-delay") {
		return errors.New("-review-delay: only for the sandbox acquirer (BACKEND_URL unset or sandbox); the acquirer at BACKEND_URL reviews at its own pace")
	}
	log, err := newLogger(getenv, stderr, slog.LevelWarn)
	if err != nil {
		return err
	}
	key, oldKeys, err := dataKeys(getenv)
	if err != nil {
		return err
	}
	if getenv("REDIS_URL") != "" && key == nil {
		// A key made for one run could not read the dialog back after a restart.
		return errors.New("DATA_KEY: required with REDIS_URL (32 bytes, base64 or 64 hex characters)")
	}
	cipher, err := dataCipher(key, oldKeys, stderr)
	if err != nil {
		return err
	}
	var record consoleRecord = chatq.NewMemory()
	resume := false
	var rdb redis.UniversalClient
	if url := getenv("REDIS_URL"); url != "" {
		rdb, err = openRedis(ctx, url)
		if err != nil {
			return err
		}
		defer rdb.Close()
		prefix := getenv("REDIS_PREFIX")
		if prefix == "" {
			prefix = "mbconsole:" // never a Telegram chat's dialog of the same id
		}
		if strings.ContainsAny(prefix, "{}") {
			return errors.New("REDIS_PREFIX: must not hold { or } (they would change the keys' cluster hash tags)")
		}
		if _, err := migrateLayout(ctx, rdb, prefix); err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		q := chatq.New(rdb, chatq.WithPrefix(prefix))
		if err := q.Preload(ctx); err != nil {
			return err
		}
		record, resume = q, true
	}
	catalog, err := locales.Load()
	if err != nil {
		return err
	}
	bins, err := cardbin.Load()
	if err != nil {
		return err
	}
	var acquirer dialogs.Backend
	if acq.wechatpay != nil && rdb != nil {
		// WeChat Pay's parts are serve's: the directory `directory import`
		// wrote, under REDIS_PREFIX (or serve's default), with DATA_KEY.
		st := consoleWechatpayStore(getenv, rdb, cipher, key, oldKeys)
		acquirer, err = newWechatpay(ctx, acq.wechatpay, st, getenv, stderr, log, nil)
		if err != nil {
			return err
		}
	} else if acquirer, err = newAcquirer(acq, getenv, stderr, log, nil, sandbox.WithReviewDelay(*reviewDelay)); err != nil {
		return err
	}
	hotline, err := loadHotline(getenv)
	if err != nil {
		return err
	}
	// A terminal has no support desk: asking for a person gives the hotline.
	engine := dialogs.NewEngine(acquirer, bins, append([]dialogs.Option{dialogs.WithLogger(log), dialogs.WithoutDesk(hotline)},
		acquirerOptions(acquirer)...)...)
	c, err := newConsole(ctx, engine, record, cipher, catalog, *chat, *lang, stdout, bot.WithLogger(log))
	if err != nil {
		return err
	}
	defer c.close()
	fmt.Fprintln(stderr, "merchantbot console: type /start to begin, a number to press a button, Ctrl-D to quit.")
	if resume {
		if err := c.resume(ctx); err != nil {
			return err
		}
	}
	return c.loop(ctx, stdin)
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// dataCipher seals with key (DATA_KEY), or, when it is unset, with a key
// for this run only.
func dataCipher(key []byte, old [][]byte, stderr io.Writer) (*store.Cipher, error) {
	if key == nil {
		fmt.Fprintln(stderr, "warning: DATA_KEY is not set; card data is encrypted with a random key for this run only.")
		key = store.RandomKey()
	}
	return store.NewCipher(key, old...)
}

// consoleRecord is the chat record the console runs the pipeline on, and
// what it reads to know a turn is over.
type consoleRecord interface {
	bot.ChatStore
	QueueLen(ctx context.Context, chat int64) (int64, error)
	OutboxLen(ctx context.Context, chat int64) (int64, error)
}

// consoleToken stands in for a bot token: the console's Bot API is the
// terminal, which asks for none.
const consoleToken = "0:console"

// consoleWebhook is where the console hands its updates to the bot.
const consoleWebhook = "/telegram"

// newConsole starts the pipeline merchants meet in Telegram — intake,
// queue, turn, commit, outbox, sender — on record, with the terminal as
// its Bot API.
func newConsole(ctx context.Context, e bot.Engine, record consoleRecord, cipher *store.Cipher, catalog *locales.Catalog,
	chat int64, lang string, out io.Writer, opts ...bot.Option) (*console, error) {
	api := &terminalAPI{out: out, chat: chat}
	opts = append([]bot.Option{
		bot.WithHTTPClient(&http.Client{Transport: api}),
		bot.WithoutContactButton(),
	}, opts...)
	b, err := bot.New(consoleToken, e, catalog, record, cipher, terminalSender{}, opts...)
	if err != nil {
		return nil, err
	}
	if err := b.Start(ctx); err != nil {
		return nil, err
	}
	run, stop := context.WithCancel(context.WithoutCancel(ctx))
	go b.Run(run)
	c := &console{bot: b, record: record, api: api, hook: b.Handler(consoleWebhook, ""), chat: chat, lang: lang, stop: stop}
	return c, nil
}

type console struct {
	bot    *bot.Bot
	record consoleRecord
	api    *terminalAPI
	hook   http.Handler
	chat   int64
	lang   string
	stop   context.CancelFunc
	update int64 // the last update id
}

// close stops the pipeline; what it did not finish stays in its record.
func (c *console) close() {
	c.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.bot.Drain(ctx)
}

func (c *console) loop(ctx context.Context, stdin io.Reader) error {
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return nil
		}
		if err := c.say(ctx, strings.TrimRight(sc.Text(), "\r")); err != nil {
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

// resume asks the dialog where a saved chat was (after a restart with
// Redis), so its question and buttons show again.
func (c *console) resume(ctx context.Context) error {
	if _, err := c.bot.Post(ctx, c.chat, "", dialogs.EventResume, ""); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	return c.settle(ctx)
}

// say turns one line into what a Telegram client would have sent: a
// plain number presses that button of the last message ("000001" is a
// code, not button 1); anything else is a message.
func (c *console) say(ctx context.Context, line string) error {
	trimmed := strings.TrimSpace(line)
	if n, err := strconv.Atoi(trimmed); err == nil && strconv.Itoa(n) == trimmed {
		if b, ok := c.api.button(n); ok {
			return c.press(ctx, b)
		}
	}
	m := c.message()
	m["text"] = line
	if strings.HasPrefix(line, "/") {
		word, _, _ := strings.Cut(line, " ")
		m["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": utf16Len(word)}}
	}
	return c.send(ctx, "message", m)
}

// press is a tap on b.
func (c *console) press(ctx context.Context, b terminalButton) error {
	c.update++
	return c.send(ctx, "callback_query", map[string]any{
		"id":            strconv.FormatInt(c.update, 10),
		"from":          c.from(),
		"chat_instance": "console",
		"data":          b.data,
		"message":       map[string]any{"message_id": b.message, "date": 0, "chat": c.chatJSON()},
	})
}

func (c *console) from() map[string]any {
	return map[string]any{"id": c.chat, "is_bot": false, "first_name": "console", "language_code": c.lang}
}

func (c *console) chatJSON() map[string]any { return map[string]any{"id": c.chat, "type": "private"} }

// message is a new message of the merchant, without its content.
func (c *console) message() map[string]any {
	return map[string]any{"message_id": c.api.nextMessage(), "date": 0, "chat": c.chatJSON(), "from": c.from()}
}

// send hands the update to the bot as Telegram would, and waits until the
// bot applied it and printed what it said.
func (c *console) send(ctx context.Context, kind string, v map[string]any) error {
	if id := time.Now().UnixMilli(); id > c.update {
		c.update = id // increasing across restarts: an applied id is never reused
	} else {
		c.update++
	}
	raw, err := json.Marshal(map[string]any{"update_id": c.update, kind: v})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, consoleWebhook, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	w := &consoleResponse{header: http.Header{}}
	c.hook.ServeHTTP(w, req)
	if w.code != 0 && w.code != http.StatusOK {
		return fmt.Errorf("the bot refused the update: HTTP %d %s", w.code, w.body.String())
	}
	// A method in the answer (a button's answerCallbackQuery) is run as
	// Telegram would run it: here, by the terminal.
	if err := c.api.runAnswer(ctx, w.body.Bytes()); err != nil {
		return err
	}
	return c.settle(ctx)
}

// settle waits until the chat's queue and outbox are empty: every reply
// was printed.
func (c *console) settle(ctx context.Context) error {
	for {
		q, err := c.record.QueueLen(ctx, c.chat)
		if err != nil {
			return err
		}
		o, err := c.record.OutboxLen(ctx, c.chat)
		if err != nil {
			return err
		}
		if q == 0 && o == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// consoleResponse is the webhook's answer, read by send.
type consoleResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (w *consoleResponse) Header() http.Header         { return w.header }
func (w *consoleResponse) Write(p []byte) (int, error) { return w.body.Write(p) }
func (w *consoleResponse) WriteHeader(code int)        { w.code = code }

// consoleWechatpayStore is serve's Redis parts of WeChat Pay, for the
// console: REDIS_PREFIX (default serve's), and DATA_KEY (key, required
// with REDIS_URL) and DATA_KEY_OLD (old) as run read them.
func consoleWechatpayStore(getenv func(string) string, rdb redis.UniversalClient, cipher *store.Cipher, key []byte, old [][]byte) wechatpayStore {
	prefix := getenv("REDIS_PREFIX")
	if prefix == "" {
		prefix = store.DefaultPrefix
	}
	return wechatpayStore{rdb: rdb, prefix: prefix, cipher: cipher, dataKey: key, oldKeys: old}
}
