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

// Delivery is one item a Queue delivers: a mail (Mail), or a message of
// another channel.
type Delivery interface {
	// Deliver makes one attempt, within ctx's deadline. An error wrapped
	// by Permanent is not retried; a *RefusedError counts as delivered.
	Deliver(ctx context.Context) error
	// String names the item in log lines (never with a secret).
	String() string
}

// Dumper is a Delivery that can show itself in full in the log, so that a
// person can send it by hand when the queue could not.
type Dumper interface {
	Dump() string
}

// PermanentError marks a failure that another attempt cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so that a Queue gives up on the delivery at once.
func Permanent(err error) error { return &PermanentError{Err: err} }

// QueueOptions configures a Queue. The zero value retries with backoff
// for as long as the process runs, holding at most 100 items.
type QueueOptions struct {
	// Size bounds the items waiting; 0 means 100. When full, the oldest
	// is dropped, logged in full with the count dropped so far.
	Size int
	// Attempts per item; 0 means no limit: an item is retried until it is
	// delivered, dropped for room, or the queue is closed.
	Attempts int
	// Backoff is the first pause between attempts (0 means 2 s), doubled
	// after each failure up to MaxBackoff (0 means 5 minutes).
	Backoff, MaxBackoff time.Duration
	// Spool, when set, holds every mail queued by Enqueue until it is
	// delivered or dropped, and the queue starts with what an earlier
	// process left there.
	Spool *Spool
	Log   *log.Logger // what was delivered, retried, dropped; nil discards
}

// ErrQueueClosed is returned by Enqueue and Add after Close.
var ErrQueueClosed = errors.New("queue closed")

// Queue delivers in the background: Enqueue and Add never wait on the
// network. One goroutine delivers the items in order, each retried with
// growing pauses; every outcome is logged, one line per fact.
type Queue struct {
	t    Transport
	opts QueueOptions
	log  *log.Logger

	// ctx bounds deliveries; Close cancels it when its own ctx ends.
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{} // an item was added (buffered, 1)
	stop   chan struct{} // closed by Close
	done   chan struct{} // closed when the delivery goroutine returns

	// With a Spool, spooler writes the files off the caller's goroutine:
	// a synced write takes milliseconds, which an event loop must not wait.
	spoolc      chan *item    // closed by Close
	spoolerDone chan struct{} // closed when the spooler returns

	mu          sync.Mutex
	pending     []*item
	closed      bool
	dropped     int           // for room, since the start
	undelivered []undelivered // cut short by Close's ctx
	failed      int           // given up on, or refused by a recipient's server
}

// item is a queued delivery and, with a Spool, its file.
type item struct {
	d   Delivery
	msg *Message // to write to the spool; nil when not spooled

	mu   sync.Mutex
	file string // "" until written
	done bool   // delivered or given up: a late write is skipped
}

type undelivered struct {
	it  *item
	err error
}

