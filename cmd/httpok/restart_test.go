package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/superlance"
	"github.com/superlance-go/superlance/internal/svstate"
	"github.com/superlance-go/superlance/notify"
	"github.com/superlance-go/superlance/rpcclient"
)

// fakeSupervisor answers like the namespace of superlance's own httpok tests.
// It is a fake because a real supervisord cannot be made to answer FAILED to
// a stopProcess or SPAWN_ERROR to a startProcess of a RUNNING program on
// demand, nor to fail a call midway; every path a real supervisord can take
// is covered again in the integration tests.
type fakeSupervisor struct {
	procs   []rpcclient.ProcessInfo
	infoErr error
	stopErr map[string]error // by namespec
	mu      sync.Mutex
	calls   []string
	infos   int
	onStop  func() // runs during each stop, e.g. as supervisord announces its shutdown
}

func (f *fakeSupervisor) GetAllProcessInfo(context.Context) ([]rpcclient.ProcessInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.infos++
	return f.procs, f.infoErr
}

func (f *fakeSupervisor) StopProcess(_ context.Context, name string, wait bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("stop %s %v", name, wait))
	if f.onStop != nil {
		f.onStop()
	}
	if err := f.stopErr[name]; err != nil {
		return err
	}
	if strings.HasSuffix(name, "FAILED") {
		return fmt.Errorf("supervisor.stopProcess %q: %w", name, &rpcclient.Fault{Code: rpcclient.FaultFailed, String: "FAILED"})
	}
	return nil
}

func (f *fakeSupervisor) StartProcess(_ context.Context, name string, wait bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("start %s %v", name, wait))
	if strings.HasSuffix(name, "SPAWN_ERROR") {
		return fmt.Errorf("supervisor.startProcess %q: %w", name, &rpcclient.Fault{Code: rpcclient.FaultSpawnError, String: "SPAWN_ERROR"})
	}
	return nil
}

// upstreamProcs is the process list of superlance's httpok tests.
func upstreamProcs() []rpcclient.ProcessInfo {
	return []rpcclient.ProcessInfo{
		{Name: "foo", Group: "foo", PID: 11, State: rpcclient.StateRunning},
		{Name: "bar", Group: "bar", PID: 12, State: rpcclient.StateFatal},
		{Name: "baz_01", Group: "baz", PID: 12, State: rpcclient.StateStopped},
	}
}

const failedCheck = "error contacting http://foo/bar:\n\n [Errno 111] Connection refused"

// tickHarness runs httpok.tick with a fake supervisor and a canned check.
type tickHarness struct {
	h      *httpok
	sv     *fakeSupervisor
	checks int
	mails  []*notify.Message
	stderr bytes.Buffer
}

func newTickHarness(t *testing.T, args []string, sv *fakeSupervisor, res result, env []string) *tickHarness {
	t.Helper()
	cfg, code, done := parseArgs(append(args, "http://foo/bar"), &bytes.Buffer{}, &bytes.Buffer{}, nil)
	if done {
		t.Fatalf("parseArgs(%q): exit %d", args, code)
	}
	th := &tickHarness{sv: sv}
	th.h = newHTTPOK(cfg, sv, env, log.New(&th.stderr, "", 0))
	th.h.check = func(context.Context) result { th.checks++; return res }
	th.h.alerts = alert.NewQueue(alert.Options{Tool: "httpok"}, alert.Func(func(a *alert.Alert) error {
		if !a.NoMail {
			th.mails = append(th.mails, th.h.cfg.message(a.Subject, a.Text))
		}
		return nil
	}))
	th.h.mailing = true
	return th
}

