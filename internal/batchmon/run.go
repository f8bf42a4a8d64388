package batchmon

import (
	"context"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/internal/environ"
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
	// Checked after the options, as superlance does, so that --help and
	// usage errors work from a shell.
	if url, _ := environ.Get(env, "SUPERVISOR_SERVER_URL"); url == "" {
		fmt.Fprintln(stderr, refusal)
		return cli.ExitFailure
	}
	logger := cli.NewLogger(stderr, tool.Name)
	for _, w := range cfg.Warnings {
		logger.Printf("warning: %s", w)
	}
	if len(cfg.Ignored) > 0 {
		logger.Printf("ignoring positional arguments %q, as superlance does", cfg.Ignored)
	}
	batch := notify.NewBatch(notify.BatchOptions{
		Interval:  cfg.Interval,
		Transport: cfg.Transport,
		Template:  notify.Message{To: cfg.To, From: cfg.From, Subject: cfg.Subject},
		Log:       logger,
	})
	m := &Monitor{Tool: tool, Batch: batch, Log: logger, TickEvent: cfg.TickEvent, Tick: cfg.Tick, Now: now}
	err := eventproto.Serve(ctx, eventproto.NewListener(stdin, stdout), m.Handle, eventproto.ServeOptions{
		Log:   logger,
		Drain: batch.Close,
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
		m.Batch.Add(line)
	}
	switch ev.Name() {
	case m.Tool.Event:
		ps, err := eventproto.ParseProcessState(ev.Payload)
		if err != nil {
			m.Log.Printf("ignoring %s event: %v", ev.Name(), err)
			return
		}
		if line, ok := m.Tool.Format(ps, superlance.Asctime(m.Now())); ok {
			m.Log.Print(line)
			m.Batch.Add(line)
		}
	case m.TickEvent:
		m.Batch.Tick(m.Tick)
	}
}
