package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"slices"
	"strings"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/alertctx"
	"github.com/superlance-go/superlance/internal/alertflags"
	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/internal/mailflags"
	"github.com/superlance-go/superlance/internal/reconcile"
	"github.com/superlance-go/superlance/internal/shutdown"
	"github.com/superlance-go/superlance/internal/startup"
	"github.com/superlance-go/superlance/internal/superlance"
	"github.com/superlance-go/superlance/notify"
)

const name = "crashmail"

// grammar is superlance's crashmail command line; the mail options
// (-m, -s and the SMTP ones) are every tool's.
type grammar struct {
	Program        []string `short:"p" name:"program" sep:"none" placeholder:"NAME" help:"Mail only crashes of this program, by name or group:name (repeatable). Without -p every program is watched."`
	Any            bool     `short:"a" name:"any" help:"Mail crashes of every program (the default when no -p is given)."`
	OptionalHeader string   `short:"o" name:"optionalheader" placeholder:"HEADER" help:"Prefix the subject with 'HEADER: '."`

	Mail     mailflags.Options  `embed:""`
	Alert    alertctx.Flags     `embed:""`
	Channels alertflags.Options `embed:""`

	Args []string `arg:"" optional:"" hidden:"" help:"Ignored, as superlance does."`
}

func main() { shutdown.Main(run) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	return runClock(ctx, args, stdin, stdout, stderr, env, time.Now)
}

func runClock(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string, now func() time.Time) int {
	var g grammar
	kctx, code, done := cli.Parse(name, "Mail every unexpected exit of a supervisord program.", &g, args, stdout, stderr)
	if done {
		return code
	}
	mail, err := g.Mail.Mail(cli.Given(kctx), env)
	defer mail.Close()
	if err == nil && mail.To != nil {
		// A bad address or header prefix is a start-up error, not a
		// failure at the first crash.
		probe := notify.Message{To: mail.To, From: mail.From, Subject: subject(g.OptionalHeader, "x", "x"), Body: "x"}
		err = probe.Validate()
	}
	var channels *alertflags.Channels
	if err == nil {
		channels, err = g.Channels.Channels()
	}
	if err != nil {
		cli.Usagef(stderr, name, "%v", err)
		return cli.ExitUsage
	}
	logger, code, done := startup.Begin(ctx, startup.Options{
		Name:        name,
		Refusal:     "crashmail must be run as a supervisor event listener",
		RefusalCode: cli.ExitOK,
		Channels:    channels,
		TestMail:    mail.AlertTransport,
		Warnings:    mail.Warnings,
	}, stderr, env)
	if done {
		return code
	}
	if len(g.Args) > 0 {
		logger.Printf("ignoring positional arguments %q, as superlance does", g.Args)
	}
	c := &crashmail{g: &g, to: mail.To, log: logger, now: now, others: channels.Any()}
	var mailer alert.Transport
	if mail.To != nil {
		c.mail = &alert.Mail{Queue: notify.NewQueue(mail.Transport, notify.QueueOptions{Spool: mail.Spool, Log: logger}), To: mail.To, From: mail.From}
		mailer = c.mail
	}
	if c.alerts, err = channels.Queue(name, mailer, logger); err != nil {
		logger.Print(err)
		return cli.ExitFailure
	}
	c.send = g.Alert.Sender(env, c.deliver, alertctx.SenderOptions{Log: logger, Summary: c.summary})
	var closeRec func()
	c.rec, closeRec = reconcile.ForListener(env, reconcile.Options{
		Kinds:  []reconcile.Kind{reconcile.Restarted, reconcile.Exited, reconcile.Fatal},
		Watch:  func(group, name string) bool { return watched(g.Program, g.Any, group, name) },
		Report: c.reconciled,
		Log:    logger,
		Now:    now,
	})
	defer closeRec()
	err = eventproto.Serve(ctx, eventproto.NewListener(stdin, stdout), c.handle, eventproto.ServeOptions{
		Log: logger,
		Drain: func(ctx context.Context) error {
			c.rec.Wait(ctx)
			c.send.Close(ctx)
			return c.alerts.Close(ctx)
		},
	})
	if err != nil {
		logger.Print(err)
		return cli.ExitFailure
	}
	return cli.ExitOK
}

// crashmail holds the event handler's state.
type crashmail struct {
	g    *grammar
	to   []string    // -m split into addresses; nil without -m
	mail *alert.Mail // nil without -m
	// others: a webhook or an Alertmanager gets the crashes too.
	others bool
	alerts *alert.Queue // mail, webhooks, Alertmanager
	log    *log.Logger
	send   *alertctx.Sender // --flood, --details, --log-tail; then deliver
	now    func() time.Time
	rec    *reconcile.Reconciler // nil (doing nothing) when supervisord cannot be reached
}

