package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/episode"
	"github.com/superlance-go/superlance/internal/svtest"
)

// hangingSupervisor is a unix socket that accepts XML-RPC connections and
// never answers, until release closes them: supervisord at its slowest.
type hangingSupervisor struct {
	url   string
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newHangingSupervisor(t *testing.T) *hangingSupervisor {
	t.Helper()
	dir, err := os.MkdirTemp("", "mm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "sv.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	h := &hangingSupervisor{url: "unix://" + sock, l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(h.release)
	return h
}

func (h *hangingSupervisor) held() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns) > 0
}

func (h *hangingSupervisor) release() {
	h.l.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		c.Close()
	}
}

// TestAckWhileSupervisordHangs: while getAllProcessInfo waits on a
// supervisord that does not answer, state changes are still recorded and
// every event is acknowledged; a tick that comes meanwhile is skipped, not
// queued. The proof is the order: the acknowledgements all come before the
// test lets the call end.
func TestAckWhileSupervisordHangs(t *testing.T) {
	sv := newHangingSupervisor(t)
	sink := svtest.NewSendmail(t)
	env := []string{"SUPERVISOR_SERVER_URL=" + sv.url, "SUPERVISOR_PROCESS_NAME=missingmail", "SUPERVISOR_GROUP_NAME=missingmail"}
	d := svtest.Drive(t, "missingmail", func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) int {
		return run(ctx, []string{"-a", "-m", "ops@example.com", "-s", sink.Command}, stdin, stdout, stderr, env)
	})
	svtest.Eventually(t, 10*time.Second, "the initial check never called supervisord", sv.held)
	d.Send("PROCESS_STATE_EXITED", "processname:web groupname:web from_state:RUNNING expected:0 pid:42")
	d.Tick()
	d.Send("PROCESS_STATE_STARTING", "processname:web groupname:web from_state:EXITED tries:0")
	d.Send("PROCESS_STATE_RUNNING", "processname:web groupname:web from_state:STARTING pid:43")
	stderr := d.Stderr.String()
	if strings.Contains(stderr, "getAllProcessInfo") {
		t.Fatalf("the call ended before the events were sent; the test proves nothing:\n%s", stderr)
	}
	for _, want := range []string{"web is EXITED: not RUNNING since ", "previous check still running; skipping TICK_5", "web is RUNNING again after "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	sv.release()
	if code := d.Finish(20 * time.Second); code != 0 {
		t.Errorf("exit %d, want 0; stderr:\n%s", code, d.Stderr.String())
	}
	if !strings.Contains(d.Stderr.String(), "getAllProcessInfo: ") {
		t.Errorf("the failed call is not logged:\n%s", d.Stderr.String())
	}
}

// clock is a time the test moves; safe for the listener's goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestNoRecoveryAndCorruptState drives run() on an injected clock, with
// no supervisord (its socket is gone, so every check relies on the
// events): the corrupt state file is logged and ignored, then replaced;
// the episode is mailed once; with --no-recovery its end is only logged.
func TestNoRecoveryAndCorruptState(t *testing.T) {
	sink := svtest.NewSendmail(t)
	state := filepath.Join(t.TempDir(), "missing.json")
	if err := os.WriteFile(state, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SUPERVISOR_SERVER_URL=unix://" + filepath.Join(t.TempDir(), "gone.sock")}
	c := &clock{t: time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC)}
	d := svtest.Drive(t, "missingmail", func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) int {
		return runClock(ctx, []string{"-p", "web", "--missing-timeout", "60", "--no-recovery", "--state", state, "-m", "ops@example.com", "-s", sink.Command}, stdin, stdout, stderr, env, c.now)
	})
	// A tick during the initial check would be skipped.
	svtest.Eventually(t, 10*time.Second, "the initial check", func() bool {
		return strings.Contains(d.Stderr.String(), "getAllProcessInfo: ")
	})
	d.Send("PROCESS_STATE_EXITED", "processname:web groupname:web from_state:RUNNING expected:0 pid:42")
	c.advance(59 * time.Second)
	d.Tick()
	svtest.Eventually(t, 10*time.Second, "the first tick's check", func() bool {
		return strings.Count(d.Stderr.String(), "getAllProcessInfo: ") >= 2 // the initial check and this one
	})
	if strings.Contains(d.Stderr.String(), "web has not been RUNNING for") {
		t.Fatalf("reported before the timeout:\n%s", d.Stderr.String())
	}
	c.advance(time.Second)
	// Ticks until one finds the previous check done and reports.
	svtest.Eventually(t, 10*time.Second, "the report", func() bool {
		if strings.Contains(d.Stderr.String(), "web has not been RUNNING for 1m0s: reporting") {
			return true
		}
		d.Tick()
		return false
	})
	// The reported episode reaches the file, which replaced the corrupt one.
	svtest.Eventually(t, 10*time.Second, "the reported episode in the state file", func() bool {
		recs, err := episode.Store{Path: state}.Load()
		return err == nil && len(recs) == 1 && !recs[0].Reported.IsZero()
	})
	d.Tick()
	c.advance(time.Hour)
	d.Send("PROCESS_STATE_RUNNING", "processname:web groupname:web from_state:STARTING pid:43")
	if code := d.Finish(20 * time.Second); code != 0 {
		t.Errorf("exit %d, want 0; stderr:\n%s", code, d.Stderr.String())
	}
	stderr := d.Stderr.String()
	for _, want := range []string{
		"ignoring the state file: state file " + state + ": invalid character",
		"state file " + state + ": 0 open episode(s), 0 of them reported",
		"web is RUNNING after 1h1m0s down; not mailed (--no-recovery)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	mails := sink.Mails(t)
	if len(mails) != 1 || mails[0].Msg.Header.Get("Subject") != "web is missing: not RUNNING for 1m0s" {
		t.Errorf("mails: got %q, want only web's missing mail", subjects(mails))
	}
	if recs, err := (episode.Store{Path: state}).Load(); err != nil || len(recs) != 0 {
		t.Errorf("state file after the episode ended: got %v, %v; want no episode", recs, err)
	}
}
