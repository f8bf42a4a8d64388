package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"sync"
	"time"
)

// maxBackoff caps the doubling pause between attempts (unless Backoff
// itself is longer).
const maxBackoff = time.Minute

// QueueOptions configures a Queue.
type QueueOptions struct {
	Size     int           // pending messages kept; 0 means 100; when full the oldest is dropped and logged
	Attempts int           // delivery attempts per message; 0 means 5
	Backoff  time.Duration // first retry pause, doubled each time up to a minute; 0 means 2 s
	Log      *log.Logger   // what was sent, retried, dropped; nil discards
}

// ErrQueueClosed is returned by Enqueue after Close.
var ErrQueueClosed = errors.New("mail queue closed")

// Queue delivers messages asynchronously: Enqueue never waits on the network.
// One goroutine delivers the messages in order, each with up to Attempts
// tries (each bounded by the transport's timeout) and growing pauses in
// between. Every outcome is logged, one line per fact.
type Queue struct {
	t    Transport
	opts QueueOptions
	log  *log.Logger

	// ctx bounds deliveries; Close cancels it when its own ctx ends.
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{} // a message was added (buffered, 1)
	stop   chan struct{} // closed by Close
	done   chan struct{} // closed when the delivery goroutine returns

	mu          sync.Mutex
	pending     []*Message
	closed      bool
	undelivered []undelivered // cut short by Close's ctx
}

type undelivered struct {
	m   *Message
	err error
}

// NewQueue starts a queue delivering through t.
func NewQueue(t Transport, o QueueOptions) *Queue {
	if o.Size <= 0 {
		o.Size = 100
	}
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	q := &Queue{
		t:    t,
		opts: o,
		log:  o.Log,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	if q.log == nil {
		q.log = log.New(io.Discard, "", 0)
	}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	go q.run()
	return q
}

// Enqueue adds m for delivery. It never blocks; it returns an error only for
// a message that can never be sent (Validate fails) and after Close. The
// queue keeps its own copy of m.
func (q *Queue) Enqueue(m *Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	c := *m
	c.To = append([]string(nil), m.To...)
	c.Header = append([]Field(nil), m.Header...)

	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrQueueClosed
	}
	var dropped *Message
	if len(q.pending) >= q.opts.Size {
		dropped = q.pending[0]
		q.pending[0] = nil
		q.pending = q.pending[1:]
	}
	q.pending = append(q.pending, &c)
	q.mu.Unlock()

	if dropped != nil {
		q.log.Printf("mail queue full: dropped message %q to %s", dropped.Subject, strings.Join(dropped.To, ", "))
	}
	select {
	case q.wake <- struct{}{}:
	default: // already signalled
	}
	return nil
}

// Close stops accepting messages and delivers what is pending until ctx is
// done; when ctx ends first, the delivery in progress and pauses between
// attempts are cut short. It returns the messages that could not be
// delivered because ctx ended (each also logged); messages given up on
// after all attempts were logged then and are not returned. Calling Close
// again returns nil.
func (q *Queue) Close(ctx context.Context) []*Message {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	q.mu.Unlock()
	close(q.stop)

	cut := context.AfterFunc(ctx, q.cancel)
	<-q.done
	cut()
	q.cancel()

	q.mu.Lock()
	left := q.undelivered
	for _, m := range q.pending {
		left = append(left, undelivered{m, errors.New("never attempted")})
	}
	q.pending, q.undelivered = nil, nil
	q.mu.Unlock()

	var out []*Message
	for _, u := range left {
		q.log.Printf("mail %q to %s not delivered before shutdown: %v", u.m.Subject, strings.Join(u.m.To, ", "), u.err)
		out = append(out, u.m)
	}
	return out
}

func (q *Queue) run() {
	defer close(q.done)
	for {
		m := q.next()
		if m == nil {
			return
		}
		q.deliver(m)
	}
}

// next waits for a pending message; it returns nil once the queue is closed
// and empty, or when Close's ctx has ended.
func (q *Queue) next() *Message {
	for {
		q.mu.Lock()
		if q.ctx.Err() != nil {
			q.mu.Unlock()
			return nil
		}
		if len(q.pending) > 0 {
			m := q.pending[0]
			q.pending[0] = nil
			q.pending = q.pending[1:]
			q.mu.Unlock()
			return m
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil
		}
		select {
		case <-q.wake:
		case <-q.stop:
		case <-q.ctx.Done():
		}
	}
}

func (q *Queue) deliver(m *Message) {
	to := strings.Join(m.To, ", ")
	pause := q.opts.Backoff
	for attempt := 1; ; attempt++ {
		err := q.t.Send(q.ctx, m)
		if err == nil {
			q.log.Printf("mailed %q to %s via %s", m.Subject, to, q.t)
			return
		}
		var refused *RefusedError
		if errors.As(err, &refused) {
			q.log.Printf("mailed %q to %s via %s; refused: %s (%v)", m.Subject, to, q.t, strings.Join(refused.Refused, ", "), refused.Err)
			return
		}
		if q.ctx.Err() != nil {
			q.keep(m, err)
			return
		}
		if attempt >= q.opts.Attempts {
			q.log.Printf("gave up on mail %q to %s after %d attempts: %v", m.Subject, to, attempt, err)
			return
		}
		q.log.Printf("mail %q failed (attempt %d of %d), retrying in %v: %v", m.Subject, attempt, q.opts.Attempts, pause, err)
		timer := time.NewTimer(pause)
		select {
		case <-timer.C:
		case <-q.ctx.Done():
			timer.Stop()
			q.keep(m, fmt.Errorf("last attempt: %w", err))
			return
		}
		pause = nextPause(pause, q.opts.Backoff)
	}
}

// nextPause doubles pause up to a minute, or up to base when that is longer.
func nextPause(pause, base time.Duration) time.Duration {
	return min(2*pause, max(maxBackoff, base))
}

// keep records m as undelivered for Close to report.
func (q *Queue) keep(m *Message, err error) {
	q.mu.Lock()
	q.undelivered = append(q.undelivered, undelivered{m, err})
	q.mu.Unlock()
}