func TestTickUpstreamSequences(t *testing.T) {
	withFailed := append(upstreamProcs(), rpcclient.ProcessInfo{Name: "FAILED", Group: "foo", PID: 13, State: rpcclient.StateRunning})
	withSpawnError := append(upstreamProcs(), rpcclient.ProcessInfo{Name: "SPAWN_ERROR", Group: "foo", PID: 14, State: rpcclient.StateRunning})
	tests := []struct {
		name      string
		args      []string
		procs     []rpcclient.ProcessInfo
		res       result
		wantLines []string // the mail body; nil means no mail
		wantCalls []string
	}{
		{
			name:  "request fails, selected programs",
			args:  []string{"-p", "foo", "-p", "bar", "-p", "baz_01", "-p", "notexisting"},
			procs: upstreamProcs(), res: result{msg: failedCheck},
			wantLines: []string{
				failedCheck,
				"Restarting selected processes ['foo', 'bar', 'baz_01', 'notexisting']",
				"foo is in RUNNING state, restarting",
				"foo restarted",
				"bar not in RUNNING state, NOT restarting",
				"baz:baz_01 not in RUNNING state, NOT restarting",
				"Programs not restarted because they did not exist: ['notexisting']",
			},
			wantCalls: []string{"stop foo true", "start foo true"},
		},
		{
			name:  "request fails, any",
			args:  []string{"-a"},
			procs: upstreamProcs(), res: result{msg: failedCheck},
			wantLines: []string{
				failedCheck,
				"Restarting all running processes",
				"foo is in RUNNING state, restarting",
				"foo restarted",
				"bar not in RUNNING state, NOT restarting",
				"baz:baz_01 not in RUNNING state, NOT restarting",
			},
			wantCalls: []string{"stop foo true", "start foo true"},
		},
		{
			name:  "stop fault",
			args:  []string{"-p", "FAILED"},
			procs: withFailed, res: result{msg: failedCheck},
			wantLines: []string{
				failedCheck,
				"Restarting selected processes ['FAILED']",
				"foo:FAILED is in RUNNING state, restarting",
				"Failed to stop process foo:FAILED: <Fault 30: 'FAILED'>",
				"foo:FAILED restarted",
			},
			wantCalls: []string{"stop foo:FAILED true", "start foo:FAILED true"},
		},
		{
			name:  "start fault",
			args:  []string{"-p", "SPAWN_ERROR"},
			procs: withSpawnError, res: result{msg: failedCheck},
			wantLines: []string{
				failedCheck,
				"Restarting selected processes ['SPAWN_ERROR']",
				"foo:SPAWN_ERROR is in RUNNING state, restarting",
				"Failed to start process foo:SPAWN_ERROR: <Fault 50: 'SPAWN_ERROR'>",
			},
			wantCalls: []string{"stop foo:SPAWN_ERROR true", "start foo:SPAWN_ERROR true"},
		},
		{
			name:  "gcore true",
			args:  []string{"-p", "foo", "-p", "bar", "-p", "baz_01", "-p", "notexisting", "-g", "true", "-d", "/tmp/cores"},
			procs: upstreamProcs(), res: result{msg: failedCheck},
			wantLines: []string{
				failedCheck,
				"Restarting selected processes ['foo', 'bar', 'baz_01', 'notexisting']",
				"gcore output for foo:\n\n ",
				"foo is in RUNNING state, restarting",
				"foo restarted",
				"bar not in RUNNING state, NOT restarting",
				"baz:baz_01 not in RUNNING state, NOT restarting",
				"Programs not restarted because they did not exist: ['notexisting']",
			},
			wantCalls: []string{"stop foo true", "start foo true"},
		},
		{
			name:  "not eager, monitored not running",
			args:  []string{"-E", "-p", "bar", "-p", "baz_01"},
			procs: upstreamProcs(), res: result{msg: failedCheck},
		},
		{
			name:  "not eager, foo running",
			args:  []string{"-E", "-p", "foo", "-p", "bar"},
			procs: upstreamProcs(), res: result{msg: failedCheck},
			wantLines: []string{
				failedCheck,
				"Restarting selected processes ['foo', 'bar']",
				"foo is in RUNNING state, restarting",
				"foo restarted",
				"bar not in RUNNING state, NOT restarting",
			},
			wantCalls: []string{"stop foo true", "start foo true"},
		},
		{
			name:  "not eager, monitored by namespec",
			args:  []string{"-E", "-p", "grp:web"},
			procs: []rpcclient.ProcessInfo{{Name: "web", Group: "grp", PID: 5, State: rpcclient.StateRunning}},
			res:   result{msg: failedCheck},
			wantLines: []string{
				failedCheck,
				"Restarting selected processes ['grp:web']",
				"grp:web is in RUNNING state, restarting",
				"grp:web restarted",
			},
			wantCalls: []string{"stop grp:web true", "start grp:web true"},
		},
		{
			name: "good status", args: []string{"-p", "foo"}, procs: upstreamProcs(),
			res: result{status: 200, msg: "status contacting http://foo/bar: 200 OK"},
		},
		{
			name: "bad status", args: []string{"-c", "200", "-c", "201"}, procs: upstreamProcs(),
			res: result{status: 500, msg: "status contacting http://foo/bar: 500 Internal Server Error"},
			wantLines: []string{
				"status contacting http://foo/bar: 500 Internal Server Error",
				"Restarting selected processes []",
			},
		},
		{
			name: "body present", args: []string{"-b", "works"}, procs: upstreamProcs(),
			res: result{status: 200, body: "It works", msg: "status contacting http://foo/bar: 200 OK"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sv := &fakeSupervisor{procs: tt.procs}
			th := newTickHarness(t, append(tt.args, "-m", "chrism@plope.com"), sv, tt.res, nil)
			th.h.tick(context.Background())
			if tt.wantLines == nil {
				if len(th.mails) != 0 || th.stderr.Len() != 0 {
					t.Errorf("got mails %v, stderr %q; want neither", th.mails, th.stderr.String())
				}
			} else {
				if len(th.mails) != 1 {
					t.Fatalf("got %d mails, want 1 (stderr %q)", len(th.mails), th.stderr.String())
				}
				m := th.mails[0]
				if got := strings.Split(m.Body, "\n"); !reflect.DeepEqual(got, strings.Split(strings.Join(tt.wantLines, "\n"), "\n")) {
					t.Errorf("mail body:\ngot  %q\nwant %q", m.Body, strings.Join(tt.wantLines, "\n"))
				}
				if want := "httpok: http://foo/bar: bad status returned"; m.Subject != want {
					t.Errorf("got subject %q, want %q", m.Subject, want)
				}
				if !reflect.DeepEqual(m.To, []string{"chrism@plope.com"}) {
					t.Errorf("got To %q, want [chrism@plope.com]", m.To)
				}
				// Every line but the first was logged as it happened, then the
				// Mailed: block closed the report.
				wantLog := strings.Join(tt.wantLines, "\n") + "\nMailed:\n\n" + superlance.Mailed(m) + "\n"
				if th.stderr.String() != wantLog {
					t.Errorf("stderr:\ngot  %q\nwant %q", th.stderr.String(), wantLog)
				}
			}
			if !reflect.DeepEqual(sv.calls, tt.wantCalls) {
				t.Errorf("got calls %q, want %q", sv.calls, tt.wantCalls)
			}
		})
	}
}

