package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strconv"
	"strings"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/alertctx"
	"github.com/superlance-go/superlance/internal/procinfo"
	"github.com/superlance-go/superlance/internal/superlance"
	"github.com/superlance-go/superlance/internal/svstate"
	"github.com/superlance-go/superlance/notify"
	"github.com/superlance-go/superlance/rpcclient"
)

// Deadlines of the calls to supervisord. Stop and start wait for the
// process: stopProcess until it has exited (up to the program's
// stopwaitsecs, then SIGKILL), startProcess until it is RUNNING (its
// startsecs). Both are configured per program and often raised above the
// defaults (10 s and 1 s), so the deadline is generous; it only guards
// against a supervisord that never answers.
const (
	infoTimeout    = 10 * time.Second
	restartTimeout = 2 * time.Minute
)

// rules are the limits of the command line, in bytes.
type rules struct {
	programs map[string]uint64 // -p: "name" or "group:name"
	groups   map[string]uint64 // -g
	any      uint64            // -a, when hasAny
	hasAny   bool
}

// rule is the limit that applies to one process, and where it came from.
type rule struct {
	option string // "-p", "-g" or "-a"
	key    string // the NAME or GROUP of -p/-g; "" for -a
	limit  uint64
}

// match returns the most specific rule for a process: -p group:name, then
// -p name, then -g group, then -a. Upstream checked all of them in turn and
// could restart one process twice in a tick; here exactly one decides.
func (r *rules) match(group, name string) (rule, bool) {
	if l, ok := r.programs[group+":"+name]; ok {
		return rule{"-p", group + ":" + name, l}, true
	}
	if l, ok := r.programs[name]; ok {
		return rule{"-p", name, l}, true
	}
	if l, ok := r.groups[group]; ok {
		return rule{"-g", group, l}, true
	}
	if r.hasAny {
		return rule{"-a", "", r.any}, true
	}
	return rule{}, false
}

func (r *rules) empty() bool {
	return len(r.programs) == 0 && len(r.groups) == 0 && !r.hasAny
}

// supervisor is the part of supervisord's API memmon uses
// (*rpcclient.Client).
type supervisor interface {
	GetAllProcessInfo(ctx context.Context) ([]rpcclient.ProcessInfo, error)
	GetProcessInfo(ctx context.Context, name string) (rpcclient.ProcessInfo, error)
	StopProcess(ctx context.Context, name string, wait bool) error
	StartProcess(ctx context.Context, name string, wait bool) error
}

// memTable is one snapshot of process memory (*procinfo.Table).
type memTable interface {
	RSS(pid int) (uint64, bool)
	TreeRSS(pid int) (uint64, bool)
}

func snapshot(ctx context.Context) (memTable, error) { return procinfo.Snapshot(ctx) }

// memTotal is the machine's memory, for limits in percent.
var memTotal = procinfo.MemTotal

// overs are the readings of one process over its limit on the ticks in a
// row so far, under --over N > 1.
type overs struct {
	pid      int    // a new pid is a new process: its count starts again
	scan     uint64 // the last scan that measured the process
	readings []uint64
}

// memmon holds what one scan needs.
type memmon struct {
	cfg      *config
	sv       supervisor
	snapshot func(context.Context) (memTable, error)
	// selfGroup and selfName identify this listener, which is never restarted.
	selfGroup, selfName string
	log                 *log.Logger
	// alerts delivers: mail (with -m), webhooks, Alertmanager; nil when
	// none is configured.
	alerts *alert.Queue
	// send applies --flood, --details and --log-tail before deliver; nil
	// delivers at once.
	send *alertctx.Sender
	now  func() time.Time
	// overs counts, by namespec, the ticks in a row each process has been
	// over its limit (--over N > 1).
	overs map[string]*overs
	scans uint64 // scans so far, to find the processes a scan did not measure
}

