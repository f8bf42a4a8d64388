package harness

import "testing"

func TestEvent(t *testing.T) {
	tests := []struct {
		payload, wantHeader string
	}{
		{"processname:web groupname:web from_state:RUNNING expected:1 pid:7", "len:65\n"},
		// supervisord counts characters, not bytes.
		{"café ✓", "len:6\n"},
	}
	for _, tt := range tests {
		got := string(Event(3, "pool", "PROCESS_STATE_EXITED", tt.payload))
		want := "ver:3.0 server:supervisor serial:3 pool:pool poolserial:3 eventname:PROCESS_STATE_EXITED " + tt.wantHeader + tt.payload
		if got != want {
			t.Errorf("Event(%q) = %q, want %q", tt.payload, got, want)
		}
	}
}