func TestTickNotEagerNoRequest(t *testing.T) {
	for _, args := range [][]string{
		{"-E", "-p", "bar", "-p", "baz_01"},
		{"-E"},
		{"-E", "-a"}, // only the listener itself runs
	} {
		procs := []rpcclient.ProcessInfo{
			{Name: "httpok", Group: "httpok", PID: 2, State: rpcclient.StateRunning},
			{Name: "bar", Group: "bar", State: rpcclient.StateFatal},
			{Name: "baz_01", Group: "baz", State: rpcclient.StateStopped},
		}
		th := newTickHarness(t, args, &fakeSupervisor{procs: procs}, result{msg: failedCheck}, []string{"SUPERVISOR_PROCESS_NAME=httpok", "SUPERVISOR_GROUP_NAME=httpok"})
		th.h.tick(context.Background())
		if th.checks != 0 {
			t.Errorf("%q: got %d checks, want 0", args, th.checks)
		}
	}
}

func TestTickAnyNeverRestartsItself(t *testing.T) {
	procs := []rpcclient.ProcessInfo{
		{Name: "crashmail", Group: "crashmail", PID: 3, State: rpcclient.StateRunning},
		{Name: "httpok", Group: "listeners", PID: 2, State: rpcclient.StateRunning},
		{Name: "web", Group: "web", PID: 4, State: rpcclient.StateRunning},
	}
	env := []string{"SUPERVISOR_PROCESS_NAME=httpok", "SUPERVISOR_GROUP_NAME=listeners"}
	for _, args := range [][]string{{"-a"}, {"-p", "listeners:httpok", "-p", "web", "-p", "crashmail"}} {
		sv := &fakeSupervisor{procs: procs}
		th := newTickHarness(t, append(args, "-m", "ops@example.com"), sv, result{msg: failedCheck}, env)
		th.h.tick(context.Background())
		want := []string{"stop crashmail true", "start crashmail true", "stop web true", "start web true"}
		if !reflect.DeepEqual(sv.calls, want) {
			t.Errorf("%q: got calls %q, want %q", args, sv.calls, want)
		}
		if len(th.mails) != 1 || strings.Contains(th.mails[0].Body, "listeners:httpok is") || strings.Contains(th.mails[0].Body, "did not exist") {
			t.Errorf("%q: got mails %+v, want one that does not restart the listener", args, th.mails)
		}
		if !strings.Contains(th.stderr.String(), "not restarting listeners:httpok: it is this listener") {
			t.Errorf("%q: stderr %q lacks the skip line", args, th.stderr.String())
		}
	}
}

