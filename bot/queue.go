package bot

import (
	"context"
	"sync"
)

// job is one update waiting for its chat's turn. done is called once with
// the handler's result, from the chat's worker.
type job struct {
	u     *update
	retry bool // retry a passing failure here (long polling); a webhook leaves it to Telegram
	done  func(error)
}

// queue applies the updates of one chat one at a time, in the order they
// were pushed, and different chats in parallel, at most `workers` at once.
// A chat has a goroutine only while it has updates waiting; the Redis lock
// taken by the dialog does the same across replicas.
type queue struct {
	run func(context.Context, *job)
	ctx context.Context // the work context: outlives the receiving one

	slots chan struct{}

	mu    sync.Mutex
	chats map[int64][]*job // chats with a worker, and what waits behind it
	wg    sync.WaitGroup   // running workers
}

func newQueue(ctx context.Context, workers int, run func(context.Context, *job)) *queue {
	return &queue{
		run:   run,
		ctx:   ctx,
		slots: make(chan struct{}, workers),
		chats: map[int64][]*job{},
	}
}

// push queues j behind the chat's earlier updates.
func (q *queue) push(j *job) {
	chat := j.u.chat
	q.mu.Lock()
	waiting, busy := q.chats[chat]
	q.chats[chat] = append(waiting, j)
	if !busy {
		q.wg.Add(1)
	}
	q.mu.Unlock()
	if !busy {
		go q.work(chat)
	}
}

// work runs the chat's updates until none is left.
func (q *queue) work(chat int64) {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		waiting := q.chats[chat]
		if len(waiting) == 0 {
			delete(q.chats, chat)
			q.mu.Unlock()
			return
		}
		j := waiting[0]
		waiting[0] = nil
		q.chats[chat] = waiting[1:]
		q.mu.Unlock()

		q.slots <- struct{}{}
		q.run(q.ctx, j)
		<-q.slots
	}
}

// wait blocks until every queued update was run or ctx ends.
func (q *queue) wait(ctx context.Context) error {
	idle := make(chan struct{})
	go func() {
		q.wg.Wait()
		close(idle)
	}()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
