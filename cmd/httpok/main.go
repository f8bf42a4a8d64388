package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/alertctx"
	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/internal/environ"
	"github.com/superlance-go/superlance/internal/shutdown"
	"github.com/superlance-go/superlance/internal/startup"
	"github.com/superlance-go/superlance/internal/superlance"
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
		// rather than on the first failure.
		probe := cfg.message(subject(cfg.name, cfg.rawURL+": bad status returned"), "")
		if err := probe.Validate(); err != nil {
			cli.Usagef(stderr, "httpok", "mail settings: %v", err)
			return cli.ExitUsage
		}
	}
	logger, code, done := startup.Begin(ctx, startup.Options{
		Name:        "httpok",
		Refusal:     "httpok must be run as a supervisor event listener",
		RefusalCode: cli.ExitOK,
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

	h := newHTTPOK(cfg, client, env, logger)
	var mail alert.Transport
	if cfg.mail.To != nil {
		mail = &alert.Mail{Queue: notify.NewQueue(cfg.mail.Transport, notify.QueueOptions{Spool: cfg.mail.Spool, Log: logger}), To: cfg.mail.To, From: cfg.mail.From}
		h.mailing = true
	}
	var err error
	if h.alerts, err = cfg.channels.Queue("httpok", mail, logger); err != nil {
		logger.Print(err)
		return cli.ExitFailure
	}
	err = tickloop.Serve(ctx, stdin, stdout, logger, h.alerts, h.tick, h.send.Close)
	if err != nil {
		logger.Printf("%v", err)
		return cli.ExitFailure
	}
	return cli.ExitOK
}

// httpok holds what one tick needs.
type httpok struct {
	cfg     *config
	sv      supervisor
	check   func(context.Context) result
	self    self
	log     *log.Logger
	alerts  *alert.Queue     // mail (with -m), webhooks, Alertmanager
	mailing bool             // -m is given
	send    *alertctx.Sender // --flood, --details, --log-tail; then deliver
	// failing holds the programs (namespecs, "" for a check about none)
	// whose failed check fires as a condition until a check passes.
	failing map[[2]string]bool
	// failed are the failed checks in a row since the last pass or
	// restart, under --failures N > 1; at most N are kept.
	failed []failure
	now    func() time.Time
}

func newHTTPOK(cfg *config, sv supervisor, env []string, logger *log.Logger) *httpok {
	c := &checker{rawURL: cfg.rawURL, url: cfg.url, timeout: cfg.timeout, tls: cfg.tlsConfig, method: cfg.method, header: cfg.header}
	var me self
	me.name, _ = environ.Get(env, "SUPERVISOR_PROCESS_NAME")
	me.group, _ = environ.Get(env, "SUPERVISOR_GROUP_NAME")
	h := &httpok{cfg: cfg, sv: sv, check: c.check, self: me, log: logger, failing: map[[2]string]bool{}, now: time.Now}
	h.send = cfg.alert.Sender(env, h.deliver, alertctx.SenderOptions{Log: logger, Summary: h.summary})
	return h
}

// tick is the work of one TICK event, run by the worker off the event loop.
func (h *httpok) tick(ctx context.Context) {
	cfg := h.cfg
	if !cfg.eager || cfg.grace > 0 {
		ictx, cancel := context.WithTimeout(ctx, infoTimeout)
		procs, err := h.sv.GetAllProcessInfo(ictx)
		cancel()
		if err != nil {
			h.log.Printf("getAllProcessInfo: %s; skipping this check", superlance.ErrorText(err))
			return
		}
		if !cfg.eager && !monitoredRunning(procs, cfg.programs, cfg.any, h.self) {
			// The failures counted were about a process that is gone.
			h.failed = nil
			return
		}
		if p, ok := warmingUp(procs, cfg.programs, cfg.any, h.self, cfg.grace); ok {
			h.log.Printf("not checking: %s", warmingUpText(p, cfg.grace))
			h.failed = nil
			return
		}
	}
	res := h.check(ctx)
	subj, bad := verdict(res, cfg.rawURL, cfg.codes, cfg.body)
	if !bad {
		if len(h.failed) > 0 {
			h.log.Printf("check passed after %d failed %s; counting from 0 again", len(h.failed), plural(len(h.failed), "check", "checks"))
			h.failed = nil
		}
		h.recovered()
		return
	}
	h.log.Print(res.msg)
	var failures string
	if cfg.failures > 1 {
		h.failed = append(h.failed, failure{when: h.now(), msg: res.msg})
		if n := len(h.failed); n < cfg.failures {
			h.log.Printf("%d of %d failed checks in a row (--failures %d); not acting yet", n, cfg.failures, cfg.failures)
			return
		}
		h.failed = h.failed[len(h.failed)-cfg.failures:]
		failures = failureReport(h.failed)
	}
	a := &actor{sv: h.sv, programs: cfg.programs, any: cfg.any, gcore: cfg.gcore, coredir: cfg.coredir, grace: cfg.grace, self: h.self, log: h.log}
	lines, ok := a.act(ctx, res.msg)
	if ok {
		// Acted: the next restart needs cfg.failures new failures. When
		// httpok could not act at all, the next failed check tries again.
		h.failed = nil
	}
	if (!ok || !h.mailing) && !cfg.channels.Any() {
		return
	}
	text := strings.Join(lines, "\n")
	if failures != "" {
		text = failures + "\n\n" + text
	}
	// A failed check is a condition for Alertmanager: it fires until a
	// check passes. It is mailed only when httpok could act, as upstream.
	al := alert.Alert{Kind: alert.HealthCheck, Holds: true, NoMail: !ok, Subject: subject(cfg.name, subj), Text: text}
	// --flood counts per program: the one the mail is about, or the URL
	// for a mail about several.
	key := cfg.rawURL
	var reqs []alertctx.Request
	for _, p := range a.acted {
		reqs = append(reqs, alertctx.Request{Group: p.Group, Name: p.Name, Before: &p})
	}
	if len(a.acted) == 1 {
		key = a.acted[0].Namespec()
		al.Program, al.Group, al.State = a.acted[0].Name, a.acted[0].Group, a.acted[0].StateName
	}
	h.failing[[2]string{al.Group, al.Program}] = true
	h.send.SendAll(al, key, reqs)
}

// failure is one failed check counted towards --failures.
type failure struct {
	when time.Time
	msg  string // the report's first line, as logged
}

// failureReport is the block a mail starts with under --failures N > 1:
// how many checks failed in a row, and when and how each did.
func failureReport(failed []failure) string {
	lines := []string{fmt.Sprintf("%d checks in a row failed:", len(failed))}
	for _, f := range failed {
		lines = append(lines, f.when.Format("2006-01-02 15:04:05")+" "+strings.Join(strings.Fields(f.msg), " "))
	}
	return strings.Join(lines, "\n")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// recovered resolves the failed checks once a check passes again; nobody
// is mailed about it, as upstream.
func (h *httpok) recovered() {
	for k := range h.failing {
		h.send.Send(alert.Alert{Kind: alert.Recovered, Ends: alert.HealthCheck, NoMail: true,
			Group: k[0], Program: k[1], Subject: subject(h.cfg.name, h.cfg.rawURL+": check passed"),
			Text: h.cfg.rawURL + " answers as expected again"}, alertctx.Request{})
		delete(h.failing, k)
	}
}

// deliver queues the mail of a: at once without --details, --log-tail and
// --flood, else once the Sender has let it through and added its context.
func (h *httpok) deliver(a alert.Alert) {
	if err := h.alerts.Send(a); err != nil {
		h.log.Printf("not mailing: %v", err)
		return
	}
	if h.mailing && !a.NoMail {
		// Logged when queued, as upstream logs right after handing the
		// message to sendmail; the queue logs the delivery itself.
		h.log.Printf("Mailed:\n\n%s", superlance.Mailed(h.cfg.message(a.Subject, a.Text)))
	}
}

// summary is the mail of the alerts --flood held back.
func (h *httpok) summary(last alert.Alert, line string) alert.Alert {
	last.Subject, last.Text, last.Details = subject(h.cfg.name, line), line, nil
	return last
}

// message is the report mail.
func (cfg *config) message(subj, body string) *notify.Message {
	return &notify.Message{To: cfg.mail.To, From: cfg.mail.From, Subject: subj, Body: body}
}