func TestTickRPCFailures(t *testing.T) {
	t.Run("process info", func(t *testing.T) {
		sv := &fakeSupervisor{procs: upstreamProcs(), infoErr: fmt.Errorf("supervisor.getAllProcessInfo: %w", &rpcclient.Fault{Code: rpcclient.FaultShutdownState, String: "SHUTDOWN_STATE"})}
		th := newTickHarness(t, []string{"-p", "foo", "-m", "ops@example.com"}, sv, result{msg: failedCheck}, nil)
		th.h.tick(context.Background())
		want := failedCheck + "\nException retrieving process info <Fault 6: 'SHUTDOWN_STATE'>, not acting\n"
		if th.stderr.String() != want || len(th.mails) != 0 || len(sv.calls) != 0 {
			t.Errorf("got stderr %q, %d mails, calls %q; want %q, no mail, no calls", th.stderr.String(), len(th.mails), sv.calls, want)
		}
	})
	t.Run("process info not eager", func(t *testing.T) {
		sv := &fakeSupervisor{procs: upstreamProcs(), infoErr: errors.New("dial unix /x.sock: connect: no such file or directory")}
		th := newTickHarness(t, []string{"-E", "-p", "foo"}, sv, result{msg: failedCheck}, nil)
		th.h.tick(context.Background())
		if th.checks != 0 || !strings.Contains(th.stderr.String(), "getAllProcessInfo: dial unix") {
			t.Errorf("got %d checks, stderr %q; want no check and the error logged", th.checks, th.stderr.String())
		}
	})
	t.Run("stop transport error", func(t *testing.T) {
		procs := []rpcclient.ProcessInfo{
			{Name: "a", Group: "a", PID: 1, State: rpcclient.StateRunning},
			{Name: "b", Group: "b", PID: 2, State: rpcclient.StateRunning},
		}
		sv := &fakeSupervisor{procs: procs, stopErr: map[string]error{"a": errors.New("context deadline exceeded")}}
		th := newTickHarness(t, []string{"-p", "a", "-p", "b", "-m", "ops@example.com"}, sv, result{msg: failedCheck}, nil)
		th.h.tick(context.Background())
		wantCalls := []string{"stop a true", "stop b true", "start b true"}
		if !reflect.DeepEqual(sv.calls, wantCalls) {
			t.Errorf("got calls %q, want %q", sv.calls, wantCalls)
		}
		if len(th.mails) != 1 || !strings.Contains(th.mails[0].Body, "a is in RUNNING state, restarting\nFailed to stop process a: context deadline exceeded; not starting it\nb is in RUNNING state") {
			t.Errorf("got mails %+v, want the failed stop reported and b restarted", th.mails)
		}
	})
}

func TestTickNamedSubject(t *testing.T) {
	th := newTickHarness(t, []string{"-n", "thinko", "-b", "works", "-m", "ops@example.com"}, &fakeSupervisor{procs: upstreamProcs()},
		result{status: 200, body: "Some kind of error", msg: "status contacting http://foo/bar: 200 OK"}, nil)
	th.h.tick(context.Background())
	if len(th.mails) != 1 || th.mails[0].Subject != "httpok [thinko]: http://foo/bar: bad body returned" {
		t.Errorf("got mails %+v, want one with subject httpok [thinko]: http://foo/bar: bad body returned", th.mails)
	}
}

