package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// crashScript counts its runs in the file $1, runs for $3 seconds and exits
// 1 for the first $2 runs, then 0 (expected with exitcodes=0), so a crash
// loop has an exact, known number of unexpected exits.
const crashScript = `#!/bin/sh
sleep "$3"
n=$(cat "$1" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$1"
[ "$n" -le "$2" ] && exit 1
exit 0
`

var lineRE = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} -- Process ([^ ]+) \(pid \d+\) died unexpectedly$`)

// smtpListener returns the crashmailbatch listener section for srv, with the
// password from the environment, STARTTLS verified against srv's CA, and a
// flush at every TICK_5.
func smtpListener(t *testing.T, srv *svtest.SMTPServer, extra ...string) svtest.Listener {
	t.Helper()
	bin := svtest.Tool(t, "crashmailbatch")
	args := []string{"-t", "ops@example.com,oncall@example.com", "-f", "sv@example.com", "-H", srv.Addr,
		"--tls", "--tls-cacert", srv.CAFile, "-u", "alice", "--password-env", "SMTP_PW", "-e", "TICK_5", "-i", "0.0833"}
	return svtest.Listener{
		Name:    "crashmailbatch",
		Command: bin + " " + strings.Join(append(args, extra...), " "),
		Events:  "PROCESS_STATE,TICK_5",
		Env:     []string{"SMTP_PW=s3cret"},
	}
}

func startSMTP(t *testing.T, o svtest.SMTPOptions) *svtest.SMTPServer {
	o.StartTLS, o.Username, o.Password = true, "alice", "s3cret"
	return svtest.StartSMTP(t, o)
}

// mailLines returns the alert lines of every mail, in order.
func mailLines(mails []svtest.Mail) []string {
	var lines []string
	for _, m := range mails {
		lines = append(lines, strings.Split(m.Text, "\n")...)
	}
	return lines
}

// loggedAlerts returns the alert lines the listener logged, without the
// Body preview of the "Sending notification email" blocks.
func loggedAlerts(stderr string) []string {
	var lines []string
	for l := range strings.SplitSeq(stderr, "\n") {
		l = strings.TrimPrefix(l, "crashmailbatch: ")
		if lineRE.MatchString(l) && !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestHundredCrashesUnderDefaultBuffer runs 5 programs that each crash
// exactly 20 times, one crash per program and second (startsecs=0), under
// supervisord's default buffer_size of 10. The listener subscribes to what
// it needs only (EXITED and its tick), as the README advises.
//
// What it asserts is what supervisord guarantees whatever the machine's
// load: every event it does not discard reaches the listener. supervisord
// hands a listener only a few events per second on a busy 2-core machine
// and logs each event it discards when the buffer overflows; so every
// crash is mailed exactly once, except at most as many as supervisord
// logged as discarded for this pool (a discarded event may also be a
// tick). On an idle machine nothing is discarded and all 100 arrive.
func TestHundredCrashesUnderDefaultBuffer(t *testing.T) {
	t.Parallel()
	svtest.Need(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "crashloop.sh")
	if err := os.WriteFile(script, []byte(crashScript), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := startSMTP(t, svtest.SMTPOptions{})
	l := smtpListener(t, srv)
	l.Events = "PROCESS_STATE_EXITED,TICK_5"
	cfg := svtest.Config{Listeners: []svtest.Listener{l}}
	const programs, crashes = 5, 20
	for i := range programs {
		name := fmt.Sprintf("loop%02d", i)
		cfg.Programs = append(cfg.Programs, svtest.Program{
			Name:    name,
			Command: fmt.Sprintf("%s %s %d 1", script, filepath.Join(dir, name+".count"), crashes),
			Extra:   []string{"startsecs=0", "exitcodes=0", "autorestart=unexpected"},
		})
	}
	sv := svtest.Start(t, cfg)
	defer func() {
		if t.Failed() {
			t.Logf("listener stderr:\n%s\nsupervisord log:\n%s", sv.ListenerStderr(t, "crashmailbatch"), sv.Log(t))
		}
	}()
	// Each loop ends with an expected exit after its last crash.
	for i := range programs {
		name := fmt.Sprintf("loop%02d", i)
		svtest.Eventually(t, 120*time.Second, name+" did not finish its crash loop", func() bool {
			b, err := os.ReadFile(filepath.Join(dir, name+".count"))
			return err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(crashes+1)
		})
		sv.WaitState(t, name, rpcclient.StateExited, 10*time.Second)
	}
	discarded := func() int {
		return strings.Count(sv.Log(t), "pool crashmailbatch event buffer overflowed, discarding event")
	}
	// Every crash supervisord handed over is mailed at one of the next ticks.
	svtest.Eventually(t, 60*time.Second, "the delivered crashes were not all mailed", func() bool {
		return len(mailLines(srv.Mails())) >= programs*crashes-discarded()
	})
	lines := mailLines(srv.Mails())
	perProgram := map[string]int{}
	seen := map[string]bool{}
	for _, l := range lines {
		m := lineRE.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("mail line %q is not a crash line", l)
			continue
		}
		if seen[l] {
			t.Errorf("crash line %q mailed twice", l)
		}
		seen[l] = true
		perProgram[m[1]]++
	}
	for i := range programs {
		name := fmt.Sprintf("loop%02d:loop%02d", i, i)
		if perProgram[name] > crashes {
			t.Errorf("%s: %d crash lines, want at most %d", name, perProgram[name], crashes)
		}
	}
	lost := discarded()
	if len(lines) > programs*crashes || len(lines) < programs*crashes-lost {
		t.Errorf("crash lines: got %d, want %d less at most the %d events supervisord discarded", len(lines), programs*crashes, lost)
	}
	t.Logf("%d crashes in %d mails; supervisord discarded %d events", len(lines), len(srv.Mails()), lost)
}

// TestSMTPDownThenUp: the flush fails while the server refuses, the lines
// are kept, and the first mail after the server is back holds the failed
// batch followed by what came after it.
func TestSMTPDownThenUp(t *testing.T) {
	t.Parallel()
	svtest.Need(t)
	srv := startSMTP(t, svtest.SMTPOptions{})
	srv.SetDown(true)
	prog := svtest.TestProg(t)
	sv := svtest.Start(t, svtest.Config{
		Programs:  []svtest.Program{{Name: "looper", Command: prog + " crash -after 1200ms -code 1", Extra: []string{"autorestart=true"}}},
		Listeners: []svtest.Listener{smtpListener(t, srv)},
	})
	keptRE := regexp.MustCompile(`crashmailbatch: (\d+) alerts kept for the next flush`)
	var failed int
	svtest.Eventually(t, 30*time.Second, "a failed flush", func() bool {
		m := keptRE.FindStringSubmatch(sv.ListenerStderr(t, "crashmailbatch"))
		if m != nil {
			failed, _ = strconv.Atoi(m[1])
		}
		return m != nil
	})
	stderr := sv.ListenerStderr(t, "crashmailbatch")
	if !strings.Contains(stderr, "crashmailbatch: Error sending email: ") {
		t.Errorf("stderr: got %q, want an Error sending email line", stderr)
	}
	before := loggedAlerts(sv.ListenerStderr(t, "crashmailbatch"))
	srv.SetDown(false)
	mail := srv.WaitMails(t, 1, 30*time.Second)[0]
	got := strings.Split(mail.Text, "\n")
	if len(got) < len(before) || strings.Join(got[:len(before)], "\n") != strings.Join(before, "\n") {
		t.Fatalf("first mail after the outage:\n%s\nwant it to start with every line logged before:\n%s", mail.Text, strings.Join(before, "\n"))
	}
	if len(got) <= failed {
		t.Errorf("first mail has %d lines, want more than the %d of the failed batch (both batches)", len(got), failed)
	}
}

// TestSMTPStallUnderSupervisord: a server that accepts and never answers
// must not slow the listener down: supervisord drops no event while the
// flush hangs, and the mail goes out once the server answers.
func TestSMTPStallUnderSupervisord(t *testing.T) {
	t.Parallel()
	svtest.Need(t)
	srv := startSMTP(t, svtest.SMTPOptions{Stall: true})
	prog := svtest.TestProg(t)
	sv := svtest.Start(t, svtest.Config{
		Programs:  []svtest.Program{{Name: "looper", Command: prog + " crash -after 1200ms -code 1", Extra: []string{"autorestart=true"}}},
		Listeners: []svtest.Listener{smtpListener(t, srv)},
	})
	svtest.Eventually(t, 30*time.Second, "a flush skipped while the first one hangs", func() bool {
		return strings.Contains(sv.ListenerStderr(t, "crashmailbatch"), "previous mail still being sent")
	})
	if log := sv.Log(t); strings.Contains(log, "buffer overflowed") {
		t.Errorf("supervisord dropped events while SMTP stalled:\n%s", log)
	}
	before := loggedAlerts(sv.ListenerStderr(t, "crashmailbatch"))
	srv.Unstall()
	svtest.Eventually(t, 30*time.Second, "every line logged during the stall mailed", func() bool {
		return len(mailLines(srv.Mails())) >= len(before)
	})
	got := mailLines(srv.Mails())
	if strings.Join(got[:len(before)], "\n") != strings.Join(before, "\n") {
		t.Errorf("mailed:\n%s\nwant it to start with:\n%s", strings.Join(got, "\n"), strings.Join(before, "\n"))
	}
}
