package eventproto

import (
	"context"
	"sync"
)

// Worker runs slow jobs off the event loop and remembers them for the drain.
//
// A job that panics crashes the process, loudly, like any goroutine; the
// listener is then restarted by supervisord.
type Worker struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	running int           // jobs started and not finished
	idle    chan struct{} // closed when running drops to zero
	trying  bool          // a TryGo job is running
}

// NewWorker returns a Worker whose jobs get contexts derived from ctx.
func NewWorker(ctx context.Context) *Worker {
	ctx, cancel := context.WithCancel(ctx)
	idle := make(chan struct{})
	close(idle)
	return &Worker{ctx: ctx, cancel: cancel, idle: idle}
}

// TryGo starts fn unless a job started by TryGo is still running, in which
// case it returns false and does nothing: TICK-driven work is coalesced.
func (w *Worker) TryGo(fn func(ctx context.Context)) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.trying {
		return false
	}
	w.trying = true
	w.startLocked(fn, true)
	return true
}

// Go always starts fn in its own goroutine (tracked for Wait).
func (w *Worker) Go(fn func(ctx context.Context)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.startLocked(fn, false)
}

func (w *Worker) startLocked(fn func(ctx context.Context), try bool) {
	if w.running == 0 {
		w.idle = make(chan struct{})
	}
	w.running++
	go func() {
		defer w.done(try)
		fn(w.ctx)
	}()
}

func (w *Worker) done(try bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if try {
		w.trying = false
	}
	w.running--
	if w.running == 0 {
		close(w.idle)
	}
}

// Wait waits for every job to finish, or cancels their context and returns
// ctx.Err() when ctx is done first.
//
// Jobs started while Wait runs are waited for too. After a cancellation the
// Worker's context stays cancelled: later jobs start with a done context.
func (w *Worker) Wait(ctx context.Context) error {
	for {
		w.mu.Lock()
		idle := w.idle
		w.mu.Unlock()
		select {
		case <-idle:
			w.mu.Lock()
			finished := w.running == 0
			w.mu.Unlock()
			if finished {
				return nil
			}
		case <-ctx.Done():
			w.cancel()
			return ctx.Err()
		}
	}
}
