package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestUnderSupervisord runs the built crashmail as a real [eventlistener]
// watching real programs: one that exits 1, one that exits 0 as expected,
// and one that crashes but is not in -p. A last watched crash, started only
// after the others have exited, proves that their events were handled
// (supervisord delivers one pool's events in order).
func TestUnderSupervisord(t *testing.T) {
	svtest.Need(t)
	bin := svtest.Tool(t, "crashmail")
	prog := svtest.TestProg(t)
	sink := svtest.NewSendmail(t)
	once := []string{"autorestart=false", "startsecs=1"}
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{
			{Name: "crasher", Command: prog + " crash -after 1500ms -code 1", Extra: once},
			{Name: "clean", Command: prog + " crash -after 1500ms -code 0", Extra: append([]string{"exitcodes=0"}, once...)},
			{Name: "other", Command: prog + " crash -after 1500ms -code 1", Extra: once},
			{Name: "last", Command: prog + " crash -after 1500ms -code 1", Extra: append([]string{"autostart=false"}, once...)},
		},
		Listeners: []svtest.Listener{{
			Name:    "crashmail",
			Command: bin + " -p crasher -p clean -p last:last -m ops@example.com -s \"" + sink.Command + "\"",
			Events:  "PROCESS_STATE_EXITED",
		}},
	})
	pid := sv.WaitState(t, "crasher", rpcclient.StateRunning, 10*time.Second).PID
	for _, name := range []string{"crasher", "clean", "other"} {
		sv.WaitState(t, name, rpcclient.StateExited, 10*time.Second)
	}
	sv.Ctl(t, "start", "last")
	mails := sink.WaitMails(t, 2, 20*time.Second)
	if len(mails) != 2 {
		t.Fatalf("mails: got %d, want 2 (crasher and last)", len(mails))
	}
	m := mails[0]
	if !regexp.MustCompile(`^crasher crashed at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}$`).MatchString(m.Msg.Header.Get("Subject")) {
		t.Errorf("Subject: got %q, want \"crasher crashed at <asctime>\"", m.Msg.Header.Get("Subject"))
	}
	if got, want := m.Text, "Process crasher in group crasher exited unexpectedly (pid "+strconv.Itoa(pid)+") from state RUNNING"; got != want {
		t.Errorf("body: got %q, want %q", got, want)
	}
	if got := strings.Join(m.To, ","); got != "ops@example.com" {
		t.Errorf("To: got %q, want ops@example.com", got)
	}
	if !strings.HasPrefix(mails[1].Msg.Header.Get("Subject"), "last crashed at ") {
		t.Errorf("second Subject: got %q, want last's crash", mails[1].Msg.Header.Get("Subject"))
	}
	stderr := sv.ListenerStderr(t, "crashmail")
	if n := strings.Count(stderr, "unexpected exit, mailing\n"); n != 2 {
		t.Errorf("stderr: %d 'unexpected exit, mailing' lines, want 2:\n%s", n, stderr)
	}
}
