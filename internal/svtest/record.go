package svtest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// RecordPool is the name of the recording listener's pool (and process).
const RecordPool = "record"

// Recording is a supervisord with one more event listener, RecordPool,
// that stores every byte supervisord sends it (misbehave record).
type Recording struct {
	*Supervisor
	File string // the raw stream so far
}

// StartRecording starts supervisord with cfg plus the recording listener
// subscribed to events (an events= value, e.g. "PROCESS_STATE,TICK_5").
// Its buffer holds 100 events, so a burst at startup is not dropped.
func StartRecording(t testing.TB, cfg Config, events string) *Recording {
	t.Helper()
	file := filepath.Join(t.TempDir(), "stream.txt")
	cfg.Listeners = append(slices.Clone(cfg.Listeners), Listener{
		Name:    RecordPool,
		Command: TestProg(t) + " record -out " + file,
		Events:  events,
		Extra:   []string{"buffer_size=100"},
	})
	return &Recording{Supervisor: Start(t, cfg), File: file}
}

// Stream returns the bytes recorded so far.
func (r *Recording) Stream(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(r.File)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// WaitStream waits until the stream contains want (e.g.
// "eventname:PROCESS_STATE_EXITED") after byte offset from, and returns the
// whole stream.
func (r *Recording) WaitStream(t testing.TB, from int, want string, timeout time.Duration) string {
	t.Helper()
	var s string
	Eventually(t, timeout, "the recorded stream never showed "+want, func() bool {
		s = r.Stream(t)
		return len(s) >= from && strings.Contains(s[from:], want)
	})
	return s
}

// Record runs scenario against a supervisord started with cfg and the
// recording listener subscribed to events, and returns the recorded stream.
// The scenario must itself wait (WaitStream) until the events it causes have
// arrived. When out is not empty the stream is also written there.
func Record(t testing.TB, cfg Config, events string, scenario func(r *Recording), out string) string {
	t.Helper()
	r := StartRecording(t, cfg, events)
	scenario(r)
	stream := r.Stream(t)
	if out != "" {
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, []byte(stream), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return stream
}
