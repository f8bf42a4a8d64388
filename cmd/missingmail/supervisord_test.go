package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/episode"
	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// The tests below run the built missingmail under a real supervisord with
// a short --missing-timeout and TICK_5. "Not mailed" is never asserted by
// waiting: a later mail about another program (the marker), which can
// only come after the ticks that would have carried the unwanted mail,
// shows that it was not sent.

const (
	waitState = 15 * time.Second
	waitMail  = 40 * time.Second
)

// listener is missingmail as an [eventlistener] that supervisord does not
// start by itself: the test starts it once the programs are up, so that
// their start-up is not an episode.
func listener(t *testing.T, name, args string) svtest.Listener {
	return svtest.Listener{
		Name:    name,
		Command: svtest.Tool(t, "missingmail") + " " + args,
		Events:  "PROCESS_STATE,TICK_5",
		Extra:   []string{"autostart=false", "buffer_size=50"},
	}
}

// sleeper is a program that runs until stopped and is not restarted.
func sleeper(t *testing.T, name string, extra ...string) svtest.Program {
	return svtest.Program{Name: name, Command: svtest.TestProg(t) + " sleep", Extra: append([]string{"autorestart=false"}, extra...)}
}

func start(t *testing.T, sv *svtest.Supervisor, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitState)
	defer cancel()
	if err := sv.Client.StartProcess(ctx, name, true); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
}

// kill sends SIGKILL and waits for EXITED.
func kill(t *testing.T, sv *svtest.Supervisor, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitState)
	defer cancel()
	if err := sv.Client.SignalProcess(ctx, name, "KILL"); err != nil {
		t.Fatalf("killing %s: %v", name, err)
	}
	sv.WaitState(t, name, rpcclient.StateExited, waitState)
}

// waitLog waits until the listener's stderr holds substr n times.
func waitLog(t *testing.T, sv *svtest.Supervisor, name, substr string, n int) {
	t.Helper()
	svtest.Eventually(t, waitState, fmt.Sprintf("%d× %q in %s's stderr", n, substr, name), func() bool {
		return strings.Count(sv.ListenerStderr(t, name), substr) >= n
	})
}

func subjects(mails []svtest.Mail) []string {
	var out []string
	for _, m := range mails {
		out = append(out, m.Msg.Header.Get("Subject"))
	}
	return out
}

// wantSubjects checks the subjects in order, each by its prefix.
func wantSubjects(t *testing.T, mails []svtest.Mail, prefixes ...string) {
	t.Helper()
	got := subjects(mails)
	ok := len(got) == len(prefixes)
	for i := 0; ok && i < len(got); i++ {
		ok = strings.HasPrefix(got[i], prefixes[i])
	}
	if !ok {
		t.Fatalf("subjects:\ngot  %q\nwant %q (prefixes)", got, prefixes)
	}
}

// downSince returns the "Down since:" time of a mail's body, without the
// "(... ago)" of a missing notice.
func downSince(t *testing.T, m svtest.Mail) string {
	t.Helper()
	for _, line := range strings.Split(m.Text, "\n") {
		if v, ok := strings.CutPrefix(line, "Down since:"); ok {
			v, _, _ = strings.Cut(strings.TrimSpace(v), " (")
			return v
		}
	}
	t.Fatalf("no Down since line in %q", m.Text)
	return ""
}

