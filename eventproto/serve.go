package eventproto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
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
// Reading happens in a goroutine so that a cancelled ctx (SIGTERM) stops the
// loop at once even while stdin is quiet; that goroutine stays blocked in
// its read until stdin delivers or the process exits, and the Listener must
// not be used after Serve returns.
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

type nextResult struct {
	ev  Event
	err error
}

func serveLoop(ctx context.Context, l *Listener, h Handler, logger *log.Logger) error {
	// One request, one result: the reader calls Next only when asked, so
	// the Listener is never used by both goroutines at once. results has
	// room for one so the reader can finish its send and exit even when the
	// loop has already returned.
	requests := make(chan struct{})
	results := make(chan nextResult, 1)
	defer close(requests)
	go func() {
		for range requests {
			ev, err := l.Next()
			results <- nextResult{ev, err}
		}
	}()

	for {
		if ctx.Err() != nil {
			// Checked first: READY now would invite an event that is
			// never answered.
			return nil
		}
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
				return nil
			}
		}
		switch {
		case errors.Is(r.err, io.EOF):
			return nil
		case r.err != nil:
			return fmt.Errorf("reading events: %w", r.err)
		}
		report(logger, r.ev)
		handle(ctx, h, r.ev, logger)
		if err := l.OK(); err != nil {
			return fmt.Errorf("acknowledging %s: %w", r.ev.Name(), err)
		}
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
