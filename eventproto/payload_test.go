package eventproto

import (
	"strings"
	"testing"
	"time"
)

func TestParseProcessState(t *testing.T) {
	tests := []struct {
		payload string
		want    ProcessState
		wantErr string // substring; "" means success
	}{
		{"processname:sleeper groupname:sleeper from_state:STOPPED tries:0",
			ProcessState{ProcessName: "sleeper", GroupName: "sleeper", FromState: "STOPPED", HasTries: true}, ""},
		{"processname:quick groupname:quick from_state:STARTING tries:1",
			ProcessState{ProcessName: "quick", GroupName: "quick", FromState: "STARTING", Tries: 1, HasTries: true}, ""},
		{"processname:crasher groupname:crasher from_state:RUNNING expected:0 pid:8802",
			ProcessState{ProcessName: "crasher", GroupName: "crasher", FromState: "RUNNING", Pid: 8802, HasPid: true, HasExpected: true}, ""},
		{"processname:okexit groupname:okexit from_state:RUNNING expected:1 pid:9199",
			ProcessState{ProcessName: "okexit", GroupName: "okexit", FromState: "RUNNING", Expected: true, Pid: 9199, HasPid: true, HasExpected: true}, ""},
		{"processname:quick groupname:quick from_state:BACKOFF",
			ProcessState{ProcessName: "quick", GroupName: "quick", FromState: "BACKOFF"}, ""},
		// by key, not position; unknown keys ignored; a trailing newline tolerated
		{"pid:7 future:x from_state:STARTING groupname:web processname:app\n",
			ProcessState{ProcessName: "app", GroupName: "web", FromState: "STARTING", Pid: 7, HasPid: true}, ""},
		{"", ProcessState{}, "missing processname"},
		{"groupname:g from_state:RUNNING", ProcessState{}, "missing processname"},
		{"processname:p from_state:RUNNING", ProcessState{}, "missing groupname"},
		{"processname:p groupname:g", ProcessState{}, "missing from_state"},
		{"processname:p groupname:g from_state:RUNNING pid:abc", ProcessState{}, `invalid pid "abc"`},
		{"processname:p groupname:g from_state:STARTING tries:1.5", ProcessState{}, `invalid tries "1.5"`},
		{"processname:p groupname:g from_state:RUNNING expected:yes pid:1", ProcessState{}, `invalid expected "yes"`},
		{"processname:p groupname:g from_state:RUNNING junk", ProcessState{}, `token "junk" without ':'`},
		{"processname:p groupname:g\nfrom_state:RUNNING", ProcessState{}, "line break"},
	}
	for _, tt := range tests {
		got, err := ParseProcessState(tt.payload)
		checkParse(t, "ParseProcessState", tt.payload, got, err, tt.want, tt.wantErr)
	}
}

// checkParse compares one parser result with the expected value or error.
func checkParse[T comparable](t *testing.T, fn, payload string, got T, err error, want T, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil || got != want {
			t.Errorf("%s(%q) = %+v, %v; want %+v", fn, payload, got, err, want)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Errorf("%s(%q) error = %v, want one containing %q", fn, payload, err, wantErr)
	}
	var zero T
	if got != zero {
		t.Errorf("%s(%q) = %+v with an error, want the zero value", fn, payload, got)
	}
}

func TestNamespec(t *testing.T) {
	tests := []struct{ name, group, want string }{
		{"sleeper", "sleeper", "sleeper"},
		{"worker_00", "worker", "worker:worker_00"},
		{"app", "web", "web:app"},
	}
	for _, tt := range tests {
		if got := (ProcessState{ProcessName: tt.name, GroupName: tt.group}).Namespec(); got != tt.want {
			t.Errorf("Namespec(%q, %q) = %q, want %q", tt.name, tt.group, got, tt.want)
		}
	}
}

func TestParseTick(t *testing.T) {
	tests := []struct {
		payload string
		want    Tick
		wantErr string
	}{
		{"when:1795278005", Tick{time.Unix(1795278005, 0)}, ""},
		{"when:0\n", Tick{time.Unix(0, 0)}, ""},
		{"", Tick{}, "missing when"},
		{"when:", Tick{}, `invalid when ""`},
		{"when:12x", Tick{}, `invalid when "12x"`},
		{"when", Tick{}, "without ':'"},
	}
	for _, tt := range tests {
		got, err := ParseTick(tt.payload)
		checkParse(t, "ParseTick", tt.payload, got, err, tt.want, tt.wantErr)
	}
}

