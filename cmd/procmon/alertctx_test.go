package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestDetailsAndTail: the crash-loop mail carries the program's last exit
// status and its log tail after procmon's own text.
func TestDetailsAndTail(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	smtp := svtest.StartSMTP(t, svtest.SMTPOptions{})
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{
			{Name: "dier", Command: svtest.TestProg(t) + " fail", Extra: []string{"autorestart=false", "startsecs=0", "autostart=false"}},
			chatter(),
		},
		Listeners: []svtest.Listener{listener(t, "-p dier --min-delay 0.5 --max-delay 2 --details --log-tail 1 "+mailArgs(smtp))},
	})
	sv.WaitState(t, "procmon", rpcclient.StateRunning, waitLong)
	sv.Ctl(t, "start", "dier")
	m := smtp.WaitMails(t, 1, waitLong)[0]
	if !strings.HasPrefix(m.Text, "Process dier in group dier died 2 times in a row") {
		t.Errorf("body starts %q, want procmon's text", m.Text)
	}
	re := regexp.MustCompile(`\n\nDetails from supervisord:\n` +
		`  exit status: 1\n` +
		`  ran for:     .+\n` +
		`  spawnerr:    .+\n` +
		`  description: .+\n` +
		`  state now:   .+\n` +
		`  host:        .+\n\n` +
		`--- last line of the stderr log of dier \(` + regexp.QuoteMeta(sv.Dir) + `/dier.err\) ---\n` +
		`misbehave: failing on purpose\n--- end of log ---$`)
	if !re.MatchString(m.Text) {
		t.Errorf("body =\n%s\nwant the details (exit status 1) and the tail at the end", m.Text)
	}
}
