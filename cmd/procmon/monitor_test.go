package main

import (
	"context"
	"io"
	"log"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/restart"
	"github.com/superlance-go/superlance/rpcclient"
)

// fakeSupervisor answers from a table of states and records the starts.
// It stands in for supervisord where a test needs exact control over what
// each call sees (the integration tests use the real one).
type fakeSupervisor struct {
	mu     sync.Mutex
	states map[string]rpcclient.ProcessState
	starts []string
}

func (f *fakeSupervisor) GetAllProcessInfo(context.Context) ([]rpcclient.ProcessInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []rpcclient.ProcessInfo
	for name, st := range f.states {
		out = append(out, rpcclient.ProcessInfo{Name: name, Group: name, State: st})
	}
	return out, nil
}

func (f *fakeSupervisor) GetProcessInfo(_ context.Context, name string) (rpcclient.ProcessInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.states[name]
	if !ok {
		return rpcclient.ProcessInfo{}, &rpcclient.Fault{Code: rpcclient.FaultBadName, String: "BAD_NAME: " + name}
	}
	return rpcclient.ProcessInfo{Name: name, Group: name, State: st}, nil
}

func (f *fakeSupervisor) StartProcess(_ context.Context, name string, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, name)
	f.states[name] = rpcclient.StateStarting
	return nil
}

func (f *fakeSupervisor) started() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.starts...)
}

// manualTimer is a pending call that the test fires.
type manualTimer struct {
	d       time.Duration
	f       func()
	stopped bool
}

func (t *manualTimer) Stop() bool { t.stopped = true; return true }

// harness is a monitor on a manual clock and manual timers.
type harness struct {
	t      *testing.T
	m      *monitor
	sv     *fakeSupervisor
	now    time.Time
	timers []*manualTimer
	alerts []alert.Alert
	log    strings.Builder
}

func newHarness(t *testing.T, policy restart.Policy, budget int, window time.Duration, states map[string]rpcclient.ProcessState) *harness {
	h := &harness{t: t, sv: &fakeSupervisor{states: states}, now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	cfg := &config{programs: []string{"web", "db"}, policy: policy, max: budget, window: window, budget: "test"}
	h.m = newMonitor(cfg, h.sv, log.New(io.Discard, "", 0), func(a alert.Alert) { h.alerts = append(h.alerts, a) }, eventproto.NewWorker(context.Background()))
	h.m.log = log.New(&h.log, "", 0)
	h.m.now = func() time.Time { return h.now }
	if budget > 0 {
		h.m.budget = restart.NewBudget(budget, window, h.m.now)
	}
	h.m.afterFunc = func(d time.Duration, f func()) timer {
		mt := &manualTimer{d: d, f: f}
		h.timers = append(h.timers, mt)
		return mt
	}
	return h
}

func (h *harness) event(name, prog, from string) {
	payload := "processname:" + prog + " groupname:" + prog + " from_state:" + from
	h.m.handle(context.Background(), eventproto.Event{Header: eventproto.Header{EventName: name}, Payload: payload})
}

// fire runs every live timer armed so far (after advancing the clock by
// its delay) and waits for the jobs they started.
func (h *harness) fire() {
	h.t.Helper()
	pending := h.timers
	h.timers = nil
	for _, mt := range pending {
		if mt.stopped {
			continue
		}
		h.now = h.now.Add(mt.d)
		mt.f()
	}
	h.wait()
}

func (h *harness) wait() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.m.worker.Wait(ctx); err != nil {
		h.t.Fatalf("jobs did not finish: %v", err)
	}
}

// liveDelays returns the delays of the timers not stopped.
func (h *harness) liveDelays() []time.Duration {
	var out []time.Duration
	for _, mt := range h.timers {
		if !mt.stopped {
			out = append(out, mt.d)
		}
	}
	return out
}

var testPolicy = restart.Policy{Threshold: 10 * time.Second, MinDelay: time.Second, MaxDelay: time.Minute}

// TestStartupCheckDoesNotCountBufferedDeath: procmon starts, its start-up
// check finds web FATAL, and then the events supervisord buffered before
// procmon's first READY arrive, telling of the very same death. The death
// is counted once: the delay stays at its minimum and no crash loop is
// reported.
func TestStartupCheckDoesNotCountBufferedDeath(t *testing.T) {
	h := newHarness(t, testPolicy, 0, 0, map[string]rpcclient.ProcessState{"web": rpcclient.StateFatal})
	h.m.check(context.Background())
	if got := h.liveDelays(); len(got) != 1 || got[0] != time.Second {
		t.Fatalf("after the start-up check: timers %v, want one of 1s", got)
	}
	h.event(eventproto.ProcessStateStarting, "web", "STOPPED")
	h.event(eventproto.ProcessStateBackoff, "web", "STARTING")
	h.event(eventproto.ProcessStateFatal, "web", "BACKOFF")
	if got := h.liveDelays(); len(got) != 1 || got[0] != time.Second {
		t.Errorf("after the buffered events: live timers %v, want one of 1s (one death)", got)
	}
	if len(h.alerts) != 0 {
		t.Errorf("alerts %v, want none: one death is no crash loop", h.alerts)
	}
	h.fire()
	if got := h.sv.started(); len(got) != 1 || got[0] != "web" {
		t.Errorf("starts %v, want web once", got)
	}
}