func TestTickPeriod(t *testing.T) {
	tests := []struct {
		name    string
		want    time.Duration
		wantErr bool
	}{
		{"TICK_5", 5 * time.Second, false},
		{"TICK_60", time.Minute, false},
		{"TICK_3600", time.Hour, false},
		{"TICK_0", 0, true},
		{"TICK_-5", 0, true},
		{"TICK_+5", 0, true},
		{"TICK_", 0, true},
		{"TICK_5s", 0, true},
		{"TICK", 0, true},
		{"tick_5", 0, true},
		{"PROCESS_STATE_RUNNING", 0, true},
		{"TICK_99999999999999", 0, true}, // overflows time.Duration
	}
	for _, tt := range tests {
		got, err := TickPeriod(tt.name)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("TickPeriod(%q) = %v, %v; want %v, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseProcessLog(t *testing.T) {
	tests := []struct {
		payload string
		want    ProcessLog
		wantErr string
	}{
		{"processname:logger groupname:logger pid:10588 channel:stdout\nline one to stdout\n",
			ProcessLog{"logger", "logger", 10588, "stdout", "line one to stdout\n"}, ""},
		{"processname:a groupname:g pid:1 channel:stderr\nfirst\nsecond\npartial",
			ProcessLog{"a", "g", 1, "stderr", "first\nsecond\npartial"}, ""},
		{"processname:a groupname:g pid:1 channel:stdout\n", ProcessLog{"a", "g", 1, "stdout", ""}, ""},
		{"processname:a groupname:g pid:1 channel:stdout", ProcessLog{}, "missing newline"},
		{"groupname:g pid:1 channel:stdout\nx", ProcessLog{}, "missing processname"},
		{"processname:a pid:1 channel:stdout\nx", ProcessLog{}, "missing groupname"},
		{"processname:a groupname:g channel:stdout\nx", ProcessLog{}, "missing pid"},
		{"processname:a groupname:g pid:1\nx", ProcessLog{}, "missing channel"},
		{"processname:a groupname:g pid:one channel:stdout\nx", ProcessLog{}, `invalid pid "one"`},
		{"processname:a groupname:g pid:1 channel:stdout oops\nx", ProcessLog{}, "without ':'"},
	}
	for _, tt := range tests {
		got, err := ParseProcessLog(tt.payload)
		checkParse(t, "ParseProcessLog", tt.payload, got, err, tt.want, tt.wantErr)
	}
}

func TestParseProcessCommunication(t *testing.T) {
	tests := []struct {
		payload string
		want    ProcessCommunication
		wantErr string
	}{
		{"processname:comm groupname:comm pid:10179\nhello from comm\nsecond line",
			ProcessCommunication{"comm", "comm", 10179, "hello from comm\nsecond line"}, ""},
		{"processname:comm groupname:comm pid:10179\ncafé ✓", ProcessCommunication{"comm", "comm", 10179, "café ✓"}, ""},
		{"processname:c groupname:g pid:2\n", ProcessCommunication{"c", "g", 2, ""}, ""},
		{"processname:c groupname:g pid:2", ProcessCommunication{}, "missing newline"},
		{"processname:c pid:2\nx", ProcessCommunication{}, "missing groupname"},
		{"groupname:g pid:2\nx", ProcessCommunication{}, "missing processname"},
		{"processname:c groupname:g\nx", ProcessCommunication{}, "missing pid"},
		{"processname:c groupname:g pid:\nx", ProcessCommunication{}, `invalid pid ""`},
		{"", ProcessCommunication{}, "missing newline"},
	}
	for _, tt := range tests {
		got, err := ParseProcessCommunication(tt.payload)
		checkParse(t, "ParseProcessCommunication", tt.payload, got, err, tt.want, tt.wantErr)
	}
}

func TestParseRemoteCommunication(t *testing.T) {
	tests := []struct {
		payload string
		want    RemoteCommunication
		wantErr string
	}{
		{"type:mytype\nhello world", RemoteCommunication{"mytype", "hello world"}, ""},
		{"type:failonce\nx", RemoteCommunication{"failonce", "x"}, ""},
		{"type:a b:c\nline1\nline2\n", RemoteCommunication{"a b:c", "line1\nline2\n"}, ""},
		{"type:\n", RemoteCommunication{}, ""},
		{"type:x", RemoteCommunication{}, "missing newline"},
		{"kind:x\ny", RemoteCommunication{}, "missing type"},
		{"", RemoteCommunication{}, "missing newline"},
	}
	for _, tt := range tests {
		got, err := ParseRemoteCommunication(tt.payload)
		checkParse(t, "ParseRemoteCommunication", tt.payload, got, err, tt.want, tt.wantErr)
	}
}

func TestParseProcessGroup(t *testing.T) {
	tests := []struct {
		payload string
		want    ProcessGroup
		wantErr string
	}{
		{"groupname:web\n", ProcessGroup{"web"}, ""},
		{"groupname:web", ProcessGroup{"web"}, ""},
		{"", ProcessGroup{}, "missing groupname"},
		{"group:web\n", ProcessGroup{}, "missing groupname"},
		{"groupname:web\nextra", ProcessGroup{}, "line break"},
		{"web\n", ProcessGroup{}, "without ':'"},
	}
	for _, tt := range tests {
		got, err := ParseProcessGroup(tt.payload)
		checkParse(t, "ParseProcessGroup", tt.payload, got, err, tt.want, tt.wantErr)
	}
}

func TestPayloadErrorQuotesBounded(t *testing.T) {
	payload := strings.Repeat("x", 1000)
	_, err := ParseProcessState(payload)
	if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), `"xxxx`) {
		t.Errorf("error = %v, want the payload quoted and cut", err)
	}
}
