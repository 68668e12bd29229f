package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/merchantbot/merchantbot/internal/telegramtest"
)

// loadConfig is the command line of `merchantbot-load`.
type loadConfig struct {
	mode          string // dialog or notify
	transport     string // webhook or polling
	merchants     int
	replicas      int
	floor         bool
	durableFloor  bool   // also run the durable floor (floor.go) and print it against the floor
	contractFloor bool   // also run the contract floor (floor.go) and print it against the floor
	floorKind     string // this floor run's: "" the floor, "durable", "contract"
	timeout       time.Duration
	settle        time.Duration
	redisURL      string
	profileDir    string
	cpuSeconds    int
	events        int
	exe           string // this binary, for the floor bot child
	bot           string // the merchantbot binary under test (serve, sandbox)
	trace         bool
	httpAcquirer  bool
	stderr        io.Writer
}

const loadUsage = `merchantbot-load runs simulated merchants against merchantbot serve
(started as a child process of the merchantbot binary named by -bot) through a
fake Telegram Bot API on loopback, with the in-process sandbox acquirer and the
real Redis, and prints throughput, latency, Redis cost, memory and errors,
beside a do-nothing go-telegram/bot bot run in the same harness. See
docs/LOADTEST.md and docs/PERFORMANCE.md.
`