// NewQueue starts a queue. Enqueue delivers mail through t; Add takes any
// Delivery (t may be nil when only Add is used). With a Spool, the mail an
// earlier process left in it is queued first.
func NewQueue(t Transport, o QueueOptions) *Queue {
	if o.Size <= 0 {
		o.Size = 100
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
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
	if o.Spool != nil && t != nil {
		q.loadSpool()
		q.spoolc = make(chan *item, o.Size)
		q.spoolerDone = make(chan struct{})
		go q.spooler()
	}
	go q.run()
	return q
}

// spooler writes queued mail to the spool, in the order it was queued.
func (q *Queue) spooler() {
	defer close(q.spoolerDone)
	for it := range q.spoolc {
		q.write(it)
	}
}

// write stores it in the spool unless it is already done with.
func (q *Queue) write(it *item) {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.done || it.file != "" {
		return
	}
	file, err := q.opts.Spool.Write(it.msg)
	if err != nil {
		q.log.Printf("%s: not written to the spool, kept in memory only: %v", it.d, err)
		return
	}
	it.file = file
}

// loadSpool queues the mail left in the spool.
func (q *Queue) loadSpool() {
	left, err := q.opts.Spool.Load()
	if err != nil {
		q.log.Printf("reading the spool %s: %v", q.opts.Spool.Dir(), err)
	}
	if len(left) == 0 {
		return
	}
	q.log.Printf("%d mails left in the spool %s by an earlier run: sending them first", len(left), q.opts.Spool.Dir())
	for _, s := range left {
		q.push(&item{d: &Mail{Transport: q.t, Message: s.Message}, file: s.File})
	}
}

// Enqueue queues m for delivery through the queue's transport. It never
// blocks on the network; it returns an error only for a message that can
// never be sent (Validate fails) and after Close. The queue keeps its own
// copy of m; with a Spool, the copy is also written there, in the
// background, within milliseconds.
func (q *Queue) Enqueue(m *Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	c := m.clone()
	it := &item{d: &Mail{Transport: q.t, Message: c}}
	if q.spoolc != nil {
		it.msg = c
	}
	return q.add(it)
}

// Add queues d. It never blocks; it returns an error only after Close.
func (q *Queue) Add(d Delivery) error { return q.add(&item{d: d}) }

func (q *Queue) add(it *item) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrQueueClosed
	}
	if it.msg != nil {
		select {
		case q.spoolc <- it:
		default:
			// The spooler is behind by a whole queue: the disk is slow
			// or full. Writing here keeps every queued mail spooled.
			q.mu.Unlock()
			q.write(it)
			q.mu.Lock()
		}
	}
	q.mu.Unlock()
	q.push(it)
	select {
	case q.wake <- struct{}{}:
	default: // already signalled
	}
	return nil
}

// push appends it, dropping the oldest item when the queue is full.
func (q *Queue) push(it *item) {
	q.mu.Lock()
	var dropped *item
	if len(q.pending) >= q.opts.Size {
		dropped = q.pending[0]
		q.pending[0] = nil
		q.pending = q.pending[1:]
		q.dropped++
	}
	q.pending = append(q.pending, it)
	n := q.dropped
	q.mu.Unlock()
	if dropped != nil {
		q.giveUp(dropped, fmt.Sprintf("queue full (%d waiting): dropped the oldest, %s (%d dropped so far)", q.opts.Size, dropped.d, n))
	}
}

// Close stops accepting items and delivers what is pending until ctx is
// done; when ctx ends first, the delivery in progress and pauses between
// attempts are cut short. It returns the items that were not delivered
// (each also logged: in full, or as kept in the spool for the next start).
// Items given up on earlier were logged then and are not returned.
// Calling Close again returns nil.
func (q *Queue) Close(ctx context.Context) []Delivery {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	if q.spoolc != nil {
		close(q.spoolc)
	}
	q.mu.Unlock()
	close(q.stop)

	cut := context.AfterFunc(ctx, q.cancel)
	<-q.done
	cut()
	q.cancel()
	if q.spoolerDone != nil {
		<-q.spoolerDone // every file is written before it is reported
	}

	q.mu.Lock()
	left := q.undelivered
	for _, it := range q.pending {
		left = append(left, undelivered{it, errors.New("never attempted")})
	}
	q.pending, q.undelivered = nil, nil
	q.mu.Unlock()

	var out []Delivery
	for _, u := range left {
		if u.it.spooled() {
			q.log.Printf("%s not delivered before exit (%v): kept in the spool %s for the next start", u.it.d, u.err, q.opts.Spool.Dir())
		} else {
			q.log.Printf("%s not delivered before exit (%v)%s", u.it.d, u.err, dump(u.it.d))
		}
		out = append(out, u.it.d)
	}
	return out
}

func (q *Queue) run() {
	defer close(q.done)
	for {
		it := q.next()
		if it == nil {
			return
		}
		q.deliver(it)
	}
}

