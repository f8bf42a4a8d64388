package svtest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/harness"
	"github.com/superlance-go/superlance/rpcclient"
)

const (
	// startTimeout bounds the wait for a new supervisord to answer: a
	// deadline for a hung start, generous because a loaded 2-core machine
	// can starve the Python process for many seconds.
	startTimeout = 60 * time.Second
	// stopMargin is how much longer than the slowest program's
	// stopwaitsecs supervisord may take to stop: it stops its programs one
	// after another, and a loaded machine slows its loop.
	stopMargin = 30 * time.Second
)

// Config describes a supervisord instance; Program and Listener are its
// sections (see package harness).
type (
	Config   = harness.Config
	Program  = harness.Program
	Listener = harness.Listener
)

// Supervisor is a running supervisord -n in a temporary directory. Its
// methods that take a testing.TB fail the test on error; the embedded
// harness.Supervisor has the ones that return errors.
type Supervisor struct {
	*harness.Supervisor
}

// Start writes the config into a temporary directory (unix socket with
// username and password, the rpcinterface section), starts supervisord -n,
// waits until it answers, and stops it in t.Cleanup, making sure no process
// it started is left.
func Start(t testing.TB, cfg Config) *Supervisor {
	t.Helper()
	bin := Need(t)
	dir := t.TempDir()
	if len(dir+"/supervisor.sock") > harness.MaxSocketPath {
		short, err := os.MkdirTemp("", "sv")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(short) })
		dir = short
	}
	hs, err := harness.Launch(context.Background(), harness.Options{Dir: dir, Config: &cfg, Bin: bin, StartTimeout: startTimeout})
	if err != nil {
		t.Fatalf("svtest: %v", err)
	}
	t.Cleanup(func() {
		leftovers, err := hs.Stop(stopMargin + cfg.MaxStopWait())
		if err != nil {
			t.Errorf("svtest: %v", err)
		}
		if len(leftovers) > 0 {
			t.Logf("svtest: processes outlived supervisord; killed them: %v", leftovers)
		}
	})
	return &Supervisor{hs}
}

// WaitState waits until the process reaches state and returns its info.
func (s *Supervisor) WaitState(t testing.TB, namespec string, state rpcclient.ProcessState, timeout time.Duration) rpcclient.ProcessInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	info, err := s.Supervisor.WaitState(ctx, namespec, state)
	if err != nil {
		t.Fatalf("after %v: %v", timeout, err)
	}
	return info
}

// Eventually polls cond every 50 ms until it is true or timeout passes (then fails the test with msg).
func Eventually(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	if !WaitFor(timeout, cond) {
		t.Fatalf("after %v: %s", timeout, msg)
	}
}

// WaitFor polls cond every 50 ms until it is true (then it returns true) or
// timeout passes (false), for callers that report the failure themselves.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	return harness.WaitFor(timeout, cond)
}

// ListenerStderr returns what the listener (process name) wrote to stderr
// so far, Untimed.
func (s *Supervisor) ListenerStderr(t testing.TB, name string) string {
	t.Helper()
	return Untimed(s.readFile(t, name+".err"))
}

// ProgramStdout returns what the process (process name) wrote to stdout so far.
func (s *Supervisor) ProgramStdout(t testing.TB, name string) string {
	t.Helper()
	return s.readFile(t, name+".out")
}

// Log returns supervisord's own log so far.
func (s *Supervisor) Log(t testing.TB) string {
	t.Helper()
	return s.readFile(t, "supervisord.log")
}

func (s *Supervisor) readFile(t testing.TB, name string) string {
	t.Helper()
	text, err := s.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// Ctl runs supervisorctl -c <conf> args... and returns its combined output.
// supervisorctl's exit status is not checked (status exits 3 when a process
// is not running); the test inspects the output.
func (s *Supervisor) Ctl(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.Supervisor.Ctl(ctx, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// Info returns the process's getProcessInfo, failing the test when
// supervisord does not answer.
func (s *Supervisor) Info(t testing.TB, namespec string) rpcclient.ProcessInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := s.Client.GetProcessInfo(ctx, namespec)
	if err != nil {
		t.Fatalf("getProcessInfo %s: %v", namespec, err)
	}
	return info
}

// Shutdown asks supervisord to shut down over XML-RPC, at once
// (supervisorctl would first have to start Python); it does not wait.
func (s *Supervisor) Shutdown(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Client.Call(ctx, "supervisor.shutdown", nil); err != nil {
		t.Fatalf("supervisor.shutdown: %v", err)
	}
}

// Stubborn is a program that ignores SIGTERM, so that a stop takes its
// whole stopwaitsecs (12 s, longer than a listener's drain grace period of
// 8 s) before supervisord kills it: a stop that is still under way when
// the listener is told to stop. autorestart=false, so that KillAtEnd ends
// it for good.
func Stubborn(name string) Program {
	return Program{
		Name:    name,
		Command: `/bin/sh -c 'trap "" TERM; exec sleep 1000'`,
		Extra:   []string{"stopwaitsecs=12", "autorestart=false"},
	}
}

// KillAtEnd kills the process with SIGKILL when the test ends, before
// supervisord is stopped: stopping a Stubborn program would take 12 s more.
func (s *Supervisor) KillAtEnd(t testing.TB, namespec string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Client.SignalProcess(ctx, namespec, "KILL")
	})
}

// Quote makes s one word, for sh as for the shlex rules supervisord splits
// a command= line by.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// Command is a command= line running words, each one word (Quote).
func Command(words ...string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = Quote(w)
	}
	return strings.Join(quoted, " ")
}
