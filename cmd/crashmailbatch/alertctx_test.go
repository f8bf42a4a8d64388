package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
)

// TestDetailsAndLogTail: every crash line carries its details; the log
// tails follow the lines, one per program and batch however often the
// program crashed in it.
func TestDetailsAndLogTail(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	sink := svtest.NewSendmail(t)
	bin := svtest.Tool(t, "crashmailbatch")
	prog := svtest.TestProg(t)
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	looper := filepath.Join(dir, "looper.sh")
	// Exits 2 twice, then stays up.
	body := "#!/bin/sh\nn=$(cat " + count + " 2>/dev/null || echo 0)\nn=$((n + 1))\necho $n >" + count + "\n" +
		"echo \"looper run $n\" >&2\n[ $n -gt 2 ] && exec " + prog + " sleep\nexit 2\n"
	if err := os.WriteFile(looper, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{
			{Name: "once", Command: prog + " crash -after 1500ms -code 1", Extra: []string{"autorestart=false"}},
			{Name: "looper", Command: "/bin/sh " + looper, Extra: []string{"startsecs=0"}},
		},
		Listeners: []svtest.Listener{{
			Name: "crashmailbatch",
			Command: bin + " -t ops@example.com -f sv@example.com --sendmail-program \"" + sink.Command + "\"" +
				" -e TICK_5 -i 0.25 --details --log-tail 1",
			Events: "PROCESS_STATE,TICK_5",
		}},
	})
	lineRE := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} -- Process (\w+):\w+ \(pid \d+\) died unexpectedly\n\nDetails from supervisord:\n  exit status: (\d)\n`)
	tailRE := regexp.MustCompile(`(?m)^--- last line of the stderr log of (\w+) \(`)
	crashes := map[string]int{}
	var mails []svtest.Mail
	svtest.Eventually(t, 90*time.Second, "three crash lines (once, looper twice)", func() bool {
		mails = sink.Mails(t)
		clear(crashes)
		for _, m := range mails {
			for _, l := range lineRE.FindAllStringSubmatch(m.Text, -1) {
				crashes[l[1]]++
			}
		}
		return crashes["once"] == 1 && crashes["looper"] == 2
	})
	tails := map[string]int{}
	for i, m := range mails {
		lines, inMail := map[string]int{}, map[string]int{}
		for _, l := range lineRE.FindAllStringSubmatch(m.Text, -1) {
			lines[l[1]]++
			if want := map[string]string{"once": "1", "looper": "2"}[l[1]]; l[2] != want {
				t.Errorf("mail %d: %s exit status %s, want %s", i, l[1], l[2], want)
			}
		}
		for _, l := range tailRE.FindAllStringSubmatch(m.Text, -1) {
			inMail[l[1]]++
			tails[l[1]]++
		}
		for p, n := range inMail {
			if n > 1 {
				t.Errorf("mail %d holds %d tails of %s, want one per program:\n%s", i, n, p, m.Text)
			}
		}
		if lines["looper"] == 2 && inMail["looper"] != 1 {
			t.Errorf("mail %d: both looper crashes, %d looper tails; want one:\n%s", i, inMail["looper"], m.Text)
		}
	}
	if tails["once"] == 0 || tails["looper"] == 0 {
		t.Errorf("tails per program = %v, want each program's tail mailed", tails)
	}
	if !regexp.MustCompile(`\nlooper run \d\n--- end of log ---`).MatchString(strings.Join(textOf(mails), "\n")) {
		t.Errorf("no tail of looper's stderr in the mails:\n%s", strings.Join(textOf(mails), "\n----\n"))
	}
}

func textOf(mails []svtest.Mail) []string {
	var out []string
	for _, m := range mails {
		out = append(out, m.Text)
	}
	return out
}