// scan is the work of one TICK event, run by the worker off the event loop.
func (m *memmon) scan(ctx context.Context) {
	r := &m.cfg.rules
	if len(r.programs) > 0 {
		m.log.Printf("Checking programs %s", sortedLimits(r.programs))
	}
	if len(r.groups) > 0 {
		m.log.Printf("Checking groups %s", sortedLimits(r.groups))
	}
	if r.hasAny {
		m.log.Printf("Checking any=%d", r.any)
	}
	if r.empty() {
		return
	}
	ictx, cancel := context.WithTimeout(ctx, infoTimeout)
	procs, err := m.sv.GetAllProcessInfo(ictx)
	cancel()
	if err != nil {
		m.log.Printf("getAllProcessInfo: %s; skipping this check", superlance.ErrorText(err))
		return
	}
	// One snapshot for the whole tick: every process is measured against
	// the same picture of the process table.
	table, err := m.snapshot(ctx)
	if err != nil {
		m.log.Printf("reading the process table: %v; skipping this check", err)
		return
	}
	if m.overs == nil {
		m.overs = map[string]*overs{}
	}
	m.scans++
	defer func() {
		// A process not measured this tick (stopped, gone) starts again
		// from 0; this also keeps the map to the processes that exist.
		for k, o := range m.overs {
			if o.scan != m.scans {
				delete(m.overs, k)
			}
		}
	}()
	for _, p := range procs {
		if p.PID == 0 || (p.Group == m.selfGroup && p.Name == m.selfName) {
			continue
		}
		rl, ok := r.match(p.Group, p.Name)
		if !ok {
			continue
		}
		var rss uint64
		if m.cfg.cumulative {
			rss, ok = table.TreeRSS(p.PID)
		} else {
			rss, ok = table.RSS(p.PID)
		}
		if !ok {
			continue // exited since getAllProcessInfo
		}
		namespec := p.Group + ":" + p.Name // memmon's form, even when group == name
		m.log.Printf("RSS of %s is %d", namespec, rss)
		if o := m.overs[namespec]; o != nil {
			o.scan = m.scans
		}
		if rss <= rl.limit {
			if o := m.overs[namespec]; o != nil {
				m.log.Printf("RSS of %s is back under its limit of %d bytes after %d %s over it; counting from 0 again", namespec, rl.limit, len(o.readings), plural(len(o.readings), "tick", "ticks"))
				delete(m.overs, namespec)
			}
			continue
		}
		var readings string
		if m.cfg.over > 1 {
			o := m.overs[namespec]
			if o == nil || o.pid != p.PID {
				o = &overs{pid: p.PID, scan: m.scans}
				m.overs[namespec] = o
			}
			o.readings = append(o.readings, rss)
			if n := len(o.readings); n < m.cfg.over {
				m.log.Printf("RSS of %s is over its limit of %d bytes on %d of %d ticks in a row (--over %d); not restarting yet", namespec, rl.limit, n, m.cfg.over, m.cfg.over)
				continue
			}
			delete(m.overs, namespec)
			readings = fmt.Sprintf("\n\nRSS over the limit of %d bytes on %d ticks in a row (--over %d): %s bytes", rl.limit, len(o.readings), m.cfg.over, joinReadings(o.readings))
		}
		m.restart(ctx, namespec, rss, readings)
	}
}

