// Package tickloop is the event loop of the tools that work on every TICK
// event (httpok, memmon): the work runs off the event loop, one tick at a
// time, and shutdown waits for it and for queued mail.
package tickloop

import (
	"context"
	"io"
	"log"
	"sync/atomic"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/svstate"
)

// Serve runs the event loop: every TICK_* event starts job off the event
// loop, unless the previous job is still running, in which case the tick is
// logged and skipped, and goes to alerts (for --heartbeat); every other
// event is acknowledged and ignored, except SUPERVISOR_STATE_CHANGE_STOPPING,
// which svstate.Stopping then reports to the job. On stdin EOF or when ctx is done it
// waits for the job and delivers queued alerts (alerts may be nil) within
// the grace period. flush, when given, runs
// between the two: whatever holds alerts back (context being fetched,
// --flood summaries) hands them to the queue.
//
// A restart outlasts the grace period: when it ends, the job's context is
// cancelled, which stops checks and keeps new restarts from beginning, but
// a job must run a stop it has begun and the start after it under a context
// that survives that cancellation (bounded by the calls' own deadlines),
// and the drain waits for it. A program stopped and never started again
// stays down for good, since supervisord does not restart a program that was
// stopped on request. The alerts about it then get a grace period of their
// own.
func Serve(ctx context.Context, stdin io.Reader, stdout io.Writer, logger *log.Logger, alerts *alert.Queue, job func(context.Context), flush ...func(context.Context)) error {
	// SIGTERM must not cut a restart in half: the job's context survives
	// ctx, and the drain cancels it when the grace period ends.
	var stopping atomic.Bool
	worker := eventproto.NewWorker(svstate.WithStopping(context.WithoutCancel(ctx), &stopping))
	handler := func(_ context.Context, ev eventproto.Event) {
		if ev.Name() == eventproto.SupervisorStateChangeStopping {
			// No restart is begun or completed from now on. Not logged:
			// a restart it prevents says so in its report.
			stopping.Store(true)
			return
		}
		if !ev.IsTick() {
			return
		}
		if alerts != nil {
			alerts.TickEvent(ev.Name())
		}
		if !worker.TryGo(job) {
			logger.Printf("previous check still running; skipping %s", ev.Name())
		}
	}
	return eventproto.Serve(ctx, eventproto.NewListener(stdin, stdout), handler, eventproto.ServeOptions{
		Log: logger,
		Drain: func(ctx context.Context) error {
			err := worker.Wait(ctx)
			if err != nil {
				logger.Print("grace period over: letting the work in hand finish (a restart that has begun is completed)")
				worker.Wait(context.Background())
				err = nil
				// The restart's report is queued only now.
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(context.Background(), eventproto.DefaultGrace)
				defer cancel()
			}
			for _, f := range flush {
				f(ctx)
			}
			if alerts != nil {
				alerts.Close(ctx) // logs what it could not deliver
			}
			return err
		},
	})
}
