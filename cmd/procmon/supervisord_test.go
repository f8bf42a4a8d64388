package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// waitLong bounds every wait for something supervisord or procmon does; the
// tests assert order and ratios, never how long things took.
const waitLong = 45 * time.Second

// chatter is a program that writes a line every 0.1 s. supervisord notices
// a child's exit, and hands the event to its listeners, only when its main
// loop comes round, which takes up to a second when it is idle; the output
// keeps the loop turning, so that the gaps between an exit and the next
// spawn measure procmon's delay rather than supervisord's idle poll.
func chatter() svtest.Program {
	return svtest.Program{
		Name: "chatter",
		// read -t times out on the stdin supervisord never writes to:
		// a pause without forking a sleep every time.
		Command: `/bin/bash -c "while :; do echo tick; read -t 0.1; done"`,
	}
}

// listener is procmon as an [eventlistener] with args, on TICK_5 so that
// the consistency check comes round quickly.
func listener(t *testing.T, args string) svtest.Listener {
	return svtest.Listener{
		Name:    "procmon",
		Command: svtest.Tool(t, "procmon") + " " + args,
		Events:  "PROCESS_STATE,TICK_5",
		Extra:   []string{"autorestart=true", "buffer_size=100"},
	}
}

// mailArgs sends procmon's mail to a test SMTP server.
func mailArgs(smtp *svtest.SMTPServer) string {
	return "-m ops@example.com --smtp-host " + smtp.Addr + " --from procmon@example.com"
}

var logEntry = regexp.MustCompile(`(?m)^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ (.*)$`)

// history is what supervisord's log says about one program: when it was
// spawned and when it exited (for good or into BACKOFF), in order.
type history struct{ spawns, exits []time.Time }

func readHistory(t *testing.T, sv *svtest.Supervisor, prog string) history {
	t.Helper()
	var h history
	for _, m := range logEntry.FindAllStringSubmatch(sv.Log(t), -1) {
		at, err := time.ParseInLocation("2006-01-02 15:04:05,000", m[1], time.Local)
		if err != nil {
			t.Fatalf("supervisord log time %q: %v", m[1], err)
		}
		switch {
		case strings.HasPrefix(m[2], "spawned: '"+prog+"' "):
			h.spawns = append(h.spawns, at)
		case strings.HasPrefix(m[2], "exited: "+prog+" "):
			h.exits = append(h.exits, at)
		}
	}
	return h
}

// waitSpawns waits until prog has been spawned at least n times.
func waitSpawns(t *testing.T, sv *svtest.Supervisor, prog string, n int) history {
	t.Helper()
	var h history
	svtest.Eventually(t, waitLong, fmt.Sprintf("%s spawned fewer than %d times\n%s", prog, n, sv.Log(t)), func() bool {
		h = readHistory(t, sv, prog)
		return len(h.spawns) >= n
	})
	return h
}

// gaps returns, for every spawn after the first, the time since the exit
// before it: supervisord's latency plus procmon's delay.
func (h history) gaps(t *testing.T) []time.Duration {
	t.Helper()
	var g []time.Duration
	for i := 1; i < len(h.spawns) && i <= len(h.exits); i++ {
		if h.exits[i-1].After(h.spawns[i]) {
			t.Fatalf("exit %d at %v after spawn %d at %v", i-1, h.exits[i-1], i, h.spawns[i])
		}
		g = append(g, h.spawns[i].Sub(h.exits[i-1]))
	}
	return g
}

// mailsOfKind returns the mails whose subject contains substr.
func mailsOfKind(smtp *svtest.SMTPServer, substr string) []svtest.Mail {
	var out []svtest.Mail
	for _, m := range smtp.Mails() {
		if m.Msg != nil && strings.Contains(m.Msg.Header.Get("Subject"), substr) {
			out = append(out, m)
		}
	}
	return out
}

func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }

