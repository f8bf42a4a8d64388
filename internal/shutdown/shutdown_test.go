package shutdown_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
)

// env makes the tools run: they refuse to outside supervisord, and none of
// the events sent here makes them call it.
var env = []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent/supervisor.sock"}

func crash(p *svtest.Proc, pid int) {
	p.Send("PROCESS_STATE_EXITED", fmt.Sprintf("processname:cat groupname:cat from_state:RUNNING expected:0 pid:%d", pid))
}

// TestSIGHUP: every tool treats SIGHUP like SIGTERM: it says so, delivers
// what it holds (the batch of a batch tool, crashmail's queue) and exits 0.
// The default action of SIGHUP, death, lost the batch without a word.
func TestSIGHUP(t *testing.T) {
	mailers := map[string]func(addr string) []string{
		"crashmail": func(addr string) []string {
			return []string{"-m", "ops@example.com", "--from", "sv@example.com", "--smtp-host", addr}
		},
		"crashmailbatch": batchArgs,
		"crashsms":       batchArgs,
		"fatalmailbatch": batchArgs,
	}
	others := map[string][]string{
		"httpok":  {"-p", "web", "http://127.0.0.1:1/"},
		"memmon":  {"-p", "web=100MB"},
		"procmon": {"-p", "web"},
	}
	for name, args := range mailers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := svtest.StartSMTP(t, svtest.SMTPOptions{})
			tl := svtest.Spawn(t, svtest.BuildTool(t, name), svtest.SpawnOptions{Env: env}, args(srv.Addr)...)
			if name == "fatalmailbatch" {
				tl.Send("PROCESS_STATE_FATAL", "processname:cat groupname:cat from_state:BACKOFF")
			} else {
				crash(tl, 4242)
			}
			if err := tl.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			if code := tl.Exit(30 * time.Second); code != 0 {
				t.Errorf("exit code %d, want 0 (stderr: %s)", code, tl.Stderr)
			}
			mails := srv.Mails()
			if len(mails) != 1 || !strings.Contains(mails[0].Text, "cat") {
				t.Errorf("got %d mails (%+v), want the one alert delivered before exiting", len(mails), mails)
			}
			if !strings.Contains(tl.Stderr.String(), "hangup") {
				t.Errorf("stderr %q does not say that a hangup stopped it", tl.Stderr)
			}
		})
	}
	for name, args := range others {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tl := svtest.Spawn(t, svtest.BuildTool(t, name), svtest.SpawnOptions{Env: env}, args...)
			if err := tl.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			if code := tl.Exit(30 * time.Second); code != 0 {
				t.Errorf("exit code %d, want 0 (stderr: %s)", code, tl.Stderr)
			}
			if !strings.Contains(tl.Stderr.String(), "hangup") {
				t.Errorf("stderr %q does not say that a hangup stopped it", tl.Stderr)
			}
		})
	}
}

func batchArgs(addr string) []string {
	// -i 60: nothing is sent before the exit, the batch is sent by it.
	return []string{"-t", "ops@example.com", "-f", "sv@example.com", "-H", addr, "-i", "60"}
}

// TestClosedStdoutAndStderr: when supervisord dies, the listener's stdin,
// stdout and stderr close together. Writing a log line to the closed
// stderr must not kill crashmail (SIGPIPE) while mail is still queued:
// every queued alert is delivered, then it exits.
func TestClosedStdoutAndStderr(t *testing.T) {
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{Stall: true})
	tl := svtest.Spawn(t, svtest.BuildTool(t, "crashmail"), svtest.SpawnOptions{Env: env, RawStderr: true}, "-m", "ops@example.com", "--from", "sv@example.com", "--smtp-host", srv.Addr)
	const n = 5
	for i := range n {
		crash(tl, 1000+i)
	}
	// Everything queued, nothing delivered (the server holds the first
	// connection): now supervisord goes away.
	tl.StdoutPipe.Close()
	tl.StderrPipe.Close()
	tl.Stdin.Close()
	srv.Unstall()
	tl.Exit(30 * time.Second)
	mails := srv.Mails()
	pids := map[string]int{}
	for _, m := range mails {
		for i := range n {
			if strings.Contains(m.Text, fmt.Sprintf("(pid %d)", 1000+i)) {
				pids[fmt.Sprint(1000+i)]++
			}
		}
	}
	if len(mails) != n || len(pids) != n {
		t.Errorf("got %d mails for %d of the %d crashes (%v), want each delivered once", len(mails), len(pids), n, pids)
	}
}
