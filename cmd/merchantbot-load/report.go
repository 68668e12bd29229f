package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// percentile is the p-th percentile (0-100) of sorted, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (r *loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.updates) / r.elapsed.Seconds()
}

// sentCalls are the Bot API calls that put something in a chat.
func (r *loadResult) sentCalls() int {
	n := 0
	for m, c := range r.calls {
		switch m {
		case "getupdates", "getme", "setwebhook", "deletewebhook", "getwebhookinfo", "setmycommands",
			"getmycommands", "deletemycommands":
		default:
			n += c
		}
	}
	return n
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

// printLoadReport prints ours beside the floor, with ratios.
func printLoadReport(w io.Writer, c loadConfig, ours, floor *loadResult) {
	slices.Sort(ours.latencies)
	if floor != nil {
		slices.Sort(floor.latencies)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, o, f string, ratio string) {
		if floor == nil {
			fmt.Fprintf(tw, "%s\t%s\t\n", name, o)
			return
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", name, o, f, ratio)
	}
	ratio := func(o, f float64) string {
		if f == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", o/f)
	}
	row("", ours.name, "floor", "ratio")
	fl := floor
	if fl == nil {
		fl = &loadResult{}
	}
	row("merchants completed", fmt.Sprintf("%d/%d", ours.completed, c.merchants), fmt.Sprintf("%d/%d", fl.completed, c.merchants), "")
	row("updates", fmt.Sprint(ours.updates), fmt.Sprint(fl.updates), "")
	row("elapsed s", fmt.Sprintf("%.2f", ours.elapsed.Seconds()), fmt.Sprintf("%.2f", fl.elapsed.Seconds()), "")
	row("updates/s", fmt.Sprintf("%.0f", ours.rate()), fmt.Sprintf("%.0f", fl.rate()), ratio(ours.rate(), fl.rate()))
	for _, p := range []float64{50, 95, 99} {
		o, f := percentile(ours.latencies, p), percentile(fl.latencies, p)
		row(fmt.Sprintf("latency p%.0f ms", p), ms(o), ms(f), ratio(float64(o), float64(f)))
	}
	rss := func(r *loadResult) string {
		parts := make([]string, len(r.peakRSS))
		for i, k := range r.peakRSS {
			parts[i] = fmt.Sprintf("%.1f", float64(k)/1024)
		}
		return strings.Join(parts, "+")
	}
	maxRSS := func(r *loadResult) float64 {
		if len(r.peakRSS) == 0 {
			return 0
		}
		return float64(slices.Max(r.peakRSS))
	}
	row("peak RSS MB (VmHWM)", rss(ours), rss(fl), ratio(maxRSS(ours), maxRSS(fl)))
	perUpdate := func(r *loadResult) float64 {
		if r.updates == 0 {
			return 0
		}
		return float64(r.cpu.Microseconds()) / 1000 / float64(r.updates)
	}
	row("bot CPU ms/update", fmt.Sprintf("%.3f", perUpdate(ours)), fmt.Sprintf("%.3f", perUpdate(fl)), ratio(perUpdate(ours), perUpdate(fl)))
	// On a machine the bot shares with its harness and Redis, what an
	// update costs all of them together bounds the rate of both bots.
	harness := func(r *loadResult) float64 {
		if r == nil || r.updates == 0 {
			return 0
		}
		return float64(r.harnessCPU.Microseconds()) / 1000 / float64(r.updates)
	}
	machine := func(r *loadResult) float64 {
		if r == nil || r.updates == 0 {
			return 0
		}
		return perUpdate(r) + harness(r) + r.redis.cpu*1000/float64(r.updates)
	}
	row("harness CPU ms/update", fmt.Sprintf("%.3f", harness(ours)), fmt.Sprintf("%.3f", harness(fl)), ratio(harness(ours), harness(fl)))
	row("bot+Redis+harness CPU ms/update", fmt.Sprintf("%.3f", machine(ours)), fmt.Sprintf("%.3f", machine(fl)), ratio(machine(ours), machine(fl)))
	per := func(n float64, r *loadResult) string {
		if r.updates == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", n/float64(r.updates))
	}
	row("Bot API calls/update", per(float64(ours.sentCalls()), ours), per(float64(fl.sentCalls()), fl), "")
	row("Bot API methods in webhook answers/update", per(float64(ours.inAnswers), ours), per(float64(fl.inAnswers), fl), "")
	row("Redis commands/update", per(ours.redis.commands, ours), "", "")
	row("Redis round trips/update", per(ours.redis.reads, ours), "", "")
	if sent := ours.sentCalls(); sent > 0 {
		row("Redis round trips/Bot API call", fmt.Sprintf("%.2f", ours.redis.reads/float64(sent)), "", "")
	}
	row("Redis CPU ms/update", per(ours.redis.cpu*1000, ours), "", "")
	row("Redis bytes/active dialog", fmt.Sprintf("%.0f", ours.memPerChat), "", "")
	row("Redis keys/active dialog", fmt.Sprintf("%.1f", ours.keysPerChat), "", "")
	row("merchants at the card when measured", fmt.Sprintf("%d/%d", ours.memoArrived, c.merchants), "", "")
	tw.Flush()

	fmt.Fprintf(w, "redis top commands: %s\n", strings.Join(ours.redis.top, ", "))
	fmt.Fprintf(w, "bot API calls: %s\n", formatCounts(ours.calls))
	for _, r := range []*loadResult{ours, floor} {
		if r == nil {
			continue
		}
		fmt.Fprintf(w, "errors (%s): %d merchants failed, Bot API refusals %s, log lines %s, events dropped %d, webhook redeliveries %d, webhook answers refused %d\n",
			r.name, r.failed, formatCodes(r.refused), formatCounts(r.logLevels), r.dropped, r.redelivered, r.answersRefused)
		for _, e := range r.firstErrors {
			fmt.Fprintf(w, "  merchant: %s\n", e)
		}
		for _, e := range r.logFirst {
			fmt.Fprintf(w, "  log: %s\n", clip(e, 200))
		}
	}
	fmt.Fprintf(w, "order (%d replica(s)): %d of %d opening bursts answered out of order or twice; %d transcripts differ from the majority\n",
		c.replicas, ours.outOfOrder, ours.completed, ours.divergent)
	if ours.diverged != "" {
		fmt.Fprintf(w, "  first difference: %s\n", ours.diverged)
	}
	if ours.backendNote != "" {
		fmt.Fprintf(w, "note: %s\n", ours.backendNote)
	}
	if c.profileDir != "" {
		fmt.Fprintf(w, "profiles: %s/{cpu,allocs,heap}.pprof (go tool pprof -top %s/cpu.pprof)\n", c.profileDir, c.profileDir)
	}
}

func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

func formatCodes(m map[int]int) string {
	s := make(map[string]int, len(m))
	for k, v := range m {
		s[fmt.Sprint(k)] = v
	}
	return formatCounts(s)
}