// TestKilledReportedOnceThenBack: a program killed by a signal and left
// down is reported once, however many ticks follow; when it is started
// again, one recovery mail says how long it was down.
func TestKilledReportedOnceThenBack(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	sink := svtest.NewSendmail(t)
	sv := svtest.StartRecording(t, svtest.Config{
		Programs:  []svtest.Program{sleeper(t, "victim"), sleeper(t, "marker")},
		Listeners: []svtest.Listener{listener(t, "missingmail", "-p victim -p marker --missing-timeout 2 -m ops@example.com -s \""+sink.Command+"\"")},
	}, "TICK_5")
	sv.WaitState(t, "victim", rpcclient.StateRunning, waitState)
	sv.WaitState(t, "marker", rpcclient.StateRunning, waitState)
	start(t, sv.Supervisor, "missingmail")
	waitLog(t, sv.Supervisor, "missingmail", "initial check: 2 watched process(es), 0 not RUNNING", 1)

	kill(t, sv.Supervisor, "victim")
	m := sink.WaitMails(t, 1, waitMail)[0]
	if s := m.Msg.Header.Get("Subject"); !strings.HasPrefix(s, "victim is missing: not RUNNING for ") {
		t.Errorf("Subject: got %q, want victim missing", s)
	}
	for _, want := range []string{"Program:     victim\n", "State:       EXITED\n", "Exit status: -1 (killed by a signal)\n", "Description: "} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("body: got %q, want it to contain %q", m.Text, want)
		}
	}
	if got := strings.Join(m.To, ","); got != "ops@example.com" {
		t.Errorf("To: got %q", got)
	}

	// Two more ticks for the whole pool set, then a marker: its mail can
	// only come after ticks that would also have repeated victim's.
	ticks := strings.Count(sv.Stream(t), "eventname:TICK_5")
	svtest.Eventually(t, waitMail, "two more TICK_5", func() bool {
		return strings.Count(sv.Stream(t), "eventname:TICK_5") >= ticks+2
	})
	kill(t, sv.Supervisor, "marker")
	mails := sink.WaitMails(t, 2, waitMail)
	wantSubjects(t, mails, "victim is missing", "marker is missing")

	start(t, sv.Supervisor, "victim")
	mails = sink.WaitMails(t, 3, waitMail)
	wantSubjects(t, mails, "victim is missing", "marker is missing", "victim is back: RUNNING after ")
	back := mails[2]
	for _, want := range []string{"Program:     victim\n", "State:       RUNNING (pid ", "Down for:    ", "Reported at: "} {
		if !strings.Contains(back.Text, want) {
			t.Errorf("recovery body: got %q, want it to contain %q", back.Text, want)
		}
	}
	if got, want := downSince(t, back), downSince(t, mails[0]); got != want {
		t.Errorf("recovery: down since %q, want the reported %q", got, want)
	}
	start(t, sv.Supervisor, "marker")
	mails = sink.WaitMails(t, 4, waitMail)
	wantSubjects(t, mails, "victim is missing", "marker is missing", "victim is back", "marker is back")
}

