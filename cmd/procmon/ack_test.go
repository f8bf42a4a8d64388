package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
)

// TestUnreachableSupervisordAndStalledMail drives procmon in-process with
// a supervisord socket that nobody listens on and an SMTP server that
// accepts connections but never greets: every event is still answered
// while the restarts fail and the crash-loop mail hangs; the failures are
// logged and retried at each tick; the mail goes out once the server
// answers; and the listener exits cleanly on stdin EOF.
func TestUnreachableSupervisordAndStalledMail(t *testing.T) {
	t.Parallel()
	smtp := svtest.StartSMTP(t, svtest.SMTPOptions{Stall: true})
	env := []string{"SUPERVISOR_SERVER_URL=unix://" + filepath.Join(t.TempDir(), "nobody.sock")}
	args := []string{"-p", "web", "--min-delay", "0.1", "--max-delay", "0.2", "-m", "ops@example.com", "--smtp-host", smtp.Addr, "--from", "procmon@example.com"}
	d := svtest.Drive(t, "procmon", func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) int {
		return run(ctx, args, stdin, stdout, stderr, env)
	})
	logged := func(s string) func() bool { return func() bool { return strings.Contains(d.Stderr.String(), s) } }

	svtest.Eventually(t, 10*time.Second, "the start-up check did not report the unreachable supervisord", logged("consistency check: supervisor.getAllProcessInfo: "))
	fatal := "processname:web groupname:web from_state:BACKOFF"
	d.Send("PROCESS_STATE_FATAL", fatal)
	d.Send("PROCESS_STATE_FATAL", fatal)
	svtest.Eventually(t, 10*time.Second, "no crash-loop alert", logged("ProcessCrashLoop: procmon: web is in a crash loop"))
	svtest.Eventually(t, 10*time.Second, "the failed restart was not logged", logged("not restarting web now: supervisor.getProcessInfo \"web\": "))
	svtest.Eventually(t, 10*time.Second, "the mail never reached the stalled server", func() bool { return smtp.Conns() > 0 })

	// Still answering: ticks while the mail hangs and supervisord is gone.
	before := strings.Count(d.Stderr.String(), "consistency check: ")
	for range 3 {
		d.Tick()
	}
	svtest.Eventually(t, 10*time.Second, "the ticks did not retry the check", func() bool {
		return strings.Count(d.Stderr.String(), "consistency check: ") >= before+1
	})
	if len(smtp.Mails()) != 0 {
		t.Fatal("a mail arrived at the stalled server")
	}
	smtp.Unstall()
	mails := smtp.WaitMails(t, 1, 30*time.Second)
	if got := mails[0].Msg.Header.Get("Subject"); got != "procmon: web is in a crash loop" {
		t.Errorf("mail subject %q, want the crash loop", got)
	}
	if code := d.Finish(20 * time.Second); code != 0 {
		t.Errorf("exit code %d after stdin EOF, want 0; stderr:\n%s", code, d.Stderr.String())
	}
	if strings.Contains(d.Stderr.String(), "panic") {
		t.Errorf("stderr mentions a panic:\n%s", d.Stderr.String())
	}
}
