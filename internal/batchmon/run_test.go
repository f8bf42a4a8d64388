package batchmon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
)

// driver is svtest's in-process supervisord with the batch tools' events.
type driver struct{ *svtest.Driver }

func startRun(t *testing.T, tool Tool, args []string, now func() time.Time) driver {
	t.Helper()
	env := []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent/supervisor.sock", "SMTP_PW=s3cret"}
	return driver{svtest.Drive(t, "batch", func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) int {
		return run(ctx, tool, args, stdin, stdout, stderr, env, now)
	})}
}

func (d driver) exited(pid int) time.Duration {
	return d.Send("PROCESS_STATE_EXITED", fmt.Sprintf("processname:crasher groupname:grp from_state:RUNNING expected:0 pid:%d", pid))
}

// finish closes stdin (as supervisord does at shutdown) and returns the exit code.
func (d driver) finish() int { return d.Finish(15 * time.Second) }

func fixedClock() time.Time { return time.Date(2026, 11, 21, 16, 23, 32, 987654321, time.Local) }

func smtpArgs(srv *svtest.SMTPServer) []string {
	return []string{"-t", "ops@example.com, oncall@example.com", "-f", "sv@example.com",
		"-H", srv.Addr, "--tls", "--tls-cacert", srv.CAFile, "-u", "alice", "--password-env", "SMTP_PW",
		"-e", "TICK_5", "-i", "0.0833"}
}

func TestRunBatchesBetweenTicks(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{StartTLS: true, Username: "alice", Password: "s3cret"})
	d := startRun(t, testTool, smtpArgs(srv), fixedClock)
	d.exited(101)
	d.Send("PROCESS_STATE_EXITED", "processname:ok groupname:ok from_state:RUNNING expected:1 pid:5")
	d.Send("PROCESS_STATE_RUNNING", "processname:crasher groupname:grp from_state:STARTING pid:102")
	d.exited(102)
	d.Send("TICK_60", "when:1700000000") // not the configured tick: ignored
	if n := len(srv.Mails()); n != 0 {
		t.Fatalf("mails before TICK_5: got %d, want 0", n)
	}
	d.Send("TICK_5", "when:1700000005")
	m := srv.WaitMails(t, 1, 10*time.Second)[0]
	at := "2026-11-21 16:23:32,987"
	want := at + " -- Process grp:crasher (pid 101) died unexpectedly\n" + at + " -- Process grp:crasher (pid 102) died unexpectedly"
	if m.Text != want {
		t.Errorf("body: got %q, want %q", m.Text, want)
	}
	if got := m.Msg.Header.Get("Subject"); got != "Crash alert from supervisord" {
		t.Errorf("Subject: got %q, want the default", got)
	}
	if got := strings.Join(m.To, ", "); got != "ops@example.com, oncall@example.com" {
		t.Errorf("recipients: got %q", got)
	}
	if code := d.finish(); code != 0 {
		t.Errorf("exit: got %d, want 0", code)
	}
	logs := d.Stderr.String()
	for _, line := range []string{
		"crashmailbatch: " + at + " -- Process grp:crasher (pid 101) died unexpectedly\n",
		"crashmailbatch: Sending notification email:\n",
		"crashmailbatch: To: ops@example.com, oncall@example.com\n",
		"crashmailbatch: From: sv@example.com\n",
		"crashmailbatch: Subject: Crash alert from supervisord\n",
		"crashmailbatch: Body:\n",
		// The preview is the body's first 76 characters, newline included.
		"crashmailbatch: Body:\ncrashmailbatch: " + at + " -- Process grp:crasher (pid 101) died unexpectedly\ncrashmailbatch: 2...\n",
	} {
		if !strings.Contains(logs, line) {
			t.Errorf("stderr: missing %q in %q", line, logs)
		}
	}
}