// runLoadtest is `merchantbot-load` (args without the program name).
func runLoadtest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("merchantbot-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, loadUsage); fs.PrintDefaults() }
	var c loadConfig
	fs.StringVar(&c.mode, "mode", "dialog", "dialog: the whole card change; notify: status notifications under Telegram's limits")
	fs.StringVar(&c.transport, "transport", "webhook", "webhook or polling")
	fs.IntVar(&c.merchants, "merchants", 300, "simulated merchants, all at once (1-5000)")
	fs.IntVar(&c.replicas, "replicas", 1, "serve processes against one Redis (webhook only for more than 1)")
	fs.BoolVar(&c.floor, "floor", true, "also run the do-nothing go-telegram/bot bot and print ratios to it")
	fs.BoolVar(&c.durableFloor, "durable-floor", false, "also run the durable floor (the do-nothing bot plus the two Redis writes merchantbot's delivery contract needs per update) and print it against the floor")
	fs.BoolVar(&c.contractFloor, "contract-floor", false, "also run the contract floor (the durable floor that also takes each applied update off its queue, records its id and marks each reply sent: three round trips per update) and print it against the floor")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "longest a run of merchants may take (each bot)")
	fs.DurationVar(&c.settle, "settle", 20*time.Millisecond, "quiet time after which a merchant takes the bot's answer as complete")
	fs.StringVar(&c.redisURL, "redis", "private", "private: a redis-server of its own on loopback (exact counters); or a loopback Redis URL, whose other clients' traffic is estimated and taken off")
	fs.StringVar(&c.profileDir, "profile", "", "write CPU and allocation profiles of the (first) serve process to this directory")
	fs.IntVar(&c.cpuSeconds, "cpu-seconds", 10, "length of the CPU profile, from the start of the merchants")
	fs.IntVar(&c.events, "events", 10000, "notify mode: status changes to push")
	fs.BoolVar(&c.httpAcquirer, "http-acquirer", false, "run the sandbox acquirer as its own process over HTTP (always so with -replicas > 1), to compare one replica with two on equal terms")
	fs.BoolVar(&c.trace, "trace", false, "print the first merchant's conversation (digits masked) to stderr")
	fs.StringVar(&c.bot, "bot", "", "the merchantbot executable to measure; empty: merchantbot beside this binary, else one built from this module with go build")
	floorBot := fs.Bool("floor-bot", false, "(internal) run as the do-nothing bot child")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *floorBot {
		return runFloorBot(ctx, getenv, stderr)
	}
	switch {
	case c.mode != "dialog" && c.mode != "notify":
		return fmt.Errorf("-mode: %q is not dialog or notify", c.mode)
	case c.transport != "webhook" && c.transport != "polling":
		return fmt.Errorf("-transport: %q is not webhook or polling", c.transport)
	case c.merchants < 1 || c.merchants > 5000:
		return fmt.Errorf("-merchants: %d is not 1-5000", c.merchants)
	case c.replicas < 1 || c.replicas > 4:
		return fmt.Errorf("-replicas: %d is not 1-4", c.replicas)
	case c.replicas > 1 && c.transport == "polling":
		return errors.New("-replicas: only one poller may call getUpdates; use -transport webhook for replicas")
	case c.timeout <= 0 || c.timeout > 10*time.Minute:
		return fmt.Errorf("-timeout: %s is not in (0, 10m]", c.timeout)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this binary: %w", err)
	}
	c.exe = exe
	if c.redisURL == "private" {
		url, stop, err := privateRedis(ctx)
		if err != nil {
			return err
		}
		defer stop()
		c.redisURL = url
	}
	c.stderr = stderr
	rdb, err := loadRedis(c.redisURL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	bot, cleanup, err := findBot(ctx, c.bot, exe, stderr)
	if err != nil {
		return err
	}
	defer cleanup()
	c.bot = bot
	if c.mode == "notify" {
		return runNotifyLoad(ctx, c, rdb, stdout)
	}

	fmt.Fprintf(stdout, "merchantbot-load: dialog, %s, %d merchants, %d replica(s), redis %s, %s, %d CPUs, %s/%s\n",
		c.transport, c.merchants, c.replicas, c.redisURL, runtime.Version(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	ours, err := runDialogLoad(ctx, c, rdb, false, nil, stdout)
	if err != nil {
		return err
	}
	var floor *loadResult
	if c.floor {
		if floor, err = runDialogLoad(ctx, c, rdb, true, ours.template, stdout); err != nil {
			return err
		}
	}
	printLoadReport(stdout, c, ours, floor)
	for _, f := range []struct {
		on         bool
		kind, what string
	}{
		{c.durableFloor, "durable", "the durable floor (one Redis write before the webhook's answer, one MULTI before the reply)"},
		{c.contractFloor, "contract", "the contract floor (the durable floor, and the applied update off its queue, its id recorded, the reply marked sent: three round trips)"},
	} {
		if !c.floor || !f.on {
			continue
		}
		d := c
		d.floorKind = f.kind
		res, err := runDialogLoad(ctx, d, rdb, true, ours.template, stdout)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\n%s against the floor:\n", f.what)
		printLoadReport(stdout, c, res, floor)
	}
	if ours.failed > 0 || ours.outOfOrder > 0 || ours.divergent > 0 {
		return fmt.Errorf("load run: %d merchants failed, %d bursts out of order or doubled, %d transcripts differ",
			ours.failed, ours.outOfOrder, ours.divergent)
	}
	return nil
}

// loadResult is one bot's run.
type loadResult struct {
	name           string
	updates        int
	elapsed        time.Duration // from the first update to the last merchant's end, pauses taken off
	latencies      []time.Duration
	failed         int
	firstErrors    []string
	outOfOrder     int // opening bursts not answered once each, in order
	divergent      int // merchants whose whole transcript differs from the majority's
	diverged       string
	completed      int
	peakRSS        []int64 // KiB, per process
	cpu            time.Duration
	harnessCPU     time.Duration // this process: fake Bot API, relay, merchants
	redis          redisUse
	memPerChat     float64 // bytes of Redis per active dialog
	memoArrived    int     // merchants holding a collected card when Redis was measured
	keysPerChat    float64
	calls          map[string]int
	refused        map[int]int
	logLevels      map[string]int
	logFirst       []string
	dropped        int64
	redelivered    int64
	inAnswers      int64 // Bot API methods carried by webhook answers (not in calls)
	answersRefused int64 // those the fake refused
	backendNote    string
	template       []simAction
}

// runDialogLoad runs c.merchants merchants through the whole card change
// against serve (or, with floor, the do-nothing bot) and measures.
// The floor replays template, what a merchant did in merchantbot's run.
func runDialogLoad(ctx context.Context, c loadConfig, rdb redis.UniversalClient, floor bool, template []simAction, stdout io.Writer) (*loadResult, error) {
	res := &loadResult{name: "merchantbot"}
	base := int64(7_000_000_000)
	switch {
	case floor && c.floorKind == "durable":
		res.name, base = "durable floor", base+2_000_000
	case floor && c.floorKind == "contract":
		res.name, base = "contract floor", base+3_000_000
	case floor:
		res.name, base = "floor", base+1_000_000
	}
	chats := make([]int64, c.merchants+1) // chats[0] is the probe
	for i := range chats {
		chats[i] = base + int64(i)
	}
	fake := telegramtest.New(telegramtest.WithoutCallLog())
	defer fake.Close()
	front := newAPIFront(fake, chats)
	frontURL, stopFront, err := serveLoopback(front)
	if err != nil {
		return nil, err
	}
	defer stopFront()

	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	secret := randomHex(16)
	prefix := "mbload:" + randomHex(6) + ":"
	defer func() { _ = dropPrefix(context.WithoutCancel(ctx), rdb, prefix) }()

	var relay *webhookRelay
	relayURL := ""
	addrs := make([]string, c.replicas)
	for i := range addrs {
		if addrs[i], err = freeLoopbackAddr(); err != nil {
			return nil, err
		}
	}
	if c.transport == "webhook" {
		targets := make([]string, len(addrs))
		for i, a := range addrs {
			targets[i] = "http://" + a + "/tg"
		}
		relay = newWebhookRelay(runCtx, fake, targets)
		u, stopRelay, err := serveLoopback(relay)
		if err != nil {
			return nil, err
		}
		defer stopRelay()
		relayURL = u + "/tg"
	}

	pprofAddr := ""
	if c.profileDir != "" && !floor {
		if pprofAddr, err = freeLoopbackAddr(); err != nil {
			return nil, err
		}
	}
	backendURL := "sandbox"
	dataKey := randomHex(32) // one key for all replicas: state and buttons are shared
	var children []*child
	defer func() {
		for _, ch := range children {
			ch.stop(15 * time.Second)
		}
	}()
	if (c.replicas > 1 || c.httpAcquirer) && !floor {
		// Replicas share one acquirer, as in production: each in-process
		// sandbox would know only the codes it sent itself.
		sbAddr, err := freeLoopbackAddr()
		if err != nil {
			return nil, err
		}
		sb, err := startChild("sandbox", c.bot, []string{"sandbox", "-addr", sbAddr}, childEnv(map[string]string{
			"SANDBOX_CODE": loadCode, "SANDBOX_LOAD_MERCHANTS": strconv.Itoa(c.merchants), "LOG_LEVEL": "warn",
		}), "")
		if err != nil {
			return nil, err
		}
		defer sb.stop(5 * time.Second)
		if err := waitListening(runCtx, sbAddr); err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		backendURL = "http://" + sbAddr
		res.backendNote = "the acquirer is `merchantbot sandbox` at " + backendURL + ", shared by the replicas (its CPU and memory are not counted as the bot's)"
	}
	for i, addr := range addrs {
		env := childEnv(map[string]string{
			"TELEGRAM_TOKEN":         fake.Token(),
			"TELEGRAM_API_URL":       frontURL,
			"HTTP_ADDR":              addr,
			"REDIS_URL":              c.redisURL,
			"REDIS_PREFIX":           prefix,
			"BACKEND_URL":            backendURL,
			"SANDBOX_CODE":           loadCode,
			"SANDBOX_LOAD_MERCHANTS": strconv.Itoa(c.merchants),
			"SEND_RATE":              "0",
			"SEND_RATE_CHAT":         "0",
			"DATA_KEY":               dataKey,
			"LOG_LEVEL":              "info",
		})
		if backendURL != "sandbox" && backendURL != "" {
			env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "SANDBOX_") })
		}
		if relayURL != "" {
			env = append(env, "WEBHOOK_URL="+relayURL, "WEBHOOK_SECRET="+secret)
		}
		if i == 0 && pprofAddr != "" {
			env = append(env, "PPROF_ADDR="+pprofAddr)
		}
		exe, args, ready := c.bot, []string{"serve"}, "merchantbot serving"
		if floor {
			exe, args, ready = c.exe, []string{"-floor-bot"}, floorReady
			switch c.floorKind {
			case "durable":
				env = append(env, "FLOOR_REDIS_URL="+c.redisURL)
			case "contract":
				env = append(env, "FLOOR_REDIS_URL="+c.redisURL, "FLOOR_CONTRACT=1")
			}
		}
		ch, err := startReady(runCtx, fmt.Sprintf("%s %d", res.name, i+1), exe, args, env, ready)
		if err != nil {
			return nil, err
		}
		children = append(children, ch)
	}

	rec, err := newRecogniser()
	if err != nil {
		return nil, err
	}
	newMerchant := func(i int) *simMerchant {
		m := &simMerchant{
			chat: chats[i], no: fmt.Sprintf("8229%011d", i-1), phone: fmt.Sprintf("139%08d", i-1),
			events: front.chats[chats[i]], fake: fake, settle: c.settle, stuck: 15 * time.Second,
		}
		if !floor {
			m.rec = rec // the floor bot answers "ok" to everything: nothing to read
		}
		return m
	}
	// The probe learns how the opening burst is answered, one update at a
	// time, before any load.
	probe := newMerchant(0)
	var burst []string
	if !floor {
		for _, cmd := range openingBurst {
			var r merchantResult
			probe.push(simAction{kind: "command", text: cmd})
			slowProbe := *probe
			slowProbe.settle = 300 * time.Millisecond
			if _, _, err := slowProbe.await(runCtx, &r, time.Time{}, func(botEvent) bool { return true }); err != nil {
				return nil, fmt.Errorf("probe %s: %w", cmd, err)
			}
			burst = append(burst, r.seen...)
		}
	}

	// Other clients of the same Redis, measured for a second before the run,
	// are taken off the run's counters.
	bgFrom, err := readRedisCounters(runCtx, rdb)
	if err != nil {
		return nil, err
	}
	sleepCtx(runCtx, time.Second)
	bgTo, _ := readRedisCounters(runCtx, rdb)
	cpuBefore := make([]time.Duration, len(children))
	for i, ch := range children {
		u, _ := readProc(ch.cmd.Process.Pid)
		cpuBefore[i] = u.cpu
	}
	selfBefore, _ := readProc(os.Getpid())
	var profileDone chan error
	if pprofAddr != "" {
		profileDone = make(chan error, 1)
		go func() {
			profileDone <- fetchProfile(runCtx, pprofAddr, fmt.Sprintf("profile?seconds=%d", c.cpuSeconds),
				filepath.Join(c.profileDir, "cpu.pprof"))
		}()
	}

	// The memo pause: once every merchant holds a collected card, Redis is
	// measured; the pause is taken off the elapsed time.
	var (
		arrived  atomic.Int64
		finished atomic.Int64
		release  = make(chan struct{})
		paused   time.Duration
	)
	memo := func() {
		arrived.Add(1)
		<-release
	}
	loadCtx, cancelLoad := context.WithTimeout(runCtx, c.timeout)
	defer cancelLoad()
	before, err := readRedisCounters(runCtx, rdb)
	if err != nil {
		return nil, err
	}
	results := make([]merchantResult, c.merchants)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 1; i <= c.merchants; i++ {
		m := newMerchant(i)
		m.burstReplies = len(burst)
		if i == 1 && c.trace {
			m.trace = func(format string, args ...any) {
				fmt.Fprintf(c.stderr, "%s %s: %s\n", time.Now().Format("15:04:05.000"), res.name, fmt.Sprintf(format, args...))
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer finished.Add(1)
			if floor {
				results[i-1] = m.floor(loadCtx, template)
			} else {
				results[i-1] = m.dialog(loadCtx, memo)
			}
		}()
	}
	if !floor {
		memoDeadline := time.After(c.timeout * 3 / 4)
	wait:
		for arrived.Load()+finished.Load() < int64(c.merchants) {
			select {
			case <-memoDeadline:
				break wait
			case <-loadCtx.Done():
				break wait
			case <-time.After(5 * time.Millisecond):
			}
		}
		pauseStart := time.Now()
		if arrived.Load() > 0 {
			// Every merchant has a dialog under way here (or, if the memo
			// waited in vain, just finished one): all keys over all chats.
			bytes, keys, err := prefixMemory(runCtx, rdb, prefix)
			if err == nil {
				res.memPerChat = float64(bytes) / float64(c.merchants)
				res.keysPerChat = float64(keys) / float64(c.merchants)
				res.memoArrived = int(arrived.Load())
			}
		}
		paused = time.Since(pauseStart)
		close(release)
	}
	wg.Wait()
	res.elapsed = time.Since(start) - paused
	after, _ := readRedisCounters(runCtx, rdb)
	res.redis = redisDelta(before, after, bgFrom, bgTo)
	if self, err := readProc(os.Getpid()); err == nil {
		res.harnessCPU = self.cpu - selfBefore.cpu
	}
	for i, ch := range children {
		u, err := readProc(ch.cmd.Process.Pid)
		if err == nil {
			res.peakRSS = append(res.peakRSS, u.peakRSSKiB)
			res.cpu += u.cpu - cpuBefore[i]
		}
	}
	if pprofAddr != "" {
		if err := <-profileDone; err != nil {
			fmt.Fprintf(stdout, "cpu profile: %v\n", err)
		}
		for _, p := range []string{"allocs", "heap"} {
			if err := fetchProfile(runCtx, pprofAddr, p, filepath.Join(c.profileDir, p+".pprof")); err != nil {
				fmt.Fprintf(stdout, "%s profile: %v\n", p, err)
			}
		}
	}

	// Who saw what.
	counts := map[string]int{}
	for _, r := range results {
		res.updates += r.updates
		res.latencies = append(res.latencies, r.latencies...)
		if r.err != nil {
			res.failed++
			if len(res.firstErrors) < 3 {
				res.firstErrors = append(res.firstErrors, r.err.Error())
			}
			continue
		}
		res.completed++
		if !floor {
			if !slices.Equal(r.burst, burst) {
				res.outOfOrder++
			}
			counts[strings.Join(r.seen, "\x00")]++
		}
	}
	if !floor {
		majority, most := "", 0
		for k, n := range counts {
			if n > most {
				majority, most = k, n
			}
		}
		for k, n := range counts {
			if k != majority {
				res.divergent += n
				if res.diverged == "" {
					res.diverged = firstDifference(strings.Split(majority, "\x00"), strings.Split(k, "\x00"))
				}
			}
		}
		for _, r := range results {
			if r.err == nil {
				res.template = r.actions
				break
			}
		}
	}
	res.calls, res.refused = front.counts()
	res.dropped = front.dropped.Load()
	if relay != nil {
		res.redelivered = relay.redelivery.Load()
		res.inAnswers, res.answersRefused = relay.inAnswers.Load(), relay.answersRefused.Load()
	}
	cancelLoad()
	for _, ch := range children {
		ch.stop(15 * time.Second)
		levels, first := ch.logLevels()
		if res.logLevels == nil {
			res.logLevels = map[string]int{}
		}
		for k, v := range levels {
			res.logLevels[k] += v
		}
		res.logFirst = append(res.logFirst, first...)
	}
	return res, nil
}

