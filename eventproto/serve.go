package eventproto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"runtime/debug"
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
// A cancelled ctx (SIGTERM) stops the loop at once even while stdin is
// quiet. When the Listener reads an *os.File on a pipe or socket, as a
// listener's stdin under supervisord is, Serve reads it through the
// runtime's poller and a cancellation interrupts the read; any other reader
// is read in a goroutine that stays blocked in its read until stdin
// delivers or the process exits. The Listener must not be used after Serve
// returns.
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
	drain(ctx, opts, logger)
	return err
}

// errStopped is what a read interrupted by the cancelled ctx returns.
var errStopped = errors.New("eventproto: reading stopped")

func serveLoop(ctx context.Context, l *Listener, h Handler, logger *log.Logger) error {
	if ctx.Err() != nil {
		// Checked first: READY now would invite an event that is never
		// answered.
		return nil
	}
	next, stop := nextFunc(ctx, l)
	defer stop()
	ev, err := next()
	for {
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, errStopped):
			return nil
		case err != nil:
			return fmt.Errorf("reading events: %w", err)
		}
		report(logger, ev)
		handle(ctx, h, ev, logger)
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
		ev, err = next()
	}
}

// nextFunc returns how the loop gets the next event (l.Next, but returning
// errStopped once ctx is done, even while stdin is quiet) and a function
// that releases what that takes.
//
// An *os.File on a pipe or socket (supervisord's stdin) is read through the
// poller, in the loop's goroutine: a cancelled ctx sets a read deadline in
// the past, which wakes the read. Any other reader is read in a goroutine
// that stays blocked in its read after ctx is done, until stdin delivers or
// the process exits; it costs a goroutine handoff per event.
func nextFunc(ctx context.Context, l *Listener) (next func() (Event, error), stop func()) {
	if f, release, ok := l.pollable(); ok {
		fired := make(chan struct{})
		stopWake := context.AfterFunc(ctx, func() {
			defer close(fired)
			f.SetReadDeadline(time.Unix(1, 0))
		})
		next = func() (Event, error) {
			ev, err := l.Next()
			if err != nil && ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
				return Event{}, errStopped
			}
			return ev, err
		}
		return next, func() {
			if !stopWake() {
				<-fired // the deadline is set before release clears it
			}
			release()
		}
	}

	// One request, one result: the reader calls Next only when asked, so
	// the Listener is never used by both goroutines at once. results has
	// room for one so the reader can finish its send and exit even when the
	// loop has already returned.
	requests := make(chan struct{})
	results := make(chan nextResult, 1)
	go func() {
		for range requests {
			ev, err := l.Next()
			results <- nextResult{ev, err}
		}
	}()
	next = func() (Event, error) {
		requests <- struct{}{} // the reader is idle, waiting for this
		var r nextResult
		select {
		case r = <-results:
		case <-ctx.Done():
			select {
			case r = <-results:
				// An event that arrived together with the cancellation is
				// still handled and acknowledged, not left to redelivery.
			default:
				return Event{}, errStopped
			}
		}
		return r.ev, r.err
	}
	return next, func() { close(requests) }
}

type nextResult struct {
	ev  Event
	err error
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
