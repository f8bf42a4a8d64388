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

// DefaultMaxLines is the number of lines a Batch keeps when
// BatchOptions.MaxLines is zero.
const DefaultMaxLines = 10000

// BatchOptions configures a Batch.
type BatchOptions struct {
	// Interval: a flush happens when the summed tick periods reach it; 0
	// flushes at every tick.
	Interval time.Duration
	// MaxLines bounds the kept lines; 0 means 10000. Beyond it the oldest
	// lines are dropped; the count and the reason are logged once per
	// flush and told in the next mail.
	MaxLines  int
	Transport Transport
	// Template gives To, From, Subject and extra headers; Body is the batch.
	Template Message
	// OnFlush, when set, is told the outcome of every send (for the
	// caller's own log lines); without it the Batch logs the outcome.
	OnFlush func(Flush)
	// Spool, when set, keeps what could not be sent by Close for a queue
	// of the next run to send (see Queue).
	Spool *Spool
	Log   *log.Logger
	// Appendix, when set, is called each time a mail is made of the
	// lines; what it returns (e.g. log tails) follows them after a blank
	// line. It must not block on the network.
	Appendix func() string
}

// Flush is the outcome of one send of a batch.
type Flush struct {
	Message *Message // the mail sent or tried
	Lines   int      // alert lines in it
	// Err is nil when the mail was delivered; a *RefusedError when it was
	// delivered to some recipients only (the lines are not kept).
	Err error
	// Kept counts the lines waiting for the next flush after a failure.
	Kept int
	// Final is set for the send at Close: lines not sent then are not
	// kept for a next flush (see BatchOptions.Spool).
	Final bool
}

// Batch collects lines and sends them as one message per interval
// (superlance's ProcessStateEmailMonitor). A batch that fails to send is
// kept and merged with the next one.
type Batch struct {
	o   BatchOptions
	log *log.Logger

	// ctx is the parent of every send; Close cancels it when its own
	// context ends while a background flush is still in flight.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	lines    []string
	dropped  int           // lines dropped for the bound, not yet told in a sent mail
	unlogged int           // lines dropped since the last log line about it
	lastErr  error         // the last failed send, nil after a delivery
	elapsed  time.Duration // tick periods summed since the last flush
	inflight chan struct{}
	closed   bool
}

// NewBatch returns an empty batch.
func NewBatch(o BatchOptions) *Batch {
	if o.MaxLines <= 0 {
		o.MaxLines = DefaultMaxLines
	}
	l := o.Log
	if l == nil {
		l = log.New(io.Discard, "", 0)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Batch{o: o, log: l, ctx: ctx, cancel: cancel}
}

// Add appends one line. It never blocks on the network.
func (b *Batch) Add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
	b.bound()
}

// Pending returns the number of lines waiting for the next flush. Lines
// taken by a flush in flight are not counted; they come back if it fails.
func (b *Batch) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.lines)
}

// bound drops the oldest lines beyond MaxLines; b.mu must be held. The
// drop is logged at the next flush, once (logDropped), not per line.
func (b *Batch) bound() {
	over := len(b.lines) - b.o.MaxLines
	if over <= 0 {
		return
	}
	// Reslicing keeps Add cheap at the bound; append reallocates (and lets
	// the dropped prefix be collected) when the slice grows again.
	b.lines = b.lines[over:]
	b.dropped += over
	b.unlogged += over
}

// dropReason says why more than MaxLines lines were waiting; b.mu must
// be held.
func (b *Batch) dropReason() string {
	switch {
	case b.lastErr != nil:
		return fmt.Sprintf("mail could not be sent: %v", b.lastErr)
	case b.inflight != nil:
		return "the previous mail is still being sent"
	}
	return "they arrived within one interval"
}

// logDropped writes the one line about lines dropped since the last such
// line; b.mu must be held.
func (b *Batch) logDropped() {
	if b.unlogged == 0 {
		return
	}
	b.log.Printf("dropped the %d oldest alerts: more than %d were waiting because %s (%d dropped since the last mail)", b.unlogged, b.o.MaxLines, b.dropReason(), b.dropped)
	b.unlogged = 0
}

// Tick adds one tick period to the time elapsed; when that reaches the
// interval the batch is flushed in the background and the count restarts.
func (b *Batch) Tick(period time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.elapsed += period
	if b.elapsed < b.o.Interval {
		return
	}
	b.elapsed = 0
	b.logDropped()
	if len(b.lines) == 0 && b.dropped == 0 {
		return
	}
	if b.inflight != nil {
		// The lines stay pending; the flush after this one carries them.
		b.log.Printf("previous mail still being sent, %d alerts wait for the next flush", len(b.lines))
		return
	}
	lines, dropped := b.take()
	done := make(chan struct{})
	b.inflight = done
	go func() {
		defer close(done)
		b.send(b.ctx, lines, dropped, false)
		b.mu.Lock()
		b.inflight = nil
		b.mu.Unlock()
	}()
}

