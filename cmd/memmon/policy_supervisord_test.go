package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// rssOf reads the resident memory of pid from /proc, in bytes.
func rssOf(t *testing.T, pid int) uint64 {
	t.Helper()
	return meminfoField(t, fmt.Sprintf("/proc/%d/status", pid), "VmRSS:")
}

// meminfoField reads a "Name:   N kB" line of a /proc file, in bytes.
func meminfoField(t *testing.T, file, name string) uint64 {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), name); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", file, s.Text(), err)
			}
			return kb << 10
		}
	}
	t.Fatalf("%s: no %s line", file, name)
	return 0
}

// TestOver drives memmon's ticks itself, against a real supervisord and
// real programs: a spike that one tick sees is ignored with --over 2, and
// seen again later counts from 1; a steady leak is restarted on its second
// tick over the limit, and the mail names both readings.
func TestOver(t *testing.T) {
	t.Parallel()
	svtest.Need(t)
	sink := svtest.NewSendmail(t)
	s := svtest.Start(t, svtest.Config{Programs: []svtest.Program{
		alloc(t, "leak", "-mb 30 -step 1MB -every 1s"),
		alloc(t, "spike", "-mb 1 -spike-mb 40"),
	}})
	leak := s.WaitState(t, "leak", rpcclient.StateRunning, 10*time.Second).PID
	spike := s.WaitState(t, "spike", rpcclient.StateRunning, 10*time.Second).PID
	// The signals are handled once the program says it holds its memory.
	svtest.Eventually(t, waitLong, "spike did not start", func() bool { return strings.Contains(s.ProgramStdout(t, "spike"), "holding 1 MB") })
	signal := func(sig syscall.Signal, said string, n int) {
		t.Helper()
		if err := syscall.Kill(spike, sig); err != nil {
			t.Fatal(err)
		}
		svtest.Eventually(t, waitLong, "spike did not say "+said, func() bool { return strings.Count(s.ProgramStdout(t, "spike"), said) >= n })
	}
	p := svtest.Spawn(t, svtest.Tool(t, "memmon"), svtest.SpawnOptions{Env: s.Env()},
		"--over", "2", "-p", "leak=20MB", "-p", "spike=20MB", "-m", "ops@example.com", "-s", sink.Command)
	// waitLog waits until memmon has logged want n times: the scan of a
	// tick runs after the tick is acknowledged.
	waitLog := func(want string, n int) {
		t.Helper()
		svtest.Eventually(t, waitLong, fmt.Sprintf("memmon did not log %q %d times", want, n), func() bool {
			return strings.Count(p.Stderr.String(), want) >= n
		})
	}
	const spikeFirst = "memmon: RSS of spike:spike is over its limit of 20971520 bytes on 1 of 2 ticks in a row (--over 2); not restarting yet\n"

	signal(syscall.SIGUSR1, "spiked by 40 MB", 1)
	p.Send("TICK_5", "when:5")
	waitLog("memmon: RSS of leak:leak is over its limit of 20971520 bytes on 1 of 2 ticks in a row (--over 2); not restarting yet\n", 1)
	waitLog(spikeFirst, 1)

	signal(syscall.SIGUSR2, "spike of 40 MB released", 1)
	svtest.Eventually(t, waitLong, "spike's RSS did not fall under 20 MB", func() bool { return rssOf(t, spike) < 20<<20 })
	p.Send("TICK_5", "when:10")
	waitLog("memmon: RSS of spike:spike is back under its limit of 20971520 bytes after 1 tick over it; counting from 0 again\n", 1)
	if got := s.Info(t, "leak").PID; got == leak || got == 0 {
		t.Fatalf("leak: pid %d after its second tick over the limit, want a new one; stderr:\n%s", got, p.Stderr)
	}

	signal(syscall.SIGUSR1, "spiked by 40 MB", 2)
	p.Send("TICK_5", "when:15")
	waitLog(spikeFirst, 2)
	if got := s.Info(t, "spike").PID; got != spike {
		t.Errorf("spike: pid %d, want %d (never over the limit two ticks in a row)", got, spike)
	}
	if n := strings.Count(p.Stderr.String(), "Restarting "); n != 1 {
		t.Errorf("%d restarts, want 1 (leak's); stderr:\n%s", n, p.Stderr)
	}
	mails := sink.WaitMails(t, 1, waitLong)
	body := strings.TrimSpace(mails[0].Text)
	readings := regexp.MustCompile(`\n\nRSS over the limit of 20971520 bytes on 2 ticks in a row \(--over 2\): (\d+), (\d+) bytes$`).FindStringSubmatch(strings.ReplaceAll(body, "\r\n", "\n"))
	if subj := mails[0].Msg.Header.Get("Subject"); subj != "memmon: process leak:leak restarted" || readings == nil {
		t.Fatalf("mail %q:\n%s\nwant leak's restart with its two readings", subj, body)
	}
	logged := loggedRSS(p.Stderr.String(), "leak:leak")
	if len(logged) < 2 || readings[1] != strconv.FormatUint(logged[0], 10) || readings[2] != strconv.FormatUint(logged[1], 10) {
		t.Errorf("mail readings %s, %s; want the RSS logged on the first two ticks %v", readings[1], readings[2], logged)
	}
}