// TestDelayDoublesUpToMax: a program that exits at once under
// autorestart=false is started again after 1, 2, 4, 4, 4 s; the gaps
// between its exits and the next spawns double, then stop growing. Each
// gap is the delay plus supervisord's and procmon's latency, which grows
// under load: the delays are long enough for the ratios to hold with up to
// about 0.4 s of it. No gap is shorter than its delay. One crash-loop mail,
// not one per restart.
func TestDelayDoublesUpToMax(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	smtp := svtest.StartSMTP(t, svtest.SMTPOptions{})
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{
			{Name: "dier", Command: svtest.TestProg(t) + " fail", Extra: []string{"autorestart=false", "startsecs=0", "autostart=false"}},
			chatter(),
		},
		Listeners: []svtest.Listener{listener(t, "-p dier --min-delay 1 --max-delay 4 "+mailArgs(smtp))},
	})
	// Started once procmon is up, so that procmon sees its first death as
	// it happens rather than from its start-up check.
	sv.WaitState(t, "procmon", rpcclient.StateRunning, waitLong)
	sv.Ctl(t, "start", "dier")
	h := waitSpawns(t, sv, "dier", 6)
	g := h.gaps(t)
	if len(g) < 5 {
		t.Fatalf("got %d exit-to-spawn gaps, want 5 (%v)", len(g), h)
	}
	t.Logf("gaps: %v", g[:5])
	for i, d := range []time.Duration{1, 2, 4, 4, 4} {
		if d *= time.Second; g[i] < d*9/10 {
			t.Errorf("gap %d is %v, want at least the %v delay", i, g[i], d)
		}
	}
	for _, c := range []struct {
		i, j     int // ratio g[j]/g[i]
		lo, hi   float64
		expected string
	}{
		{0, 1, 1.4, 2.8, "2s/1s: doubled"},
		{1, 2, 1.4, 2.8, "4s/2s: doubled"},
		{2, 3, 0.75, 1.33, "4s/4s: capped at --max-delay"},
		{3, 4, 0.75, 1.33, "4s/4s: capped at --max-delay"},
	} {
		if r := ratio(g[c.j], g[c.i]); r < c.lo || r > c.hi {
			t.Errorf("gap %d / gap %d = %.2f (%v / %v), want %.1f..%.1f (%s)", c.j, c.i, r, g[c.j], g[c.i], c.lo, c.hi, c.expected)
		}
	}
	smtp.WaitMails(t, 1, waitLong)
	if loops, all := mailsOfKind(smtp, "is in a crash loop"), smtp.Mails(); len(loops) != 1 || len(all) != 1 {
		t.Errorf("mails after 5 restarts: got %d (%d crash-loop), want exactly one crash-loop mail", len(all), len(loops))
	} else if m := loops[0]; m.Msg.Header.Get("Subject") != "procmon: dier is in a crash loop" ||
		!strings.Contains(m.Text, "Process dier in group dier died 2 times in a row within 10s of starting") {
		t.Errorf("crash-loop mail: subject %q, body %q", m.Msg.Header.Get("Subject"), m.Text)
	}
}

// TestLongRunResetsDelay: a looping program that then runs past the
// threshold is restarted at once after that run, its next instant death
// waits --min-delay again, and the recovery is mailed once.
func TestLongRunResetsDelay(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	smtp := svtest.StartSMTP(t, svtest.SMTPOptions{})
	healthy := filepath.Join(t.TempDir(), "healthy")
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{
			{
				Name:    "flappy",
				Command: `/bin/sh -c "if [ -e ` + healthy + ` ]; then echo long; sleep 4; fi; exit 1"`,
				Extra:   []string{"autorestart=false", "startsecs=0", "stopasgroup=true"},
			},
			chatter(),
		},
		Listeners: []svtest.Listener{listener(t, "-p flappy --threshold 3 --min-delay 0.5 --max-delay 4 "+mailArgs(smtp))},
	})
	// Deaths 1-4 wait 0.5, 1, 2 and 4 s: the fifth spawn, the first to see
	// the file, comes after the longest delay, which leaves room for
	// latency in the ratios below.
	waitSpawns(t, sv, "flappy", 4)
	if err := os.WriteFile(healthy, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	svtest.Eventually(t, waitLong, "flappy never started its long run", func() bool {
		return strings.Contains(sv.ProgramStdout(t, "flappy"), "long")
	})
	if err := os.Remove(healthy); err != nil {
		t.Fatal(err)
	}
	h := readHistory(t, sv, "flappy")
	long := len(h.spawns) - 1 // the run that printed "long"
	h = waitSpawns(t, sv, "flappy", long+3)
	g := h.gaps(t)
	t.Logf("gaps: %v (spawn %d ran long)", g, long)
	if ran := h.exits[long].Sub(h.spawns[long]); ran < 3*time.Second {
		t.Fatalf("the long run lasted %v by supervisord's log, want at least the 3s threshold", ran)
	}
	before, after, reset := g[long-1], g[long], g[long+1]
	if r := ratio(after, before); r > 0.5 {
		t.Errorf("gap after the long run / gap before it = %.2f (%v / %v), want <= 0.5: the restart after a long run is immediate", r, after, before)
	}
	if r := ratio(reset, before); r > 0.6 {
		t.Errorf("gap after the next instant death / gap before the long run = %.2f (%v / %v), want <= 0.6: the delay went back to --min-delay", r, reset, before)
	}
	// The deaths after the reset start a second loop: one mail per loop,
	// one for the recovery in between.
	var subjects []string
	svtest.Eventually(t, waitLong, "fewer than three mails", func() bool {
		subjects = nil
		for _, m := range smtp.Mails() {
			subjects = append(subjects, m.Msg.Header.Get("Subject"))
		}
		return len(subjects) >= 3
	})
	want := []string{"procmon: flappy is in a crash loop", "procmon: flappy recovered", "procmon: flappy is in a crash loop"}
	if !slices.Equal(subjects, want) {
		t.Errorf("mail subjects: got %q, want %q", subjects, want)
	}
	if recs := mailsOfKind(smtp, "recovered"); len(recs) > 0 && !strings.Contains(recs[0].Text, "has run for 3s after a crash loop; its restart delay is back to 0.5s") {
		t.Errorf("recovered mail body: %q", recs[0].Text)
	}
}

