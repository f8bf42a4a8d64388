package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// failingSite answers every check with 500.
func failingSite(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRestartOutlivesShutdown: httpok is told to stop (SIGTERM, or stdin
// closes) while it waits for stopProcess of a program that takes 12 s to
// stop. The restart that has begun is completed before httpok exits: the
// program runs again, and the report is mailed. Cut at the grace period,
// the program stayed STOPPED for good.
func TestRestartOutlivesShutdown(t *testing.T) {
	for _, how := range []string{"SIGTERM", "stdin EOF"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			site := failingSite(t)
			s := svtest.Start(t, svtest.Config{Programs: []svtest.Program{svtest.Stubborn("slow")}})
			s.KillAtEnd(t, "slow")
			old := pid(t, s, "slow")
			mail := svtest.StartSMTP(t, svtest.SMTPOptions{})
			p := svtest.Spawn(t, svtest.Tool(t, "httpok"), svtest.SpawnOptions{Env: s.Env()},
				"-p", "slow", "-m", "ops@example.com", "--from", "sv@example.com", "--smtp-host", mail.Addr, site)
			p.Send("TICK_60", "when:1")
			s.WaitState(t, "slow", rpcclient.StateStopping, 30*time.Second)
			if how == "SIGTERM" {
				if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			} else {
				p.Stdin.Close()
			}
			if code := p.Exit(2 * time.Minute); code != 0 {
				t.Errorf("exit code %d, want 0 (stderr: %s)", code, p.Stderr)
			}
			// httpok has exited: the restart must be complete by now.
			if info := s.Info(t, "slow"); info.State != rpcclient.StateRunning || info.PID == old {
				t.Errorf("after httpok exited, slow is %v with pid %d (was %d), want RUNNING again (stderr: %s)", info.State, info.PID, old, p.Stderr)
			}
			mails := mail.Mails()
			if len(mails) != 1 || !strings.Contains(mails[0].Text, "slow restarted") {
				t.Errorf("got mails %+v, want the report saying slow restarted", mails)
			}
		})
	}
}

// TestRestartDuringSupervisordShutdown: supervisord itself is shut down
// while httpok, its listener, waits for stopProcess. supervisord answers
// every call with SHUTDOWN_STATE from then on: there is nothing to start the
// program into, and the report says so instead of a start failure.
func TestRestartDuringSupervisordShutdown(t *testing.T) {
	site := failingSite(t)
	mail := svtest.StartSMTP(t, svtest.SMTPOptions{})
	l := listener(t, "httpok", "-p", "slow", "-m", "ops@example.com", "--from", "sv@example.com", "--smtp-host", mail.Addr, site)
	// Time for the restart to finish after supervisord's SIGTERM.
	l.Extra = append(l.Extra, "stopwaitsecs=60")
	s := svtest.Start(t, svtest.Config{Programs: []svtest.Program{svtest.Stubborn("slow")}, Listeners: []svtest.Listener{l}})
	s.WaitState(t, "slow", rpcclient.StateStopping, time.Minute)
	s.Shutdown(t)
	mails := mail.WaitMails(t, 1, 2*time.Minute)
	if !strings.Contains(mails[0].Text, "slow was stopped and is not started again: supervisord is shutting down") {
		t.Errorf("report %q does not say that supervisord is shutting down", mails[0].Text)
	}
}
