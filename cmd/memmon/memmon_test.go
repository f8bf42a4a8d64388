package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// These tests run memmon as an event listener of a real supervisord, on
// TICK_5, against real programs that allocate and touch memory. Each takes
// a few ticks, so they run in parallel.

const waitLong = 45 * time.Second

// memmonListener is an [eventlistener:name] running memmon with args.
func memmonListener(t *testing.T, name string, args ...string) svtest.Listener {
	t.Helper()
	return svtest.Listener{Name: name, Command: svtest.Command(append([]string{svtest.Tool(t, "memmon")}, args...)...), Events: "TICK_5"}
}

func alloc(t *testing.T, name string, args string, extra ...string) svtest.Program {
	t.Helper()
	return svtest.Program{Name: name, Command: svtest.Quote(svtest.TestProg(t)) + " alloc " + args, Extra: extra}
}

// waitRestarted waits until namespec runs with a pid other than old.
func waitRestarted(t *testing.T, sv *svtest.Supervisor, namespec string, old int) {
	t.Helper()
	svtest.Eventually(t, waitLong, namespec+" was not restarted (pid still "+strconv.Itoa(old)+")\n"+sv.Log(t), func() bool {
		pi := sv.Info(t, namespec)
		return pi.PID != 0 && pi.PID != old
	})
}

var rssLine = regexp.MustCompile(`(?m)^memmon: RSS of (\S+) is (\d+)$`)

// loggedRSS returns every RSS memmon logged for namespec, in order.
func loggedRSS(stderr, namespec string) []uint64 {
	var out []uint64
	for _, m := range rssLine.FindAllStringSubmatch(stderr, -1) {
		if m[1] == namespec {
			n, _ := strconv.ParseUint(m[2], 10, 64)
			out = append(out, n)
		}
	}
	return out
}

// scans splits memmon's stderr into the blocks of successive scans.
func scans(stderr string) []string {
	parts := strings.Split(stderr, "memmon: Checking programs ")
	return parts[1:]
}

var restartedBody = regexp.MustCompile(`^memmon\.py restarted the process named hog:hog at [A-Z][a-z]{2} [A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d \d{4} \S+ because it was consuming too much memory \(\d+ bytes RSS\)$`)

