package main

import (
	"regexp"
	"testing"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestDetailsAndTail: the restart mail, after upstream's sentence, says
// how long the process had been up and what it last wrote to stderr.
func TestDetailsAndTail(t *testing.T) {
	t.Parallel()
	svtest.Need(t)
	sink := svtest.NewSendmail(t)
	hog := svtest.Program{Name: "hog", Command: "/bin/sh -c " + svtest.Quote("echo 'cache grows' >&2; exec "+svtest.Quote(svtest.TestProg(t))+" alloc -mb 30")}
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{hog},
		Listeners: []svtest.Listener{memmonListener(t, "memmon", "-p", "hog=10MB", "-m", "ops@example.com", "-s", sink.Command,
			"--details", "--log-tail", "5")},
	})
	old := sv.WaitState(t, "hog", rpcclient.StateRunning, waitLong).PID
	waitRestarted(t, sv, "hog", old)
	m := sink.WaitMails(t, 1, waitLong)[0]
	re := regexp.MustCompile(`^memmon\.py restarted the process named hog:hog at .+ because it was consuming too much memory \(\d+ bytes RSS\)\n\n` +
		`Details from supervisord:\n` +
		`  exit status: -\n` +
		`  ran for:     \d+(\.\d)?s\n` +
		`  spawnerr:    -\n` +
		`  description: pid \d+, uptime .+\n` +
		`  state now:   RUNNING \(pid \d+\)\n` +
		`  host:        .+\n\n` +
		// The new process has written its line too by the time the tail is read.
		`--- last (line|2 lines) of the stderr log of hog \(` + regexp.QuoteMeta(sv.Dir) + `/hog.err\) ---\n` +
		`(cache grows\n)+--- end of log ---$`)
	if !re.MatchString(m.Text) {
		t.Errorf("body =\n%s\nwant upstream's sentence, the details and the tail", m.Text)
	}
}
