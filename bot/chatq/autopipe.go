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
// pipelined round trip: a sender takes whatever has queued while the
// previous pipelines were in flight. Under load a write and a read carry
// several scripts instead of one each (both the bot and Redis spend most of
// a script's cost on the round trip, not the script); when the bot is quiet
// each call goes alone, as before, after one goroutine hand-off. Each script
// still runs atomically and each caller gets its own reply; calls of one
// goroutine stay in order (it waits for each). A call whose context ended
// before its pipeline left is not sent. Everything else (EVAL, SCRIPT LOAD,
// EXISTS) goes straight to the client: Script.Run falls back to EVAL on
// NOSCRIPT as ever.
type autoPipe struct {
	redis.Scripter
	rdb   redis.UniversalClient
	queue chan *pipeCall
	once  sync.Once
}

type pipeCall struct {
	ctx  context.Context
	cmd  *redis.Cmd
	done chan struct{}
}

func newAutoPipe(rdb redis.UniversalClient) *autoPipe {
	return &autoPipe{Scripter: rdb, rdb: rdb, queue: make(chan *pipeCall, 4*pipeMax)}
}

// EvalSha queues the call for the next pipeline and waits for its reply.
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
	p.once.Do(func() {
		for range pipeSenders {
			go p.send()
		}
	})
	c := &pipeCall{ctx: ctx, cmd: cmd, done: make(chan struct{})}
	select {
	case p.queue <- c:
	case <-ctx.Done():
		cmd.SetErr(ctx.Err())
		return cmd
	}
	<-c.done // never abandoned: the pipeline is bounded by the client's timeouts
	return cmd
}

// send runs pipelines for as long as the process lives: a sender waits for
// one call, takes every call queued behind it (up to pipeMax) and sends them
// in one round trip (go-redis splits it by master on a cluster).
func (p *autoPipe) send() {
	batch := make([]*pipeCall, 0, pipeMax)
	for first := range p.queue {
		batch = append(batch[:0], first)
	more:
		for len(batch) < pipeMax {
			select {
			case c := <-p.queue:
				batch = append(batch, c)
			default:
				break more
			}
		}
		p.exec(batch)
		clear(batch)
	}
}

func (p *autoPipe) exec(batch []*pipeCall) {
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
	for _, c := range batch {
		close(c.done)
	}
}
