package shutdown_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/superlance-go/superlance/internal/svtest"
)

// tool is one of the binaries run as supervisord runs a listener: its
// stdin, stdout and stderr are pipes held by the test, which plays
// supervisord's side of the protocol.
type tool struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	out    *bufio.Reader
	stderr io.ReadCloser
	log    *svtest.LockedBuffer // what stderr carried, when copyStderr
	serial int
	done   chan struct{} // closed when the process has exited
	err    error         // cmd.Wait's result, once done
}

func startTool(t *testing.T, name string, copyStderr bool, args ...string) *tool {
	t.Helper()
	cmd := exec.Command(svtest.BuildTool(t, name), args...)
	// The tools refuse to run outside supervisord; none of the events sent
	// here makes them call it.
	cmd.Env = []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent/supervisor.sock", "PATH=/usr/bin:/bin"}
	tl := &tool{t: t, cmd: cmd, log: &svtest.LockedBuffer{}, done: make(chan struct{})}
	var err error
	if tl.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if tl.stdout, err = cmd.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if tl.stderr, err = cmd.StderrPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if copyStderr {
		go io.Copy(tl.log, tl.stderr)
	}
	go func() {
		tl.err = cmd.Wait()
		close(tl.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-tl.done
	})
	tl.out = bufio.NewReader(tl.stdout)
	tl.expect("READY\n")
	return tl
}

// expect reads exactly want from the tool's stdout.
func (tl *tool) expect(want string) {
	tl.t.Helper()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(tl.out, got); err != nil || string(got) != want {
		tl.t.Fatalf("stdout: got %q, %v; want %q (stderr: %s)", got, err, want, tl.log)
	}
}

// send writes one event and reads its acknowledgement and the next READY.
func (tl *tool) send(eventName, payload string) {
	tl.t.Helper()
	tl.serial++
	ev := fmt.Sprintf("ver:3.0 server:supervisor serial:%d pool:p poolserial:%d eventname:%s len:%d\n%s",
		tl.serial, tl.serial, eventName, utf8.RuneCountInString(payload), payload)
	if _, err := io.WriteString(tl.stdin, ev); err != nil {
		tl.t.Fatal(err)
	}
	tl.expect("RESULT 2\nOKREADY\n")
}

func (tl *tool) crash(pid int) {
	tl.send("PROCESS_STATE_EXITED", fmt.Sprintf("processname:cat groupname:cat from_state:RUNNING expected:0 pid:%d", pid))
}

// wait returns the exit status; a death by signal fails the test.
func (tl *tool) wait(timeout time.Duration) int {
	tl.t.Helper()
	select {
	case <-tl.done:
		err := tl.err
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee) && ee.ExitCode() >= 0:
			return ee.ExitCode()
		default:
			tl.t.Fatalf("the tool did not exit on its own: %v (stderr: %s)", err, tl.log)
		}
	case <-time.After(timeout):
		tl.t.Fatalf("the tool did not exit within %v (stderr: %s)", timeout, tl.log)
	}
	return -1
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
			tl := startTool(t, name, true, args(srv.Addr)...)
			if name == "fatalmailbatch" {
				tl.send("PROCESS_STATE_FATAL", "processname:cat groupname:cat from_state:BACKOFF")
			} else {
				tl.crash(4242)
			}
			if err := tl.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			if code := tl.wait(30 * time.Second); code != 0 {
				t.Errorf("exit code %d, want 0 (stderr: %s)", code, tl.log)
			}
			mails := srv.Mails()
			if len(mails) != 1 || !strings.Contains(mails[0].Text, "cat") {
				t.Errorf("got %d mails (%+v), want the one alert delivered before exiting", len(mails), mails)
			}
			if !strings.Contains(tl.log.String(), "hangup") {
				t.Errorf("stderr %q does not say that a hangup stopped it", tl.log)
			}
		})
	}
	for name, args := range others {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tl := startTool(t, name, true, args...)
			if err := tl.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			if code := tl.wait(30 * time.Second); code != 0 {
				t.Errorf("exit code %d, want 0 (stderr: %s)", code, tl.log)
			}
			if !strings.Contains(tl.log.String(), "hangup") {
				t.Errorf("stderr %q does not say that a hangup stopped it", tl.log)
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
	tl := startTool(t, "crashmail", false, "-m", "ops@example.com", "--from", "sv@example.com", "--smtp-host", srv.Addr)
	const n = 5
	for i := range n {
		tl.crash(1000 + i)
	}
	// Everything queued, nothing delivered (the server holds the first
	// connection): now supervisord goes away.
	tl.stdout.Close()
	tl.stderr.Close()
	tl.stdin.Close()
	srv.Unstall()
	tl.wait(30 * time.Second)
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
