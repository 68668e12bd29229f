package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a bot under test running as its own process (the same binary), so
// that its memory and CPU are its own and it meets the harness only over
// loopback, as it meets Telegram and Redis in production.
type child struct {
	name  string
	cmd   *exec.Cmd
	ready chan struct{}
	done  chan struct{}
	err   error // set before done closes

	mu     sync.Mutex
	levels map[string]int // log lines by level
	first  []string       // the first few warnings, errors and lines that are not slog
	last   []string       // the last lines, for a child that dies at start
}

// startChild runs exe args with env, reads its JSON log from stderr and
// reports ready when a line carries readyMsg as its "msg".
func startChild(name, exe string, args, env []string, readyMsg string) (*child, error) {
	c := &child{name: name, ready: make(chan struct{}), done: make(chan struct{}), levels: map[string]int{}}
	c.cmd = exec.Command(exe, args...)
	c.cmd.Env = env
	c.cmd.Stdout = io.Discard // sandbox "SMS" lines
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		var once sync.Once
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			var l struct{ Level, Msg, Err string }
			if json.Unmarshal([]byte(line), &l) != nil {
				l.Level, l.Msg = "TEXT", line
			}
			c.mu.Lock()
			c.levels[l.Level]++
			if (l.Level == "WARN" || l.Level == "ERROR" || l.Level == "TEXT") && len(c.first) < 5 {
				c.first = append(c.first, strings.TrimSpace(l.Level+" "+l.Msg+" "+l.Err))
			}
			if c.last = append(c.last, line); len(c.last) > 5 {
				c.last = c.last[1:]
			}
			c.mu.Unlock()
			if l.Msg == readyMsg {
				once.Do(func() { close(c.ready) })
			}
		}
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// waitReady waits for the ready line, the child's end or ctx.
func (c *child) waitReady(ctx context.Context) error {
	select {
	case <-c.ready:
		return nil
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return fmt.Errorf("%s exited at start (%v): %s", c.name, c.err, strings.Join(c.last, " | "))
	case <-ctx.Done():
		return fmt.Errorf("%s not ready: %w", c.name, ctx.Err())
	}
}

// stop asks the child to shut down (SIGTERM) and kills it after grace.
func (c *child) stop(grace time.Duration) {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// logLevels returns the count of log lines by level and the first warnings.
func (c *child) logLevels() (map[string]int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	levels := make(map[string]int, len(c.levels))
	for k, v := range c.levels {
		levels[k] = v
	}
	return levels, append([]string(nil), c.first...)
}

// procUsage is what /proc says about a live process.
type procUsage struct {
	peakRSSKiB int64 // VmHWM
	rssKiB     int64 // VmRSS
	cpu        time.Duration
}

// readProc reads a live child's peak and current RSS and its CPU time (user
// plus system) from /proc.
func readProc(pid int) (procUsage, error) {
	var u procUsage
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmHWM":
			u.peakRSSKiB = n
		case "VmRSS":
			u.rssKiB = n
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	// Fields after the command name, which may hold spaces, in parentheses.
	_, rest, ok := strings.Cut(string(stat), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		return u, errors.New("unexpected /proc stat")
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	u.cpu = time.Duration(utime+stime) * time.Second / ticksPerSecond
	return u, nil
}
