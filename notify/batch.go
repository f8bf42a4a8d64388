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

// DefaultMaxLines is the number of alert lines a Batch keeps when
// BatchOptions.MaxLines is zero.
const DefaultMaxLines = 10000

// previewLen is how much of a body the "Sending notification email" log
// block shows, as superlance does.
const previewLen = 76

// BatchOptions configures a Batch.
type BatchOptions struct {
	// Interval: a flush happens when the summed tick periods reach it; 0
	// flushes at every tick.
	Interval time.Duration
	// MaxLines bounds the kept lines; 0 means 10000. When over, the oldest
	// lines are dropped and the drop is counted in the log and the next mail.
	MaxLines  int
	Transport Transport
	// Template gives To, From, Subject and extra headers; Body is the batch.
	Template Message
	Log      *log.Logger
	// Appendix, when set, is called each time a mail is made of the
	// lines; what it returns (e.g. log tails) follows them after a blank
	// line. It must not block on the network.
	Appendix func() string
}

// Batch collects alert lines and sends them as one message per interval
// (superlance's ProcessStateEmailMonitor). A batch that fails to send is kept
// and merged with the next one.
type Batch struct {
	o   BatchOptions
	log *log.Logger

	// ctx is the parent of every send; Close cancels it when its own
	// context ends while a background flush is still in flight.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	lines    []string
	dropped  int           // lines dropped for the bound, not yet reported in a sent mail
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

// bound drops the oldest lines beyond MaxLines; b.mu must be held.
func (b *Batch) bound() {
	over := len(b.lines) - b.o.MaxLines
	if over <= 0 {
		return
	}
	// Reslicing keeps Add cheap at the bound; append reallocates (and lets
	// the dropped prefix be collected) when the slice grows again.
	b.lines = b.lines[over:]
	b.dropped += over
	b.log.Printf("dropped the %d oldest alerts: more than %d are waiting because mail could not be sent (%d dropped so far)", over, b.o.MaxLines, b.dropped)
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
		b.send(b.ctx, lines, dropped, "kept for the next flush")
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

// send delivers one mail and, on failure, puts the lines back in front of
// whatever arrived meanwhile, so that order is kept and nothing is lost
// beyond the bound.
func (b *Batch) send(ctx context.Context, lines []string, dropped int, fate string) error {
	m := b.o.Template
	m.To = append([]string(nil), b.o.Template.To...)
	m.Header = append([]Field(nil), b.o.Template.Header...)
	m.Body = Body(lines, dropped)
	if b.o.Appendix != nil {
		if extra := b.o.Appendix(); extra != "" {
			m.Body += "\n\n" + extra
		}
	}
	err := b.o.Transport.Send(ctx, &m)
	var refused *RefusedError
	if errors.As(err, &refused) {
		// Delivered to the others: keeping the lines would mail them twice.
		b.log.Printf("Error sending email: %v (delivered to the other recipients)", err)
		err = nil
	}
	if err != nil {
		b.log.Printf("Error sending email: %v", err)
		b.mu.Lock()
		b.lines = append(lines, b.lines...)
		b.dropped += dropped
		b.bound()
		n := len(b.lines)
		b.mu.Unlock()
		b.log.Printf("%d alerts %s", n, fate)
		return fmt.Errorf("sending %d alerts: %w", len(lines), err)
	}
	b.logSent(&m)
	return nil
}

// logSent writes superlance's "Sending notification email" block, one log
// line per fact; a multi-line body preview gets one log line per body line.
func (b *Batch) logSent(m *Message) {
	subject := m.Subject
	if subject == "" {
		subject = "None"
	}
	b.log.Print("Sending notification email:")
	b.log.Printf("To: %s", strings.Join(m.To, ", "))
	b.log.Printf("From: %s", m.From)
	b.log.Printf("Subject: %s", subject)
	b.log.Print("Body:")
	for line := range strings.SplitSeq(Preview(m.Body), "\n") {
		b.log.Print(line)
	}
}

// Body renders a batch: a notice for dropped lines first, then the lines
// joined by newlines, without a trailing newline.
func Body(lines []string, dropped int) string {
	if dropped > 0 {
		notice := fmt.Sprintf("(%d older alerts dropped: mail could not be sent)", dropped)
		lines = append([]string{notice}, lines...)
	}
	return strings.Join(lines, "\n")
}

// Preview is the body as superlance logs it: the whole body when it has at
// most 76 characters, else its first 76 characters and "...".
func Preview(body string) string {
	r := []rune(body)
	if len(r) <= previewLen {
		return body
	}
	return string(r[:previewLen]) + "..."
}

// Close waits for a flush in flight, then sends what is still pending, within ctx.
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
	if len(b.lines) == 0 && b.dropped == 0 {
		b.mu.Unlock()
		return nil
	}
	lines, dropped := b.take()
	b.mu.Unlock()
	if ctx.Err() != nil {
		b.mu.Lock()
		b.lines, b.dropped = lines, dropped
		b.mu.Unlock()
		b.log.Printf("%d alerts not sent: shutting down", len(lines))
		return fmt.Errorf("sending %d alerts: %w", len(lines), ctx.Err())
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	return b.send(sctx, lines, dropped, "not sent: shutting down")
}