// TestRunAcknowledgesWhileSMTPStalls drives run() directly, in-process:
// while the first flush hangs on a server that holds its connection, every
// later event is acknowledged, and only then is the server released. A
// listener that waited for its mail could not acknowledge them.
func TestRunAcknowledgesWhileSMTPStalls(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{StartTLS: true, Username: "alice", Password: "s3cret", Stall: true})
	d := startRun(t, testTool, smtpArgs(srv), fixedClock)
	d.exited(1)
	d.Send("TICK_5", "when:1") // the flush starts and hangs on the server
	svtest.Eventually(t, 10*time.Second, "the flush never connected to the stalled server", func() bool { return srv.Conns() > 0 })
	for pid := 2; pid <= 20; pid++ {
		d.exited(pid)
		d.Send("TICK_5", "when:2") // flush in flight: skipped, never waits
	}
	if n := len(srv.Mails()); n != 0 {
		t.Fatalf("got %d mails before the server was released, want 0", n)
	}
	if !strings.Contains(d.Stderr.String(), "previous mail still being sent") {
		t.Errorf("stderr: got %q, want the skipped flush logged", d.Stderr.String())
	}
	srv.Unstall()
	first := srv.WaitMails(t, 1, 10*time.Second)[0]
	if !strings.Contains(first.Text, "(pid 1) died") {
		t.Errorf("first mail: got %q, want pid 1", first.Text)
	}
	// Shutdown sends the rest within the grace period.
	if code := d.finish(); code != 0 {
		t.Errorf("exit: got %d, want 0", code)
	}
	var all strings.Builder
	for _, m := range srv.Mails() {
		all.WriteString(m.Text + "\n")
	}
	for pid := 1; pid <= 20; pid++ {
		if n := strings.Count(all.String(), fmt.Sprintf("(pid %d) died", pid)); n != 1 {
			t.Errorf("pid %d: in %d mails, want exactly 1", pid, n)
		}
	}
}

func TestRunRefusesOutsideSupervisord(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), testTool, []string{"-t", "a@example.com", "-f", "b@example.com"}, strings.NewReader(""), &stdout, &stderr, nil, fixedClock)
	if code != 1 {
		t.Errorf("exit: got %d, want 1", code)
	}
	if got, want := stderr.String(), "Must run as a supervisor event listener\n"; got != want {
		t.Errorf("stderr: got %q, want %q", got, want)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout: got %q, want nothing", stdout.String())
	}
	// Options are checked first: a usage error wins, exit 2.
	stderr.Reset()
	if code := run(context.Background(), testTool, nil, strings.NewReader(""), &stdout, &stderr, nil, fixedClock); code != 2 {
		t.Errorf("exit without options: got %d, want 2", code)
	}
}

// switchProxy forwards TCP connections to a target that the test can
// change, or refuses them (its port closed) while the target is "": a
// listener keeps one -H address while the server behind it goes from a
// misconfigured one to a good one.
type switchProxy struct {
	t      *testing.T
	addr   string
	mu     sync.Mutex
	target string
	ln     net.Listener
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{t: t, addr: ln.Addr().String()}
	ln.Close()
	p.set(target)
	t.Cleanup(func() { p.set("") })
	return p
}

// set points the proxy at target; "" closes the port (connection refused).
func (p *switchProxy) set(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
	if target == "" {
		if p.ln != nil {
			p.ln.Close()
			p.ln = nil
		}
		return
	}
	if p.ln != nil {
		return
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: %v", err)
	}
	p.ln = ln
	go p.serve(ln)
}

func (p *switchProxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		go func() {
			defer c.Close()
			s, err := net.Dial("tcp", target)
			if err != nil {
				return
			}
			defer s.Close()
			go func() { io.Copy(s, c); s.Close() }()
			io.Copy(c, s)
		}()
	}
}