// TestRules: -p name, -g, -p group:name and -a together, each winning
// where it is the most specific, one restart per process per tick, and the
// listener never restarting itself.
func TestRules(t *testing.T) {
	t.Parallel()
	svtest.Need(t)
	sink := svtest.NewSendmail(t)
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{
			alloc(t, "hog", "-mb 30"),  // -p hog=10MB (also over -a)
			alloc(t, "big", "-mb 30"),  // over -a, but -p big=100MB decides
			alloc(t, "anyp", "-mb 30"), // -a
			alloc(t, "small", "-mb 1"), // under -a
			alloc(t, "g1", "-mb 30"),   // -g grp=10MB
			alloc(t, "g2", "-mb 30"),   // over -g, but -p grp:g2=100MB decides
		},
		Groups: map[string][]string{"grp": {"g1", "g2"}},
		Listeners: []svtest.Listener{memmonListener(t, "memmon",
			"-p", "hog=10MB", "-p", "big=100MB", "-g", "grp=10MB", "-p", "grp:g2=100MB", "-a", "20MB",
			"-p", "memmon=1", // itself: never restarted
			"-m", "ops@example.com", "-s", sink.Command)},
	})
	first := map[string]int{}
	for _, p := range []string{"hog", "big", "anyp", "small", "grp:g1", "grp:g2", "memmon"} {
		first[p] = sv.WaitState(t, p, rpcclient.StateRunning, 10*time.Second).PID
	}
	waitRestarted(t, sv, "hog", first["hog"])
	waitRestarted(t, sv, "grp:g1", first["grp:g1"])
	waitRestarted(t, sv, "anyp", first["anyp"])

	// Two scans that saw big and g2 with their memory held show that they
	// were over -a / -g and still left alone.
	var stderr string
	svtest.Eventually(t, waitLong, "memmon did not log big:big and grp:g2 over 20 MB twice", func() bool {
		stderr = sv.ListenerStderr(t, "memmon")
		n := 0
		for _, p := range []string{"big:big", "grp:g2"} {
			over := 0
			for _, r := range loggedRSS(stderr, p) {
				if r > 20<<20 {
					over++
				}
			}
			if over >= 2 {
				n++
			}
		}
		return n == 2
	})
	for _, p := range []string{"big", "small", "grp:g2", "memmon"} {
		if pid := sv.Info(t, p).PID; pid != first[p] {
			t.Errorf("%s: pid %d, want %d (not restarted)", p, pid, first[p])
		}
	}
	for _, p := range []string{"big:big", "small:small", "grp:g2", "memmon:memmon"} {
		if strings.Contains(stderr, "Restarting "+p+"\n") {
			t.Errorf("memmon restarted %s:\n%s", p, stderr)
		}
	}
	if strings.Contains(stderr, "RSS of memmon:memmon") {
		t.Errorf("memmon measured itself:\n%s", stderr)
	}
	restarts := 0
	for i, block := range scans(stderr) {
		if n := strings.Count(block, "RSS of hog:hog is"); n > 1 {
			t.Errorf("scan %d logged hog's RSS %d times, want at most 1:\n%s", i, n, block)
		}
		n := strings.Count(block, "Restarting hog:hog\n")
		if n > 1 {
			t.Errorf("scan %d restarted hog %d times, want at most 1:\n%s", i, n, block)
		}
		restarts += n
	}
	if restarts == 0 {
		t.Errorf("no scan restarted hog:\n%s", stderr)
	}

	svtest.Eventually(t, waitLong, "no mail about hog", func() bool {
		for _, m := range sink.Mails(t) {
			if m.Msg.Header.Get("Subject") == "memmon: process hog:hog restarted" {
				if to, err := m.Msg.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "ops@example.com" {
					t.Errorf("To = %q (%v), want ops@example.com", m.Msg.Header.Get("To"), err)
				}
				if !restartedBody.MatchString(strings.TrimSpace(m.Text)) {
					t.Errorf("body = %q, want it to match %v", m.Text, restartedBody)
				}
				return true
			}
		}
		return false
	})
}

// TestCumulative: a parent holding little whose children hold the memory
// is restarted with -c only.
func TestCumulative(t *testing.T) {
	t.Parallel()
	svtest.Need(t)
	family := []string{"stopasgroup=true", "killasgroup=true"}
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{
			alloc(t, "fam1", "-mb 15 -children 2", family...),
			alloc(t, "fam2", "-mb 15 -children 2", family...),
		},
		Listeners: []svtest.Listener{
			memmonListener(t, "plain", "-p", "fam1=20MB"),
			memmonListener(t, "cumulative", "-c", "-p", "fam2=20MB"),
		},
	})
	fam1 := sv.WaitState(t, "fam1", rpcclient.StateRunning, 10*time.Second).PID
	fam2 := sv.WaitState(t, "fam2", rpcclient.StateRunning, 10*time.Second).PID
	waitRestarted(t, sv, "fam2", fam2)
	cum := sv.ListenerStderr(t, "cumulative")
	if rss := loggedRSS(cum, "fam2:fam2"); len(rss) == 0 || rss[len(rss)-1] <= 20<<20 {
		t.Errorf("cumulative RSS of fam2 = %v, want the last above 20 MB:\n%s", rss, cum)
	}
	// Two plain scans after the children hold their memory (fam2's restart
	// shows they do) measure the parent alone, under the limit.
	var plain string
	svtest.Eventually(t, waitLong, "the plain memmon did not scan fam1 twice", func() bool {
		plain = sv.ListenerStderr(t, "plain")
		return len(loggedRSS(plain, "fam1:fam1")) >= 3
	})
	for _, r := range loggedRSS(plain, "fam1:fam1") {
		if r > 20<<20 {
			t.Errorf("plain RSS of fam1:fam1 = %d, want the parent alone (< 20 MB)", r)
		}
	}
	if pid := sv.Info(t, "fam1").PID; pid != fam1 || strings.Contains(plain, "Restarting") {
		t.Errorf("fam1 restarted without -c (pid %d, was %d):\n%s", pid, fam1, plain)
	}
}

