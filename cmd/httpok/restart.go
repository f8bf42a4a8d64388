package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/superlance-go/superlance/internal/superlance"
	"github.com/superlance-go/superlance/internal/svstate"
	"github.com/superlance-go/superlance/rpcclient"
)

// Deadlines of the supervisord calls. stopProcess and startProcess are
// called with wait=true, as upstream does: supervisord answers only when the
// process has stopped (up to its stopwaitsecs, 10 s by default, then SIGKILL)
// or has stayed up for startsecs. Two minutes outlasts any sensible setting
// while still freeing the worker if supervisord itself hangs.
const (
	infoTimeout  = 10 * time.Second
	stopTimeout  = 2 * time.Minute
	startTimeout = 2 * time.Minute
	gcoreTimeout = 60 * time.Second
)

// supervisor is the part of rpcclient.Client httpok uses; tests substitute
// a fake where a real supervisord cannot produce the answer they need.
type supervisor interface {
	GetAllProcessInfo(ctx context.Context) ([]rpcclient.ProcessInfo, error)
	StopProcess(ctx context.Context, name string, wait bool) error
	StartProcess(ctx context.Context, name string, wait bool) error
}

// self identifies the listener's own process, which httpok never restarts:
// upstream's -a stopped itself first and so never restarted anything else.
type self struct{ name, group string }

func (s self) is(p rpcclient.ProcessInfo) bool {
	return s.name != "" && p.Name == s.name && p.Group == s.group
}

// actor restarts processes after a failed check and collects the report
// lines, each of which is also logged as it happens.
type actor struct {
	sv       supervisor
	programs []string // -p, as given
	any      bool
	gcore    []string // command words; empty disables core dumps
	coredir  string
	grace    time.Duration // --grace: a process RUNNING for less is left alone
	self     self
	log      *log.Logger
	lines    []string
	acted    []rpcclient.ProcessInfo // the processes reported on, as they were before
}

func (a *actor) line(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	a.log.Print(s)
	a.lines = append(a.lines, s)
}

// matches reports whether p is named by a -p entry, by bare name or namespec.
func matches(programs []string, p rpcclient.ProcessInfo) bool {
	return slices.Contains(programs, p.Name) || slices.Contains(programs, p.Namespec())
}

// monitoredRunning reports whether a monitored process is RUNNING: one named
// by -p, or any process with -a. Upstream looked at bare names only, so
// -E -p grp:name and -E -a never checked.
func monitoredRunning(procs []rpcclient.ProcessInfo, programs []string, any bool, me self) bool {
	for _, p := range procs {
		if p.State == rpcclient.StateRunning && !me.is(p) && (any || matches(programs, p)) {
			return true
		}
	}
	return false
}

// uptime is how long p has been running, by supervisord's clock.
func uptime(p rpcclient.ProcessInfo) time.Duration {
	return time.Duration(max(p.Now-p.Start, 0)) * time.Second
}

// warmingUp returns a monitored process that is still STARTING or has been
// RUNNING for less than grace: while one warms up, a failed check says
// nothing about it. STARTING counts because a process inside its startsecs
// has not been RUNNING at all yet.
func warmingUp(procs []rpcclient.ProcessInfo, programs []string, any bool, me self, grace time.Duration) (rpcclient.ProcessInfo, bool) {
	if grace <= 0 {
		return rpcclient.ProcessInfo{}, false
	}
	for _, p := range procs {
		if me.is(p) || !(any || matches(programs, p)) {
			continue
		}
		if p.State == rpcclient.StateStarting || (p.State == rpcclient.StateRunning && uptime(p) < grace) {
			return p, true
		}
	}
	return rpcclient.ProcessInfo{}, false
}

// warmingUpText says why a warming-up process is not checked.
func warmingUpText(p rpcclient.ProcessInfo, grace time.Duration) string {
	if p.State == rpcclient.StateStarting {
		return fmt.Sprintf("%s is STARTING, not yet RUNNING for --grace %v", p.Namespec(), grace)
	}
	return fmt.Sprintf("%s has been RUNNING for %v, less than --grace %v", p.Namespec(), uptime(p), grace)
}

// act restarts the selected processes, as upstream's act(): it returns the
// report lines, starting with first, and false when it could not act at all
// (no mail then, as upstream).
func (a *actor) act(ctx context.Context, first string) ([]string, bool) {
	a.lines, a.acted = []string{first}, nil
	ictx, cancel := context.WithTimeout(ctx, infoTimeout)
	procs, err := a.sv.GetAllProcessInfo(ictx)
	cancel()
	if err != nil {
		a.line("Exception retrieving process info %s, not acting", superlance.ErrorText(err))
		return a.lines, false
	}

	missing := slices.Clone(a.programs)
	if a.any {
		a.line("Restarting all running processes")
	} else {
		a.line("Restarting selected processes %s", superlance.List(a.programs))
	}
	for _, p := range procs {
		named := matches(a.programs, p)
		if named {
			missing = slices.DeleteFunc(missing, func(s string) bool { return s == p.Name || s == p.Namespec() })
		}
		if !a.any && !named {
			continue
		}
		if a.self.is(p) {
			a.log.Printf("not restarting %s: it is this listener", p.Namespec())
			continue
		}
		a.acted = append(a.acted, p)
		a.restart(ctx, p)
	}
	if len(missing) > 0 {
		a.line("Programs not restarted because they did not exist: %s", superlance.List(missing))
	}
	return a.lines, true
}

