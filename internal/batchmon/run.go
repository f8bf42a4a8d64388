package batchmon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/alertctx"
	"github.com/superlance-go/superlance/internal/alertflags"
	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/internal/reconcile"
	"github.com/superlance-go/superlance/internal/startup"
	"github.com/superlance-go/superlance/internal/superlance"
	"github.com/superlance-go/superlance/notify"
)

// Run is a whole batch command: parse args, refuse to run outside
// supervisord, then serve events until stdin ends or ctx is done, and send
// what is pending before returning. It returns the exit code.
func Run(ctx context.Context, tool Tool, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	return run(ctx, tool, args, stdin, stdout, stderr, env, time.Now)
}

func run(ctx context.Context, tool Tool, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string, now func() time.Time) int {
	cfg, code, done := Parse(tool, args, stdout, stderr, env)
	if done {
		return code
	}
	if cfg.Spool != nil {
		defer cfg.Spool.Close()
	}
	// Checked after the options, as superlance does, so that --help and
	// usage errors work from a shell.
	logger, code, done := startup.Begin(ctx, startup.Options{
		Name:        tool.Name,
		Refusal:     refusal,
		RefusalCode: cli.ExitFailure,
		Channels:    cfg.Channels,
		TestMail: func(logger *log.Logger) alert.Transport {
			// The test alert is the one line of a batch mail sent at
			// once, under a test subject unless the tool sends none
			// (crashsms).
			subject := cfg.Subject
			if subject != "" {
				subject = alertflags.TestAlert(tool.Name).Subject
			}
			batch := notify.NewBatch(notify.BatchOptions{Transport: cfg.Transport, Log: logger,
				Template: notify.Message{To: cfg.To, From: cfg.From, Subject: subject}})
			return &alert.BatchMail{Batch: batch}
		},
		Warnings: cfg.Warnings,
	}, stderr, env)
	if done {
		return code
	}
	if len(cfg.Ignored) > 0 {
		logger.Printf("ignoring positional arguments %q, as superlance does", cfg.Ignored)
	}
	var send *alertctx.Sender
	bo := notify.BatchOptions{
		Interval:  cfg.Interval,
		Transport: cfg.Transport,
		Template:  notify.Message{To: cfg.To, From: cfg.From, Subject: cfg.Subject},
		OnFlush:   func(f notify.Flush) { logFlush(logger, f) },
		Spool:     cfg.Spool,
		Log:       logger,
	}
	if cfg.Alert.LogTail > 0 {
		// One tail per program per mail, after the lines.
		bo.Appendix = func() string { return send.Tails() }
	}
	batch := notify.NewBatch(bo)
	// A batch an earlier run could not send waits in the spool; a queue
	// sends it (and retries) while this run collects new lines.
	var leftovers *notify.Queue
	if cfg.Spool != nil {
		leftovers = notify.NewQueue(cfg.Transport, notify.QueueOptions{Spool: cfg.Spool, Log: logger})
	}
	m := &Monitor{Tool: tool, Batch: batch, Log: logger, TickEvent: cfg.TickEvent, Tick: cfg.Tick, Now: now}
	style := alertctx.StyleBatch
	if tool.SMS {
		style = alertctx.StyleSMS
	}
	alerts, err := cfg.Channels.Queue(tool.Name, &alert.BatchMail{Batch: batch}, logger)
	if err != nil {
		logger.Print(err)
		return cli.ExitFailure
	}
	m.Alerts = alerts
	out := func(a alert.Alert) {
		if a.Kind == "" {
			// A note about the listener itself (dropped events) is for
			// the mail only: it concerns no program.
			batch.Add(a.Text)
			return
		}
		if err := alerts.Send(a); err != nil {
			logger.Printf("not sent: %v", err)
		}
	}
	send = cfg.Alert.Sender(env, out, alertctx.SenderOptions{
		Style: style,
		Log:   logger,
		Summary: func(last alert.Alert, line string) alert.Alert {
			last.Text, last.Details = superlance.Asctime(now())+" -- "+line, nil
			return last
		},
	})
	m.Send = send
	kinds := []reconcile.Kind{reconcile.Restarted, reconcile.Exited, reconcile.Fatal}
	if tool.Event == eventproto.ProcessStateFatal {
		kinds = []reconcile.Kind{reconcile.Fatal}
	}
	rec, closeRec := reconcile.ForListener(env, reconcile.Options{
		Kinds: kinds,
		Report: func(missed int64, found []reconcile.Finding) {
			for _, f := range found {
				line := fmt.Sprintf("%s -- %s (reconstructed from supervisord's process table after %d dropped events)", superlance.Asctime(now()), f, missed)
				logger.Print(line)
				batch.Add(line)
			}
		},
		Log: logger,
		Now: now,
	})
	defer closeRec()
	m.Reconciler = rec
	err = eventproto.Serve(ctx, eventproto.NewListener(stdin, stdout), m.Handle, eventproto.ServeOptions{
		Log: logger,
		Drain: func(ctx context.Context) error {
			rec.Wait(ctx)
			send.Close(ctx)
			err := alerts.Close(ctx) // the batch mail among them
			if leftovers != nil {
				leftovers.Close(ctx) // what is left stays in the spool
			}
			return err
		},
	})
	if err != nil {
		logger.Print(err)
		return cli.ExitFailure
	}
	return cli.ExitOK
}