// TestUptime: with -u, only a restart of a process that had been up at most
// that long is mailed. The programs hold their memory only 2 s after they
// start, so every restart happens after an uptime of at least 2 s: past
// -u 1, within -u 1h.
func TestUptime(t *testing.T) {
	t.Parallel()
	svtest.Need(t)
	late := func(name string) svtest.Program {
		return svtest.Program{Name: name, Command: "/bin/sh -c " + svtest.Quote("sleep 2; exec "+svtest.Quote(svtest.TestProg(t))+" alloc -mb 30")}
	}
	short, long := svtest.NewSendmail(t), svtest.NewSendmail(t)
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{late("late1"), late("late2")},
		Listeners: []svtest.Listener{
			memmonListener(t, "short", "-p", "late1=20MB", "-u", "1", "-m", "a@example.com", "-s", short.Command),
			memmonListener(t, "long", "-p", "late2=20MB", "-u", "1h", "-m", "b@example.com", "-s", long.Command),
		},
	})
	late1 := sv.WaitState(t, "late1", rpcclient.StateRunning, 10*time.Second).PID
	late2 := sv.WaitState(t, "late2", rpcclient.StateRunning, 10*time.Second).PID
	waitRestarted(t, sv, "late1", late1)
	waitRestarted(t, sv, "late2", late2)
	mails := long.WaitMails(t, 1, waitLong)
	if got := mails[0].Msg.Header.Get("Subject"); got != "memmon: process late2:late2 restarted" {
		t.Errorf("-u 1h: subject %q, want %q", got, "memmon: process late2:late2 restarted")
	}
	// The scan that restarted late1 has finished once the next one starts;
	// stopping the listener then drains its mail queue, so an empty sink
	// afterwards means nothing was mailed.
	svtest.Eventually(t, waitLong, "no scan after late1's restart", func() bool {
		s := sv.ListenerStderr(t, "short")
		i := strings.Index(s, "Restarting late1:late1")
		return i >= 0 && strings.Contains(s[i:], "Checking programs")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sv.Client.StopProcess(ctx, "short", true); err != nil {
		t.Fatalf("stopping the -u 1 listener: %v", err)
	}
	if got := short.Mails(t); len(got) != 0 {
		t.Errorf("-u 1: %d mails (first %q), want none: late1 had been up 2 s or more", len(got), got[0].Msg.Header.Get("Subject"))
	}
}

// TestStartFault: a program that runs the first time and then cannot start
// again. memmon logs and mails the fault with upstream's subject, and keeps
// answering ticks (upstream died here).
func TestStartFault(t *testing.T) {
	t.Parallel()
	svtest.Need(t)
	sink := svtest.NewSendmail(t)
	marker := filepath.Join(t.TempDir(), "started-once")
	script := fmt.Sprintf("if [ -e %s ]; then exit 1; fi; touch %s; exec %s alloc -mb 30", svtest.Quote(marker), svtest.Quote(marker), svtest.Quote(svtest.TestProg(t)))
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{{
			Name: "flaky", Command: "/bin/sh -c " + svtest.Quote(script),
			// The second start exits before startsecs: startProcess(wait)
			// answers SPAWN_ERROR; no retries keep the test short.
			Extra: []string{"startsecs=1", "startretries=0", "autorestart=false"},
		}},
		Listeners: []svtest.Listener{memmonListener(t, "memmon", "-p", "flaky=10MB", "-m", "ops@example.com", "-s", sink.Command, "-n", "prod")},
	})
	listener := sv.WaitState(t, "memmon", rpcclient.StateRunning, 10*time.Second).PID
	// flaky is not awaited in RUNNING: memmon may restart it on the first
	// tick after it gets there, and its second start fails by design, so
	// a slow poll could miss the one RUNNING window. The fault line below
	// is proof enough that it ran once.

	const failed = "memmon: Failed to start process flaky:flaky after stopping it: <Fault 50: 'SPAWN_ERROR: flaky:flaky'>\n"
	var stderr string
	svtest.Eventually(t, waitLong, "memmon did not report the start fault, or did not scan again after it", func() bool {
		stderr = sv.ListenerStderr(t, "memmon")
		i := strings.Index(stderr, failed)
		return i >= 0 && strings.Contains(stderr[i:], "Checking programs")
	})
	mails := sink.WaitMails(t, 1, waitLong)
	if got, want := mails[0].Msg.Header.Get("Subject"), "memmon [prod]: failed to start process flaky:flaky, exiting"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	if got, want := strings.TrimSpace(mails[0].Text), strings.TrimPrefix(strings.TrimSpace(failed), "memmon: "); got != want {
		t.Errorf("body %q, want %q", got, want)
	}
	if pi := sv.Info(t, "memmon"); pi.State != rpcclient.StateRunning || pi.PID != listener {
		t.Errorf("listener is %v with pid %d, want RUNNING with pid %d (never exited)", pi.State, pi.PID, listener)
	}
	if pi := sv.Info(t, "flaky"); pi.PID != 0 {
		t.Errorf("flaky has pid %d, want 0 (it cannot start)", pi.PID)
	}
}

