package eventproto

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// eventsDir holds real supervisord 4.2.5 stdin captures (see its README).
const eventsDir = "../testdata/supervisor/events"

// transcriptFile is the listener's own stdout, not an event stream.
const transcriptFile = "listener-stdout-as-logged.txt"

// readStream feeds a whole capture to a Listener as stdin, answering every
// event OK, and requires the stream to end cleanly with io.EOF.
func readStream(t *testing.T, data []byte) (events []Event, stdout string) {
	t.Helper()
	var out bytes.Buffer
	l := NewListener(bytes.NewReader(data), &out)
	for {
		ev, err := l.Next()
		if err == io.EOF {
			return events, out.String()
		}
		if err != nil {
			t.Fatalf("after %d events: Next: %v", len(events), err)
		}
		events = append(events, ev)
		if err := l.OK(); err != nil {
			t.Fatalf("OK: %v", err)
		}
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// expandNames turns the abbreviated names of goldenStreams into event names.
func expandNames(s string) []string {
	r := strings.NewReplacer("PS_", "PROCESS_STATE_", "PG_", "PROCESS_GROUP_",
		"PC_", "PROCESS_COMMUNICATION_", "PL_", "PROCESS_LOG_", "SSC_", "SUPERVISOR_STATE_CHANGE_")
	return strings.Fields(r.Replace(s))
}

// goldenStreams lists every event capture except full-stream.txt (checked
// against these below) with what a listener must see in it. Every capture
// had one listener process per pool, so poolserial equals serial throughout.
var goldenStreams = []struct {
	file    string
	serials []int64
	names   string // abbreviated, see expandNames
	pool    string
	repeats []int // indexes of events that are redeliveries
}{
	{file: "backoff-fatal.txt",
		serials: []int64{32, 33, 34, 35, 36, 37, 38},
		names:   "TICK_5 PS_STARTING PS_BACKOFF PS_STARTING PS_BACKOFF PS_FATAL TICK_5",
		pool:    "dump",
	},
	{file: "cross-pool/different-priority-ok-pool.txt",
		serials: []int64{0, 1, 2},
		names:   "TICK_5 TICK_5 TICK_5",
		pool:    "good",
	},
	{file: "cross-pool/different-priority-rejecting-pool.txt",
		serials: []int64{0, 0, 1},
		names:   "TICK_5 TICK_5 TICK_5",
		pool:    "rejecter",
		repeats: []int{1},
	},
	{file: "cross-pool/same-priority-ok-pool.txt",
		serials: []int64{0, 0, 1},
		names:   "TICK_5 TICK_5 TICK_5",
		pool:    "good",
		repeats: []int{1},
	},
	{file: "cross-pool/same-priority-rejecting-pool.txt",
		serials: []int64{0, 0, 1},
		names:   "TICK_5 TICK_5 TICK_5",
		pool:    "rejecter",
		repeats: []int{1},
	},
	{file: "cross-pool/unsubscribed-pool-gets-foreign-event.txt",
		serials: []int64{0},
		names:   "TICK_5",
		pool:    "good",
	},
	{file: "exit-expected.txt",
		serials: []int64{27, 28, 29, 30, 31},
		names:   "TICK_5 PS_STARTING PS_RUNNING PS_EXITED TICK_5",
		pool:    "dump",
	},
	{file: "exit-unexpected.txt",
		serials: []int64{23, 24, 25, 26},
		names:   "PS_STARTING PS_RUNNING TICK_5 PS_EXITED",
		pool:    "dump",
	},
	{file: "fail-rebuffer.txt",
		serials: []int64{66, 67, 67, 68},
		names:   "TICK_5 REMOTE_COMMUNICATION REMOTE_COMMUNICATION TICK_5",
		pool:    "dump",
		repeats: []int{2},
	},
	{file: "group-namespec.txt",
		serials: []int64{43, 44, 45, 46, 47, 48, 49, 50, 51, 52},
		names:   "TICK_5 PS_STARTING PS_STARTING PS_RUNNING PS_RUNNING PS_STARTING PS_RUNNING PS_STOPPING PS_STOPPED TICK_5",
		pool:    "dump",
	},
	{file: "killed-autorestart.txt",
		serials: []int64{39, 40, 41, 42},
		names:   "PS_EXITED PS_STARTING TICK_5 PS_RUNNING",
		pool:    "dump",
	},
	{file: "listener-died-redelivery.txt",
		serials: []int64{0, 0, 1},
		names:   "TICK_5 TICK_5 TICK_5",
		pool:    "dier",
		repeats: []int{1},
	},
	{file: "process-communication.txt",
		serials: []int64{53, 54, 55, 56, 57, 58},
		names:   "PS_STARTING PS_RUNNING TICK_5 PC_STDOUT PC_STDOUT PC_STDERR",
		pool:    "dump",
	},
	{file: "process-group-removed-added.txt",
		serials: []int64{69, 70, 71, 72, 73, 74, 75},
		names:   "PG_REMOVED PG_ADDED TICK_5 TICK_5 TICK_5 TICK_5 TICK_5",
		pool:    "dump",
	},
	{file: "process-log-undecodable.txt",
		serials: []int64{0},
		names:   "PL_STDOUT",
		pool:    "l",
	},
	{file: "process-log.txt",
		serials: []int64{59, 60, 61, 62, 63, 64},
		names:   "TICK_5 PS_STARTING PS_RUNNING PL_STDOUT PL_STDERR TICK_5",
		pool:    "dump",
	},
	{file: "remote-communication.txt",
		serials: []int64{65},
		names:   "REMOTE_COMMUNICATION",
		pool:    "dump",
	},
	{file: "shutdown.txt",
		serials: []int64{106, 107, 108, 109},
		names:   "SSC_STOPPING PS_STOPPING PS_STOPPED PS_STOPPING",
		pool:    "dump",
	},
	{file: "startup.txt",
		serials: []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
		names:   "PG_ADDED PG_ADDED PG_ADDED PG_ADDED PG_ADDED PG_ADDED PG_ADDED PG_ADDED PG_ADDED PG_ADDED SSC_RUNNING PS_STARTING PS_STARTING PS_RUNNING PS_RUNNING TICK_5 TICK_5 TICK_5",
		pool:    "dump",
	},
	{file: "stop-start.txt",
		serials: []int64{18, 19, 20, 21, 22},
		names:   "PS_STOPPING PS_STOPPED PS_STARTING PS_RUNNING TICK_5",
		pool:    "dump",
	},
	{file: "xmlrpc-driven.txt",
		serials: []int64{76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105},
		names:   "PS_STOPPING PS_STOPPED PS_STARTING PS_RUNNING TICK_5 PS_STARTING PS_STARTING PS_BACKOFF PS_STOPPING PS_STOPPED PS_STOPPING PS_STOPPED PS_STARTING PS_STARTING PS_RUNNING PS_STARTING PS_BACKOFF PS_FATAL PS_RUNNING PS_RUNNING PS_STOPPING PS_STOPPING PS_STOPPED PS_STOPPED PS_EXITED TICK_5 TICK_5 TICK_5 TICK_5 TICK_5",
		pool:    "dump",
	},
}

func TestGoldenStreams(t *testing.T) {
	// Every capture in the directory must be covered, so a new one cannot
	// go untested.
	var onDisk []string
	err := filepath.WalkDir(eventsDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".txt") {
			rel, _ := filepath.Rel(eventsDir, path)
			onDisk = append(onDisk, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	covered := []string{"full-stream.txt", transcriptFile}
	for _, g := range goldenStreams {
		covered = append(covered, g.file)
	}
	for _, f := range onDisk {
		if !slices.Contains(covered, f) {
			t.Errorf("capture %s has no golden expectations", f)
		}
	}

	for _, g := range goldenStreams {
		t.Run(g.file, func(t *testing.T) {
			data := readFile(t, g.file)
			events, stdout := readStream(t, data)
			names := expandNames(g.names)
			if len(events) != len(g.serials) || len(events) != len(names) {
				t.Fatalf("got %d events, want %d", len(events), len(g.serials))
			}
			wantOut := strings.Repeat("READY\nRESULT 2\nOK", len(events)) + "READY\n"
			if stdout != wantOut {
				t.Errorf("stdout = %q, want %q", stdout, wantOut)
			}
			for i, ev := range events {
				h := ev.Header
				if h.Serial != g.serials[i] || h.PoolSerial != g.serials[i] {
					t.Errorf("event %d: serial %d poolserial %d, want %d", i, h.Serial, h.PoolSerial, g.serials[i])
				}
				if h.EventName != names[i] || ev.Name() != names[i] {
					t.Errorf("event %d: name %q, want %q", i, h.EventName, names[i])
				}
				if h.Pool != g.pool || h.Ver != "3.0" || h.Server != "supervisor" {
					t.Errorf("event %d: pool %q ver %q server %q, want %q 3.0 supervisor", i, h.Pool, h.Ver, h.Server, g.pool)
				}
				if n := utf8.RuneCountInString(ev.Payload); n != h.Len {
					t.Errorf("event %d: payload has %d characters, want len %d", i, n, h.Len)
				}
				if name, _ := h.Token("eventname"); len(strings.Fields(h.Line)) != 7 || name != names[i] {
					t.Errorf("event %d: header line %q, want the 7 header tokens", i, h.Line)
				}
				wantRepeat := slices.Contains(g.repeats, i)
				if ev.Repeat != wantRepeat {
					t.Errorf("event %d (serial %d): Repeat = %v, want %v", i, h.Serial, ev.Repeat, wantRepeat)
				}
				if ev.Missed != 0 {
					t.Errorf("event %d: Missed = %d, want 0", i, ev.Missed)
				}
			}
		})
	}
}

// TestGoldenFullStream checks the README's claim that full-stream.txt is
// the scenario files concatenated in serial order, event by event.
func TestGoldenFullStream(t *testing.T) {
	full, _ := readStream(t, readFile(t, "full-stream.txt"))
	if len(full) != 111 {
		t.Fatalf("got %d events, want 111", len(full))
	}
	var scenarios [][]Event
	for _, g := range goldenStreams {
		if strings.HasPrefix(g.file, "cross-pool/") || g.pool != "dump" {
			continue // separate supervisord runs
		}
		evs, _ := readStream(t, readFile(t, g.file))
		scenarios = append(scenarios, evs)
	}
	slices.SortFunc(scenarios, func(a, b []Event) int { return int(a[0].Header.Serial - b[0].Header.Serial) })
	concat := slices.Concat(scenarios...)
	if len(concat) != len(full) {
		t.Fatalf("scenario files hold %d events, full stream %d", len(concat), len(full))
	}
	for i := range full {
		f, c := full[i], concat[i]
		if f.Header.Serial != c.Header.Serial || f.Name() != c.Name() || f.Payload != c.Payload {
			t.Errorf("event %d: full stream has %d %s %q, scenarios %d %s %q",
				i, f.Header.Serial, f.Name(), f.Payload, c.Header.Serial, c.Name(), c.Payload)
		}
	}
	// serials 0..109 in order, 67 twice (the FAIL redelivery), no gaps.
	var want []int64
	for s := int64(0); s <= 109; s++ {
		want = append(want, s)
		if s == 67 {
			want = append(want, s)
		}
	}
	var got []int64
	for _, ev := range full {
		got = append(got, ev.Header.Serial)
	}
	if !slices.Equal(got, want) {
		t.Errorf("serials = %v, want %v", got, want)
	}
}

// TestGoldenPayloads parses every payload of the main run with its typed
// parser and spot-checks values against the README's scenarios.
func TestGoldenPayloads(t *testing.T) {
	full, _ := readStream(t, readFile(t, "full-stream.txt"))
	states := map[int64]ProcessState{}
	ticks, groups := 0, 0
	var comms []ProcessCommunication
	var logs []ProcessLog
	var remotes []RemoteCommunication
	for _, ev := range full {
		name := ev.Name()
		var err error
		switch {
		case strings.HasPrefix(name, "PROCESS_STATE_"):
			var p ProcessState
			p, err = ParseProcessState(ev.Payload)
			states[ev.Header.Serial] = p
		case ev.IsTick():
			var tk Tick
			tk, err = ParseTick(ev.Payload)
			period, perr := TickPeriod(name)
			if perr != nil || period != 5*time.Second {
				t.Errorf("TickPeriod(%q) = %v, %v, want 5s", name, period, perr)
			}
			if tk.When.Unix()%5 != 0 || tk.When.Year() != 2026 {
				t.Errorf("serial %d: when %v, want a 5 s boundary in 2026", ev.Header.Serial, tk.When)
			}
			ticks++
		case strings.HasPrefix(name, "PROCESS_COMMUNICATION_"):
			var c ProcessCommunication
			c, err = ParseProcessCommunication(ev.Payload)
			comms = append(comms, c)
		case strings.HasPrefix(name, "PROCESS_LOG_"):
			var l ProcessLog
			l, err = ParseProcessLog(ev.Payload)
			logs = append(logs, l)
		case name == RemoteCommunicationEvent:
			var r RemoteCommunication
			r, err = ParseRemoteCommunication(ev.Payload)
			remotes = append(remotes, r)
		case strings.HasPrefix(name, "PROCESS_GROUP_"):
			_, err = ParseProcessGroup(ev.Payload)
			groups++
		case strings.HasPrefix(name, "SUPERVISOR_STATE_CHANGE_"):
			if ev.Payload != "" || ev.Header.Len != 0 {
				t.Errorf("serial %d: %s payload %q, want empty", ev.Header.Serial, name, ev.Payload)
			}
		default:
			t.Errorf("serial %d: unexpected event %s", ev.Header.Serial, name)
		}
		if err != nil {
			t.Errorf("serial %d %s: %v", ev.Header.Serial, name, err)
		}
	}
	if ticks != 28 || groups != 12 || len(comms) != 3 || len(logs) != 2 || len(remotes) != 3 || len(states) != 61 {
		t.Errorf("got %d ticks, %d group, %d comm, %d log, %d remote, %d state events; want 28, 12, 3, 2, 3, 61",
			ticks, groups, len(comms), len(logs), len(remotes), len(states))
	}

	stateTests := []struct {
		serial int64
		want   ProcessState
		spec   string
	}{
		{26, ProcessState{ProcessName: "crasher", GroupName: "crasher", FromState: "RUNNING", Expected: false, Pid: 8802, HasExpected: true, HasPid: true}, "crasher"},
		{30, ProcessState{ProcessName: "okexit", GroupName: "okexit", FromState: "RUNNING", Expected: true, Pid: 9199, HasExpected: true, HasPid: true}, "okexit"},
		{33, ProcessState{ProcessName: "quick", GroupName: "quick", FromState: "STOPPED", Tries: 0, HasTries: true}, "quick"},
		{36, ProcessState{ProcessName: "quick", GroupName: "quick", FromState: "STARTING", Tries: 2, HasTries: true}, "quick"},
		{37, ProcessState{ProcessName: "quick", GroupName: "quick", FromState: "BACKOFF"}, "quick"},
		{46, ProcessState{ProcessName: "worker_00", GroupName: "worker", FromState: "STARTING", Pid: 9818, HasPid: true}, "worker:worker_00"},
		{51, ProcessState{ProcessName: "app", GroupName: "web", FromState: "STOPPING", Pid: 9937, HasPid: true}, "web:app"},
	}
	for _, tt := range stateTests {
		got := states[tt.serial]
		if got != tt.want {
			t.Errorf("serial %d: got %+v, want %+v", tt.serial, got, tt.want)
		}
		if got.Namespec() != tt.spec {
			t.Errorf("serial %d: Namespec() = %q, want %q", tt.serial, got.Namespec(), tt.spec)
		}
	}

	wantComms := []ProcessCommunication{
		{"comm", "comm", 10179, "hello from comm\nsecond line"},
		{"comm", "comm", 10179, "café ✓"},
		{"comm", "comm", 10179, "on stderr"},
	}
	if !slices.Equal(comms, wantComms) {
		t.Errorf("communication payloads = %+v, want %+v", comms, wantComms)
	}
	wantLogs := []ProcessLog{
		{"logger", "logger", 10588, "stdout", "line one to stdout\n"},
		{"logger", "logger", 10588, "stderr", "oops on stderr\n"},
	}
	if !slices.Equal(logs, wantLogs) {
		t.Errorf("log payloads = %+v, want %+v", logs, wantLogs)
	}
	wantRemotes := []RemoteCommunication{{"mytype", "hello world"}, {"failonce", "x"}, {"failonce", "x"}}
	if !slices.Equal(remotes, wantRemotes) {
		t.Errorf("remote payloads = %q, want %q", remotes, wantRemotes)
	}
}

// TestGoldenCharacterLength checks the one capture where len (characters)
// and the payload size in bytes differ.
func TestGoldenCharacterLength(t *testing.T) {
	events, _ := readStream(t, readFile(t, "process-communication.txt"))
	ev := events[4]
	if ev.Header.Serial != 57 || ev.Header.Len != 48 || len(ev.Payload) != 51 {
		t.Fatalf("serial %d: len %d, %d bytes; want serial 57, len 48, 51 bytes", ev.Header.Serial, ev.Header.Len, len(ev.Payload))
	}
	c, err := ParseProcessCommunication(ev.Payload)
	if err != nil || c.Data != "café ✓" {
		t.Errorf("data = %q, %v; want %q", c.Data, err, "café ✓")
	}
	// The next event must start right after: reading bytes instead of
	// characters would have cut into its header.
	if next := events[5]; next.Header.Serial != 58 || next.Name() != ProcessCommunicationStderr {
		t.Errorf("next event: serial %d %s, want 58 %s", next.Header.Serial, next.Name(), ProcessCommunicationStderr)
	}
}

func TestGoldenUndecodable(t *testing.T) {
	events, _ := readStream(t, readFile(t, "process-log-undecodable.txt"))
	pl, err := ParseProcessLog(events[0].Payload)
	want := ProcessLog{"badutf", "badutf", 17383, "stdout", `Undecodable: b'\xff\xfe ok\n'`}
	if err != nil || pl != want {
		t.Errorf("got %+v, %v; want %+v", pl, err, want)
	}
}

// TestGoldenTranscript replays the main run and answers each event as the
// captured listener did (its stdout as supervisord logged it): the bytes we
// write must be identical.
func TestGoldenTranscript(t *testing.T) {
	logged := string(readFile(t, transcriptFile))
	// The logged answers, in order: everything between two READYs.
	answers := strings.Split(strings.TrimSuffix(strings.TrimPrefix(logged, "READY\n"), "READY\n"), "READY\n")

	var out bytes.Buffer
	l := NewListener(bytes.NewReader(readFile(t, "full-stream.txt")), &out)
	n := 0
	for ; ; n++ {
		ev, err := l.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("event %d: %v", n, err)
		}
		if n >= len(answers) {
			t.Fatalf("event %d (serial %d) has no logged answer", n, ev.Header.Serial)
		}
		switch answers[n] {
		case "RESULT 2\nOK":
			err = l.OK()
		case "RESULT 4\nFAIL":
			if ev.Header.Serial != 67 || ev.Repeat {
				t.Errorf("FAIL logged for serial %d (repeat %v), want the first delivery of 67", ev.Header.Serial, ev.Repeat)
			}
			err = l.Fail()
		default:
			t.Fatalf("unexpected logged answer %q", answers[n])
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n != len(answers) {
		t.Errorf("got %d events, the log answered %d", n, len(answers))
	}
	if out.String() != logged {
		t.Errorf("stdout differs from the logged listener output:\ngot  %q\nwant %q", out.String(), logged)
	}
}
