package reconcile_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// crasher exits 1 shortly after it started; startsecs=0 makes every exit
// an EXITED event.
func crasher(t *testing.T, name string, autorestart bool) svtest.Program {
	restart := "false"
	if autorestart {
		restart = "true"
	}
	return svtest.Program{
		Name:    name,
		Command: svtest.TestProg(t) + " crash -after 50ms -code 1",
		Extra:   []string{"autostart=false", "autorestart=" + restart, "startsecs=0"},
	}
}

// TestReconcileAfterDroppedEvents runs crashmail and crashmailbatch under
// a real supervisord whose listener pool holds 2 events, and holds the
// listener (SIGSTOP) while programs crash: "first" crashes (its event waits
// in the listener's pipe), then "once" crashes and stays EXITED, then
// "storm" crashes again and again until supervisord has thrown away the
// event of "once" and several of its own. When the listener runs again it
// sees the poolserial gap, asks supervisord, and alerts, saying it
// reconstructed them, about what the process table proves: "once" exited
// and "storm" was restarted. "first", whose event arrived, is not
// reconstructed.
func TestReconcileAfterDroppedEvents(t *testing.T) {
	for _, tool := range []string{"crashmail", "crashmailbatch"} {
		t.Run(tool, func(t *testing.T) {
			t.Parallel()
			srv := svtest.StartSMTP(t, svtest.SMTPOptions{})
			var args []string
			events := "PROCESS_STATE_EXITED"
			if tool == "crashmail" {
				args = []string{"-m", "ops@example.com", "--from", "sv@example.com", "--smtp-host", srv.Addr}
			} else {
				args = []string{"-t", "ops@example.com", "-f", "sv@example.com", "-H", srv.Addr, "-e", "TICK_5", "-i", "0.0833"}
				events += ",TICK_5"
			}
			s := svtest.Start(t, svtest.Config{
				Programs: []svtest.Program{crasher(t, "first", false), crasher(t, "once", false), crasher(t, "storm", true)},
				Listeners: []svtest.Listener{{
					Name:    "listener",
					Command: svtest.BuildTool(t, tool) + " " + strings.Join(args, " "),
					Events:  events,
					Extra:   []string{"buffer_size=2"},
				}},
			})
			pid := s.WaitState(t, "listener", rpcclient.StateRunning, time.Minute).PID
			if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
			held := time.Now()
			// supervisord's times are whole seconds: the crashes must be
			// in a later second than the last moment the listener was
			// caught up, which is before now.
			svtest.Eventually(t, 5*time.Second, "the clock did not move on", func() bool {
				return time.Now().Unix() > held.Unix()
			})
			ctx := context.Background()
			for _, name := range []string{"first", "once"} {
				if err := s.Client.StartProcess(ctx, name, false); err != nil {
					t.Fatal(err)
				}
				s.WaitState(t, name, rpcclient.StateExited, time.Minute)
			}
			if err := s.Client.StartProcess(ctx, "storm", false); err != nil {
				t.Fatal(err)
			}
			svtest.Eventually(t, time.Minute, "supervisord never discarded events", func() bool {
				return strings.Count(s.Log(t), "event buffer overflowed, discarding event") >= 4
			})
			// Between an exit and its restart storm is not running and
			// cannot be stopped: try until a stop lands.
			svtest.Eventually(t, time.Minute, "storm could not be stopped", func() bool {
				return s.Client.StopProcess(ctx, "storm", true) == nil
			})
			if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}

			var got, all string
			svtest.Eventually(t, 2*time.Minute, "no reconstructed alert arrived", func() bool {
				all = ""
				for _, m := range srv.Mails() {
					all += m.Text + "\n"
					if strings.Contains(m.Text, "reconstructed") || strings.Contains(m.Text, "Reconstructed") {
						got = m.Text
					}
				}
				return got != ""
			})
			if !strings.Contains(got, "Process once:once exited at") {
				t.Errorf("the alert does not say that once exited:\n%s", got)
			}
			if !strings.Contains(got, "Process storm:storm was (re)started at") {
				t.Errorf("the alert does not say that storm was restarted:\n%s", got)
			}
			// The event of first normally waits in the pipe and arrives;
			// if the listener was not READY yet, it was dropped too.
			arrived := strings.Contains(all, "Process first in group first exited unexpectedly") ||
				strings.Contains(all, "Process first:first (pid")
			if arrived && (strings.Contains(got, "Process first:first exited at") || strings.Contains(got, "Process first:first was (re)started")) {
				t.Errorf("the alert reconstructs first, whose event arrived:\n%s", got)
			}
		})
	}
}
