package chatq

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// pipeMax bounds the scripts sent in one pipeline.
const pipeMax = 128

// pipeSenders is how many pipelines may be in flight at once.
const pipeSenders = 4

// autoPipe is a redis.Scripter whose EVALSHA calls, made by many goroutines
// at once (every chat's turn, commit and mark), go to Redis together in one
// pipelined round trip. A caller that finds fewer than pipeSenders
// pipelines in flight sends one itself, with its own call and whatever
// calls were queued; otherwise it queues its call and waits, and the next
// caller to send takes it along. Under load a write and a read carry several
// scripts instead of one each (both the bot and Redis spend most of a
// script's cost on the round trip, not the script); when the bot is quiet
// each call goes alone, from its own goroutine, as before. Each script still
// runs atomically and each caller gets its own reply; calls of one goroutine
// stay in order (it waits for each). A call whose context ended before its
// pipeline left is not sent. Everything else (EVAL, SCRIPT LOAD, EXISTS)
// goes straight to the client: Script.Run falls back to EVAL on NOSCRIPT as
// ever.
type autoPipe struct {
	redis.Scripter
	rdb redis.UniversalClient

	mu      sync.Mutex
	queue   []*pipeCall // waiting for a pipeline, oldest first
	sending int         // pipelines in flight
}

type pipeCall struct {
	ctx  context.Context
	cmd  *redis.Cmd
	done chan struct{} // closed once the reply (or an error) is in cmd
	lead bool          // set before done is closed: send the queue instead
}

func newAutoPipe(rdb redis.UniversalClient) *autoPipe {
	return &autoPipe{Scripter: rdb, rdb: rdb}
}

// EvalSha sends the call, alone or with others', and returns its reply.
func (p *autoPipe) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	cmdArgs := make([]any, 3, 3+len(keys)+len(args))
	cmdArgs[0], cmdArgs[1], cmdArgs[2] = "evalsha", sha1, len(keys)
	for _, k := range keys {
		cmdArgs = append(cmdArgs, k)
	}
	cmdArgs = append(cmdArgs, args...)
	cmd := redis.NewCmd(ctx, cmdArgs...)
	if err := ctx.Err(); err != nil {
		cmd.SetErr(err)
		return cmd
	}
	c := &pipeCall{ctx: ctx, cmd: cmd}
	p.mu.Lock()
	if p.sending < pipeSenders {
		p.sending++
		batch := p.takeLocked(c)
		p.mu.Unlock()
		p.send(batch)
		return cmd
	}
	c.done = make(chan struct{})
	p.queue = append(p.queue, c)
	p.mu.Unlock()
	// Not abandoned when ctx ends: the call may be in a pipeline already. The
	// wait is bounded by the pipelines ahead of it (each by the client's
	// timeouts), and a pipeline leaves out a call whose ctx has ended.
	<-c.done
	if c.lead {
		// A sender that finished handed its turn to this call, still unsent.
		p.mu.Lock()
		batch := p.takeLocked(c)
		p.mu.Unlock()
		p.send(batch)
	}
	return cmd
}

// takeLocked is first and up to pipeMax-1 of the queued calls.
func (p *autoPipe) takeLocked(first *pipeCall) []*pipeCall {
	n := min(len(p.queue), pipeMax-1)
	batch := make([]*pipeCall, 0, n+1)
	batch = append(batch, first)
	batch = append(batch, p.queue[:n]...)
	clear(p.queue[:n])
	p.queue = p.queue[n:]
	if len(p.queue) == 0 {
		p.queue = nil
	}
	return batch
}

// send makes one pipeline of batch, then hands the sender's turn to the
// oldest call still queued (which sends what has queued by then), or
// gives it up.
func (p *autoPipe) send(batch []*pipeCall) {
	pipe := p.rdb.Pipeline()
	sent := 0
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.cmd.SetErr(err)
			continue
		}
		_ = pipe.Process(context.WithoutCancel(c.ctx), c.cmd)
		sent++
	}
	if sent > 0 {
		// Each command carries its own reply or error; Exec's is the first.
		_, _ = pipe.Exec(context.Background())
	}
	for _, c := range batch[1:] {
		close(c.done)
	}
	p.mu.Lock()
	if len(p.queue) > 0 {
		next := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		next.lead = true
		p.mu.Unlock()
		close(next.done)
		return
	}
	p.sending--
	p.mu.Unlock()
}
