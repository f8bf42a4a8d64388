package main

import (
	"regexp"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/superlance-go/superlance/internal/alertctx"
	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestDetails: with --details the SMS line gains only the exit status and
// the run time, and stays within one SMS.
func TestDetails(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	sink := svtest.NewSendmail(t)
	bin := svtest.Tool(t, "crashsms")
	prog := svtest.TestProg(t)
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{{Name: "crasher", Command: prog + " crash -after 1500ms -code 3", Extra: []string{"autorestart=false"}}},
		Listeners: []svtest.Listener{{
			Name:    "crashsms",
			Command: bin + " -t 5551234@sms.example.com -f sv@example.com --sendmail-program \"" + sink.Command + "\" -e TICK_5 -i 0.0833 --details",
			Events:  "PROCESS_STATE,TICK_5",
		}},
	})
	pid := sv.WaitState(t, "crasher", rpcclient.StateRunning, 10*time.Second).PID
	m := sink.WaitMails(t, 1, 30*time.Second)[0]
	re := regexp.MustCompile(`^\[crasher:crasher\]\(` + strconv.Itoa(pid) + `\) exited unexpectedly \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \(exit 3, ran \d+\.\ds\)$`)
	if !re.MatchString(m.Text) {
		t.Errorf("body: got %q, want the SMS line with exit 3 and the run time", m.Text)
	}
	if n := utf8.RuneCountInString(m.Text); n > alertctx.SMSBudget {
		t.Errorf("%d characters, want at most %d", n, alertctx.SMSBudget)
	}
}
