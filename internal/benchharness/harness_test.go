package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/module"
)

func TestEventBytes(t *testing.T) {
	tests := []struct {
		payload, wantHeader string
	}{
		{"processname:web groupname:web from_state:RUNNING expected:1 pid:7", "len:65\n"},
		// supervisord counts characters, not bytes.
		{"café ✓", "len:6\n"},
	}
	for _, tt := range tests {
		got := string(eventBytes(3, "pool", "PROCESS_STATE_EXITED", tt.payload))
		want := "ver:3.0 server:supervisor serial:3 pool:pool poolserial:3 eventname:PROCESS_STATE_EXITED " + tt.wantHeader + tt.payload
		if got != want {
			t.Errorf("eventBytes(%q) = %q, want %q", tt.payload, got, want)
		}
	}
}

func TestRate(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {20000.4, "20,000"}, {1234567, "1,234,567"},
	}
	for _, tt := range tests {
		if got := rate(tt.in); got != tt.want {
			t.Errorf("rate(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMedian(t *testing.T) {
	got := median([]time.Duration{5, 1, 9, 3, 7})
	if got != 5 {
		t.Errorf("median = %v, want 5", got)
	}
}

// TestMeasureTool runs the real crashmail binary and the reference listener
// through a short version of the harness: the protocol exchange must work
// (every event acknowledged, a clean exit on EOF) and every figure must be
// a measurement, not zero.
func TestMeasureTool(t *testing.T) {
	root, err := module.Root()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := build(ctx, root, bin); err != nil {
		t.Fatal(err)
	}
	for _, tl := range []tool{tools[2], floorTool} {
		t.Run(tl.name, func(t *testing.T) {
			r, err := measureTool(filepath.Join(bin, tl.name), tl, options{runs: 2, events: 500}, expectedExit)
			if err != nil {
				t.Fatalf("measureTool: %v", err)
			}
			if r.ready <= 0 || r.rss <= 0 || r.anon <= 0 || r.eventsPerSec <= 0 {
				t.Errorf("got ready %v, rss %d, anon %d, events/s %.0f; want all > 0", r.ready, r.rss, r.anon, r.eventsPerSec)
			}
		})
	}
}

// TestPythonReference runs the Python reference listener through the same
// exchange as the tools, where Debian's supervisor package provides
// supervisor.childutils (make test installs it).
func TestPythonReference(t *testing.T) {
	py, tl, ok := pythonTool(t.TempDir())
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("no python3 with supervisor.childutils; make test installs Debian's supervisor package")
		}
		t.Skip("no python3 with supervisor.childutils")
	}
	r, err := measureTool(py, tl, options{runs: 1, events: 300}, expectedExit)
	if err != nil {
		t.Fatalf("measureTool: %v", err)
	}
	if r.ready <= 0 || r.rss <= 0 || r.eventsPerSec <= 0 {
		t.Errorf("got ready %v, rss %d, events/s %.0f; want all > 0", r.ready, r.rss, r.eventsPerSec)
	}
}