// Monitor turns events into batch lines and ticks.
type Monitor struct {
	Tool      Tool
	Batch     *notify.Batch
	Log       *log.Logger
	TickEvent string        // the one tick event that counts
	Tick      time.Duration // its period
	Now       func() time.Time
	// Send takes the lines through --flood, --details and --log-tail on
	// their way to Batch; nil adds them to Batch at once.
	Send *alertctx.Sender
	// Alerts gets every TICK (for --heartbeat); nil without one.
	Alerts *alert.Queue
	// Reconciler sees every event and reconciles after dropped ones; nil
	// does nothing.
	Reconciler *reconcile.Reconciler
}

// Handle is the eventproto.Handler: it only parses, formats and appends;
// sending happens in the Batch's background flush.
func (m *Monitor) Handle(_ context.Context, ev eventproto.Event) {
	if ev.Repeat {
		// Already handled (a redelivery or a cross-pool duplicate): adding
		// it again would report one crash twice.
		return
	}
	if ev.Missed > 0 {
		line := fmt.Sprintf("%s -- supervisord dropped %d events before this one (listener event buffer overflow): alerts may be missing", superlance.Asctime(m.Now()), ev.Missed)
		m.Log.Print(line)
		m.add(alert.Alert{Text: line}, alertctx.Request{})
	}
	if ev.IsTick() && m.Alerts != nil {
		m.Alerts.TickEvent(ev.Name())
	}
	var ps eventproto.ProcessState
	var err error
	if ev.Name() == m.Tool.Event {
		ps, err = eventproto.ParseProcessState(ev.Payload)
	}
	var told *eventproto.ProcessState
	if ev.Name() == m.Tool.Event && err == nil {
		told = &ps
	}
	m.Reconciler.Observe(ev, told)
	switch ev.Name() {
	case m.Tool.Event:
		if err != nil {
			m.Log.Printf("ignoring %s event: %v", ev.Name(), err)
			return
		}
		if line, ok := m.Tool.Format(ps, superlance.Asctime(m.Now())); ok {
			m.Log.Print(line)
			a := alert.Alert{Kind: m.Tool.Kind, Program: ps.ProcessName, Group: ps.GroupName, State: stateOf(ev.Name()), Text: line}
			// A FATAL event has no pid: its exit is the last one logged.
			m.add(a, alertctx.Request{Group: ps.GroupName, Name: ps.ProcessName, Exit: true, PID: ps.Pid})
		}
	case m.TickEvent:
		m.Batch.Tick(m.Tick)
	}
}

// add hands a line to the Sender, or straight to the batch without one.
func (m *Monitor) add(a alert.Alert, req alertctx.Request) {
	if m.Send == nil {
		m.Batch.Add(a.Text)
		return
	}
	m.Send.Send(a, req)
}

// stateOf is the state a PROCESS_STATE_* event name reports.
func stateOf(event string) string {
	state, _ := strings.CutPrefix(event, "PROCESS_STATE_")
	return state
}

// logFlush writes superlance's lines about a send: "Sending notification
// email:" and its block after a delivery, "Error sending email: ..." after
// a failure, and what became of the lines.
func logFlush(logger *log.Logger, f notify.Flush) {
	var refused *notify.RefusedError
	switch {
	case f.Err == nil:
	case errors.As(f.Err, &refused):
		logger.Printf("Error sending email: %v (delivered to the other recipients)", f.Err)
	default:
		logger.Printf("Error sending email: %v", f.Err)
		if !f.Final {
			logger.Printf("%d alerts kept for the next flush", f.Kept)
		}
		return
	}
	for _, line := range superlance.Sending(f.Message) {
		logger.Print(line)
	}
}
