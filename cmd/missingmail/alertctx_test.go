package main

import (
	"regexp"
	"testing"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestDetailsAndTail: the mail about a program that never started carries
// its last exit status, supervisord's spawn error and its log tail after
// missingmail's own text.
func TestDetailsAndTail(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	sink := svtest.NewSendmail(t)
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{{Name: "broken", Command: svtest.TestProg(t) + " fail", Extra: []string{"startretries=0"}}},
		Listeners: []svtest.Listener{listener(t, "missingmail",
			"-p broken --missing-timeout 2 --details --log-tail 1 -m ops@example.com -s \""+sink.Command+"\"")},
	})
	sv.WaitState(t, "broken", rpcclient.StateFatal, waitState)
	sv.Ctl(t, "start", "missingmail")
	m := sink.WaitMails(t, 1, waitMail)[0]
	re := regexp.MustCompile(`(?s)^Program: +broken\n.*\n\nmissingmail reports each episode once; .*\n\n` +
		`Details from supervisord:\n` +
		`  exit status: 1\n` +
		`  ran for:     .+\n` +
		`  spawnerr:    Exited too quickly \(process log may have details\)\n` +
		`  description: Exited too quickly \(process log may have details\)\n` +
		`  state now:   FATAL\n` +
		`  host:        .+\n\n` +
		`--- last line of the stderr log of broken \(` + regexp.QuoteMeta(sv.Dir) + `/broken.err\) ---\n` +
		`misbehave: failing on purpose\n--- end of log ---$`)
	if !re.MatchString(m.Text) {
		t.Errorf("body =\n%s\nwant missingmail's text, then the details and the tail", m.Text)
	}
}
