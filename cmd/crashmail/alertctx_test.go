package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestDetailsAndLogTail: a program that writes known lines to stderr and
// exits 3 yields a mail whose details say exit status 3 and whose tail
// holds those lines, after the superlance text, which stays as it was.
func TestDetailsAndLogTail(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	bin := svtest.Tool(t, "crashmail")
	prog := svtest.TestProg(t)
	sink := svtest.NewSendmail(t)
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{{
			Name: "crasher",
			Command: svtest.Script(t, t.TempDir(), "crasher", "echo 'known line one' >&2\necho 'known line two' >&2\n"+
				"exec "+prog+" crash -after 1500ms -code 3\n"),
			Extra: []string{"autorestart=false"},
		}},
		Listeners: []svtest.Listener{{
			Name:    "crashmail",
			Command: bin + " -m ops@example.com --details --log-tail 5 -s \"" + sink.Command + "\"",
			Events:  "PROCESS_STATE_EXITED",
		}},
	})
	pid := sv.WaitState(t, "crasher", rpcclient.StateRunning, 20*time.Second).PID
	m := sink.WaitMails(t, 1, 30*time.Second)[0]
	if !regexp.MustCompile(`^crasher crashed at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}$`).MatchString(m.Msg.Header.Get("Subject")) {
		t.Errorf("Subject = %q, want superlance's", m.Msg.Header.Get("Subject"))
	}
	head := "Process crasher in group crasher exited unexpectedly (pid " + strconv.Itoa(pid) + ") from state RUNNING\n\n"
	tail := "--- last 3 lines of the stderr log of crasher (" + sv.Dir + "/crasher.err) ---\n" +
		"known line one\nknown line two\nmisbehave: crashing with code 3\n--- end of log ---"
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(head) +
		`Details from supervisord:\n` +
		`  exit status: 3\n` +
		`  ran for:     \d+\.\ds\n` +
		`  spawnerr:    Bad exit code 3\n` +
		`  description: .+\n` +
		`  state now:   EXITED\n` +
		`  host:        .+\n\n` + regexp.QuoteMeta(tail) + `$`)
	if !re.MatchString(m.Text) {
		t.Errorf("body =\n%s\nwant superlance's text, the details (exit status 3) and the tail", m.Text)
	}
}

// TestFlood: a crash loop of six exits with --flood 2/5s yields two crash
// mails and one summary of the four others. The listener starts only once
// the loop is over, so that all six events reach it at once, whatever the
// machine's load: supervisord buffers them meanwhile.
func TestFlood(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	bin := svtest.Tool(t, "crashmail")
	prog := svtest.TestProg(t)
	sink := svtest.NewSendmail(t)
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{{
			Name: "looper",
			// Exits 1 six times, then stays up.
			Command: svtest.Script(t, dir, "looper", "n=$(cat "+count+" 2>/dev/null || echo 0)\nn=$((n + 1))\necho $n >"+count+"\n"+
				"[ $n -gt 6 ] && exec "+prog+" sleep\nexit 1\n"),
			Extra: []string{"startsecs=0", "startretries=100"},
		}},
		Listeners: []svtest.Listener{{
			Name:    "crashmail",
			Command: bin + " -m ops@example.com -o ALERT --flood 2/5s -s \"" + sink.Command + "\"",
			Events:  "PROCESS_STATE_EXITED",
			Extra:   []string{"autostart=false"},
		}},
	})
	svtest.Eventually(t, 60*time.Second, "looper to crash six times and stay up", func() bool {
		b, _ := os.ReadFile(count)
		return strings.TrimSpace(string(b)) == "7"
	})
	sv.WaitState(t, "looper", rpcclient.StateRunning, 20*time.Second)
	sv.Ctl(t, "start", "crashmail")
	mails := sink.WaitMails(t, 3, 60*time.Second)
	for i, m := range mails[:2] {
		if s := m.Msg.Header.Get("Subject"); !strings.HasPrefix(s, "ALERT: looper crashed at ") {
			t.Errorf("mail %d: Subject = %q, want a crash mail", i, s)
		}
	}
	summary := regexp.MustCompile(`^looper: 4 more unexpected exits between \d\d:\d\d:\d\d and \d\d:\d\d:\d\d, last exit status 1$`)
	if s, body := mails[2].Msg.Header.Get("Subject"), mails[2].Text; s != "ALERT: "+body || !summary.MatchString(body) {
		t.Errorf("third mail: Subject %q, body %q; want the summary of 4 exits", s, body)
	}
	// Stopping the listener sends whatever it still holds: nothing.
	sv.Ctl(t, "stop", "crashmail")
	if n := len(sink.Mails(t)); n != 3 {
		t.Errorf("%d mails after the listener stopped, want 3", n)
	}
	if held := strings.Count(sv.ListenerStderr(t, "crashmail"), "held back by --flood"); held != 4 {
		t.Errorf("%d alerts logged as held back, want 4", held)
	}
}
