package main

import (
	"context"
	"errors"
	"log"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/restart"
	"github.com/superlance-go/superlance/internal/svstate"
	"github.com/superlance-go/superlance/rpcclient"
)

// Deadlines of the calls to supervisord. startProcess is called with
// wait=false: supervisord answers right after forking, and the states that
// follow arrive as events.
const (
	infoTimeout  = 10 * time.Second
	startTimeout = 30 * time.Second
)

// supervisor is the part of supervisord's API procmon uses
// (*rpcclient.Client).
type supervisor interface {
	GetAllProcessInfo(ctx context.Context) ([]rpcclient.ProcessInfo, error)
	GetProcessInfo(ctx context.Context, name string) (rpcclient.ProcessInfo, error)
	StartProcess(ctx context.Context, name string, wait bool) error
}

// timer is a pending call, as time.AfterFunc returns it.
type timer interface{ Stop() bool }

func afterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

// monitor holds what procmon believes about the watched programs. The
// event handler, the timers and the worker's jobs all go through mu; none
// of them does network I/O while holding it.
type monitor struct {
	cfg       *config
	sv        supervisor
	log       *log.Logger
	notify    func(alert.Alert) // logs, and mails with -m
	now       func() time.Time
	afterFunc func(time.Duration, func()) timer
	worker    *eventproto.Worker
	selfGroup string // this listener, never watched
	selfName  string

	mu     sync.Mutex
	progs  map[string]*program // by namespec
	budget *restart.Budget     // nil without --budget
	held   []string            // namespecs refused by the budget, oldest first
	resume timer               // restarts the held programs when the budget allows
	// spentEnd resolves the spent budget (a condition for Alertmanager)
	// once a whole window has passed without a refusal: the end of the
	// episode restart.Budget counts.
	spentEnd timer
	closed   bool
}

// program is the state of one watched process.
type program struct {
	name, group string
	bo          *restart.Backoff
	// owed: procmon has seen the program die and has not seen it started
	// since. The restart is either on a timer, running (inflight), held by
	// the budget, or waiting for the next consistency check after a failure.
	owed     bool
	timer    timer
	timerGen int  // tells a stale timer callback from the current one
	inflight int  // restart jobs running
	held     bool // refused by the budget
	// seq changes with every state event, so that a job or check working
	// from an older answer of supervisord leaves the program alone.
	seq      uint64
	recovery timer  // fires when a looping program has run for the threshold
	last     string // how it last died, for the crash-loop mail
}

func (p *program) namespec() string {
	if p.group == p.name {
		return p.name
	}
	return p.group + ":" + p.name
}

func newMonitor(cfg *config, sv supervisor, logger *log.Logger, notify func(alert.Alert), worker *eventproto.Worker) *monitor {
	m := &monitor{
		cfg: cfg, sv: sv, log: logger, notify: notify,
		now: time.Now, afterFunc: afterFunc, worker: worker,
		progs: map[string]*program{},
	}
	if cfg.max > 0 {
		m.budget = restart.NewBudget(cfg.max, cfg.window, m.now)
	}
	return m
}

// watched applies -p, -g and -a; the listener itself is never watched.
func (m *monitor) watched(group, name string) bool {
	if m.selfName != "" && group == m.selfGroup && name == m.selfName {
		return false
	}
	if m.cfg.any || slices.Contains(m.cfg.groups, group) {
		return true
	}
	for _, p := range m.cfg.programs {
		if p == name || p == group+":"+name {
			return true
		}
	}
	return false
}

