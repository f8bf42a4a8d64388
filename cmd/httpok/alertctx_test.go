package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/superlance-go/superlance/internal/svtest"
)

// TestSupervisordDetailsAndTail: a failed check restarts the program and
// the mail, after superlance's lines, says how long the program had been
// up and what it last wrote to stderr.
func TestSupervisordDetailsAndTail(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	srv := newCounted(t, 500, "down")
	sink := svtest.NewSendmail(t)
	s := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{{Name: "web", Command: svtest.TestProg(t) + ` sleep -stderr 'listening\nrequest stuck\n'`}},
		Listeners: []svtest.Listener{listener(t, "httpok", "-p", "web", "-m", "ops@example.com", "-s", sink.Command,
			"--details", "--log-tail", "2", srv.URL)},
	})
	old := pid(t, s, "web")
	waitRestarted(t, s, "web", old)
	m := waitMail(t, sink, "web restarted")
	re := regexp.MustCompile(`(?s)^status contacting ` + regexp.QuoteMeta(srv.URL) + `: 500 .*\nweb restarted\n\n` +
		`Details from supervisord:\n` +
		`  exit status: -\n` +
		`  ran for:     \d+\.\ds\n` +
		`  spawnerr:    -\n` +
		`  description: pid \d+, uptime .+\n` +
		`  state now:   RUNNING \(pid \d+\)\n` +
		`  host:        .+\n\n` +
		`--- last 2 lines of the stderr log of web \(` + regexp.QuoteMeta(s.Dir) + `/web.err\) ---\n` +
		`listening\nrequest stuck\n--- end of log ---$`)
	if body := mailBody(m); !re.MatchString(body) {
		t.Errorf("body =\n%s\nwant superlance's lines, then the details and the tail", body)
	}
}

// TestSupervisordFloodEager: in eager mode a stopped program makes httpok
// mail "not in RUNNING state" on every tick; --flood 2/10m lets two mails
// through and sums up the rest in one mail when httpok stops.
func TestSupervisordFloodEager(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	srv := newCounted(t, 500, "down")
	sink := svtest.NewSendmail(t)
	s := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{sleeper(t, "web", "autostart=false")},
		Listeners: []svtest.Listener{listener(t, "httpok", "-p", "web", "-m", "ops@example.com", "-s", sink.Command,
			"--flood", "2/10m", srv.URL)},
	})
	sink.WaitMails(t, 2, 2*tickWait)
	svtest.Eventually(t, 2*tickWait, "a third failed check held back", func() bool {
		return strings.Contains(s.ListenerStderr(t, "httpok"), "web: alert held back by --flood 2/10m0s")
	})
	s.Ctl(t, "stop", "httpok")
	held := strings.Count(s.ListenerStderr(t, "httpok"), "web: alert held back by --flood")
	mails := sink.Mails(t)
	if len(mails) != 3 {
		t.Fatalf("got %d mails, want 2 and the summary", len(mails))
	}
	for _, m := range mails[:2] {
		if !strings.Contains(mailBody(m), "web not in RUNNING state, NOT restarting") {
			t.Errorf("mail = %q, want the eager-mode report", mailBody(m))
		}
	}
	words := strconv.Itoa(held) + " more failed health checks between "
	if held == 1 {
		words = "1 more failed health check at "
	}
	sum := mails[2]
	if body := mailBody(sum); !strings.HasPrefix(body, "web: "+words) || sum.Msg.Header.Get("Subject") != "httpok: "+body {
		t.Errorf("summary: Subject %q, body %q; want the count of %d held-back alerts", sum.Msg.Header.Get("Subject"), body, held)
	}
}