// TestRunSMTPErrorsLoseNothing: a wrong password, a server without
// STARTTLS and a refused connection each give a clear stderr line, and the
// alerts of the failed flushes arrive in the first mail that gets through.
func TestRunSMTPErrorsLoseNothing(t *testing.T) {
	t.Parallel()
	good := svtest.StartSMTP(t, svtest.SMTPOptions{StartTLS: true, Username: "alice", Password: "s3cret"})
	wrongPW := svtest.StartSMTP(t, svtest.SMTPOptions{StartTLS: true, Username: "alice", Password: "other"})
	noTLS := svtest.StartSMTP(t, svtest.SMTPOptions{})
	// One CA file trusting both certificate-bearing servers.
	var pem []byte
	for _, f := range []string{good.CAFile, wrongPW.CAFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pem = append(pem, b...)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	proxy := newSwitchProxy(t, wrongPW.Addr)
	args := []string{"-t", "ops@example.com", "-f", "sv@example.com", "-H", proxy.addr, "--tls", "--tls-cacert", ca,
		"-u", "alice", "--password-env", "SMTP_PW", "-e", "TICK_5", "-i", "0.0833"}
	d := startRun(t, testTool, args, fixedClock)

	steps := []struct {
		name   string
		target string
		want   string // in the Error sending email line
	}{
		{"wrong password", wrongPW.Addr, "535"},
		{"STARTTLS not offered", noTLS.Addr, "STARTTLS"},
		{"connection refused", "", "connection refused"},
	}
	pid := 0
	for i, st := range steps {
		proxy.set(st.target)
		pid++
		d.exited(pid)
		d.Send("TICK_5", "when:1")
		svtest.Eventually(t, 10*time.Second, st.name+" failure logged", func() bool {
			return strings.Count(d.Stderr.String(), "alerts kept for the next flush") == i+1
		})
		lines := strings.Split(d.Stderr.String(), "\n")
		var errLine string
		for _, l := range lines {
			if strings.HasPrefix(l, "crashmailbatch: Error sending email: ") {
				errLine = l // the last one is this step's
			}
		}
		if !strings.Contains(errLine, st.want) {
			t.Errorf("%s: got %q, want an Error sending email line mentioning %q", st.name, errLine, st.want)
		}
		if want := fmt.Sprintf("crashmailbatch: %d alerts kept for the next flush", i+1); !strings.Contains(d.Stderr.String(), want) {
			t.Errorf("%s: stderr lacks %q", st.name, want)
		}
	}
	if n := len(good.Mails()) + len(wrongPW.Mails()) + len(noTLS.Mails()); n != 0 {
		t.Fatalf("mails before the good server: got %d, want 0", n)
	}
	proxy.set(good.Addr)
	pid++
	d.exited(pid)
	d.Send("TICK_5", "when:2")
	m := good.WaitMails(t, 1, 10*time.Second)[0]
	var want []string
	for p := 1; p <= pid; p++ {
		want = append(want, fmt.Sprintf("2026-11-21 16:23:32,987 -- Process grp:crasher (pid %d) died unexpectedly", p))
	}
	if m.Text != strings.Join(want, "\n") {
		t.Errorf("first mail through:\ngot  %q\nwant %q", m.Text, strings.Join(want, "\n"))
	}
	if strings.Contains(d.Stderr.String(), "s3cret") {
		t.Error("stderr contains the password")
	}
	d.finish()
}

// TestRunNeverLogsPassword: a password given on the command line or in a
// file, refused by the server, appears in no log line.
func TestRunNeverLogsPassword(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-Zq9"
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{StartTLS: true, Username: "alice", Password: "other"})
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, pw := range map[string][]string{"short": {"-p", secret}, "long": {"--password=" + secret}, "file": {"--password-file", pwFile}} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"-t", "ops@example.com", "-f", "sv@example.com", "-H", srv.Addr, "--tls",
				"--tls-cacert", srv.CAFile, "-u", "alice", "-e", "TICK_5", "-i", "0.0833"}, pw...)
			d := startRun(t, testTool, args, fixedClock)
			d.exited(1)
			d.Send("TICK_5", "when:1")
			svtest.Eventually(t, 10*time.Second, "failed flush logged", func() bool {
				return strings.Contains(d.Stderr.String(), "alerts kept for the next flush")
			})
			d.finish()
			if !strings.Contains(d.Stderr.String(), "535") {
				t.Errorf("stderr: got %q, want the server's 535 refusal", d.Stderr.String())
			}
			if strings.Contains(d.Stderr.String(), secret) {
				t.Errorf("stderr contains the password: %q", d.Stderr.String())
			}
		})
	}
}

// TestRunSpoolAcrossRestart: a batch that cannot be sent at shutdown goes
// to --spool, and the next run on the same spool sends it once the server
// is back.
func TestRunSpoolAcrossRestart(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{})
	srv.SetDown(true)
	spool := filepath.Join(t.TempDir(), "spool")
	env := []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent/supervisor.sock"}
	args := []string{"-t", "ops@example.com", "-f", "sv@example.com", "-H", srv.Addr, "--spool", spool}
	payload := "processname:crasher groupname:grp from_state:RUNNING expected:0 pid:7"
	crash := fmt.Sprintf("ver:3.0 server:supervisor serial:1 pool:batch poolserial:1 eventname:PROCESS_STATE_EXITED len:%d\n%s", len(payload), payload)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), testTool, args, strings.NewReader(crash), &stdout, &stderr, env, fixedClock); code != 0 {
		t.Fatalf("first run: exit %d; stderr %q", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "1 alerts not sent before exit: kept in the spool "+spool) {
		t.Fatalf("first run: stderr %q, want the batch kept in the spool", stderr.String())
	}
	srv.SetDown(false)
	stderr.Reset()
	if code := run(context.Background(), testTool, args, strings.NewReader(""), &stdout, &stderr, env, fixedClock); code != 0 {
		t.Fatalf("second run: exit %d; stderr %q", code, stderr.String())
	}
	mails := srv.Mails()
	if want := "2026-11-21 16:23:32,987 -- Process grp:crasher (pid 7) died unexpectedly"; len(mails) != 1 || mails[0].Text != want {
		t.Fatalf("second run: got %d mails, want one with %q; stderr %q", len(mails), want, stderr.String())
	}
	if files, _ := filepath.Glob(filepath.Join(spool, "*.mail.json")); len(files) != 0 {
		t.Errorf("spool still holds %q", files)
	}
}