// handle is the event handler: it only updates the state and arms timers.
func (m *monitor) handle(_ context.Context, ev eventproto.Event) {
	switch {
	case ev.Name() == eventproto.SupervisorStateChangeStopping:
		// supervisord refuses to start anything from now on, and stops
		// every program: nothing is owed any more.
		m.mu.Lock()
		if !m.closed {
			m.log.Print("supervisord is shutting down: no more restarts")
		}
		m.closeLocked()
		m.mu.Unlock()
	case ev.IsTick():
		if !m.worker.TryGo(m.check) {
			m.log.Printf("previous consistency check still running; skipping %s", ev.Name())
		}
	case ev.Name() == eventproto.ProcessGroupRemoved:
		pg, err := eventproto.ParseProcessGroup(ev.Payload)
		if err != nil {
			m.log.Printf("ignoring %s event: %v", ev.Name(), err)
			return
		}
		m.mu.Lock()
		for key, p := range m.progs {
			if p.group == pg.GroupName {
				m.forget(key, "its group was removed from supervisord's configuration")
			}
		}
		m.mu.Unlock()
	case strings.HasPrefix(ev.Name(), "PROCESS_STATE_"):
		if ev.Repeat {
			return // already handled: a second death must not be counted
		}
		ps, err := eventproto.ParseProcessState(ev.Payload)
		if err != nil {
			m.log.Printf("ignoring %s event: %v", ev.Name(), err)
			return
		}
		if !m.watched(ps.GroupName, ps.ProcessName) {
			return
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.closed {
			return
		}
		m.state(ev.Name(), m.program(ps.GroupName, ps.ProcessName))
	}
}

// program returns the state of a watched process, created on first sight.
func (m *monitor) program(group, name string) *program {
	key := namespec(group, name)
	p := m.progs[key]
	if p == nil {
		p = &program{name: name, group: group, bo: restart.NewBackoff(m.cfg.policy, m.now)}
		m.progs[key] = p
	}
	return p
}

func namespec(group, name string) string {
	if group == name {
		return name
	}
	return group + ":" + name
}

// state applies one PROCESS_STATE event.
func (m *monitor) state(event string, p *program) {
	p.seq++
	switch event {
	case eventproto.ProcessStateRunning:
		m.settle(p) // in case the STARTING event was lost
		p.bo.Running()
		if p.bo.Looping() {
			m.armRecovery(p)
		}
	case eventproto.ProcessStateExited:
		d := p.bo.Died()
		if d.Ran >= 0 {
			p.last = "exited after " + round(d.Ran)
		} else {
			p.last = "exited"
		}
		m.died(p, d, "EXITED")
	case eventproto.ProcessStateFatal:
		p.last = "could not be started (FATAL)"
		m.died(p, p.bo.Died(), "FATAL")
	case eventproto.ProcessStateStarting, eventproto.ProcessStateBackoff:
		// Started by procmon, supervisord (autorestart, its own retries)
		// or a person: whatever was owed is settled.
		m.settle(p)
	case eventproto.ProcessStateStopping, eventproto.ProcessStateStopped:
		if p.owed {
			m.log.Printf("%s was stopped; not restarting it", p.namespec())
		}
		m.settle(p)
		m.stopRecovery(p)
	}
}

// settle drops a restart that is no longer owed.
func (m *monitor) settle(p *program) {
	p.owed = false
	m.cancelTimer(p)
	m.unhold(p)
}

// died records a death (the program is now in state) and schedules the
// restart.
func (m *monitor) died(p *program, d restart.Death, state string) {
	n := p.namespec()
	m.stopRecovery(p)
	if d.Recovered {
		m.notify(recoveredAlert(p, m.cfg))
	}
	p.owed = true
	m.unhold(p)
	switch {
	case !d.Instant:
		m.log.Printf("%s %s (at least %s): restarting it now", n, p.last, round(m.cfg.policy.Threshold))
	default:
		m.log.Printf("%s %s, an instant death (%d in a row): restarting it in %s", n, p.last, d.Streak, round(d.Delay))
	}
	m.schedule(p, d.Delay)
	if d.Looping {
		m.notify(loopAlert(p, d, state, m.cfg))
	}
}

// schedule arms the restart timer, replacing any earlier one.
func (m *monitor) schedule(p *program, delay time.Duration) {
	m.cancelTimer(p)
	p.timerGen++
	gen := p.timerGen
	p.timer = m.afterFunc(delay, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.closed || p.timerGen != gen || m.progs[p.namespec()] != p {
			return
		}
		p.timer = nil
		m.dispatch(p)
	})
}

func (m *monitor) cancelTimer(p *program) {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.timerGen++
}

func (m *monitor) armRecovery(p *program) {
	m.stopRecovery(p)
	var t timer
	t = m.afterFunc(m.cfg.policy.Threshold, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.closed || p.recovery != t {
			return
		}
		p.recovery = nil
		if p.bo.Check() {
			m.notify(recoveredAlert(p, m.cfg))
		}
	})
	p.recovery = t
}

func (m *monitor) stopRecovery(p *program) {
	if p.recovery != nil {
		p.recovery.Stop()
		p.recovery = nil
	}
}

// dispatch starts a restart job for p on the worker.
func (m *monitor) dispatch(p *program) {
	p.inflight++
	seq := p.seq
	m.worker.Go(func(ctx context.Context) { m.restart(ctx, p, seq) })
}

