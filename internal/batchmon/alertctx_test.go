package batchmon

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/svtest"
)

// TestRunFlood: --flood 2/1s lets two lines of a crash loop into the
// batch; once the window has passed one summary line counts the others.
// (No supervisord answers here, so the summary has no last exit status.)
func TestRunFlood(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{StartTLS: true, Username: "alice", Password: "s3cret"})
	crashes := testTool
	crashes.Kind = alert.Crash
	d := startRun(t, crashes, append(smtpArgs(srv), "--flood", "2/1s"), fixedClock)
	for pid := 101; pid <= 105; pid++ {
		d.exited(pid)
	}
	svtest.Eventually(t, 30*time.Second, "the summary line in the log", func() bool {
		return strings.Contains(d.Stderr.String(), "grp:crasher: 3 more unexpected exits between ")
	})
	d.Send("TICK_5", "when:1700000005")
	m := srv.WaitMails(t, 1, 10*time.Second)[0]
	at := "2026-11-21 16:23:32,987"
	want := regexp.MustCompile(`^` + at + ` -- Process grp:crasher \(pid 101\) died unexpectedly\n` +
		at + ` -- Process grp:crasher \(pid 102\) died unexpectedly\n` +
		at + ` -- grp:crasher: 3 more unexpected exits between \d\d:\d\d:\d\d and \d\d:\d\d:\d\d$`)
	if !want.MatchString(m.Text) {
		t.Errorf("body =\n%s\nwant two lines and the summary of three", m.Text)
	}
	if code := d.finish(); code != 0 {
		t.Errorf("exit: got %d, want 0", code)
	}
}

// TestParseAlertFlags: the alert options are the same in every batch
// tool, except that an SMS has no room for a log tail.
func TestParseAlertFlags(t *testing.T) {
	smsTool := testTool
	smsTool.Name, smsTool.SMS = "crashsms", true
	base := []string{"-t", "a@example.com", "-f", "b@example.com"}
	for _, tc := range []struct {
		tool Tool
		args []string
		want string // "" for accepted
	}{
		{testTool, []string{"--details", "--log-tail", "20", "--flood", "3/10m"}, ""},
		{smsTool, []string{"--details", "--flood", "3/10m"}, ""},
		{smsTool, []string{"--log-tail", "5"}, "--log-tail does not fit in an SMS"},
		{testTool, []string{"--log-tail", "-1"}, "--log-tail"},
		{testTool, []string{"--log-tail", "1001"}, "--log-tail"},
		{testTool, []string{"--flood", "3"}, "--flood"},
		{testTool, []string{"--flood", "0/10m"}, "--flood"},
	} {
		var stdout, stderr strings.Builder
		cfg, code, done := Parse(tc.tool, append(append([]string(nil), base...), tc.args...), &stdout, &stderr, nil)
		switch {
		case tc.want == "" && done:
			t.Errorf("%s %v: refused (%d): %s", tc.tool.Name, tc.args, code, stderr.String())
		case tc.want == "" && !cfg.Alert.Details:
			t.Errorf("%s %v: --details lost", tc.tool.Name, tc.args)
		case tc.want != "" && (!done || code != 2 || !strings.Contains(stderr.String(), tc.want)):
			t.Errorf("%s %v: done=%v code %d stderr %q; want exit 2 and %q", tc.tool.Name, tc.args, done, code, stderr.String(), tc.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s %v: stdout %q", tc.tool.Name, tc.args, stdout.String())
		}
	}
}
