package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/alertctx"
	"github.com/superlance-go/superlance/internal/alertflags"
	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/internal/environ"
	"github.com/superlance-go/superlance/internal/episode"
	"github.com/superlance-go/superlance/internal/mailflags"
	"github.com/superlance-go/superlance/internal/shutdown"
	"github.com/superlance-go/superlance/internal/startup"
	"github.com/superlance-go/superlance/notify"
	"github.com/superlance-go/superlance/rpcclient"
)

const name = "missingmail"

const description = "Mail once when a supervisord program has not been RUNNING for too long, " +
	"and once when it is back (Buildbot's notify_on_missing)."

// infoTimeout bounds getAllProcessInfo; a tick whose check is still
// running when the next one comes is skipped, not queued.
const infoTimeout = 10 * time.Second

// grammar is missingmail's command line: the selection as httpok's and
// memmon's, Buildbot's missing_timeout, and every tool's mail options, with
// a -m of its own: required and repeatable.
type grammar struct {
	Program        []string `short:"p" name:"program" sep:"none" placeholder:"NAME" help:"Watch this program, by name or group:name (repeatable)."`
	Group          []string `short:"g" name:"group" sep:"none" placeholder:"GROUP" help:"Watch every process of this group (repeatable)."`
	Any            bool     `short:"a" name:"any" help:"Watch every process but missingmail itself."`
	MissingTimeout string   `name:"missing-timeout" default:"3600" placeholder:"SECONDS" help:"How long a program must be out of RUNNING before it is reported: seconds, or a duration such as 90s or 1h."`
	Email          []string `short:"m" name:"email" sep:"none" placeholder:"ADDRESS" help:"Mail to this address (repeatable, or comma-separated); required."`
	NoRecovery     bool     `name:"no-recovery" help:"Do not mail when a reported program is back."`
	IgnoreStopped  bool     `name:"ignore-stopped" help:"Do not count STOPPED (stopped on purpose) as missing."`
	State          string   `name:"state" placeholder:"FILE" help:"Keep the open episodes in FILE, so that a restarted listener neither forgets one nor reports one twice."`

	Mail mailflags.Delivery `embed:""`
	// --details, --log-tail, --flood: every alerting tool's.
	Alert alertctx.Flags `embed:""`
	// --webhook, --alertmanager and their options: every alerting tool's.
	Channels alertflags.Options `embed:""`
}

// config is the validated command line.
type config struct {
	sel           selection
	timeout       time.Duration
	to            []string
	from          string
	noRecovery    bool
	ignoreStopped bool
	store         *episode.Store // nil without --state
}

func main() { shutdown.Main(run) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	return runClock(ctx, args, stdin, stdout, stderr, env, time.Now)
}