func firstDifference(want, got []string) string {
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			return fmt.Sprintf("message %d: majority %q, this one %q", i+1, clip(w, 80), clip(g, 80))
		}
	}
	return ""
}

// startReady starts a bot child and waits until it is ready.
func startReady(ctx context.Context, name, exe string, args, env []string, ready string) (*child, error) {
	ch, err := startChild(name, exe, args, env, ready)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := ch.waitReady(wctx); err != nil {
		ch.stop(5 * time.Second)
		return nil, err
	}
	return ch, nil
}

// childEnv is the child's whole environment: set, plus the few variables
// the Go runtime reads, so that nothing else of the caller's (a real token)
// reaches it.
func childEnv(set map[string]string) []string {
	env := make([]string, 0, len(set)+4)
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	for _, k := range []string{"PATH", "HOME", "GOGC", "GOMAXPROCS", "GOMEMLIMIT", "GODEBUG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	sort.Strings(env)
	return env
}

func fetchProfile(ctx context.Context, addr, what, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/pprof/"+what, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof %s: %s", what, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// serveLoopback serves h on a free loopback port.
func serveLoopback(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// waitListening waits until addr takes TCP connections.
func waitListening(ctx context.Context, addr string) error {
	for i := 0; ; i++ {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return conn.Close()
		}
		if i == 200 {
			return err
		}
		sleepCtx(ctx, 50*time.Millisecond)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// findBot returns the merchantbot executable to measure: named (-bot) when set;
// else merchantbot in self's directory (`go build -o bin/ ./cmd/...` puts
// both there); else one built now from this module with `go build` into a
// temporary directory (as under `go run ./cmd/merchantbot-load`), so that the
// bot measured is the source beside the tool, never a stale one on PATH.
func findBot(ctx context.Context, named, self string, stderr io.Writer) (bot string, cleanup func(), err error) {
	cleanup = func() {}
	if named == "" {
		beside := filepath.Join(filepath.Dir(self), "merchantbot")
		if fi, err := os.Stat(beside); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			named = beside
		}
	}
	if named != "" {
		fi, err := os.Stat(named)
		if err != nil {
			return "", cleanup, fmt.Errorf("-bot: %w", err)
		}
		if !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
			return "", cleanup, fmt.Errorf("-bot: %s is not an executable file", named)
		}
		return named, cleanup, nil
	}
	dir, err := os.MkdirTemp("", "merchantbot-load-")
	if err != nil {
		return "", cleanup, err
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	bot = filepath.Join(dir, "merchantbot")
	fmt.Fprintln(stderr, "merchantbot-load: no -bot and no merchantbot beside this binary: go build "+botPackage)
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bot, botPackage).CombinedOutput()
	if err != nil {
		cleanup()
		return "", func() {}, fmt.Errorf("go build %s (run inside the module, or pass -bot): %w: %s", botPackage, err, strings.TrimSpace(string(out)))
	}
	return bot, cleanup, nil
}

// botPackage is the command under test.
const botPackage = "github.com/merchantbot/merchantbot/cmd/merchantbot"