// TestBackWithinTimeoutNotMailed: a program restarted three times, each
// time back long before the timeout, produces no mail; the log shows the
// three short episodes.
func TestBackWithinTimeoutNotMailed(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	sink := svtest.NewSendmail(t)
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{sleeper(t, "bouncer"), sleeper(t, "marker")},
		// A stop and start through the API takes a second or two
		// (startsecs=1); 8 s leaves room for a loaded machine.
		Listeners: []svtest.Listener{listener(t, "missingmail", "-p bouncer -p marker --missing-timeout 8 -m ops@example.com -s \""+sink.Command+"\"")},
	})
	sv.WaitState(t, "bouncer", rpcclient.StateRunning, waitState)
	sv.WaitState(t, "marker", rpcclient.StateRunning, waitState)
	start(t, sv, "missingmail")
	waitLog(t, sv, "missingmail", "initial check: 2 watched process(es), 0 not RUNNING", 1)

	for i := 1; i <= 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), waitState)
		if err := sv.Client.StopProcess(ctx, "bouncer", true); err != nil {
			t.Fatal(err)
		}
		cancel()
		start(t, sv, "bouncer")
	}
	// The listener also gets the events of the programs' start-up, which
	// supervisord kept for it until it ran (a STARTING episode); the
	// bounces begin at the first stop. An episode opens with the state
	// missingmail learns first: usually the STOPPING event, but a tick's
	// getAllProcessInfo may answer while that event still waits in
	// supervisord's buffer for the listener, and then it opens with
	// STOPPED (or, for a later bounce, STARTING).
	const back = "bouncer is RUNNING again after "
	opensWith := func(l string, states ...string) bool {
		for _, st := range states {
			if strings.HasPrefix(l, "bouncer is "+st+": not RUNNING since ") {
				return true
			}
		}
		return false
	}
	opens := func(l string) bool { return opensWith(l, "STOPPING", "STOPPED", "STARTING") }
	var lines []string
	svtest.Eventually(t, waitState, "three stops and three returns of bouncer in the log", func() bool {
		lines = nil
		for _, l := range strings.Split(sv.ListenerStderr(t, "missingmail"), "\n") {
			l = strings.TrimPrefix(l, "missingmail: ")
			if opensWith(l, "STOPPING", "STOPPED") || len(lines) > 0 && strings.HasPrefix(l, "bouncer ") {
				lines = append(lines, l)
			}
		}
		return len(lines) >= 6
	})
	ok := len(lines) == 6
	for i, l := range lines {
		if i%2 == 0 {
			ok = ok && opens(l)
		} else {
			ok = ok && strings.HasPrefix(l, back) && strings.HasSuffix(l, ": shorter than the timeout (8s), not reported")
		}
	}
	if !ok {
		t.Errorf("bouncer's lines: got %q, want a stop and a short return, three times", lines)
	}
	kill(t, sv, "marker")
	wantSubjects(t, sink.WaitMails(t, 1, waitMail), "marker is missing")
}

// TestStoppedFromStart: programs with autostart=false are STOPPED from the
// start; both are reported, in one mail because their timeouts expire on
// the same tick. With --ignore-stopped they are not reported at all.
func TestStoppedFromStart(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	counting, ignoring := svtest.NewSendmail(t), svtest.NewSendmail(t)
	watch := "-p idle1 -p idle2 -p victim --missing-timeout 2 -m ops@example.com"
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{
			sleeper(t, "idle1", "autostart=false"),
			sleeper(t, "idle2", "autostart=false"),
			sleeper(t, "victim"),
		},
		Listeners: []svtest.Listener{
			listener(t, "counting", watch+" -s \""+counting.Command+"\""),
			listener(t, "ignoring", watch+" --ignore-stopped -s \""+ignoring.Command+"\""),
		},
	})
	sv.WaitState(t, "victim", rpcclient.StateRunning, waitState)
	start(t, sv, "counting")
	start(t, sv, "ignoring")
	waitLog(t, sv, "counting", "initial check: 3 watched process(es), 2 not RUNNING", 1)
	waitLog(t, sv, "ignoring", "initial check: 3 watched process(es), 0 not RUNNING", 1)

	m := counting.WaitMails(t, 1, waitMail)[0]
	if s := m.Msg.Header.Get("Subject"); s != "2 programs are missing: idle1, idle2" {
		t.Errorf("Subject: got %q, want both idle programs in one mail", s)
	}
	for _, want := range []string{"These 2 programs have not been RUNNING for 2s or longer:\n", "Program:     idle1\nState:       STOPPED\n", "Program:     idle2\nState:       STOPPED\n", "Description: Not started\n"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("body: got %q, want it to contain %q", m.Text, want)
		}
	}

	// The idle episodes began before victim's; had --ignore-stopped
	// counted them, they would be in this mail or an earlier one.
	kill(t, sv, "victim")
	wantSubjects(t, ignoring.WaitMails(t, 1, waitMail), "victim is missing")
	wantSubjects(t, counting.WaitMails(t, 2, waitMail), "2 programs are missing: idle1, idle2", "victim is missing")
}

