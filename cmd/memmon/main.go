package main

import (
	"context"
	"io"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/alertctx"
	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/internal/environ"
	"github.com/superlance-go/superlance/internal/shutdown"
	"github.com/superlance-go/superlance/internal/startup"
	"github.com/superlance-go/superlance/internal/tickloop"
	"github.com/superlance-go/superlance/notify"
)

func main() { shutdown.Main(run) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	cfg, code, done := parseArgs(args, stdout, stderr, env)
	if done {
		return code
	}
	defer cfg.mail.Close()
	if cfg.mail.To != nil {
		// Refuse a recipient, name or From that could never be mailed now,
		// rather than at the first restart.
		if err := cfg.message("x", "").Validate(); err != nil {
			cli.Usagef(stderr, "memmon", "mail settings: %v", err)
			return cli.ExitUsage
		}
	}
	logger, code, done := startup.Begin(ctx, startup.Options{
		Name:        "memmon",
		Refusal:     "memmon must be run as a supervisor event listener",
		RefusalCode: cli.ExitFailure,
		Channels:    cfg.channels,
		TestMail:    cfg.mail.AlertTransport,
		Warnings:    cfg.mail.Warnings,
	}, stderr, env)
	if done {
		return code
	}
	if len(cfg.shares) > 0 {
		// Read once: a limit must not move while memmon runs.
		total, err := memTotal(ctx)
		if err != nil {
			logger.Printf("reading the machine's memory for the limits in percent: %v", err)
			return cli.ExitFailure
		}
		for _, line := range cfg.resolveShares(total) {
			logger.Print(line)
		}
	}
	client, code, done := startup.Connect(logger, env)
	if done {
		return code
	}
	defer client.Close()

	m := &memmon{cfg: cfg, sv: client, snapshot: snapshot, log: logger, now: time.Now}
	m.selfName, _ = environ.Get(env, "SUPERVISOR_PROCESS_NAME")
	m.selfGroup, _ = environ.Get(env, "SUPERVISOR_GROUP_NAME")
	var mail alert.Transport
	if cfg.mail.To != nil {
		mail = &alert.Mail{Queue: notify.NewQueue(cfg.mail.Transport, notify.QueueOptions{Spool: cfg.mail.Spool, Log: logger}), To: cfg.mail.To, From: cfg.mail.From}
	}
	alerts, err := cfg.channels.Queue("memmon", mail, logger)
	if err != nil {
		logger.Print(err)
		return cli.ExitFailure
	}
	if alerts.Transports() > 0 {
		m.alerts = alerts
	}
	m.send = cfg.alert.Sender(env, m.deliver, alertctx.SenderOptions{Log: logger, Summary: m.summary})
	err = tickloop.Serve(ctx, stdin, stdout, logger, alerts, m.scan, m.send.Close)
	if err != nil {
		logger.Printf("%v", err)
		return cli.ExitFailure
	}
	return cli.ExitOK
}