// TestFatalRestartedStoppedLeftAlone: a FATAL program is started again; a
// program stopped with supervisorctl stays stopped through several
// consistency checks; a -p that names nothing is logged at every check.
func TestFatalRestartedStoppedLeftAlone(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	prog := svtest.TestProg(t)
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{
			{Name: "nostart", Command: prog + " fail", Extra: []string{"startretries=0"}},
			{Name: "sleeper", Command: prog + " sleep"},
		},
		Listeners: []svtest.Listener{listener(t, "-p nostart -p sleeper -p ghost --min-delay 0.5 --max-delay 1")},
	})
	svtest.Eventually(t, waitLong, "nostart did not go FATAL three times\n"+sv.Log(t), func() bool {
		return strings.Count(sv.Log(t), "gave up: nostart entered FATAL state") >= 3
	})
	sv.WaitState(t, "sleeper", rpcclient.StateRunning, waitLong)
	sv.Ctl(t, "stop", "sleeper")
	sv.WaitState(t, "sleeper", rpcclient.StateStopped, waitLong)
	ghost := func() int { return strings.Count(sv.ListenerStderr(t, "procmon"), "-p ghost: no such program") }
	checks := ghost()
	if checks == 0 {
		t.Errorf("procmon did not log the -p that names nothing at start-up")
	}
	svtest.Eventually(t, waitLong, "no two consistency checks after the stop", func() bool { return ghost() >= checks+2 })
	if info, err := sv.Client.GetProcessInfo(t.Context(), "sleeper"); err != nil || info.State != rpcclient.StateStopped {
		t.Errorf("sleeper after two checks: %v, %v; want STOPPED", info.State, err)
	}
	if n := len(readHistory(t, sv, "sleeper").spawns); n != 1 {
		t.Errorf("sleeper spawned %d times, want 1: a stopped program is never restarted", n)
	}
}

// TestProcmonKilledMidBackoff: procmon is killed while it waits to restart
// a FATAL program; supervisord restarts procmon, whose start-up check
// brings the program back.
func TestProcmonKilledMidBackoff(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	sv := svtest.Start(t, svtest.Config{
		Programs:  []svtest.Program{{Name: "nostart", Command: svtest.TestProg(t) + " fail", Extra: []string{"startretries=0"}}},
		Listeners: []svtest.Listener{listener(t, "-p nostart --min-delay 6 --max-delay 6")},
	})
	sv.WaitState(t, "nostart", rpcclient.StateFatal, waitLong)
	old := sv.WaitState(t, "procmon", rpcclient.StateRunning, waitLong).PID
	svtest.Eventually(t, waitLong, "procmon never scheduled the restart", func() bool {
		return strings.Contains(sv.ListenerStderr(t, "procmon"), "restarting it in 6s")
	})
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var restarted rpcclient.ProcessInfo
	svtest.Eventually(t, waitLong, "supervisord did not restart procmon", func() bool {
		info, err := sv.Client.GetProcessInfo(t.Context(), "procmon")
		restarted = info
		return err == nil && info.PID != 0 && info.PID != old
	})
	if n := len(readHistory(t, sv, "nostart").spawns); n != 1 {
		t.Fatalf("nostart spawned %d times before the new procmon could act, want 1: the old one was not killed mid-backoff", n)
	}
	h := waitSpawns(t, sv, "nostart", 2)
	procmonSpawns := readHistory(t, sv, "procmon").spawns
	if len(procmonSpawns) < 2 || !h.spawns[1].After(procmonSpawns[1]) {
		t.Errorf("nostart's second spawn at %v, procmon's spawns %v: want it after procmon's restart (pid %d)", h.spawns[1], procmonSpawns, restarted.PID)
	}
	if log := sv.ListenerStderr(t, "procmon"); !strings.Contains(log, "consistency check: nostart is FATAL and no restart was scheduled") {
		t.Errorf("the new procmon did not log finding nostart FATAL:\n%s", log)
	}
}