// TestListenerRestartWithState: a listener restarted mid-episode with
// --state does not mail the episode again, and the recovery counts from
// the original start. Mail over SMTP this time.
func TestListenerRestartWithState(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{})
	state := filepath.Join(t.TempDir(), "missing.json")
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{sleeper(t, "victim"), sleeper(t, "marker")},
		Listeners: []svtest.Listener{listener(t, "missingmail",
			"-p victim -p marker --missing-timeout 2 --state "+state+" -m ops@example.com --smtp-host "+srv.Addr+" --from missingmail@example.com")},
	})
	sv.WaitState(t, "victim", rpcclient.StateRunning, waitState)
	sv.WaitState(t, "marker", rpcclient.StateRunning, waitState)
	start(t, sv, "missingmail")
	waitLog(t, sv, "missingmail", "initial check: ", 1)

	kill(t, sv, "victim")
	first := srv.WaitMails(t, 1, waitMail)[0]
	wantSubjects(t, []svtest.Mail{first}, "victim is missing")
	if first.From != "missingmail@example.com" {
		t.Errorf("envelope sender: got %q", first.From)
	}
	// The reported episode is on disk before the restart.
	waitLog(t, sv, "missingmail", "delivered mail \"victim is missing", 1)

	ctx, cancel := context.WithTimeout(context.Background(), waitState)
	defer cancel()
	if err := sv.Client.StopProcess(ctx, "missingmail", true); err != nil {
		t.Fatal(err)
	}
	start(t, sv, "missingmail")
	waitLog(t, sv, "missingmail", "state file "+state+": 1 open episode(s), 1 of them reported", 1)
	waitLog(t, sv, "missingmail", "initial check: 2 watched process(es), 1 not RUNNING", 1)

	kill(t, sv, "marker")
	mails := srv.WaitMails(t, 2, waitMail)
	wantSubjects(t, mails, "victim is missing", "marker is missing")

	start(t, sv, "victim")
	mails = srv.WaitMails(t, 3, waitMail)
	wantSubjects(t, mails, "victim is missing", "marker is missing", "victim is back")
	if got, want := downSince(t, mails[2]), downSince(t, first); got != want {
		t.Errorf("recovery after the restart: down since %q, want the original %q", got, want)
	}
}

// TestSupervisordRestart: supervisord restarts (supervisor.restart, what
// supervisorctl reload does) mid-episode, and the listener with it. A
// program that never starts is not mailed again after the restart; one
// that the restart brought back gets its recovery mail.
func TestSupervisordRestart(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	sink := svtest.NewSendmail(t)
	state := filepath.Join(t.TempDir(), "missing.json")
	l := listener(t, "missingmail", "-p broken -p victim -p marker --missing-timeout 4 --state "+state+" -m ops@example.com -s \""+sink.Command+"\"")
	// Started by supervisord, also after its restart; the programs start
	// first and need no startsecs, so that their start-up is over long
	// before the timeout.
	l.Extra = []string{"priority=900", "buffer_size=50"}
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{
			{Name: "broken", Command: svtest.TestProg(t) + " fail", Extra: []string{"startretries=0", "priority=1"}},
			sleeper(t, "victim", "startsecs=0", "priority=1"),
			sleeper(t, "marker", "startsecs=0", "priority=1"),
		},
		Listeners: []svtest.Listener{l},
	})
	sv.WaitState(t, "broken", rpcclient.StateFatal, waitState)
	waitLog(t, sv, "missingmail", "initial check: ", 1)
	wantSubjects(t, sink.WaitMails(t, 1, waitMail), "broken is missing")
	kill(t, sv, "victim")
	mails := sink.WaitMails(t, 2, waitMail)
	wantSubjects(t, mails, "broken is missing", "victim is missing")
	reported := downSince(t, mails[1])
	waitLog(t, sv, "missingmail", "delivered mail \"victim is missing", 1)

	ctx, cancel := context.WithTimeout(context.Background(), waitState)
	defer cancel()
	if err := sv.Client.Call(ctx, "supervisor.restart", nil); err != nil {
		t.Fatalf("supervisor.restart: %v", err)
	}
	waitLog(t, sv, "missingmail", "state file "+state+": 2 open episode(s), 2 of them reported", 1)
	waitLog(t, sv, "missingmail", "initial check: ", 2)
	sv.WaitState(t, "marker", rpcclient.StateRunning, waitState)
	sv.WaitState(t, "broken", rpcclient.StateFatal, waitState)
	mails = sink.WaitMails(t, 3, waitMail)
	wantSubjects(t, mails, "broken is missing", "victim is missing", "victim is back")
	if got := downSince(t, mails[2]); got != reported {
		t.Errorf("recovery: down since %q, want the reported %q", got, reported)
	}

	// broken has been FATAL again for longer than the timeout by the
	// time marker's mail comes; it must not have been mailed again.
	kill(t, sv, "marker")
	mails = sink.WaitMails(t, 4, waitMail)
	wantSubjects(t, mails, "broken is missing", "victim is missing", "victim is back", "marker is missing")
}