// restart is one restart job: look at the program's state right before
// acting, then start it if supervisord left it down. seq is the program's
// seq when the job was dispatched.
func (m *monitor) restart(ctx context.Context, p *program, seq uint64) {
	n := p.namespec()
	ictx, cancel := context.WithTimeout(ctx, infoTimeout)
	info, err := m.sv.GetProcessInfo(ictx, n)
	cancel()

	m.mu.Lock()
	defer m.mu.Unlock()
	p.inflight--
	if m.closed || m.progs[n] != p {
		return
	}
	if err != nil {
		switch {
		case isFault(err, rpcclient.FaultBadName):
			m.forget(n, "supervisord no longer knows it")
		case svstate.ShuttingDown(err):
			m.log.Printf("not restarting %s: supervisord is shutting down", n)
			m.closeLocked()
		default:
			m.log.Printf("not restarting %s now: %v; trying again at the next tick", n, err)
		}
		return
	}
	if p.seq != seq {
		return // events came meanwhile; they decide
	}
	switch info.State {
	case rpcclient.StateExited, rpcclient.StateFatal:
	case rpcclient.StateStopped, rpcclient.StateStopping:
		m.log.Printf("%s was stopped; not restarting it", n)
		m.settle(p)
		return
	case rpcclient.StateStarting, rpcclient.StateRunning, rpcclient.StateBackoff:
		m.log.Printf("%s is %v already; not starting it", n, info.State)
		m.settle(p)
		return
	default:
		m.log.Printf("%s is %v; not restarting it now, trying again at the next tick", n, info.State)
		return
	}
	if ok, spent := m.budget.Take(); !ok {
		m.hold(p, info.State, spent)
		return
	}
	p.inflight++
	m.mu.Unlock()
	m.log.Printf("starting %s (%v)", n, info.State)
	sctx, cancel := context.WithTimeout(ctx, startTimeout)
	err = m.sv.StartProcess(sctx, n, false)
	cancel()
	m.mu.Lock()
	p.inflight--
	switch {
	case err == nil:
		// The STARTING event settles the restart.
	case isFault(err, rpcclient.FaultAlreadyStarted):
		m.log.Printf("%s was started meanwhile", n)
		if p.seq == seq {
			m.settle(p)
		}
	case isFault(err, rpcclient.FaultBadName):
		if m.progs[n] == p {
			m.forget(n, "supervisord no longer knows it")
		}
	case svstate.ShuttingDown(err):
		m.log.Printf("%s not started: supervisord is shutting down", n)
		m.closeLocked()
	default:
		m.log.Printf("starting %s: %v; trying again at the next tick", n, err)
	}
}

func isFault(err error, code rpcclient.FaultCode) bool {
	var f *rpcclient.Fault
	return errors.As(err, &f) && f.Code == code
}

// hold leaves p down until the budget allows a restart again.
func (m *monitor) hold(p *program, state rpcclient.ProcessState, spent bool) {
	p.held = true
	m.held = append(m.held, p.namespec())
	free := m.budget.NextFree()
	m.log.Printf("restart budget %s spent: leaving %s %v until %s", m.cfg.budget, p.namespec(), state, free.Format(time.TimeOnly))
	if spent {
		held, waiting := m.downList()
		m.notify(budgetAlert(m.cfg, held, waiting, free))
	}
	if m.spentEnd != nil {
		m.spentEnd.Stop()
	}
	var end timer
	end = m.afterFunc(m.cfg.window, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.closed || m.spentEnd != end {
			return
		}
		m.spentEnd = nil
		m.notify(budgetEndedAlert(m.cfg))
	})
	m.spentEnd = end
	if m.resume == nil {
		var t timer
		t = m.afterFunc(max(free.Sub(m.now()), 0), func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.closed || m.resume != t {
				return
			}
			m.resume = nil
			held := m.held
			m.held = nil
			if len(held) > 0 {
				m.log.Printf("restart budget allows restarts again: %s", strings.Join(held, ", "))
			}
			for _, key := range held {
				if q := m.progs[key]; q != nil && q.held {
					q.held = false
					m.dispatch(q)
				}
			}
		})
		m.resume = t
	}
}

func (m *monitor) unhold(p *program) {
	if !p.held {
		return
	}
	p.held = false
	m.held = slices.DeleteFunc(m.held, func(k string) bool { return k == p.namespec() })
}

// downList describes the programs the budget leaves down, and those still
// waiting for their delay, for the budget notice.
func (m *monitor) downList() (held, waiting []string) {
	held = slices.Clone(m.held)
	for key, p := range m.progs {
		if p.owed && !p.held {
			waiting = append(waiting, key)
		}
	}
	sort.Strings(waiting)
	return held, waiting
}

// forget drops a program supervisord no longer has.
func (m *monitor) forget(key, why string) {
	p := m.progs[key]
	if p == nil {
		return
	}
	m.log.Printf("forgetting %s: %s", key, why)
	m.settle(p)
	m.stopRecovery(p)
	delete(m.progs, key)
}

