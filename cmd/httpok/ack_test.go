package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
)

// TestAckWhileMailStalls checks that events are acknowledged while the mail
// of an earlier tick hangs in a stalled sendmail or SMTP server, and that the
// mail is still delivered once the stall ends. The proof is the order: the
// delivery is held (sendmail started, or the server holds the connection),
// every later tick is acknowledged, and only then does the test release the
// stall; a listener that waited for the mail could not acknowledge them.
func TestAckWhileMailStalls(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	srv := newCounted(t, 500, "down")
	s := svtest.Start(t, svtest.Config{Programs: []svtest.Program{sleeper(t, "web1"), sleeper(t, "web2")}})

	tests := []struct {
		name    string
		program string
		// mailArgs returns the mail options, a func that reports whether a
		// delivery is being held, one that ends the stall and one that
		// returns the mails delivered so far.
		mailArgs func(t *testing.T) (args []string, held func() bool, unstall func(), delivered func() int)
	}{
		{"sendmail", "web1", func(t *testing.T) ([]string, func() bool, func(), func() int) {
			sink := svtest.NewSendmail(t)
			dir := t.TempDir()
			started, gate := filepath.Join(dir, "started"), filepath.Join(dir, "gate")
			script := filepath.Join(dir, "stalled-sendmail")
			// Says it started, then hangs (up to 60 s) until the test
			// creates the gate file, then hands the message to the sink.
			body := fmt.Sprintf("#!/bin/sh\n: >%s\ni=0\nwhile [ ! -e %s ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\nexec %s\n",
				svtest.Quote(started), svtest.Quote(gate), sink.Command)
			if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
			held := func() bool { _, err := os.Stat(started); return err == nil }
			unstall := func() {
				if err := os.WriteFile(gate, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			return []string{"-s", script}, held, unstall, func() int { return len(sink.Mails(t)) }
		}},
		{"smtp", "web2", func(t *testing.T) ([]string, func() bool, func(), func() int) {
			smtp := svtest.StartSMTP(t, svtest.SMTPOptions{Stall: true})
			held := func() bool { return smtp.Conns() > 0 }
			return []string{"--smtp-host", smtp.Addr, "--from", "httpok@example.com"}, held, smtp.Unstall, func() int { return len(smtp.Mails()) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			old := pid(t, s, tt.program)
			mailArgs, held, unstall, delivered := tt.mailArgs(t)
			args := append([]string{"-p", tt.program, "-m", "ops@example.com"}, mailArgs...)
			p := svtest.Drive(t, "httpok", func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) int {
				return run(ctx, append(args, srv.URL), stdin, stdout, stderr, s.Env())
			})

			// The first tick restarts the program and queues a mail, which stalls.
			p.Tick()
			svtest.Eventually(t, 10*time.Second, "the first tick's mail never reached the stalled sendmail or server", held)
			if got := pid(t, s, tt.program); got == old {
				t.Errorf("%s: pid %d unchanged, want a restart", tt.program, got)
			}
			// Each Tick returns only once the listener acknowledged it.
			for range 5 {
				p.Tick()
			}
			// The second tick's restart takes startsecs (1 s): the later ticks
			// found it running.
			if !strings.Contains(p.Stderr.String(), "previous check still running; skipping TICK_5") {
				t.Errorf("stderr lacks the skipped-tick line:\n%s", p.Stderr.String())
			}

			if n := delivered(); n != 0 {
				t.Fatalf("got %d mails during the stall, want 0: the test did not stall anything", n)
			}
			unstall()
			if code := p.Finish(20 * time.Second); code != 0 {
				t.Errorf("run: got exit %d, want 0; stderr:\n%s", code, p.Stderr.String())
			}
			// Nothing queued is lost: every mail logged as queued arrived.
			if n, want := delivered(), strings.Count(p.Stderr.String(), "Mailed:"); n != want || n < 2 {
				t.Errorf("got %d mails delivered by the drain, want %d (at least 2); stderr:\n%s", n, want, p.Stderr.String())
			}
		})
	}
}

// event renders one event as supervisord writes it.
func event(serial int, name, payload string) string {
	return fmt.Sprintf("ver:3.0 server:supervisor serial:%d pool:httpok poolserial:%d eventname:%s len:%d\n%s", serial, serial, name, len(payload), payload)
}

// TestRunLoop drives run() without a supervisord: the socket does not exist,
// which is how a supervisord that went away looks to the listener.
func TestRunLoop(t *testing.T) {
	env := []string{"SUPERVISOR_SERVER_URL=unix://" + filepath.Join(t.TempDir(), "gone.sock")}
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
		wantStderr []string // substrings, in order
	}{
		{
			name:       "non-tick events are acknowledged and ignored",
			args:       []string{"-p", "web", "http://127.0.0.1:1/"},
			stdin:      event(1, "PROCESS_STATE_RUNNING", "processname:web groupname:web from_state:STARTING pid:7") + event(2, "SUPERVISOR_STATE_CHANGE_RUNNING", ""),
			wantStdout: "READY\nRESULT 2\nOKREADY\nRESULT 2\nOKREADY\n",
		},
		{
			name:       "a failed check cannot reach supervisord",
			args:       []string{"-p", "web", "-m", "ops@example.com", "-s", "false", "http://127.0.0.1:1/"},
			stdin:      event(1, "TICK_5", "when:1700000000"),
			wantStdout: "READY\nRESULT 2\nOKREADY\n",
			wantStderr: []string{"httpok: error contacting http://127.0.0.1:1/:\n\n dial tcp 127.0.0.1:1: connect: connection refused\n", "httpok: Exception retrieving process info ", ", not acting\n"},
		},
		{
			name:       "not eager cannot list processes",
			args:       []string{"-E", "-p", "web", "http://127.0.0.1:1/"},
			stdin:      event(1, "TICK_60", "when:1700000000"),
			wantStdout: "READY\nRESULT 2\nOKREADY\n",
			wantStderr: []string{"httpok: getAllProcessInfo: ", "; skipping this check\n"},
		},
		{
			name:       "protocol error",
			args:       []string{"http://127.0.0.1:1/"},
			stdin:      "this is not a header\n",
			wantCode:   1,
			wantStdout: "READY\n",
			wantStderr: []string{"httpok: reading events: "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr svtest.LockedBuffer
			code := run(context.Background(), tt.args, strings.NewReader(tt.stdin), &stdout, &stderr, env)
			if code != tt.wantCode || stdout.String() != tt.wantStdout {
				t.Errorf("got exit %d, stdout %q; want %d, %q", code, stdout.String(), tt.wantCode, tt.wantStdout)
			}
			rest := stderr.String()
			for _, want := range tt.wantStderr {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stderr %q lacks %q (in order)", stderr.String(), want)
				}
				rest = rest[i+len(want):]
			}
			if tt.wantStderr == nil && stderr.String() != "" {
				t.Errorf("got stderr %q, want nothing", stderr.String())
			}
		})
	}
}

// TestRunStopsOnCancel is SIGTERM: the context ends while run waits for an event.
func TestRunStopsOnCancel(t *testing.T) {
	env := []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent/supervisor.sock"}
	inR, inW := io.Pipe()
	defer inW.Close()
	var stdout, stderr svtest.LockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"http://127.0.0.1:1/"}, inR, &stdout, &stderr, env) }()
	svtest.Eventually(t, 5*time.Second, "no READY", func() bool { return stdout.String() == "READY\n" })
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("got exit %d, want 0; stderr %q", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
}