// TestRebootWithState: a program started by hand (autostart=false) goes
// down, then supervisord itself is shut down and started again, as in a
// reboot; the program does not come back. The new supervisord's listener
// takes the episode up from the state file: one mail in all, counting
// from when the program went down.
func TestRebootWithState(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	sink := svtest.NewSendmail(t)
	state := filepath.Join(t.TempDir(), "missing.json")
	cfg := svtest.Config{
		Programs: []svtest.Program{
			sleeper(t, "manual", "autostart=false", "startsecs=0"),
			sleeper(t, "marker", "startsecs=0"),
		},
		// Started by supervisord, before the programs (the default
		// order), with a timeout that leaves the programs' start-up
		// well alone.
		Listeners: []svtest.Listener{{
			Name:    "missingmail",
			Command: svtest.Tool(t, "missingmail") + " -p manual -p marker --missing-timeout 6 --state " + state + " -m ops@example.com -s \"" + sink.Command + "\"",
			Events:  "PROCESS_STATE,TICK_5",
			Extra:   []string{"buffer_size=50"},
		}},
	}
	before := svtest.Start(t, cfg)
	waitLog(t, before, "missingmail", "initial check: ", 1)
	start(t, before, "manual")
	kill(t, before, "manual")
	waitLog(t, before, "missingmail", "manual is EXITED: not RUNNING since ", 1)
	svtest.Eventually(t, waitState, "manual's episode in the state file", func() bool {
		recs, err := episode.Store{Path: state}.Load()
		return err == nil && slices.ContainsFunc(recs, func(r episode.Record) bool { return r.Name == "manual" })
	})
	_, since, _ := strings.Cut(logLine(t, before, "manual is EXITED: not RUNNING since "), "manual is EXITED: not RUNNING since ")
	since, _, _ = strings.Cut(since, ";")

	before.Shutdown(t)
	svtest.Eventually(t, waitState, "the first supervisord to exit", before.Stopped)

	after := svtest.Start(t, cfg)
	waitLog(t, after, "missingmail", "initial check: ", 1)
	m := sink.WaitMails(t, 1, waitMail)[0]
	wantSubjects(t, []svtest.Mail{m}, "manual is missing")
	if got := downSince(t, m); !strings.HasPrefix(got, since) {
		t.Errorf("down since %q, want the time it went down before the restart, %s", got, since)
	}
	kill(t, after, "marker")
	wantSubjects(t, sink.WaitMails(t, 2, waitMail), "manual is missing", "marker is missing")
}

// logLine returns the first line of the listener's stderr that holds substr.
func logLine(t *testing.T, s *svtest.Supervisor, substr string) string {
	t.Helper()
	for _, l := range strings.Split(s.ListenerStderr(t, "missingmail"), "\n") {
		if strings.Contains(l, substr) {
			return l
		}
	}
	t.Fatalf("no line with %q in the listener's stderr", substr)
	return ""
}
