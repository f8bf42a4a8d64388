package main

import (
	"os"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/module"
	"github.com/superlance-go/superlance/internal/svtest"
	toollist "github.com/superlance-go/superlance/internal/tools"
)

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

// TestMeasureTool runs a listener through a short version of the harness:
// the protocol exchange must work (every event acknowledged, a clean exit
// on EOF) and every figure must be a measurement, not zero. The listener
// is the tests' recording one, which is built anyway; the tools are what
// `make bench` measures.
func TestMeasureTool(t *testing.T) {
	t.Parallel()
	tl := tool{"record", []string{"record", "-out", os.DevNull}, "records the stream"}
	r, err := measureTool(svtest.TestProg(t), tl, options{runs: 2, events: 500}, expectedExit)
	if err != nil {
		t.Fatalf("measureTool: %v", err)
	}
	if r.ready <= 0 || r.rss <= 0 || r.anon <= 0 || r.eventsPerSec <= 0 {
		t.Errorf("got ready %v, rss %d, anon %d, events/s %.0f; want all > 0", r.ready, r.rss, r.anon, r.eventsPerSec)
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

// TestEveryToolMeasured: every tool under cmd/ has a command line here, so
// that make bench reports it.
func TestEveryToolMeasured(t *testing.T) {
	root, err := module.Root()
	if err != nil {
		t.Fatal(err)
	}
	names, err := toollist.Names(root)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, tl := range tools {
		have[tl.name] = true
	}
	for _, n := range names {
		if !have[n] {
			t.Errorf("%s is not measured: add its command line to tools in main.go", n)
		}
	}
}
