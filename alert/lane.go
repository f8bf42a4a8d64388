package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"sync"
	"time"
)

// maxBackoff caps the doubling pause between attempts, as for mail.
const maxBackoff = time.Minute

// laneOptions bound a lane; zero values take the defaults mail uses.
type laneOptions struct {
	Size     int           // pending items kept; 0 means 100; when full the oldest is dropped and logged
	Attempts int           // delivery attempts per item; 0 means 5
	Backoff  time.Duration // first retry pause, doubled up to a minute; 0 means 2 s
}

func (o *laneOptions) defaults() {
	if o.Size <= 0 {
		o.Size = 100
	}
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
}

// item is one delivery: a request body and how to name it in the log.
type item struct {
	body []byte
	what string
}

// permanent marks a failure that another attempt cannot fix (a 4xx other
// than 408 and 429): the item is dropped at once.
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

// lane delivers items in order through send, from one goroutine, with
// retries and backoff; add never blocks.
type lane struct {
	name string // for log lines: never a secret
	send func(ctx context.Context, body []byte) error
	o    laneOptions
	log  *log.Logger

	ctx    context.Context // bounds deliveries; cancelled when Close's ctx ends
	cancel context.CancelFunc
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	pending []item
	closed  bool
	lost    int // cut short by Close's ctx
}

func newLane(name string, send func(context.Context, []byte) error, o laneOptions, logger *log.Logger) *lane {
	o.defaults()
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	l := &lane{name: name, send: send, o: o, log: logger,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	go l.run()
	return l
}

var errClosed = errors.New("closed")

func (l *lane) add(it item) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errClosed
	}
	var dropped *item
	if len(l.pending) >= l.o.Size {
		d := l.pending[0]
		dropped = &d
		l.pending = l.pending[1:]
	}
	l.pending = append(l.pending, it)
	l.mu.Unlock()
	if dropped != nil {
		l.log.Printf("%s: queue full, dropped %s", l.name, dropped.what)
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

// close delivers what is pending until ctx is done and returns how many
// items were not delivered because ctx ended.
func (l *lane) close(ctx context.Context) int {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	stop := context.AfterFunc(ctx, l.cancel)
	<-l.done
	stop()
	l.cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, it := range l.pending {
		l.log.Printf("%s: %s not delivered before shutdown", l.name, it.what)
	}
	n := l.lost + len(l.pending)
	l.pending = nil
	return n
}

func (l *lane) run() {
	defer close(l.done)
	for {
		it, ok := l.next()
		if !ok {
			return
		}
		l.deliver(it)
	}
}

func (l *lane) next() (item, bool) {
	for {
		l.mu.Lock()
		if l.ctx.Err() != nil {
			l.mu.Unlock()
			return item{}, false
		}
		if len(l.pending) > 0 {
			it := l.pending[0]
			l.pending = l.pending[1:]
			l.mu.Unlock()
			return it, true
		}
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return item{}, false
		}
		select {
		case <-l.wake:
		case <-l.stop:
		case <-l.ctx.Done():
		}
	}
}

func (l *lane) deliver(it item) {
	pause := l.o.Backoff
	for attempt := 1; ; attempt++ {
		err := l.send(l.ctx, it.body)
		if err == nil {
			l.log.Printf("%s: sent %s", l.name, it.what)
			return
		}
		var perm *permanent
		switch {
		case errors.As(err, &perm):
			l.log.Printf("%s: %s refused, not retried: %v", l.name, it.what, err)
			return
		case l.ctx.Err() != nil:
			l.lose(it, err)
			return
		case attempt >= l.o.Attempts:
			l.log.Printf("%s: gave up on %s after %d attempts: %v", l.name, it.what, attempt, err)
			return
		}
		l.log.Printf("%s: %s failed (attempt %d of %d), retrying in %v: %v", l.name, it.what, attempt, l.o.Attempts, pause, err)
		if !sleep(l.ctx, pause) {
			l.lose(it, fmt.Errorf("last attempt: %w", err))
			return
		}
		pause = nextPause(pause, l.o.Backoff)
	}
}

func (l *lane) lose(it item, err error) {
	l.log.Printf("%s: %s not delivered before shutdown: %v", l.name, it.what, err)
	l.mu.Lock()
	l.lost++
	l.mu.Unlock()
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// nextPause doubles pause up to a minute, or up to base when that is longer.
func nextPause(pause, base time.Duration) time.Duration {
	return min(2*pause, max(maxBackoff, base))
}
