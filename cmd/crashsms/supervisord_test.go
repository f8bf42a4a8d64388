package main

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestUnderSupervisord: crashsms delivered through a sendmail command
// (--sendmail-program) writes the short SMS line and no Subject header.
func TestUnderSupervisord(t *testing.T) {
	svtest.Need(t)
	sink := svtest.NewSendmail(t)
	bin := svtest.Tool(t, "crashsms")
	prog := svtest.TestProg(t)
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{{Name: "crasher", Command: prog + " crash -after 1500ms -code 1", Extra: []string{"autorestart=false"}}},
		Listeners: []svtest.Listener{{
			Name:    "crashsms",
			Command: bin + " -t 5551234@sms.example.com -f sv@example.com --sendmail-program \"" + sink.Command + "\" -e TICK_5 -i 0.0833",
			Events:  "PROCESS_STATE,TICK_5",
		}},
	})
	pid := sv.WaitState(t, "crasher", rpcclient.StateRunning, 10*time.Second).PID
	m := sink.WaitMails(t, 1, 30*time.Second)[0]
	if _, ok := m.Msg.Header["Subject"]; ok {
		t.Errorf("Subject: got %q, want no Subject header", m.Msg.Header.Get("Subject"))
	}
	re := regexp.MustCompile(`^\[crasher:crasher\]\(` + strconv.Itoa(pid) + `\) exited unexpectedly \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}$`)
	if !re.MatchString(m.Text) {
		t.Errorf("body: got %q, want the SMS line for pid %d", m.Text, pid)
	}
}