// next waits for a pending item; it returns nil once the queue is closed
// and empty, or when Close's ctx has ended.
func (q *Queue) next() *item {
	for {
		q.mu.Lock()
		if q.ctx.Err() != nil {
			q.mu.Unlock()
			return nil
		}
		if len(q.pending) > 0 {
			it := q.pending[0]
			q.pending[0] = nil
			q.pending = q.pending[1:]
			q.mu.Unlock()
			return it
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

func (q *Queue) deliver(it *item) {
	pause := q.opts.Backoff
	for attempt := 1; ; attempt++ {
		err := it.d.Deliver(q.ctx)
		var refused *RefusedError
		switch {
		case err == nil:
			q.log.Printf("delivered %s", it.d)
			q.forget(it)
			return
		case errors.As(err, &refused):
			q.log.Printf("delivered %s; refused: %s (%v)", it.d, strings.Join(refused.Refused, ", "), refused.Err)
			q.forget(it)
			q.fail()
			return
		case q.ctx.Err() != nil:
			q.keep(it, err)
			return
		}
		var perm *PermanentError
		if errors.As(err, &perm) {
			q.giveUp(it, fmt.Sprintf("gave up on %s: %v (another attempt cannot succeed)", it.d, err))
			return
		}
		if q.opts.Attempts > 0 && attempt >= q.opts.Attempts {
			q.giveUp(it, fmt.Sprintf("gave up on %s after %d attempts: %v", it.d, attempt, err))
			return
		}
		of := ""
		if q.opts.Attempts > 0 {
			of = fmt.Sprintf(" of %d", q.opts.Attempts)
		}
		q.log.Printf("%s failed (attempt %d%s), retrying in %v: %v", it.d, attempt, of, pause, err)
		timer := time.NewTimer(pause)
		select {
		case <-timer.C:
		case <-q.ctx.Done():
			timer.Stop()
			q.keep(it, fmt.Errorf("last attempt: %w", err))
			return
		}
		pause = min(2*pause, max(q.opts.MaxBackoff, q.opts.Backoff))
	}
}

// giveUp logs why it is lost, with the item in full, and removes it from
// the spool.
func (q *Queue) giveUp(it *item, why string) {
	q.log.Printf("%s%s", why, dump(it.d))
	q.forget(it)
	q.fail()
}

func (q *Queue) fail() {
	q.mu.Lock()
	q.failed++
	q.mu.Unlock()
}

// Failed returns how many deliveries the queue gave up on, or that a mail
// server refused for some recipient, so far; Close reports only what it
// cut short.
func (q *Queue) Failed() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.failed
}

// forget removes it from the spool: it is delivered or given up.
func (q *Queue) forget(it *item) {
	it.mu.Lock()
	it.done = true
	file := it.file
	it.mu.Unlock()
	if file == "" {
		return
	}
	if err := q.opts.Spool.Remove(file); err != nil {
		q.log.Printf("removing %s from the spool: %v", it.d, err)
	}
}

func (it *item) spooled() bool {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.file != ""
}

// keep records it as undelivered for Close to report.
func (q *Queue) keep(it *item, err error) {
	q.mu.Lock()
	q.undelivered = append(q.undelivered, undelivered{it, err})
	q.mu.Unlock()
}

// dump is d in full for a log line, or "" when d cannot show itself.
func dump(d Delivery) string {
	if dd, ok := d.(Dumper); ok {
		return "; in full, to send by hand:\n" + dd.Dump()
	}
	return ""
}

// Mail is the Delivery of a Message through a Transport.
type Mail struct {
	Transport Transport
	Message   *Message
}

// Deliver sends the message once.
func (m *Mail) Deliver(ctx context.Context) error { return m.Transport.Send(ctx, m.Message) }

// String names the mail for log lines: subject, recipients, transport.
func (m *Mail) String() string {
	return fmt.Sprintf("mail %q to %s via %s", m.Message.Subject, strings.Join(m.Message.To, ", "), m.Transport)
}

// Dump is the message as a person would hand it to "sendmail -t": its
// header fields and body, unencoded, LF line endings.
func (m *Mail) Dump() string {
	var b strings.Builder
	msg := m.Message
	b.WriteString("To: " + strings.Join(msg.To, ", ") + "\n")
	if msg.From != "" {
		b.WriteString("From: " + msg.From + "\n")
	}
	if msg.Subject != "" {
		b.WriteString("Subject: " + msg.Subject + "\n")
	}
	for _, f := range msg.Header {
		b.WriteString(f.Name + ": " + f.Value + "\n")
	}
	b.WriteString("\n" + msg.Body)
	if a := msg.Attachment; a != nil {
		b.WriteString("\n\n--- attachment " + a.Name + " ---\n" + a.Text)
	}
	return b.String()
}