// handle builds and queues one mail per unexpected exit; delivery happens
// in the queue, never on the event loop.
func (c *crashmail) handle(_ context.Context, ev eventproto.Event) {
	if ev.IsTick() {
		c.alerts.TickEvent(ev.Name()) // --heartbeat
		return
	}
	if ev.Repeat {
		return
	}
	var ps eventproto.ProcessState
	var err error
	if ev.Name() == eventproto.ProcessStateExited {
		ps, err = eventproto.ParseProcessState(ev.Payload)
	}
	var told *eventproto.ProcessState
	if ev.Name() == eventproto.ProcessStateExited && err == nil {
		told = &ps
	}
	c.rec.Observe(ev, told)
	if ev.Name() != eventproto.ProcessStateExited {
		return
	}
	if err != nil {
		c.log.Printf("ignoring %s event: %v", ev.Name(), err)
		return
	}
	if ps.Expected || !watched(c.g.Program, c.g.Any, ps.GroupName, ps.ProcessName) {
		return
	}
	a := alert.Alert{
		Kind:    alert.Crash,
		Program: ps.ProcessName,
		Group:   ps.GroupName,
		State:   "EXITED",
		Subject: subject(c.g.OptionalHeader, ps.ProcessName, superlance.Asctime(c.now())),
		Text:    body(ps),
	}
	if c.to == nil {
		c.log.Printf("unexpected exit: %s", a.Text)
		c.log.Print("not mailed: -m/--email is not set")
		if !c.others {
			return
		}
	} else {
		c.log.Print("unexpected exit, mailing")
	}
	c.send.Send(a, alertctx.Request{Group: ps.GroupName, Name: ps.ProcessName, Exit: true, PID: ps.Pid})
}

// deliver hands a to the alert queue (mail, webhooks, Alertmanager): at
// once without --details, --log-tail and --flood, else once the Sender has
// let it through and added its context.
func (c *crashmail) deliver(a alert.Alert) {
	if err := c.alerts.Send(a); err != nil {
		c.log.Printf("not sent: %v", err)
		return
	}
	if c.mail != nil {
		c.log.Printf("Mailed:\n\n%s\n", superlance.Mailed(c.mail.Message(&a)))
	}
}

// summary is the mail of the crashes --flood held back: the summary line
// as subject (after -o's prefix) and body.
func (c *crashmail) summary(last alert.Alert, line string) alert.Alert {
	last.Subject = line
	if c.g.OptionalHeader != "" {
		last.Subject = c.g.OptionalHeader + ": " + line
	}
	last.Text, last.Details = line, nil
	return last
}

// watched applies -p/-a: no -p, or -a, means every program; otherwise a
// -p entry names the program, its namespec or group:name.
func watched(programs []string, any bool, group, name string) bool {
	if any || len(programs) == 0 {
		return true
	}
	namespec := name
	if group != name {
		namespec = group + ":" + name
	}
	return slices.Contains(programs, name) ||
		slices.Contains(programs, namespec) ||
		slices.Contains(programs, group+":"+name)
}

// reconciled alerts about what supervisord's process table shows after
// dropped events: one alert for the gap, which says it was reconstructed.
// It runs off the event loop.
func (c *crashmail) reconciled(missed int64, found []reconcile.Finding) {
	lines := make([]string, 0, len(found)+2)
	for _, f := range found {
		lines = append(lines, f.String())
	}
	lines = append(lines, "", fmt.Sprintf("Reconstructed from supervisord's process table (getAllProcessInfo): supervisord dropped %d event(s) while crashmail was behind, so the crashes in that time cannot be listed one by one.", missed))
	a := alert.Alert{
		Kind:    alert.Crash,
		State:   "UNKNOWN",
		Subject: fmt.Sprintf("supervisord dropped %d events: %d program(s) reconstructed at %s", missed, len(found), superlance.Asctime(c.now())),
		Text:    strings.Join(lines, "\n"),
	}
	if len(found) == 1 {
		a.Program, a.Group = found[0].Proc.Name, found[0].Proc.Group
		a.State = found[0].Proc.State.String()
	}
	if c.g.OptionalHeader != "" {
		a.Subject = c.g.OptionalHeader + ": " + a.Subject
	}
	c.log.Printf("reconstructed after dropped events:\n%s", a.Text)
	if c.to == nil && !c.others {
		return
	}
	c.deliver(a)
}

// subject is superlance's crashmail subject, without its leading space
// when there is no -o.
func subject(header, process, when string) string {
	s := process + " crashed at " + when
	if header != "" {
		s = header + ": " + s
	}
	return s
}

// body is superlance's crashmail body.
func body(ps eventproto.ProcessState) string {
	return fmt.Sprintf("Process %s in group %s exited unexpectedly (pid %d) from state %s", ps.ProcessName, ps.GroupName, ps.Pid, ps.FromState)
}