// take empties the batch and returns its content; b.mu must be held.
func (b *Batch) take() (lines []string, dropped int) {
	lines, dropped = b.lines, b.dropped
	b.lines, b.dropped = nil, 0
	return lines, dropped
}

// message is the mail of lines: a notice of dropped lines first, then the
// lines joined by newlines, without a trailing newline (as superlance).
func (b *Batch) message(lines []string, dropped int) *Message {
	m := b.o.Template.clone()
	if dropped > 0 {
		lines = append([]string{fmt.Sprintf("(%d older alerts dropped: more than %d were waiting)", dropped, b.o.MaxLines)}, lines...)
	}
	m.Body = strings.Join(lines, "\n")
	if b.o.Appendix != nil {
		if extra := b.o.Appendix(); extra != "" {
			m.Body += "\n\n" + extra
		}
	}
	return m
}

// send delivers one mail and, on failure, puts the lines back in front of
// whatever arrived meanwhile, so that order is kept and nothing is lost
// beyond the bound.
func (b *Batch) send(ctx context.Context, lines []string, dropped int, final bool) error {
	m := b.message(lines, dropped)
	err := b.o.Transport.Send(ctx, m)
	var refused *RefusedError
	if err == nil || errors.As(err, &refused) {
		// Delivered (to the others, when some refused): keeping the
		// lines would mail them twice.
		b.mu.Lock()
		b.lastErr = nil
		b.mu.Unlock()
		b.report(Flush{Message: m, Lines: len(lines), Err: err, Final: final})
		return nil
	}
	b.mu.Lock()
	b.lastErr = err
	b.lines = append(lines, b.lines...)
	b.dropped += dropped
	b.bound()
	kept := len(b.lines)
	b.mu.Unlock()
	b.report(Flush{Message: m, Lines: len(lines), Err: err, Kept: kept, Final: final})
	return fmt.Errorf("sending %d alerts: %w", len(lines), err)
}

func (b *Batch) report(f Flush) {
	if b.o.OnFlush != nil {
		b.o.OnFlush(f)
		return
	}
	var refused *RefusedError
	switch {
	case f.Err == nil:
		b.log.Printf("sent %d alerts to %s", f.Lines, strings.Join(f.Message.To, ", "))
	case errors.As(f.Err, &refused):
		b.log.Printf("sent %d alerts to the recipients that took them: %v", f.Lines, f.Err)
	case f.Final:
		b.log.Printf("sending %d alerts: %v", f.Lines, f.Err)
	default:
		b.log.Printf("sending %d alerts: %v; %d kept for the next flush", f.Lines, f.Err, f.Kept)
	}
}

// Close waits for a flush in flight, then sends what is still pending,
// within ctx. What cannot be sent is written to the Spool when there is
// one, and logged.
func (b *Batch) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	inflight := b.inflight
	b.mu.Unlock()
	if inflight != nil {
		select {
		case <-inflight:
		case <-ctx.Done():
			b.cancel()
			<-inflight
		}
	}
	defer b.cancel()
	b.mu.Lock()
	b.logDropped()
	if len(b.lines) == 0 && b.dropped == 0 {
		b.mu.Unlock()
		return nil
	}
	lines, dropped := b.take()
	b.mu.Unlock()
	var err error
	if ctx.Err() != nil {
		err = fmt.Errorf("sending %d alerts: %w", len(lines), ctx.Err())
	} else {
		sctx, stop := context.WithCancel(ctx)
		err = b.send(sctx, lines, dropped, true)
		stop()
		if err == nil {
			return nil
		}
		b.mu.Lock()
		lines, dropped = b.take() // send put them back
		b.mu.Unlock()
	}
	b.keep(lines, dropped)
	return err
}

// keep spools or logs lines that could not be sent before exit.
func (b *Batch) keep(lines []string, dropped int) {
	if b.o.Spool == nil {
		b.log.Printf("%d alerts not sent before exit (each was logged when it arrived)", len(lines))
		return
	}
	if _, err := b.o.Spool.Write(b.message(lines, dropped)); err != nil {
		b.log.Printf("%d alerts not sent before exit, and not written to the spool: %v", len(lines), err)
		return
	}
	b.log.Printf("%d alerts not sent before exit: kept in the spool %s for the next start", len(lines), b.o.Spool.Dir())
}
