package main

import (
	"regexp"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestDetails: with --details and --log-tail, a FATAL program's line
// carries supervisord's spawn error and the exit status of its last try,
// and the mail ends with the program's log tail.
func TestDetails(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{})
	bin := svtest.Tool(t, "fatalmailbatch")
	prog := svtest.TestProg(t)
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{{Name: "broken", Command: prog + " fail", Extra: []string{"startretries=1"}}},
		Listeners: []svtest.Listener{{
			Name: "fatalmailbatch",
			Command: bin + " -t ops@example.com -f sv@example.com -H localhost:" + port(srv.Addr) +
				" -e TICK_5 -i 0.0833 --details --log-tail 3",
			Events: "PROCESS_STATE,TICK_5",
		}},
	})
	sv.WaitState(t, "broken", rpcclient.StateFatal, 20*time.Second)
	m := srv.WaitMails(t, 1, 30*time.Second)[0]
	re := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} -- Process broken:broken failed to start too many times\n\n` +
		`Details from supervisord:\n` +
		`  exit status: 1\n` +
		`  ran for:     .+\n` +
		`  spawnerr:    Exited too quickly \(process log may have details\)\n` +
		`  description: Exited too quickly \(process log may have details\)\n` +
		`  state now:   FATAL\n` +
		`  host:        .+\n\n` +
		`--- last 2 lines of the stderr log of broken \(` + regexp.QuoteMeta(sv.Dir) + `/broken.err\) ---\n` +
		`misbehave: failing on purpose\nmisbehave: failing on purpose\n--- end of log ---$`)
	if !re.MatchString(m.Text) {
		t.Errorf("body =\n%s\nwant the line, its details with the spawn error, and the tail", m.Text)
	}
}