func runClock(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string, now func() time.Time) int {
	var g grammar
	kctx, code, done := cli.Parse(name, description, &g, args, stdout, stderr)
	if done {
		return code
	}
	cfg, err := g.config()
	var mail mailflags.Mail
	var channels *alertflags.Channels
	if err == nil {
		channels, err = g.Channels.Channels()
	}
	if err == nil {
		mail, err = g.Mail.Mail(cli.Given(kctx), env, cfg.to)
	}
	defer mail.Close()
	if err == nil {
		// A bad address is a start-up error, not a failure an hour
		// into the first episode.
		err = (&notify.Message{To: mail.To, From: mail.From, Subject: "x", Body: "x"}).Validate()
	}
	if err != nil {
		cli.Usagef(stderr, name, "%v", err)
		return cli.ExitUsage
	}
	cfg.from = mail.From
	logger, code, done := startup.Begin(ctx, startup.Options{
		Name:        name,
		Refusal:     "missingmail must be run as a supervisor event listener",
		RefusalCode: cli.ExitFailure,
		Channels:    channels,
		TestMail:    mail.AlertTransport,
		Warnings:    mail.Warnings,
	}, stderr, env)
	if done {
		return code
	}
	client, code, done := startup.Connect(logger, env)
	if done {
		return code
	}
	defer client.Close()
	cfg.sel.selfGroup, _ = environ.Get(env, "SUPERVISOR_GROUP_NAME")
	cfg.sel.selfName, _ = environ.Get(env, "SUPERVISOR_PROCESS_NAME")

	m := &missingmail{
		cfg: cfg,
		sv:  client,
		log: logger,
		now: now,
		tracker: episode.New(episode.Config{
			Timeout: cfg.timeout, IgnoreStopped: cfg.ignoreStopped, Now: now, Log: logger,
		}),
		warned: map[string]bool{},
	}
	m.out, err = channels.Queue(name, &alert.Mail{Queue: notify.NewQueue(mail.Transport, notify.QueueOptions{Spool: mail.Spool, Log: logger}), To: cfg.to, From: cfg.from}, logger)
	if err != nil {
		logger.Print(err)
		return cli.ExitFailure
	}
	m.alerts = g.Alert.Sender(env, m.deliver, alertctx.SenderOptions{Log: logger, Summary: func(last alert.Alert, line string) alert.Alert {
		last.Subject, last.Text, last.Details = line, line, nil
		return last
	}})
	logger.Printf("watching %s; reporting after %s out of RUNNING to %s", cfg.sel, cfg.timeout, strings.Join(cfg.to, ", "))
	if cfg.store != nil {
		recs, err := cfg.store.Load()
		if err != nil {
			logger.Printf("ignoring the state file: %v", err)
		}
		m.tracker.Restore(recs)
		m.saver = newSaver(*cfg.store, m.tracker, logger)
		m.stillMissing(recs)
		open, reported := m.tracker.Open()
		logger.Printf("state file %s: %d open episode(s), %d of them reported", cfg.store.Path, open, reported)
	}

	// The check runs in the worker; the event loop only records state
	// changes and starts checks.
	m.worker = eventproto.NewWorker(context.WithoutCancel(ctx))
	m.worker.TryGo(func(ctx context.Context) { m.check(ctx, true) })
	err = eventproto.Serve(ctx, eventproto.NewListener(stdin, stdout), m.handle, eventproto.ServeOptions{
		Log: logger,
		Drain: func(ctx context.Context) error {
			err := m.worker.Wait(ctx)
			m.saver.close()
			m.alerts.Close(ctx)
			if lost := m.out.Close(ctx); lost != nil && err == nil {
				err = lost
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

// config validates the command line.
func (g *grammar) config() (*config, error) {
	cfg := &config{noRecovery: g.NoRecovery, ignoreStopped: g.IgnoreStopped}
	cfg.sel = selection{any: g.Any, programs: map[string]bool{}, groups: map[string]bool{}}
	for _, p := range g.Program {
		if p == "" {
			return nil, fmt.Errorf("--program: empty name")
		}
		cfg.sel.programs[p] = true
	}
	for _, gr := range g.Group {
		if gr == "" {
			return nil, fmt.Errorf("--group: empty name")
		}
		cfg.sel.groups[gr] = true
	}
	if !cfg.sel.any && len(cfg.sel.programs) == 0 && len(cfg.sel.groups) == 0 {
		return nil, fmt.Errorf("nothing to watch: give -p NAME, -g GROUP or -a")
	}
	var err error
	if cfg.timeout, err = parseTimeout(g.MissingTimeout); err != nil {
		return nil, fmt.Errorf("--missing-timeout %q: %w", g.MissingTimeout, err)
	}
	if len(g.Email) == 0 {
		return nil, fmt.Errorf("-m/--email is required: whom to mail")
	}
	for _, v := range g.Email {
		to, err := mailflags.Recipients(v)
		if err != nil {
			return nil, fmt.Errorf("-m/--email: %w", err)
		}
		cfg.to = append(cfg.to, to...)
	}
	if g.State != "" {
		s := episode.Store{Path: g.State}
		if err := s.Check(); err != nil {
			return nil, fmt.Errorf("--state: %w", err)
		}
		cfg.store = &s
	}
	return cfg, nil
}

// maxTimeout keeps the timeout within time.Duration with room to spare.
const maxTimeout = 100 * 365 * 24 * time.Hour

// parseTimeout reads --missing-timeout: a number of seconds (Buildbot's
// missing_timeout; fractions allowed) or a Go duration ("90s", "1h30m").
func parseTimeout(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || f > maxTimeout.Seconds() {
			return 0, fmt.Errorf("want a positive number of seconds up to %d", int64(maxTimeout.Seconds()))
		}
		d = time.Duration(f * float64(time.Second))
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("want seconds or a duration such as 90s or 1h")
	}
	if d <= 0 {
		return 0, fmt.Errorf("want a positive duration")
	}
	if d > maxTimeout {
		return 0, fmt.Errorf("want at most %s", maxTimeout)
	}
	return d, nil
}

// selection is -p, -g and -a.
type selection struct {
	programs map[string]bool // NAME or group:name
	groups   map[string]bool
	any      bool
	// selfGroup and selfName identify this listener, never watched.
	selfGroup, selfName string
}

func (s selection) watched(group, name string) bool {
	if group == s.selfGroup && name == s.selfName {
		return false
	}
	return s.any || s.programs[name] || s.programs[group+":"+name] || s.groups[group]
}

func (s selection) String() string {
	if s.any {
		return "every process"
	}
	var parts []string
	for _, p := range slices.Sorted(maps.Keys(s.programs)) {
		parts = append(parts, "-p "+p)
	}
	for _, g := range slices.Sorted(maps.Keys(s.groups)) {
		parts = append(parts, "-g "+g)
	}
	return strings.Join(parts, " ")
}

// supervisor is the part of supervisord's API missingmail uses
// (*rpcclient.Client).
type supervisor interface {
	GetAllProcessInfo(ctx context.Context) ([]rpcclient.ProcessInfo, error)
}

// missingmail holds the listener's state.
type missingmail struct {
	cfg     *config
	sv      supervisor
	log     *log.Logger
	now     func() time.Time
	out     *alert.Queue     // mail, webhooks, Alertmanager
	alerts  *alertctx.Sender // --flood, --details, --log-tail; then deliver
	tracker *episode.Tracker
	worker  *eventproto.Worker
	saver   *saver // nil without --state

	mu     sync.Mutex
	warned map[string]bool // -p/-g values already reported as matching nothing
}

// eventStates maps the PROCESS_STATE events to the state they enter.
var eventStates = map[string]rpcclient.ProcessState{
	eventproto.ProcessStateStarting: rpcclient.StateStarting,
	eventproto.ProcessStateRunning:  rpcclient.StateRunning,
	eventproto.ProcessStateBackoff:  rpcclient.StateBackoff,
	eventproto.ProcessStateStopping: rpcclient.StateStopping,
	eventproto.ProcessStateExited:   rpcclient.StateExited,
	eventproto.ProcessStateStopped:  rpcclient.StateStopped,
	eventproto.ProcessStateFatal:    rpcclient.StateFatal,
	eventproto.ProcessStateUnknown:  rpcclient.StateUnknown,
}

// handle runs on the event loop: state changes are recorded at once (no
// I/O but the log and a non-blocking enqueue), ticks start a check in the
// worker.
func (m *missingmail) handle(_ context.Context, ev eventproto.Event) {
	if ev.IsTick() {
		m.out.TickEvent(ev.Name()) // re-posts what is missing, --heartbeat
		if !m.worker.TryGo(func(ctx context.Context) { m.check(ctx, false) }) {
			m.log.Printf("previous check still running; skipping %s", ev.Name())
		}
		return
	}
	if ev.Missed > 0 {
		// supervisord dropped events of this pool: ask it for the truth
		// now rather than at the next tick.
		m.worker.TryGo(func(ctx context.Context) { m.check(ctx, false) })
	}
	state, ok := eventStates[ev.Name()]
	if !ok || ev.Repeat {
		// A redelivered state change may be older than what followed it;
		// the next check reads the truth from supervisord anyway.
		return
	}
	ps, err := eventproto.ParseProcessState(ev.Payload)
	if err != nil {
		m.log.Printf("ignoring %s event: %v", ev.Name(), err)
		return
	}
	if !m.cfg.sel.watched(ps.GroupName, ps.ProcessName) {
		return
	}
	m.send(m.tracker.Observe(episode.Change{Group: ps.GroupName, Name: ps.ProcessName, State: state, PID: ps.Pid}))
	m.saver.kick()
}

// check reconciles with supervisord's process table and reports the
// episodes that have lasted the timeout. When supervisord does not
// answer, the timeouts are still checked against what the events said.
func (m *missingmail) check(ctx context.Context, initial bool) {
	asked := m.now()
	cctx, cancel := context.WithTimeout(ctx, infoTimeout)
	infos, err := m.sv.GetAllProcessInfo(cctx)
	cancel()
	var notices []episode.Notice
	if err != nil {
		m.log.Printf("getAllProcessInfo: %v; checking the timeouts against the events only", err)
	} else {
		watched := m.filter(infos)
		notices = m.tracker.Reconcile(watched, asked)
		if initial {
			open, _ := m.tracker.Open()
			m.log.Printf("initial check: %d watched process(es), %d not RUNNING", len(watched), open)
		}
	}
	m.send(append(notices, m.tracker.Due()...))
	m.saver.kick()
}

// filter returns the watched processes and logs, once each, a -p or -g
// that matches none of them (a typo watches nothing).
func (m *missingmail) filter(infos []rpcclient.ProcessInfo) []rpcclient.ProcessInfo {
	var out []rpcclient.ProcessInfo
	matched := map[string]bool{}
	for _, in := range infos {
		if !m.cfg.sel.watched(in.Group, in.Name) {
			continue
		}
		out = append(out, in)
		matched["-p "+in.Name] = true
		matched["-p "+in.Group+":"+in.Name] = true
		matched["-g "+in.Group] = true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := range m.cfg.sel.programs {
		m.warnUnmatched("-p "+p, matched)
	}
	for g := range m.cfg.sel.groups {
		m.warnUnmatched("-g "+g, matched)
	}
	return out
}

func (m *missingmail) warnUnmatched(opt string, matched map[string]bool) {
	if !matched[opt] && !m.warned[opt] {
		m.warned[opt] = true
		m.log.Printf("%s matches no process of supervisord", opt)
	}
	if matched[opt] {
		delete(m.warned, opt)
	}
}

// send turns notices into alerts and mails them: every recovery found
// together in one mail, every missing program due on the same tick in one
// mail.
func (m *missingmail) send(notices []episode.Notice) {
	var missing, back []notice
	for _, n := range notices {
		a := newNotice(n, m.cfg)
		switch n.Kind {
		case episode.Missing:
			m.log.Printf("%s has not been RUNNING for %s: reporting", n.Program, episode.Round(n.Down()))
			missing = append(missing, a)
		case episode.Recovered:
			if m.cfg.noRecovery {
				m.log.Printf("%s is %s after %s down; not mailed (--no-recovery)", n.Program, n.State, episode.Round(n.Down()))
				a.NoMail = true // still resolves the alert elsewhere
				m.direct(a.Alert)
				continue
			}
			m.log.Printf("%s is %s after %s down: reporting", n.Program, n.State, episode.Round(n.Down()))
			back = append(back, a)
		}
	}
	for _, batch := range [][]notice{back, missing} {
		if len(batch) == 0 {
			continue
		}
		msg := mailOf(batch, m.cfg.to, m.cfg.from, m.cfg)
		a := batch[0].Alert
		a.Subject, a.Text = msg.Subject, msg.Body
		if len(batch) > 1 {
			// One mail for all of them; every other transport gets one
			// alert per program, each firing and resolving on its own.
			a.MailOnly = true
			for _, n := range batch {
				one := n.Alert
				one.NoMail = true
				m.direct(one)
			}
		}
		if m.alerts == nil {
			m.deliver(a)
			continue
		}
		// A missing program gets its context (its last exit, its log);
		// --flood counts per program, or per set of programs mailed
		// together. A recovery is never held back.
		var key string
		var reqs []alertctx.Request
		if a.Kind == alert.Missing {
			names := make([]string, len(batch))
			for i, n := range batch {
				names[i] = namespec(n.Group, n.Program)
				reqs = append(reqs, alertctx.Request{Group: n.Group, Name: n.Program, Exit: true})
			}
			key = strings.Join(names, ",")
		}
		m.alerts.SendAll(a, key, reqs)
	}
}

// deliver hands a to the alert queue: mail, webhooks, Alertmanager.
func (m *missingmail) deliver(a alert.Alert) {
	if err := m.out.Send(a); err != nil {
		m.log.Printf("not mailed: %v", err)
	}
}

// direct hands an alert that is not mailed straight to the queue.
func (m *missingmail) direct(a alert.Alert) {
	if err := m.out.Send(a); err != nil {
		m.log.Printf("not sent: %v", err)
	}
}

// stillMissing raises again, for the transports that keep a condition
// firing (Alertmanager), the episodes a previous listener reported and
// that are still open; they were mailed then and are not mailed again.
func (m *missingmail) stillMissing(recs []episode.Record) {
	for _, r := range recs {
		if r.Reported.IsZero() {
			continue
		}
		m.direct(alert.Alert{Kind: alert.Missing, Holds: true, NoMail: true, Program: r.Name, Group: r.Group, Time: r.Reported,
			Subject: r.Name + " is missing", Text: fmt.Sprintf("%s has not been RUNNING since %s (reported before missingmail restarted)", namespec(r.Group, r.Name), stamp(r.Since))})
	}
}