// TestRestartLeavesStartedProgramAlone: between the death and the timer,
// supervisord restarted the program itself without procmon seeing the
// event yet; the job reads the state first and does not start it again.
func TestRestartLeavesStartedProgramAlone(t *testing.T) {
	h := newHarness(t, testPolicy, 0, 0, map[string]rpcclient.ProcessState{"web": rpcclient.StateExited})
	h.event(eventproto.ProcessStateRunning, "web", "STARTING")
	h.event(eventproto.ProcessStateExited, "web", "RUNNING")
	h.sv.states["web"] = rpcclient.StateRunning
	h.fire()
	if got := h.sv.started(); len(got) != 0 {
		t.Errorf("starts %v, want none", got)
	}
	if !strings.Contains(h.log.String(), "web is RUNNING already; not starting it") {
		t.Errorf("log %q does not say why web was left alone", h.log.String())
	}
}

// TestBudgetHoldsAndResumes: with a budget of one restart per minute, the
// second program due is held, the notice is sent once, and the held
// program is started when the window allows.
func TestBudgetHoldsAndResumes(t *testing.T) {
	h := newHarness(t, testPolicy, 1, time.Minute, map[string]rpcclient.ProcessState{"web": rpcclient.StateFatal, "db": rpcclient.StateFatal})
	h.event(eventproto.ProcessStateFatal, "web", "BACKOFF")
	h.event(eventproto.ProcessStateFatal, "db", "BACKOFF")
	h.fire() // both due: one starts, the other is held
	if got := h.sv.started(); len(got) != 1 {
		t.Fatalf("starts %v, want exactly one within the budget", got)
	}
	var notices []alert.Alert
	for _, a := range h.alerts {
		if a.Kind == alert.Budget {
			notices = append(notices, a)
		}
	}
	if len(notices) != 1 || !strings.Contains(notices[0].Text, "Left down: ") {
		t.Fatalf("budget notices %+v, want one naming what was left down", notices)
	}
	held := map[string]string{"web": "db", "db": "web"}[h.sv.started()[0]]
	if !strings.Contains(notices[0].Text, "Left down: "+held+".") {
		t.Errorf("notice %q does not name %s", notices[0].Text, held)
	}
	if !notices[0].Holds {
		t.Errorf("budget notice is not a condition: %+v", notices[0])
	}
	if got := h.liveDelays(); len(got) != 2 || got[0] > time.Minute || got[1] != time.Minute {
		t.Fatalf("timers after the refusal %v, want a resume within the window and the end of the episode a window later", got)
	}
	h.fire() // the window allows again; a window without a refusal ends the episode
	if got := h.sv.started(); len(got) != 2 || got[1] != held {
		t.Errorf("starts %v, want %s started when the budget allowed", got, held)
	}
	last := h.alerts[len(h.alerts)-1]
	if last.Kind != alert.Recovered || last.Ends != alert.Budget || !last.NoMail {
		t.Errorf("last alert %+v, want the budget condition ended, not mailed", last)
	}
}

// TestShutdownStopsRestarts: once supervisord announces its shutdown, the
// pending restart is dropped and nothing is scheduled or started any more.
func TestShutdownStopsRestarts(t *testing.T) {
	h := newHarness(t, testPolicy, 0, 0, map[string]rpcclient.ProcessState{"web": rpcclient.StateFatal, "db": rpcclient.StateFatal})
	h.event(eventproto.ProcessStateFatal, "web", "BACKOFF")
	h.m.handle(context.Background(), eventproto.Event{Header: eventproto.Header{EventName: eventproto.SupervisorStateChangeStopping}})
	h.event(eventproto.ProcessStateFatal, "db", "BACKOFF")
	h.m.check(context.Background())
	if got := h.liveDelays(); len(got) != 0 {
		t.Errorf("live timers after the shutdown %v, want none", got)
	}
	h.fire()
	if got := h.sv.started(); len(got) != 0 {
		t.Errorf("starts %v, want none during supervisord's shutdown", got)
	}
	if !strings.Contains(h.log.String(), "supervisord is shutting down: no more restarts") {
		t.Errorf("log %q does not say why", h.log.String())
	}
}
