package rpcclient_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestRealSupervisord drives a real supervisord over its auth-protected
// unix socket.
func TestRealSupervisord(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	prog := svtest.TestProg(t)
	s := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{
			{Name: "sleeper", Command: prog + " sleep"},
			{Name: "app", Command: prog + " sleep"},
			{Name: "stopped", Command: prog + " sleep", Extra: []string{"autostart=false"}},
			{Name: "ansi", Command: prog + ` sleep -stdout '\x1b[31mred\x1b[0m\a\n' -stderr 'oops\n'`},
			{Name: "good", Command: prog + " sleep", Extra: []string{"autostart=false"}},
			{Name: "nofile", Command: "/nonexistent/prog", Extra: []string{"autostart=false"}},
		},
		Groups: map[string][]string{"web": {"app"}, "mixed": {"good", "nofile"}},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := rpcclient.FromEnv(s.Env())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	t.Run("state", func(t *testing.T) {
		st, err := c.GetState(ctx)
		if err != nil || st != (rpcclient.State{Code: 1, Name: "RUNNING"}) {
			t.Errorf("GetState() = %+v, %v; want {1 RUNNING}", st, err)
		}
		pid, err := c.GetPID(ctx)
		if err != nil || pid != s.PID {
			t.Errorf("GetPID() = %d, %v; want %d", pid, err, s.PID)
		}
		id, err := c.GetIdentification(ctx)
		if err != nil || id != "supervisor" {
			t.Errorf("GetIdentification() = %q, %v; want supervisor", id, err)
		}
	})

	s.WaitState(t, "sleeper", rpcclient.StateRunning, 10*time.Second)
	s.WaitState(t, "web:app", rpcclient.StateRunning, 10*time.Second)
	s.WaitState(t, "ansi", rpcclient.StateRunning, 10*time.Second)

	t.Run("process info", func(t *testing.T) {
		infos, err := c.GetAllProcessInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range infos {
			got = append(got, p.Namespec()+"="+p.State.String())
		}
		want := "ansi=RUNNING mixed:good=STOPPED mixed:nofile=STOPPED sleeper=RUNNING stopped=STOPPED web:app=RUNNING"
		if strings.Join(got, " ") != want {
			t.Errorf("GetAllProcessInfo() = %v, want %s", got, want)
		}
		info, err := c.GetProcessInfo(ctx, "web:app")
		if err != nil {
			t.Fatal(err)
		}
		if info.Name != "app" || info.Group != "web" || info.PID <= 0 || info.StateName != "RUNNING" ||
			info.StdoutLogfile != s.Dir+"/app.out" || !strings.HasPrefix(info.Description, "pid ") {
			t.Errorf("GetProcessInfo(web:app) = %+v", info)
		}
	})

	t.Run("stop start", func(t *testing.T) {
		before, err := c.GetProcessInfo(ctx, "sleeper")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.StopProcess(ctx, "sleeper", true); err != nil {
			t.Fatalf("StopProcess: %v", err)
		}
		if info, _ := c.GetProcessInfo(ctx, "sleeper"); info.State != rpcclient.StateStopped {
			t.Errorf("after StopProcess(wait): state %v, want STOPPED", info.State)
		}
		if err := c.StartProcess(ctx, "sleeper", true); err != nil {
			t.Fatalf("StartProcess: %v", err)
		}
		after, err := c.GetProcessInfo(ctx, "sleeper")
		if err != nil {
			t.Fatal(err)
		}
		if after.State != rpcclient.StateRunning || after.PID == before.PID || after.PID <= 0 {
			t.Errorf("after StartProcess(wait): state %v pid %d, want RUNNING with a pid other than %d", after.State, after.PID, before.PID)
		}
	})

	t.Run("faults", func(t *testing.T) {
		tests := []struct {
			name string
			call func() error
			code rpcclient.FaultCode
			text string
		}{
			{"bad name", func() error { _, err := c.GetProcessInfo(ctx, "nosuch"); return err }, rpcclient.FaultBadName, "BAD_NAME: nosuch"},
			{"not running", func() error { return c.StopProcess(ctx, "stopped", true) }, rpcclient.FaultNotRunning, "NOT_RUNNING: stopped"},
			{"already started", func() error { return c.StartProcess(ctx, "web:app", true) }, rpcclient.FaultAlreadyStarted, "ALREADY_STARTED: web:app"},
			{"bad signal", func() error { return c.SignalProcess(ctx, "web:app", "BOGUS") }, rpcclient.FaultBadSignal, "BAD_SIGNAL: BOGUS"},
			{"signal not running", func() error { return c.SignalProcess(ctx, "stopped", "HUP") }, rpcclient.FaultNotRunning, "NOT_RUNNING: stopped"},
		}
		for _, tt := range tests {
			err := tt.call()
			var f *rpcclient.Fault
			if !errors.As(err, &f) || f.Code != tt.code || f.String != tt.text {
				t.Errorf("%s: error = %v, want fault %d %q", tt.name, err, tt.code, tt.text)
			}
			// Wrapped by a caller, it is still a fault.
			if wrapped := errors.Join(errors.New("context"), err); !errors.As(wrapped, &f) {
				t.Errorf("%s: errors.As through wrapping failed", tt.name)
			}
		}
	})

	t.Run("signal", func(t *testing.T) {
		if err := c.SignalProcess(ctx, "web:app", "USR1"); err != nil {
			t.Fatalf("SignalProcess: %v", err)
		}
		svtest.Eventually(t, 5*time.Second, "web:app never reported SIGUSR1", func() bool {
			return strings.Contains(s.ProgramStdout(t, "app"), "got signal SIGUSR1")
		})
	})

	t.Run("logs with control characters", func(t *testing.T) {
		const want = "[31mred[0m\n" // ESC and BEL are dropped
		svtest.Eventually(t, 5*time.Second, "ansi's stdout log never filled", func() bool {
			return s.ProgramStdout(t, "ansi") != ""
		})
		if raw := s.ProgramStdout(t, "ansi"); raw != "\x1b[31mred\x1b[0m\a\n" {
			t.Fatalf("log file holds %q, want the raw escapes", raw)
		}
		got, err := c.ReadProcessStdoutLog(ctx, "ansi", 0, 0)
		if err != nil || got != want {
			t.Errorf("ReadProcessStdoutLog = %q, %v; want %q", got, err, want)
		}
		tail, err := c.TailProcessStdoutLog(ctx, "ansi", 0, 100)
		if err != nil || tail != (rpcclient.LogTail{Bytes: want, Offset: 14}) {
			t.Errorf("TailProcessStdoutLog = %+v, %v; want {%q 14 false}", tail, err, want)
		}
		tail, err = c.TailProcessStdoutLog(ctx, "ansi", 0, 4)
		if err != nil || tail != (rpcclient.LogTail{Bytes: "0m\n", Offset: 14, Overflow: true}) {
			t.Errorf("TailProcessStdoutLog(0, 4) = %+v, %v; want {\"0m\\n\" 14 true}", tail, err)
		}
		got, err = c.ReadProcessStderrLog(ctx, "ansi", 0, 0)
		if err != nil || got != "oops\n" {
			t.Errorf("ReadProcessStderrLog = %q, %v; want %q", got, err, "oops\n")
		}
		tail, err = c.TailProcessStderrLog(ctx, "ansi", 0, 100)
		if err != nil || tail != (rpcclient.LogTail{Bytes: "oops\n", Offset: 5}) {
			t.Errorf("TailProcessStderrLog = %+v, %v", tail, err)
		}
		if _, err := c.ReadProcessStdoutLog(ctx, "ansi", -1, 5); !isFault(err, rpcclient.FaultBadArguments) {
			t.Errorf("ReadProcessStdoutLog(-1, 5) error = %v, want BAD_ARGUMENTS", err)
		}
	})

	t.Run("groups", func(t *testing.T) {
		results := func(res []rpcclient.ProcessResult) string {
			var parts []string
			for _, r := range res {
				parts = append(parts, fmt.Sprintf("%s=%v %s", r.Namespec(), r.Status, r.Description))
			}
			// supervisord lists the processes as they finish.
			slices.Sort(parts)
			return strings.Join(parts, ", ")
		}
		res, err := c.StartProcessGroup(ctx, "mixed", true)
		want := "mixed:good=SUCCESS OK, mixed:nofile=NO_FILE NO_FILE: can't find command '/nonexistent/prog'"
		if err != nil || results(res) != want {
			t.Errorf("StartProcessGroup(mixed) = %s, %v; want %s", results(res), err, want)
		}
		// A group spec: only nofile still needs starting, and its fault
		// is the error.
		err = c.StartProcess(ctx, "mixed:*", true)
		if want := `supervisor.startProcess "mixed:*": supervisor fault 20 NO_FILE: can't find command '/nonexistent/prog'`; err == nil || err.Error() != want {
			t.Errorf("StartProcess(mixed:*) error = %v, want %s", err, want)
		}
		if !isFault(err, rpcclient.FaultNoFile) {
			t.Errorf("StartProcess(mixed:*) error %v is not a NO_FILE fault", err)
		}
		res, err = c.StopProcessGroup(ctx, "mixed", true)
		if want := "mixed:good=SUCCESS OK"; err != nil || results(res) != want {
			t.Errorf("StopProcessGroup(mixed) = %s, %v; want %s", results(res), err, want)
		}
		if info, _ := c.GetProcessInfo(ctx, "mixed:good"); info.State != rpcclient.StateStopped {
			t.Errorf("after StopProcessGroup(wait): mixed:good is %v, want STOPPED", info.State)
		}
		if _, err := c.StopProcessGroup(ctx, "nosuch", true); !isFault(err, rpcclient.FaultBadName) {
			t.Errorf("StopProcessGroup(nosuch) error = %v, want BAD_NAME", err)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		bad := newClient(t, s.URL, rpcclient.Options{Username: s.Username, Password: "wrong"})
		_, err := bad.GetState(ctx)
		var se *rpcclient.StatusError
		if !errors.As(err, &se) || se.StatusCode != 401 || !strings.Contains(err.Error(), "SUPERVISOR_PASSWORD") {
			t.Errorf("GetState with a wrong password: error = %v, want a 401 naming the credentials", err)
		}
		if strings.Contains(err.Error(), s.Password) {
			t.Errorf("error %q reveals the password", err)
		}
		none := newClient(t, s.URL, rpcclient.Options{})
		if _, err := none.GetState(ctx); !errors.As(err, &se) || se.StatusCode != 401 {
			t.Errorf("GetState without credentials: error = %v, want 401", err)
		}
	})
}

func isFault(err error, code rpcclient.FaultCode) bool {
	var f *rpcclient.Fault
	return errors.As(err, &f) && f.Code == code
}
