package eventproto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"runtime/debug"
	"sync"
	"time"
)

// Handler decides what to do with one event. It must return quickly: slow
// work (network, restarts, mail) goes to a Worker or a notify.Queue. The
// serve loop acknowledges the event with OK when the handler returns.
type Handler func(ctx context.Context, ev Event)

// ServeOptions configures Serve.
type ServeOptions struct {
	// Log receives protocol diagnostics (poolserial gaps, repeats). Nil discards.
	Log *log.Logger
	// Grace bounds the drain after reading stops (stdin EOF or ctx done).
	// Zero means DefaultGrace.
	Grace time.Duration
	// Drain, if set, runs after reading stops, with a context that expires
	// after Grace: finish in-flight work, flush queued mail.
	Drain func(ctx context.Context) error
}

// DefaultGrace is shorter than supervisord's default stopwaitsecs (10 s), so a
// listener drains and exits before supervisord resorts to SIGKILL.
const DefaultGrace = 8 * time.Second

// Serve runs the event loop: Next, handler, OK, until stdin EOF or ctx is
// done, then drains within the grace period. It returns nil on a clean stop
// and an error for a protocol error or a failed write to stdout.
//
// The events are read, handled and acknowledged in a goroutine that Serve
// starts (the handler runs there), so that a cancelled ctx (SIGTERM) stops
// Serve at once even while stdin is quiet: an event in hand is still
// handled and acknowledged, but a read that waits on stdin is left blocked
// until stdin delivers or the process exits. The Listener must not be used
// after Serve returns.
//
// Serve writes the READY for the next event together with the RESULT of
// the previous one: the bytes on stdout are the same, in one write instead
// of two.
//
// Every event is acknowledged with OK, including the ones the handler
// ignores and the ones it panicked on: a panic is logged with the event name
// and stack, but FAIL would make supervisord redeliver the same event at
// once and forever, and a crash would do the same after the restart.
//
// A protocol error or a write error on stdout ends the loop; Drain still
// runs (queued mail is not lost), then Serve returns the error and the
// command should exit non-zero so that supervisord restarts it. A Drain
// error is logged; it does not change the result of a clean stop.
func Serve(ctx context.Context, l *Listener, h Handler, opts ServeOptions) error {
	logger := opts.Log
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	err := serveLoop(ctx, l, h, logger)
	if ctx.Err() != nil {
		// Say why: a signal from supervisord, an operator's kill, a hangup.
		logger.Printf("stopping: %v", context.Cause(ctx))
	}
	drain(ctx, opts, logger)
	return err
}

func serveLoop(ctx context.Context, l *Listener, h Handler, logger *log.Logger) error {
	if ctx.Err() != nil {
		// Checked first: READY now would invite an event that is never
		// answered.
		return nil
	}
	lp := &loop{l: l, h: h, logger: logger}
	done := make(chan error, 1) // room for the result of an abandoned loop
	go func() { done <- lp.run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	lp.mu.Lock()
	handling := lp.handling
	lp.abandoned = !handling
	lp.mu.Unlock()
	if handling {
		// The event in hand is still handled and acknowledged, not left
		// to redelivery; the loop stops after it.
		return <-done
	}
	return nil
}

// loop reads, handles and acknowledges events in its own goroutine, with
// plain blocking reads: that is the cheapest way through a pipe (one read
// and one write per event, no handoff between goroutines or threads), and
// a read blocked on a pipe cannot be interrupted anyway. Serve waits for
// the loop or for ctx; on ctx it returns at once unless the loop holds an
// event, and leaves a loop blocked in its read to the process exit.
type loop struct {
	l      *Listener
	h      Handler
	logger *log.Logger

	mu        sync.Mutex
	handling  bool // an event is read and not yet answered
	abandoned bool // Serve has returned: no further event is handled
}

func (lp *loop) run(ctx context.Context) error {
	l := lp.l
	ev, err := l.Next()
	for {
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("reading events: %w", err)
		}
		lp.mu.Lock()
		abandoned := lp.abandoned
		lp.handling = !abandoned
		lp.mu.Unlock()
		if abandoned {
			// Read after Serve returned, so never answered: supervisord
			// redelivers it to the next listener process.
			return nil
		}
		report(lp.logger, ev)
		handle(ctx, lp.h, ev, lp.logger)
		if ctx.Err() != nil {
			// Acknowledge, but no READY: it would invite an event that
			// is never answered.
			if err := l.OK(); err != nil {
				return fmt.Errorf("acknowledging %s: %w", ev.Name(), err)
			}
			return nil
		}
		if err := l.okReady(); err != nil {
			return fmt.Errorf("acknowledging %s: %w", ev.Name(), err)
		}
		lp.mu.Lock()
		lp.handling = false
		// Under the lock: Serve may have seen ctx done while this event
		// was in hand, and then waits for the loop to return.
		stop := ctx.Err() != nil
		lp.mu.Unlock()
		if stop {
			return nil
		}
		ev, err = l.Next()
	}
}

func report(logger *log.Logger, ev Event) {
	hd := ev.Header
	if ev.Missed > 0 {
		logger.Printf("pool %s: supervisord dropped %d event(s) before poolserial %d (event buffer overflow?)",
			hd.Pool, ev.Missed, hd.PoolSerial)
	}
	if ev.Repeat {
		logger.Printf("pool %s: %s serial %d poolserial %d delivered again (rejected earlier, here or in another pool, or the listener restarted)",
			hd.Pool, hd.EventName, hd.Serial, hd.PoolSerial)
	}
}

func handle(ctx context.Context, h Handler, ev Event, logger *log.Logger) {
	defer func() {
		if p := recover(); p != nil {
			logger.Printf("handler panicked on %s (serial %d), acknowledged anyway: %v\n%s",
				ev.Name(), ev.Header.Serial, p, debug.Stack())
		}
	}()
	h(ctx, ev)
}

func drain(ctx context.Context, opts ServeOptions, logger *log.Logger) {
	if opts.Drain == nil {
		return
	}
	grace := opts.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	// The drain must outlive the cancelled ctx of a SIGTERM; only the
	// grace period bounds it.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := opts.Drain(dctx); err != nil {
		logger.Printf("drain: %v", err)
	}
}
