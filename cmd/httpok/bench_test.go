package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"

	"github.com/superlance-go/superlance/internal/harness"
	"github.com/superlance-go/superlance/internal/svtest"
)

// BenchmarkTick measures the work of one tick on a healthy endpoint: the
// check against a local HTTP server (new connection, request, body) and the
// decision. Eager mode makes no supervisord call when nothing is wrong.
func BenchmarkTick(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "It works") }))
	defer srv.Close()
	cfg, code, done := parseArgs([]string{"-p", "web", "-b", "works", srv.URL + "/health"}, io.Discard, io.Discard, nil)
	if done {
		b.Fatalf("parseArgs: exit %d", code)
	}
	var stderr bytes.Buffer
	h := newHTTPOK(cfg, &fakeSupervisor{}, nil, log.New(&stderr, "", 0))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h.tick(ctx)
	}
	if stderr.Len() != 0 {
		b.Fatalf("healthy tick logged %q", stderr.String())
	}
}

// BenchmarkIdleMemory starts the built binary as supervisord would, waits
// for its first READY and reads its memory from /proc: VmRSS (everything
// resident) and RssAnon (private memory). ns/op is the time from start to
// READY.
func BenchmarkIdleMemory(b *testing.B) {
	bin := svtest.BuildTool(b, "httpok")
	var rss, anon float64
	for b.Loop() {
		r, a := idleMemory(b, bin)
		rss += r
		anon += a
	}
	b.ReportMetric(rss/float64(b.N), "RSS-kB")
	b.ReportMetric(anon/float64(b.N), "RssAnon-kB")
}

// idleMemory runs bin until its first READY and returns VmRSS and RssAnon in kB.
func idleMemory(b *testing.B, bin string) (rss, anon float64) {
	b.Helper()
	cmd := exec.Command(bin, "-p", "web", "-m", "ops@example.com", "http://127.0.0.1:1/health")
	// Not contacted until the first tick.
	cmd.Env = []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent/supervisor.sock"}
	d, err := harness.Start(cmd, "httpok")
	if err != nil {
		b.Fatal(err)
	}
	readyErr := d.Ready()
	b.StopTimer()
	defer b.StartTimer()
	r, a, memErr := harness.Memory(cmd.Process.Pid)
	d.Close() // EOF: the listener exits
	if err := cmd.Wait(); err != nil {
		b.Fatalf("httpok after stdin EOF: %v", err)
	}
	if readyErr != nil {
		b.Fatal(readyErr)
	}
	if memErr != nil {
		b.Skipf("no /proc here: %v", memErr)
	}
	return float64(r >> 10), float64(a >> 10)
}