func TestDumpCoreArguments(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "gcore")
	argvFile := filepath.Join(dir, "argv")
	// A process name may hold characters a shell would act on: none of them
	// must reach one.
	if err := os.WriteFile(script, []byte("#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > "+argvFile+"\necho dumped\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	a := &actor{gcore: []string{script, "-o"}, coredir: "/var/cores dir", log: log.New(&stderr, "", 0)}
	a.dumpCore(context.Background(), "grp:we b;$(touch x)", 42)
	got, err := os.ReadFile(argvFile)
	if err != nil {
		t.Fatal(err)
	}
	if want := "-o\n/var/cores dir/grp:we b;$(touch x)\n42\n"; string(got) != want {
		t.Errorf("gcore argv: got %q, want %q", got, want)
	}
	if want := []string{"gcore output for grp:we b;$(touch x):\n\n dumped\n"}; !reflect.DeepEqual(a.lines, want) {
		t.Errorf("got lines %q, want %q", a.lines, want)
	}

	a = &actor{gcore: []string{filepath.Join(dir, "missing")}, coredir: dir, log: log.New(&stderr, "", 0)}
	a.dumpCore(context.Background(), "web", 7)
	if len(a.lines) != 2 || a.lines[0] != "gcore output for web:\n\n " || !strings.HasPrefix(a.lines[1], "gcore for web failed: ") {
		t.Errorf("missing gcore: got lines %q, want the empty output line and the failure", a.lines)
	}
}

// TestCoreFileStaysInCoreDir: whatever the process name, the core file
// gcore is told to write is directly inside the core directory.
func TestCoreFileStaysInCoreDir(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, want string }{
		{"web", "web"},
		{"grp:web", "grp:web"},
		{"../../etc/cron.d/x", ".._.._etc_cron.d_x"},
		{"/etc/passwd", "_etc_passwd"},
		{"grp:a/b", "grp:a_b"},
		{"..", "_.."},
		{".", "_."},
		{"", "_"},
		{"a\x00b", "a_b"},
	} {
		got := coreFile(dir, tt.name)
		if got != filepath.Join(dir, tt.want) {
			t.Errorf("coreFile(%q) = %q, want %q", tt.name, got, filepath.Join(dir, tt.want))
		}
		if filepath.Dir(got) != dir {
			t.Errorf("coreFile(%q) = %q, not directly inside %s", tt.name, got, dir)
		}
	}

	// Through gcore itself: the argument it gets stays inside the directory.
	script := filepath.Join(dir, "gcore")
	argvFile := filepath.Join(dir, "argv")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > "+argvFile+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cores := filepath.Join(dir, "cores")
	a := &actor{gcore: []string{script}, coredir: cores, log: log.New(io.Discard, "", 0)}
	a.dumpCore(context.Background(), "grp:../../x", 42)
	got, err := os.ReadFile(argvFile)
	if err != nil {
		t.Fatal(err)
	}
	if want := cores + "/grp:.._.._x\n42\n"; string(got) != want {
		t.Errorf("gcore argv: got %q, want %q", got, want)
	}
}

// TestTickSupervisordStopping: once supervisord announced its shutdown
// (SUPERVISOR_STATE_CHANGE_STOPPING), it refuses to start anything: no
// restart is begun, and one in progress ends after the stop with a report
// saying why, instead of a start that fails.
func TestTickSupervisordStopping(t *testing.T) {
	t.Run("before the restart", func(t *testing.T) {
		var stopping atomic.Bool
		stopping.Store(true)
		sv := &fakeSupervisor{procs: upstreamProcs()}
		th := newTickHarness(t, []string{"-p", "foo", "-m", "ops@example.com"}, sv, result{msg: failedCheck}, nil)
		th.h.tick(svstate.WithStopping(context.Background(), &stopping))
		if len(sv.calls) != 0 || len(th.mails) != 1 || !strings.Contains(th.mails[0].Body, "foo not restarted: supervisord is shutting down") {
			t.Errorf("got calls %q, mails %+v; want no call and a report saying supervisord is shutting down", sv.calls, th.mails)
		}
	})
	t.Run("during the stop", func(t *testing.T) {
		var stopping atomic.Bool
		sv := &fakeSupervisor{procs: upstreamProcs(), onStop: func() { stopping.Store(true) }}
		th := newTickHarness(t, []string{"-p", "foo", "-m", "ops@example.com"}, sv, result{msg: failedCheck}, nil)
		th.h.tick(svstate.WithStopping(context.Background(), &stopping))
		if want := []string{"stop foo true"}; !reflect.DeepEqual(sv.calls, want) {
			t.Errorf("got calls %q, want %q", sv.calls, want)
		}
		if len(th.mails) != 1 || !strings.Contains(th.mails[0].Body, "foo was stopped and is not started again: supervisord is shutting down") {
			t.Errorf("got mails %+v, want the report saying foo stays stopped because supervisord is shutting down", th.mails)
		}
	})
}