// TestBudget: two programs that die at once share --budget 4/6: no five
// restarts fall within 6 s, restarts resume by themselves once the window
// allows, and the budget notice is mailed once.
func TestBudget(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	smtp := svtest.StartSMTP(t, svtest.SMTPOptions{})
	prog := svtest.TestProg(t)
	dier := func(name string) svtest.Program {
		return svtest.Program{Name: name, Command: prog + " fail", Extra: []string{"autorestart=false", "startsecs=0"}}
	}
	sv := svtest.Start(t, svtest.Config{
		Programs:  []svtest.Program{dier("a"), dier("b"), chatter()},
		Listeners: []svtest.Listener{listener(t, "-p a -p b --min-delay 0.5 --max-delay 0.5 --budget 4/6 "+mailArgs(smtp))},
	})
	var restarts []time.Time
	svtest.Eventually(t, waitLong, "fewer than 7 restarts of a and b\n"+sv.Log(t), func() bool {
		restarts = nil
		for _, p := range []string{"a", "b"} {
			if s := readHistory(t, sv, p).spawns; len(s) > 1 {
				restarts = append(restarts, s[1:]...) // the first is supervisord's autostart
			}
		}
		return len(restarts) >= 7
	})
	slices.SortFunc(restarts, time.Time.Compare)
	longest := time.Duration(0)
	for i := range restarts {
		if i+4 < len(restarts) {
			if span := restarts[i+4].Sub(restarts[i]); span < 5400*time.Millisecond {
				t.Errorf("restarts %d..%d within %v, want none of 5 within the 6s window (10%% tolerance): %v", i, i+4, span, restarts)
			}
		}
		if i > 0 {
			longest = max(longest, restarts[i].Sub(restarts[i-1]))
		}
	}
	if longest < 2*time.Second {
		t.Errorf("longest pause between restarts %v, want one of several seconds (the budget held them)", longest)
	}
	const subject = "procmon: restart budget spent (4 restarts in 6s)"
	svtest.Eventually(t, waitLong, "no budget mail", func() bool { return len(mailsOfKind(smtp, subject)) > 0 })
	if spent := mailsOfKind(smtp, subject); len(spent) != 1 {
		t.Errorf("budget mails: got %d, want exactly one for the whole episode", len(spent))
	} else if body := spent[0].Text; !regexp.MustCompile(`Left down: [ab](, [ab])?\.`).MatchString(body) || !strings.Contains(body, "--budget 4/6") {
		t.Errorf("budget mail body: %q", body)
	}
}

// TestRemovedProgramForgotten: a FATAL program removed from supervisord's
// configuration while its restart is pending is forgotten, not started.
func TestRemovedProgramForgotten(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	sv := svtest.Start(t, svtest.Config{
		Programs:  []svtest.Program{{Name: "gone", Command: svtest.TestProg(t) + " fail", Extra: []string{"startretries=0"}}},
		Listeners: []svtest.Listener{listener(t, "-p gone --min-delay 3 --max-delay 3")},
	})
	sv.WaitState(t, "gone", rpcclient.StateFatal, waitLong)
	svtest.Eventually(t, waitLong, "procmon never scheduled the restart", func() bool {
		return strings.Contains(sv.ListenerStderr(t, "procmon"), "gone could not be started (FATAL), an instant death (1 in a row): restarting it in 3s")
	})
	if err := sv.Client.Call(t.Context(), "supervisor.removeProcessGroup", nil, "gone"); err != nil {
		t.Fatal(err)
	}
	svtest.Eventually(t, waitLong, "procmon did not forget gone", func() bool {
		return strings.Contains(sv.ListenerStderr(t, "procmon"), "forgetting gone: ")
	})
	if log := sv.ListenerStderr(t, "procmon"); strings.Contains(log, "starting gone") {
		t.Errorf("procmon started a removed program:\n%s", log)
	}
}
