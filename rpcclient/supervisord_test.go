package rpcclient_test

import (
	"context"
	"errors"
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
		},
		Groups: map[string][]string{"web": {"app"}},
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

	s.WaitState(t, "sleeper", rpcclient.Running, 10*time.Second)
	s.WaitState(t, "web:app", rpcclient.Running, 10*time.Second)
	s.WaitState(t, "ansi", rpcclient.Running, 10*time.Second)

	t.Run("process info", func(t *testing.T) {
		infos, err := c.GetAllProcessInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range infos {
			got = append(got, p.Namespec()+"="+p.State.String())
		}
		want := "ansi=RUNNING sleeper=RUNNING stopped=STOPPED web:app=RUNNING"
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
		if info, _ := c.GetProcessInfo(ctx, "sleeper"); info.State != rpcclient.Stopped {
			t.Errorf("after StopProcess(wait): state %v, want STOPPED", info.State)
		}
		if err := c.StartProcess(ctx, "sleeper", true); err != nil {
			t.Fatalf("StartProcess: %v", err)
		}
		after, err := c.GetProcessInfo(ctx, "sleeper")
		if err != nil {
			t.Fatal(err)
		}
		if after.State != rpcclient.Running || after.PID == before.PID || after.PID <= 0 {
			t.Errorf("after StartProcess(wait): state %v pid %d, want RUNNING with a pid other than %d", after.State, after.PID, before.PID)
		}
	})

	t.Run("faults", func(t *testing.T) {
		tests := []struct {
			name string
			call func() error
			code int
			text string
		}{
			{"bad name", func() error { _, err := c.GetProcessInfo(ctx, "nosuch"); return err }, rpcclient.BadName, "BAD_NAME: nosuch"},
			{"not running", func() error { return c.StopProcess(ctx, "stopped", true) }, rpcclient.NotRunning, "NOT_RUNNING: stopped"},
			{"already started", func() error { return c.StartProcess(ctx, "web:app", true) }, rpcclient.AlreadyStarted, "ALREADY_STARTED: web:app"},
			{"bad signal", func() error { return c.SignalProcess(ctx, "web:app", "BOGUS") }, rpcclient.BadSignal, "BAD_SIGNAL: BOGUS"},
			{"signal not running", func() error { return c.SignalProcess(ctx, "stopped", "HUP") }, rpcclient.NotRunning, "NOT_RUNNING: stopped"},
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
		if _, err := c.ReadProcessStdoutLog(ctx, "ansi", -1, 5); !isFault(err, rpcclient.BadArguments) {
			t.Errorf("ReadProcessStdoutLog(-1, 5) error = %v, want BAD_ARGUMENTS", err)
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

func isFault(err error, code int) bool {
	var f *rpcclient.Fault
	return errors.As(err, &f) && f.Code == code
}