// TestPercentLimit: a limit given as a share of the machine's memory is
// logged in bytes at start and enforced on supervisord's ticks.
func TestPercentLimit(t *testing.T) {
	t.Parallel()
	svtest.Need(t)
	total := meminfoField(t, "/proc/meminfo", "MemTotal:")
	// About 10 MB, whatever the machine: hog (30 MB) is over, small is not.
	pct := strconv.FormatFloat(float64(10<<20)/float64(total)*100, 'f', 6, 64) + "%"
	l := memmonListener(t, "memmon", "-p", "hog="+pct, "-g", "small="+pct)
	// supervisord expands %(name)s in command=: a literal % is written %%.
	l.Command = strings.ReplaceAll(l.Command, "%", "%%")
	sv := svtest.Start(t, svtest.Config{
		Programs:  []svtest.Program{alloc(t, "hog", "-mb 30"), alloc(t, "small", "-mb 1")},
		Listeners: []svtest.Listener{l},
	})
	hog := sv.WaitState(t, "hog", rpcclient.StateRunning, 10*time.Second).PID
	small := sv.WaitState(t, "small", rpcclient.StateRunning, 10*time.Second).PID
	waitRestarted(t, sv, "hog", hog)
	stderr := sv.ListenerStderr(t, "memmon")
	m := regexp.MustCompile(`memmon: MemTotal is (\d+) bytes: -p hog=` + regexp.QuoteMeta(pct) + ` is (\d+) bytes\n`).FindStringSubmatch(stderr)
	if m == nil || m[1] != strconv.FormatUint(total, 10) {
		t.Fatalf("stderr lacks the limit in bytes of MemTotal %d:\n%s", total, stderr)
	}
	limit, _ := strconv.ParseUint(m[2], 10, 64)
	if limit < 9<<20 || limit > 11<<20 {
		t.Errorf("-p hog=%s is %d bytes, want about 10 MB", pct, limit)
	}
	if !strings.Contains(stderr, fmt.Sprintf("memmon: MemTotal is %d bytes: -g small=%s is %d bytes\n", total, pct, limit)) {
		t.Errorf("stderr lacks the -g limit in bytes:\n%s", stderr)
	}
	svtest.Eventually(t, waitLong, "small was not measured under its limit", func() bool {
		rss := loggedRSS(sv.ListenerStderr(t, "memmon"), "small:small")
		return len(rss) > 0 && rss[len(rss)-1] <= limit
	})
	if got := sv.Info(t, "small").PID; got != small {
		t.Errorf("small: pid %d, want %d (under its limit)", got, small)
	}
}
