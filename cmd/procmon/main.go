package main

import (
	"context"
	"io"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/alertctx"
	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/internal/environ"
	"github.com/superlance-go/superlance/internal/shutdown"
	"github.com/superlance-go/superlance/internal/startup"
	"github.com/superlance-go/superlance/notify"
)

func main() { shutdown.Main(run) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	cfg, code, done := parseArgs(args, stdout, stderr, env)
	if done {
		return code
	}
	defer cfg.mail.Close()
	logger, code, done := startup.Begin(ctx, startup.Options{
		Name:        name,
		Refusal:     "procmon must be run as a supervisor event listener",
		RefusalCode: cli.ExitFailure,
		Channels:    cfg.channels,
		TestMail:    cfg.mail.AlertTransport,
		Warnings:    cfg.mail.Warnings,
	}, stderr, env)
	if done {
		return code
	}
	client, code, done := startup.Connect(logger, env)
	if done {
		return code
	}
	defer client.Close()

	d := &deliverer{cfg: cfg, log: logger}
	var mail alert.Transport
	if cfg.mail.To != nil {
		mail = &alert.Mail{Queue: notify.NewQueue(cfg.mail.Transport, notify.QueueOptions{Spool: cfg.mail.Spool, Log: logger}), To: cfg.mail.To, From: cfg.mail.From}
		d.mailing = true
	}
	var err error
	if d.alerts, err = cfg.channels.Queue(name, mail, logger); err != nil {
		logger.Print(err)
		return cli.ExitFailure
	}
	// A SIGTERM must not cut a start call in half: the jobs' context
	// survives ctx, and the drain cancels it when the grace period ends.
	worker := eventproto.NewWorker(context.WithoutCancel(ctx))
	sender := cfg.alert.Sender(env, d.deliver, alertctx.SenderOptions{Log: logger})
	m := newMonitor(cfg, client, logger, func(a alert.Alert) { sender.Send(a, contextOf(a)) }, worker)
	m.selfName, _ = environ.Get(env, "SUPERVISOR_PROCESS_NAME")
	m.selfGroup, _ = environ.Get(env, "SUPERVISOR_GROUP_NAME")

	// The check at start-up brings back what was left down before procmon
	// (re)started; it runs on the worker while the first events arrive.
	worker.TryGo(m.check)
	handle := func(ctx context.Context, ev eventproto.Event) {
		if ev.IsTick() {
			d.alerts.TickEvent(ev.Name()) // re-posts a crash loop, --heartbeat
		}
		m.handle(ctx, ev)
	}
	err = eventproto.Serve(ctx, eventproto.NewListener(stdin, stdout), handle, eventproto.ServeOptions{
		Log: logger,
		Drain: func(ctx context.Context) error {
			m.close()
			err := worker.Wait(ctx)
			sender.Close(ctx)
			d.alerts.Close(ctx) // logs what it could not deliver
			return err
		},
	})
	if err != nil {
		logger.Print(err)
		return cli.ExitFailure
	}
	return cli.ExitOK
}

// contextOf is what --details and --log-tail add to a: the program's last
// exit and log for a crash loop; nothing for a recovery or the budget,
// which --flood never holds back either.
func contextOf(a alert.Alert) alertctx.Request {
	if a.Kind != alert.Restart || a.Program == "" {
		return alertctx.Request{}
	}
	return alertctx.Request{Group: a.Group, Name: a.Program, Exit: true}
}
