package svtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/rpcclient"
)

const goldenEvents = "../../testdata/supervisor/events"

// parseStream decodes a recorded stream with eventproto, dropping ticks.
func parseStream(t *testing.T, stream string) []eventproto.Event {
	t.Helper()
	l := eventproto.NewListener(strings.NewReader(stream), io.Discard)
	var events []eventproto.Event
	for {
		ev, err := l.Next()
		if errors.Is(err, io.EOF) {
			return events
		}
		if err != nil {
			t.Fatalf("parsing stream after %d events: %v", len(events), err)
		}
		if !ev.IsTick() {
			events = append(events, ev)
		}
		l.OK()
	}
}

func names(events []eventproto.Event) []string {
	var out []string
	for _, ev := range events {
		out = append(out, ev.Name())
	}
	return out
}

// checkStartup checks the shape supervisord gives the start of a stream:
// one PROCESS_GROUP_ADDED per group, the listener's own pool first, the
// others by name; SUPERVISOR_STATE_CHANGE_RUNNING; then STARTING and
// RUNNING of every autostart process. It returns the events after that.
func checkStartup(events []eventproto.Event, pool string, groups, autostart []string) ([]eventproto.Event, error) {
	wantGroups := append([]string{pool}, groups...)
	slices.Sort(wantGroups[1:])
	i := 0
	for ; i < len(events) && events[i].Name() == "PROCESS_GROUP_ADDED"; i++ {
		g, err := eventproto.ParseProcessGroup(events[i].Payload)
		if err != nil {
			return nil, err
		}
		if i >= len(wantGroups) || g.GroupName != wantGroups[i] {
			return nil, fmt.Errorf("PROCESS_GROUP_ADDED #%d is %q, want groups %v", i, g.GroupName, wantGroups)
		}
	}
	if i != len(wantGroups) {
		return nil, fmt.Errorf("got %d PROCESS_GROUP_ADDED, want %d (%v)", i, len(wantGroups), wantGroups)
	}
	if i >= len(events) || events[i].Name() != "SUPERVISOR_STATE_CHANGE_RUNNING" || events[i].Payload != "" {
		return nil, fmt.Errorf("event #%d is not an empty SUPERVISOR_STATE_CHANGE_RUNNING: %v", i, names(events))
	}
	i++
	starting, running := map[string]bool{}, map[string]bool{}
	for ; i < len(events) && len(running) < len(autostart); i++ {
		ps, err := eventproto.ParseProcessState(events[i].Payload)
		if err != nil {
			return nil, err
		}
		switch events[i].Name() {
		case "PROCESS_STATE_STARTING":
			if ps.FromState != "STOPPED" || ps.Tries != 0 {
				return nil, fmt.Errorf("startup STARTING of %s from %s tries %d, want from STOPPED tries 0", ps.Namespec(), ps.FromState, ps.Tries)
			}
			starting[ps.Namespec()] = true
		case "PROCESS_STATE_RUNNING":
			if !starting[ps.Namespec()] || ps.FromState != "STARTING" || ps.Pid <= 0 {
				return nil, fmt.Errorf("startup RUNNING of %s (from %s, pid %d) without STARTING first", ps.Namespec(), ps.FromState, ps.Pid)
			}
			running[ps.Namespec()] = true
		default:
			return nil, fmt.Errorf("unexpected %s during startup", events[i].Name())
		}
	}
	for _, p := range autostart {
		if !running[p] {
			return nil, fmt.Errorf("no STARTING/RUNNING for %s in %v", p, names(events))
		}
	}
	return events[i:], nil
}

func readGolden(t *testing.T, name string) []eventproto.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenEvents, name))
	if err != nil {
		t.Fatal(err)
	}
	return parseStream(t, string(b))
}

// TestGoldenStartupShape checks checkStartup itself against the golden capture.
func TestGoldenStartupShape(t *testing.T) {
	events := readGolden(t, "startup.txt")
	groups := []string{"comm", "crasher", "logger", "missing", "okexit", "quick", "sleeper", "web", "worker"}
	if _, err := checkStartup(events, "dump", groups, []string{"dump", "sleeper"}); err != nil {
		t.Fatalf("golden startup.txt: %v", err)
	}
	if _, err := checkStartup(events, "dump", groups[1:], []string{"dump", "sleeper"}); err == nil {
		t.Error("checkStartup accepted a stream with an extra group")
	}
}