// TestStopFault: a process stuck in STOPPING (it ignores SIGTERM and a stop
// without waiting was asked for) is over its limit; stopProcess answers
// NOT_RUNNING. memmon logs and mails it, does not start the process, and
// keeps answering ticks.
func TestStopFault(t *testing.T) {
	t.Parallel()
	svtest.Need(t)
	sink := svtest.NewSendmail(t)
	l := memmonListener(t, "memmon", "-p", "stuck=1", "-m", "ops@example.com", "-s", sink.Command)
	// Started by the test once stuck is STOPPING, so that no tick sees it
	// RUNNING (stopping it would then wait for stopwaitsecs).
	l.Extra = []string{"autostart=false"}
	// The marker says SIGTERM is ignored: stopping stuck before the shell
	// ran the trap would simply kill it.
	trapped := filepath.Join(t.TempDir(), "trapped")
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{{
			Name: "stuck", Command: "/bin/sh -c " + svtest.Quote("trap '' TERM; touch "+svtest.Quote(trapped)+"; exec sleep 1000"),
			Extra: []string{"startsecs=0", "stopwaitsecs=600", "autorestart=false"},
		}},
		Listeners: []svtest.Listener{l},
	})
	stuck := sv.WaitState(t, "stuck", rpcclient.StateRunning, 10*time.Second).PID
	// Runs before supervisord is stopped, which would otherwise wait for it.
	t.Cleanup(func() { syscall.Kill(stuck, syscall.SIGKILL) })
	svtest.Eventually(t, 10*time.Second, "stuck did not set its SIGTERM trap", func() bool {
		_, err := os.Stat(trapped)
		return err == nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sv.Client.StopProcess(ctx, "stuck", false); err != nil {
		t.Fatalf("stopProcess stuck without waiting: %v", err)
	}
	sv.WaitState(t, "stuck", rpcclient.StateStopping, 10*time.Second)
	if err := sv.Client.StartProcess(ctx, "memmon", true); err != nil {
		t.Fatalf("starting memmon: %v", err)
	}
	listener := sv.Info(t, "memmon").PID

	failed := regexp.MustCompile(`memmon: Failed to stop process stuck:stuck \(RSS \d+\): <Fault 70: 'NOT_RUNNING: stuck:stuck'>\n`)
	var stderr string
	svtest.Eventually(t, waitLong, "memmon did not report the stop fault, or did not scan again after it", func() bool {
		stderr = sv.ListenerStderr(t, "memmon")
		loc := failed.FindStringIndex(stderr)
		return loc != nil && strings.Contains(stderr[loc[1]:], "Checking programs")
	})
	mails := sink.WaitMails(t, 1, waitLong)
	if got, want := mails[0].Msg.Header.Get("Subject"), "memmon: failed to stop process stuck:stuck, exiting"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	if body := strings.TrimSpace(mails[0].Text) + "\n"; !failed.MatchString("memmon: " + body) {
		t.Errorf("body %q, want the logged line", body)
	}
	if pi := sv.Info(t, "memmon"); pi.State != rpcclient.StateRunning || pi.PID != listener {
		t.Errorf("listener is %v with pid %d, want RUNNING with pid %d (never exited)", pi.State, pi.PID, listener)
	}
	if pi := sv.Info(t, "stuck"); pi.State != rpcclient.StateStopping || pi.PID != stuck {
		t.Errorf("stuck is %v with pid %d, want STOPPING with pid %d (memmon must not start it)", pi.State, pi.PID, stuck)
	}
}
