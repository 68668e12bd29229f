package bot

import (
	"context"
	"sync"
)

// scheduler runs fn for a chat in one goroutine at a time, and again when
// it was kicked while running; at most `slots` chats run at once. Its
// workers live as long as ctx and take chats from one FIFO queue: a
// goroutine per turn would grow a fresh stack for every update (seen as
// ~3 % of serve's CPU in runtime.copystack under load).
type scheduler struct {
	ctx   context.Context
	fn    func(ctx context.Context, chat int64)
	slots int

	mu      sync.Mutex
	wake    *sync.Cond
	busy    map[int64]chatRun
	queue   []int64       // chats waiting for a worker, oldest first
	workers int           // started (they only end with ctx)
	idle    int           // workers waiting for a chat
	quiet   chan struct{} // closed while busy is empty
	wg      sync.WaitGroup
}

func newScheduler(ctx context.Context, slots int, fn func(context.Context, int64)) *scheduler {
	s := &scheduler{ctx: ctx, fn: fn, slots: max(slots, 1), busy: map[int64]chatRun{}, quiet: make(chan struct{})}
	close(s.quiet)
	s.wake = sync.NewCond(&s.mu)
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, chat := range s.queue {
			delete(s.busy, chat) // never started: left in Redis for the sweep
		}
		s.queue = nil
		s.settleLocked()
		s.wake.Broadcast()
	})
	return s
}

// kick makes sure fn runs for chat after now.
func (s *scheduler) kick(chat int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if run, ok := s.busy[chat]; ok {
		if run == running {
			s.busy[chat] = again
		}
		return // queued, or to run again: once is enough
	}
	if s.ctx.Err() != nil {
		return
	}
	if len(s.busy) == 0 {
		s.quiet = make(chan struct{})
	}
	s.enqueueLocked(chat)
}

// enqueueLocked puts chat at the end of the queue and wakes or starts a
// worker for it.
func (s *scheduler) enqueueLocked(chat int64) {
	s.busy[chat] = queued
	s.queue = append(s.queue, chat)
	if s.idle > 0 {
		s.wake.Signal()
		return
	}
	if s.workers < s.slots {
		s.workers++
		s.wg.Add(1)
		go s.work()
	}
}

// runHere is kick, run in the caller's goroutine when no fn runs or waits
// for chat: it saves a hand-over to a worker (a wake-up, and on a busy
// machine a wait in the run queue) where the caller has nothing else to do.
// A kick while it runs makes chat run again on a worker, as in work.
func (s *scheduler) runHere(chat int64) {
	s.mu.Lock()
	if _, ok := s.busy[chat]; ok || s.ctx.Err() != nil {
		s.mu.Unlock()
		s.kick(chat)
		return
	}
	if len(s.busy) == 0 {
		s.quiet = make(chan struct{})
	}
	s.busy[chat] = running
	s.mu.Unlock()
	s.fn(s.ctx, chat)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[chat] == again && s.ctx.Err() == nil {
		s.enqueueLocked(chat)
		return
	}
	delete(s.busy, chat)
	s.settleLocked()
}

// chatRun is where a chat is in the scheduler.
type chatRun uint8

const (
	queued  chatRun = iota // waiting for a worker
	running                // fn runs for it
	again                  // fn runs for it, and was kicked meanwhile
)

func (s *scheduler) work() {
	defer s.wg.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for len(s.queue) == 0 && s.ctx.Err() == nil {
			s.idle++
			s.wake.Wait()
			s.idle--
		}
		if len(s.queue) == 0 {
			return // ctx ended
		}
		chat := s.queue[0]
		s.queue[0] = 0
		s.queue = s.queue[1:]
		s.busy[chat] = running
		s.mu.Unlock()
		s.fn(s.ctx, chat)
		s.mu.Lock()
		if s.busy[chat] == again && s.ctx.Err() == nil {
			s.busy[chat] = queued // kicked while it ran: once more, after those waiting
			s.queue = append(s.queue, chat)
			continue
		}
		delete(s.busy, chat)
		s.settleLocked()
	}
}

// settleLocked closes quiet once nothing is queued or running.
func (s *scheduler) settleLocked() {
	if len(s.busy) == 0 {
		select {
		case <-s.quiet:
		default:
			close(s.quiet)
		}
	}
}

// pending is how many chats are queued or running.
func (s *scheduler) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.busy)
}

// wait blocks until no fn runs and none is queued, or ctx ends.
func (s *scheduler) wait(ctx context.Context) error {
	s.mu.Lock()
	quiet := s.quiet
	s.mu.Unlock()
	select {
	case <-quiet:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