// joinReadings renders RSS readings as "31457280, 33554432".
func joinReadings(rs []uint64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = strconv.FormatUint(r, 10)
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// restart stops and starts one process, waiting for each, and mails about
// it; readings (under --over N > 1) ends every mail body. Faults are
// logged and mailed; the listener carries on with the next process
// (upstream died here and was restarted by supervisord).
func (m *memmon) restart(ctx context.Context, namespec string, rss uint64, readings string) {
	ictx, cancel := context.WithTimeout(ctx, infoTimeout)
	info, err := m.sv.GetProcessInfo(ictx, namespec)
	cancel()
	if err != nil {
		m.log.Printf("Not restarting %s: getProcessInfo: %s", namespec, superlance.ErrorText(err))
		return
	}
	uptime := info.Now - info.Start

	if ctx.Err() != nil {
		// The grace period of a shutdown is over: no new restart begins.
		m.log.Printf("Not restarting %s: memmon is stopping", namespec)
		return
	}
	if svstate.Stopping(ctx) {
		msg := fmt.Sprintf("Not restarting %s (RSS %d): supervisord is shutting down", namespec, rss)
		m.log.Print(msg)
		m.mail(fmt.Sprintf("process %s not restarted: supervisord is shutting down", namespec), msg, info)
		return
	}
	m.log.Printf("Restarting %s", namespec)
	// From the stop on, the restart is one step that ends with the start
	// even when memmon is told to stop meanwhile (SIGTERM, stdin EOF):
	// supervisord never restarts a program that was stopped on request.
	// Only the calls' deadlines and supervisord's own shutdown end it early.
	rctx := context.WithoutCancel(ctx)
	sctx, cancel := context.WithTimeout(rctx, restartTimeout)
	err = m.sv.StopProcess(sctx, namespec, true)
	cancel()
	if svstate.ShuttingDown(err) {
		msg := fmt.Sprintf("Not restarting %s (RSS %d): supervisord is shutting down", namespec, rss)
		m.log.Print(msg)
		m.mail(fmt.Sprintf("process %s not restarted: supervisord is shutting down", namespec), msg+readings, info)
		return
	}
	if err != nil {
		// Upstream's words minus ", exiting": this listener goes on. The
		// mail subject keeps them, byte for byte, for existing mail filters.
		msg := fmt.Sprintf("Failed to stop process %s (RSS %d): %s", namespec, rss, superlance.ErrorText(err))
		var f *rpcclient.Fault
		if !errors.As(err, &f) {
			// The answer was lost: maybe because supervisord went away.
			pctx, cancel := context.WithTimeout(rctx, infoTimeout)
			down := svstate.Down(pctx, func(ctx context.Context) error {
				_, err := m.sv.GetAllProcessInfo(ctx)
				return err
			})
			cancel()
			if down != "" {
				msg += "; " + down + ": " + namespec + " may be left stopped"
			}
		}
		m.log.Print(msg)
		m.mail(fmt.Sprintf("failed to stop process %s, exiting", namespec), msg+readings, info)
		return
	}
	// supervisord refuses to start anything once it announced its
	// shutdown: do not ask.
	down := svstate.Stopping(ctx)
	if !down {
		sctx, cancel = context.WithTimeout(rctx, restartTimeout)
		err = m.sv.StartProcess(sctx, namespec, true)
		cancel()
		down = svstate.ShuttingDown(err)
	}
	if down {
		msg := fmt.Sprintf("Process %s was stopped (RSS %d) and is not started again: supervisord is shutting down", namespec, rss)
		m.log.Print(msg)
		m.mail(fmt.Sprintf("process %s stopped: supervisord is shutting down", namespec), msg+readings, info)
		return
	}
	if err != nil {
		msg := fmt.Sprintf("Failed to start process %s after stopping it: %s", namespec, superlance.ErrorText(err))
		m.log.Print(msg)
		m.mail(fmt.Sprintf("failed to start process %s, exiting", namespec), msg+readings, info)
		return
	}
	if uptime <= m.cfg.uptime {
		now := m.now()
		zone, _ := now.Zone()
		m.mail(fmt.Sprintf("process %s restarted", namespec),
			fmt.Sprintf("memmon.py restarted the process named %s at %s %s because it was consuming too much memory (%d bytes RSS)",
				namespec, now.Format(asctime), zone, rss)+readings, info)
	}
}

// asctime is C's asctime() layout, which upstream's mail uses.
const asctime = "Mon Jan _2 15:04:05 2006"

// mail queues a message about the process described by before (as it
// was before the restart) when -m is set; the queue logs the delivery.
func (m *memmon) mail(subject, body string, before rpcclient.ProcessInfo) {
	if m.alerts == nil {
		return
	}
	a := alert.Alert{Kind: alert.Memory, Program: before.Name, Group: before.Group, Subject: m.cfg.subject(subject), Text: body}
	if m.send == nil {
		m.deliver(a)
		return
	}
	m.send.Send(a, alertctx.Request{Group: before.Group, Name: before.Name, Before: &before})
}

// deliver queues the mail of a.
func (m *memmon) deliver(a alert.Alert) {
	if err := m.alerts.Send(a); err != nil {
		m.log.Printf("not mailing: %v", err)
	}
}

// summary is the mail of the alerts --flood held back.
func (m *memmon) summary(last alert.Alert, line string) alert.Alert {
	last.Subject, last.Text, last.Details = m.cfg.subject(line), line, nil
	return last
}

// subject prefixes s as upstream's mail subjects are.
func (cfg *config) subject(s string) string {
	if cfg.name != "" {
		return "memmon [" + cfg.name + "]: " + s
	}
	return "memmon: " + s
}

// message is one mail with upstream's subject prefix.
func (cfg *config) message(subject, body string) *notify.Message {
	return &notify.Message{To: cfg.mail.To, From: cfg.mail.From, Subject: cfg.subject(subject), Body: body}
}
