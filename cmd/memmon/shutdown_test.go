package main

import (
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestRestartOutlivesShutdown: memmon is told to stop (SIGTERM, or stdin
// closes) while it waits for stopProcess of a program that takes 12 s to
// stop. The restart that has begun is completed before memmon exits: the
// program runs again, and the restart is mailed. Cut at the grace period,
// the program stayed STOPPED for good.
func TestRestartOutlivesShutdown(t *testing.T) {
	for _, how := range []string{"SIGTERM", "stdin EOF"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			s := svtest.Start(t, svtest.Config{Programs: []svtest.Program{svtest.Stubborn("slow")}})
			s.KillAtEnd(t, "slow")
			old := s.WaitState(t, "slow", rpcclient.StateRunning, time.Minute).PID
			mail := svtest.StartSMTP(t, svtest.SMTPOptions{})
			p := svtest.Spawn(t, svtest.Tool(t, "memmon"), svtest.SpawnOptions{Env: s.Env()},
				"-p", "slow=1", "-m", "ops@example.com", "--from", "sv@example.com", "--smtp-host", mail.Addr)
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
			// memmon has exited: the restart must be complete by now.
			if got := s.Info(t, "slow"); got.State != rpcclient.StateRunning || got.PID == old {
				t.Errorf("after memmon exited, slow is %v with pid %d (was %d), want RUNNING again (stderr: %s)", got.State, got.PID, old, p.Stderr)
			}
			mails := mail.Mails()
			if len(mails) != 1 || mails[0].Msg == nil || mails[0].Msg.Header.Get("Subject") != "memmon: process slow:slow restarted" {
				t.Errorf("got mails %+v, want the one saying slow:slow restarted", mails)
			}
		})
	}
}

// TestRestartDuringSupervisordShutdown: supervisord itself is shut down
// while memmon, its listener, waits for stopProcess. supervisord answers
// every call with SHUTDOWN_STATE from then on: there is nothing to start the
// program into, and the mail says so instead of a start failure.
func TestRestartDuringSupervisordShutdown(t *testing.T) {
	mail := svtest.StartSMTP(t, svtest.SMTPOptions{})
	l := memmonListener(t, "memmon", "-p", "slow=1", "-m", "ops@example.com", "--from", "sv@example.com", "--smtp-host", mail.Addr)
	// Time for the restart to finish after supervisord's SIGTERM.
	l.Extra = append(l.Extra, "stopwaitsecs=60")
	s := svtest.Start(t, svtest.Config{Programs: []svtest.Program{svtest.Stubborn("slow")}, Listeners: []svtest.Listener{l}})
	s.WaitState(t, "slow", rpcclient.StateStopping, time.Minute)
	s.Shutdown(t)
	mails := mail.WaitMails(t, 1, 2*time.Minute)
	if subj := mails[0].Msg.Header.Get("Subject"); subj != "memmon: process slow:slow stopped: supervisord is shutting down" {
		t.Errorf("subject %q, want it to say that supervisord is shutting down (body %q)", subj, mails[0].Text)
	}
}
