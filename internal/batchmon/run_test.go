package batchmon

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/superlance-go/superlance/internal/svtest"
)

// lockedBuffer collects stderr written by run's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// driver plays supervisord's side of the protocol against run() over
// pipes: it waits for READY, writes one event, and reads the RESULT.
type driver struct {
	t      *testing.T
	in     *io.PipeWriter
	out    *bufio.Reader
	stderr *lockedBuffer
	serial int
	code   chan int
}

func startRun(t *testing.T, tool Tool, args []string, now func() time.Time) *driver {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	d := &driver{t: t, in: inW, out: bufio.NewReader(outR), stderr: &lockedBuffer{}, code: make(chan int, 1)}
	env := []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent/supervisor.sock", "SMTP_PW=s3cret"}
	go func() {
		d.code <- run(context.Background(), tool, args, inR, outW, d.stderr, env, now)
		outW.Close()
	}()
	t.Cleanup(func() { inW.Close() })
	return d
}

// send delivers one event and returns how long the acknowledgement took,
// measured from writing the event to reading the whole RESULT.
func (d *driver) send(eventName, payload string) time.Duration {
	d.t.Helper()
	line, err := d.out.ReadString('\n')
	if err != nil || line != "READY\n" {
		d.t.Fatalf("before %s: got %q, %v, want READY", eventName, line, err)
	}
	d.serial++
	hdr := fmt.Sprintf("ver:3.0 server:supervisor serial:%d pool:batch poolserial:%d eventname:%s len:%d\n",
		d.serial, d.serial, eventName, utf8.RuneCountInString(payload))
	start := time.Now()
	if _, err := io.WriteString(d.in, hdr+payload); err != nil {
		d.t.Fatalf("writing %s: %v", eventName, err)
	}
	result := make([]byte, len("RESULT 2\nOK"))
	if _, err := io.ReadFull(d.out, result); err != nil || string(result) != "RESULT 2\nOK" {
		d.t.Fatalf("after %s: got %q, %v, want RESULT 2\\nOK", eventName, result, err)
	}
	return time.Since(start)
}

func (d *driver) exited(pid int) time.Duration {
	return d.send("PROCESS_STATE_EXITED", fmt.Sprintf("processname:crasher groupname:grp from_state:RUNNING expected:0 pid:%d", pid))
}

// finish closes stdin (as supervisord does at shutdown) and returns the exit code.
func (d *driver) finish() int {
	d.t.Helper()
	go io.Copy(io.Discard, d.out) // the last READY must not block on the pipe
	d.in.Close()
	select {
	case c := <-d.code:
		return c
	case <-time.After(15 * time.Second):
		d.t.Fatal("run did not return after stdin EOF")
		return -1
	}
}

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
	d.send("PROCESS_STATE_EXITED", "processname:ok groupname:ok from_state:RUNNING expected:1 pid:5")
	d.send("PROCESS_STATE_RUNNING", "processname:crasher groupname:grp from_state:STARTING pid:102")
	d.exited(102)
	d.send("TICK_60", "when:1700000000") // not the configured tick: ignored
	if n := len(srv.Mails()); n != 0 {
		t.Fatalf("mails before TICK_5: got %d, want 0", n)
	}
	d.send("TICK_5", "when:1700000005")
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
	logs := d.stderr.String()
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

// TestRunAcknowledgesWhileSMTPStalls drives run() directly, in-process, so
// the time from writing an event to reading its RESULT is measured without
// supervisord's own scheduling in between.
func TestRunAcknowledgesWhileSMTPStalls(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{StartTLS: true, Username: "alice", Password: "s3cret", Stall: true})
	d := startRun(t, testTool, smtpArgs(srv), fixedClock)
	var slowest time.Duration
	ack := func(took time.Duration) {
		slowest = max(slowest, took)
	}
	ack(d.exited(1))
	ack(d.send("TICK_5", "when:1")) // the flush starts and hangs on the server
	for pid := 2; pid <= 20; pid++ {
		ack(d.exited(pid))
		ack(d.send("TICK_5", "when:2")) // flush in flight: skipped, never waits
	}
	if slowest >= 50*time.Millisecond {
		t.Errorf("slowest acknowledgement while SMTP stalls: got %v, want < 50ms", slowest)
	}
	if !strings.Contains(d.stderr.String(), "previous mail still being sent") {
		t.Errorf("stderr: got %q, want the skipped flush logged", d.stderr.String())
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