// TestRecordStream records a real stream (startup, stop/start of a program,
// a crash) and checks it against the structure of the golden captures.
// With SVTEST_RECORD=dir the three parts are written to dir as
// startup.txt, stop-start.txt and exit-unexpected.txt.
func TestRecordStream(t *testing.T) {
	Need(t)
	t.Parallel()
	prog := TestProg(t)
	out := os.Getenv("SVTEST_RECORD")
	cfg := Config{
		Programs: []Program{
			{Name: "sleeper", Command: prog + " sleep"},
			{Name: "crasher", Command: prog + " crash -after 2s -code 3", Extra: []string{"autostart=false", "autorestart=false"}},
			{Name: "app", Command: prog + " sleep"},
		},
		Groups: map[string][]string{"web": {"app"}},
	}
	var parts [3]string // startup, stop-start, exit-unexpected
	Record(t, cfg, "PROCESS_STATE,SUPERVISOR_STATE_CHANGE,PROCESS_GROUP", func(r *Recording) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Startup ends with the RUNNING of the last of three processes.
		s := ""
		Eventually(t, 15*time.Second, "startup events never all arrived", func() bool {
			s = r.Stream(t)
			return strings.Count(s, "eventname:PROCESS_STATE_RUNNING") == 3
		})
		parts[0] = s

		if err := r.Client.StopProcess(ctx, "sleeper", true); err != nil {
			t.Fatal(err)
		}
		if err := r.Client.StartProcess(ctx, "sleeper", true); err != nil {
			t.Fatal(err)
		}
		s = r.WaitStream(t, len(parts[0]), "eventname:PROCESS_STATE_RUNNING", 10*time.Second)
		parts[1] = s[len(parts[0]):]

		if err := r.Client.StartProcess(ctx, "crasher", false); err != nil {
			t.Fatal(err)
		}
		s = r.WaitStream(t, len(parts[0])+len(parts[1]), "eventname:PROCESS_STATE_EXITED", 10*time.Second)
		parts[2] = s[len(parts[0])+len(parts[1]):]
		r.WaitState(t, "crasher", rpcclient.StateExited, 5*time.Second)
	}, "")

	if out != "" {
		for i, name := range []string{"startup.txt", "stop-start.txt", "exit-unexpected.txt"} {
			if err := os.WriteFile(filepath.Join(out, name), []byte(parts[i]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("wrote the recorded streams to %s", out)
	}

	startup := parseStream(t, parts[0])
	for i, ev := range startup {
		h := ev.Header
		if h.Ver != "3.0" || h.Server != "supervisor" || h.Pool != RecordPool || h.Serial != int64(i) || h.PoolSerial != int64(i) {
			t.Errorf("startup event %d header %+v, want ver 3.0, server supervisor, pool %s, serial %d", i, h, RecordPool, i)
		}
	}
	rest, err := checkStartup(startup, RecordPool, []string{"crasher", "sleeper", "web"}, []string{RecordPool, "sleeper", "web:app"})
	if err != nil {
		t.Errorf("recorded startup: %v\n%s", err, parts[0])
	}
	if len(rest) != 0 {
		t.Errorf("recorded startup has extra events %v", names(rest))
	}

	for i, golden := range []string{"stop-start.txt", "exit-unexpected.txt"} {
		got, want := names(parseStream(t, parts[i+1])), names(readGolden(t, golden))
		if !slices.Equal(got, want) {
			t.Errorf("recorded %s: events %v, want %v as in the golden file", golden, got, want)
		}
	}
	crash := parseStream(t, parts[2])
	if n := len(crash); n > 0 {
		ps, err := eventproto.ParseProcessState(crash[n-1].Payload)
		if err != nil || ps.ProcessName != "crasher" || ps.FromState != "RUNNING" || !ps.HasExpected || ps.Expected || ps.Pid <= 0 {
			t.Errorf("crash event payload %q parsed as %+v, %v; want crasher from RUNNING expected:0 with a pid", crash[n-1].Payload, ps, err)
		}
	}
}