// restart dumps core if asked, then stops and starts one process, reporting
// each step with upstream's words. A supervisord fault is reported and the
// next step tried, as upstream; an error reaching supervisord (upstream
// crashed on it) is reported and the process left alone, since whether the
// call took effect is unknown.
func (a *actor) restart(ctx context.Context, p rpcclient.ProcessInfo) {
	n := p.Namespec()
	if p.State != rpcclient.StateRunning {
		a.line("%s not in RUNNING state, NOT restarting", n)
		return
	}
	if a.grace > 0 && uptime(p) < a.grace {
		// (Re)started since the check was decided on: the check said
		// nothing about this run of it.
		a.line("%s has been RUNNING for %v, less than --grace %v, NOT restarting", n, uptime(p), a.grace)
		return
	}
	if ctx.Err() != nil {
		// The grace period of a shutdown is over: no new restart begins.
		a.line("%s not restarted: httpok is stopping", n)
		return
	}
	if svstate.Stopping(ctx) {
		a.line("%s not restarted: supervisord is shutting down", n)
		return
	}
	if a.coredir != "" && len(a.gcore) > 0 {
		a.dumpCore(ctx, n, p.PID)
	}
	a.line("%s is in RUNNING state, restarting", n)

	// From the stop on, the restart is one step that ends with the start
	// even when httpok is told to stop meanwhile (SIGTERM, stdin EOF):
	// supervisord never restarts a program that was stopped on request.
	// Only the calls' deadlines and supervisord's own shutdown end it early.
	rctx := context.WithoutCancel(ctx)
	sctx, cancel := context.WithTimeout(rctx, stopTimeout)
	err := a.sv.StopProcess(sctx, n, true)
	cancel()
	var fault *rpcclient.Fault
	switch {
	case svstate.ShuttingDown(err):
		a.line("%s not restarted: supervisord is shutting down", n)
		return
	case errors.As(err, &fault):
		// Upstream goes on to start it: a FAILED stop may still have stopped it.
		a.line("Failed to stop process %s: %s", n, superlance.Fault(fault))
	case err != nil:
		if down := supervisordDown(rctx, a.sv); down != "" {
			// The answer was lost because supervisord went away.
			a.line("Failed to stop process %s: %v; %s: %s may be left stopped", n, err, down, n)
			return
		}
		a.line("Failed to stop process %s: %v; not starting it", n, err)
		return
	}

	if svstate.Stopping(ctx) {
		a.line("%s was stopped and is not started again: supervisord is shutting down", n)
		return
	}
	sctx, cancel = context.WithTimeout(rctx, startTimeout)
	err = a.sv.StartProcess(sctx, n, true)
	cancel()
	switch {
	case svstate.ShuttingDown(err):
		a.line("%s was stopped and is not started again: supervisord is shutting down", n)
	case err != nil:
		a.line("Failed to start process %s: %s", n, superlance.ErrorText(err))
	default:
		a.line("%s restarted", n)
	}
}

// coreFile is the core file's path prefix for a process: <coredir>/<namespec>
// for every ordinary name, and always a file directly inside coredir. A
// name is whatever supervisord's config allowed (process_name expands
// expressions), so a '/' in it, or a name that is "." or "..", could
// otherwise point gcore anywhere the listener may write: '/' becomes '_',
// and a name that is only dots gets a '_' in front.
func coreFile(coredir, namespec string) string {
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == 0 {
			return '_'
		}
		return r
	}, namespec)
	if strings.Trim(name, ".") == "" {
		name = "_" + name
	}
	return filepath.Join(coredir, name)
}

// dumpCore runs the gcore command with <coredir>/<namespec> and the pid as
// two more arguments. No shell is involved: a process name can hold any
// character supervisord allows, and none of it may reach a shell.
func (a *actor) dumpCore(ctx context.Context, namespec string, pid int) {
	ctx, cancel := context.WithTimeout(ctx, gcoreTimeout)
	defer cancel()
	args := append(slices.Clone(a.gcore[1:]), coreFile(a.coredir, namespec), strconv.Itoa(pid))
	cmd := exec.CommandContext(ctx, a.gcore[0], args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// gdb may leave children holding the pipes; do not wait on them forever.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	a.line("gcore output for %s:\n\n %s", namespec, stdout.String())
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			msg = ": " + msg
		}
		a.line("gcore for %s failed: %v%s", namespec, err, msg)
	}
}

// supervisordDown is svstate.Down with httpok's deadline for the probe.
func supervisordDown(ctx context.Context, sv supervisor) string {
	ctx, cancel := context.WithTimeout(ctx, infoTimeout)
	defer cancel()
	return svstate.Down(ctx, func(ctx context.Context) error {
		_, err := sv.GetAllProcessInfo(ctx)
		return err
	})
}
