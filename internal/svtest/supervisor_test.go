package svtest

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/rpcclient"
)

func TestStartPrograms(t *testing.T) {
	Need(t)
	t.Parallel()
	prog := TestProg(t)
	s := Start(t, Config{
		Programs: []Program{
			{Name: "sleeper", Command: prog + ` sleep -stdout 'hello\n'`},
			{Name: "crasher", Command: prog + " crash -after 1500ms -code 3", Extra: []string{"autorestart=false"}},
			{Name: "quick", Command: prog + " fail", Extra: []string{"startretries=0"}},
			{Name: "app", Command: prog + " sleep"},
			{Name: "worker", Command: prog + " sleep", Extra: []string{"numprocs=2"}},
		},
		Groups: map[string][]string{"web": {"app"}},
	})

	info := s.WaitState(t, "sleeper", rpcclient.StateRunning, 10*time.Second)
	if info.PID <= 0 {
		t.Errorf("sleeper pid = %d, want > 0", info.PID)
	}
	info = s.WaitState(t, "crasher", rpcclient.StateExited, 10*time.Second)
	if info.ExitStatus != 3 {
		t.Errorf("crasher exitstatus = %d, want 3", info.ExitStatus)
	}
	s.WaitState(t, "quick", rpcclient.StateFatal, 10*time.Second)
	s.WaitState(t, "web:app", rpcclient.StateRunning, 10*time.Second)
	s.WaitState(t, "worker:worker_01", rpcclient.StateRunning, 10*time.Second)

	Eventually(t, 5*time.Second, "sleeper's stdout never showed hello", func() bool {
		return s.ProgramStdout(t, "sleeper") == "hello\n"
	})
	if out := s.Ctl(t, "status", "web:app"); !strings.Contains(out, "RUNNING") {
		t.Errorf("supervisorctl status web:app = %q, want it to contain RUNNING", out)
	}
	if log := s.Log(t); !strings.Contains(log, "exited: crasher (exit status 3; not expected)") {
		t.Errorf("supervisord log lacks the crash of crasher:\n%s", log)
	}
}

func TestListenerStderr(t *testing.T) {
	Need(t)
	t.Parallel()
	prog := TestProg(t)
	out := t.TempDir() + "/events"
	s := Start(t, Config{
		Listeners: []Listener{{
			Name:    "rec",
			Command: prog + " record -out " + out,
			Events:  "PROCESS_STATE",
			Env:     []string{`ODD=50% "quoted", with comma`},
		}},
	})
	s.WaitState(t, "rec", rpcclient.StateRunning, 10*time.Second)
	Eventually(t, 5*time.Second, "listener stderr never showed its start line", func() bool {
		return strings.Contains(s.ListenerStderr(t, "rec"), "appending events to "+out)
	})
}

// TestCleanup checks that a finished test leaves neither supervisord nor
// any of its processes behind, including one that ignores SIGTERM.
func TestCleanup(t *testing.T) {
	Need(t)
	t.Parallel()
	prog := TestProg(t)
	var pids []int
	t.Run("run", func(t *testing.T) {
		s := Start(t, Config{Programs: []Program{
			{Name: "sleeper", Command: prog + " sleep"},
			{Name: "stubborn", Command: prog + " sleep -ignore-term", Extra: []string{"stopwaitsecs=1"}},
			{Name: "holder", Command: prog + " alloc -mb 1 -children 2"},
		}})
		pids = append(pids, s.PID)
		for _, name := range []string{"sleeper", "stubborn", "holder"} {
			pids = append(pids, s.WaitState(t, name, rpcclient.StateRunning, 10*time.Second).PID)
		}
	})
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d still exists after cleanup (kill 0: %v)", pid, err)
		}
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d still exists after cleanup (kill 0: %v)", pid, err)
		}
	}
}

func TestEnvAndAuth(t *testing.T) {
	Need(t)
	t.Parallel()
	s := Start(t, Config{})
	c, err := rpcclient.FromEnv(s.Env())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pid, err := c.GetPID(ctx)
	if err != nil || pid != s.PID {
		t.Errorf("GetPID() = %d, %v; want %d, nil", pid, err, s.PID)
	}
	bad, err := rpcclient.New(s.URL, rpcclient.Options{Username: s.Username, Password: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := bad.GetPID(ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("GetPID with a wrong password: err = %v, want an HTTP 401 error", err)
	}
}