// check is the consistency check (at start-up and on every TICK): it
// compares supervisord's process table with what procmon believes, so that
// a dropped event or a restart of procmon never leaves a program down.
func (m *monitor) check(ctx context.Context) {
	m.mu.Lock()
	before := make(map[string]uint64, len(m.progs))
	for key, p := range m.progs {
		before[key] = p.seq
	}
	m.mu.Unlock()

	ictx, cancel := context.WithTimeout(ctx, infoTimeout)
	infos, err := m.sv.GetAllProcessInfo(ictx)
	cancel()
	if err != nil {
		m.log.Printf("consistency check: %v; trying again at the next tick", err)
		return
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	seen := map[string]bool{}
	for _, info := range infos {
		if !m.watched(info.Group, info.Name) {
			continue
		}
		key := info.Namespec()
		seen[key] = true
		p := m.program(info.Group, info.Name)
		if seq, known := before[key]; known && p.seq != seq {
			continue // events arrived after this answer was made
		}
		m.reconcile(p, info)
	}
	for key := range m.progs {
		if !seen[key] {
			m.forget(key, "it is no longer in supervisord's configuration")
		}
	}
	m.logUnmatched(infos)
}

// reconcile brings the state of p in line with supervisord's answer.
func (m *monitor) reconcile(p *program, info rpcclient.ProcessInfo) {
	switch info.State {
	case rpcclient.StateRunning:
		if p.owed {
			m.settle(p)
		}
		if !p.bo.IsRunning() {
			// The RUNNING event was missed (or procmon restarted):
			// supervisord's start time, on procmon's clock.
			p.bo.RunningSince(m.now().Add(-time.Duration(info.Now-info.Start) * time.Second))
		}
		if p.bo.Check() {
			m.notify(recoveredAlert(p, m.cfg))
		}
	case rpcclient.StateExited, rpcclient.StateFatal:
		switch {
		case !p.owed:
			// Down, and procmon did not see it die: an event was dropped,
			// or procmon (re)started. The events supervisord buffered
			// before procmon's first READY may still be on their way and
			// will count that death, so only a run that supervisord's own
			// times show to be long is counted here (its restart is
			// immediate); otherwise the restart waits the current delay.
			p.seq++
			ran := time.Duration(info.Stop-info.Start) * time.Second
			if info.State == rpcclient.StateExited && info.Start > 0 && ran >= m.cfg.policy.Threshold {
				p.last = "exited after " + round(ran)
				m.log.Printf("consistency check: %s is %v and no restart was scheduled", p.namespec(), info.State)
				m.died(p, p.bo.DiedAfter(ran), info.State.String())
				break
			}
			p.owed = true
			m.log.Printf("consistency check: %s is %v and no restart was scheduled: restarting it in %s", p.namespec(), info.State, round(p.bo.NextDelay()))
			m.schedule(p, p.bo.NextDelay())
		case p.timer == nil && p.inflight == 0 && !p.held:
			// A restart that failed: try again.
			m.dispatch(p)
		}
	case rpcclient.StateStarting, rpcclient.StateBackoff, rpcclient.StateStopped, rpcclient.StateStopping:
		if p.owed {
			m.settle(p)
		}
	}
}

// logUnmatched logs every -p and -g that names nothing supervisord has:
// not an error, since programs can be added later.
func (m *monitor) logUnmatched(infos []rpcclient.ProcessInfo) {
	for _, want := range m.cfg.programs {
		if !slices.ContainsFunc(infos, func(i rpcclient.ProcessInfo) bool {
			return want == i.Name || want == i.Group+":"+i.Name
		}) {
			m.log.Printf("-p %s: no such program in supervisord's configuration (yet)", want)
		}
	}
	for _, want := range m.cfg.groups {
		if !slices.ContainsFunc(infos, func(i rpcclient.ProcessInfo) bool { return want == i.Group }) {
			m.log.Printf("-g %s: no such group in supervisord's configuration (yet)", want)
		}
	}
}

// close stops every timer; jobs already running finish (the drain waits
// for them) but change nothing.
func (m *monitor) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closeLocked()
}

func (m *monitor) closeLocked() {
	m.closed = true
	for _, p := range m.progs {
		m.cancelTimer(p)
		m.stopRecovery(p)
	}
	if m.resume != nil {
		m.resume.Stop()
		m.resume = nil
	}
	if m.spentEnd != nil {
		m.spentEnd.Stop()
		m.spentEnd = nil
	}
}

// round shortens a duration for messages: 0.4s, 12s, 1m30s.
func round(d time.Duration) string {
	if d < time.Minute {
		return strconv.FormatFloat(d.Round(100*time.Millisecond).Seconds(), 'f', -1, 64) + "s"
	}
	return d.Round(time.Second).String()
}
