package main

import (
	"fmt"
	"io"
	"os/exec"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/harness"
	"github.com/superlance-go/superlance/internal/svtest"
)

const streamEvents = 100000

// BenchmarkEventStream feeds 100,000 PROCESS_STATE events to the real
// binary over pipes, as supervisord does (READY, event, RESULT), and
// reports the listener's own CPU time per event (user+system of the child,
// start-up included) and the events acknowledged per second.
//
//	go test ./cmd/crashmailbatch -run '^$' -bench EventStream -benchtime 1x
func BenchmarkEventStream(b *testing.B) {
	bin := svtest.BuildTool(b, "crashmailbatch")
	cases := []struct {
		name    string
		payload func(i int) (eventName, payload string)
	}{
		// Events the tool ignores (the bulk of a PROCESS_STATE subscription).
		{"ignored", func(i int) (string, string) {
			return "PROCESS_STATE_RUNNING", fmt.Sprintf("processname:web%d groupname:web from_state:STARTING pid:%d", i%50, 1000+i)
		}},
		// Unexpected exits: each one formatted, logged and batched (past
		// 10,000 the oldest are dropped with a notice, as when mail is down).
		{"crashes", func(i int) (string, string) {
			return "PROCESS_STATE_EXITED", fmt.Sprintf("processname:web%d groupname:web from_state:RUNNING expected:0 pid:%d", i%50, 1000+i)
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			events := make([][]byte, streamEvents)
			for i := range events {
				name, p := c.payload(i)
				events[i] = harness.Event(i, "batch", name, p)
			}
			for b.Loop() {
				cpu, wall := stream(b, bin, events)
				b.ReportMetric(float64(cpu.Microseconds())/streamEvents, "cpu-us/event")
				b.ReportMetric(streamEvents/wall.Seconds(), "events/s")
			}
		})
	}
}

func stream(b *testing.B, bin string, events [][]byte) (cpu, wall time.Duration) {
	cmd := exec.Command(bin, "-t", "ops@example.com", "-f", "sv@example.com", "-H", "127.0.0.1:1")
	cmd.Env = []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent.sock"}
	cmd.Stderr = io.Discard
	d, err := harness.Start(cmd, "batch")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for _, ev := range events {
		if _, err := d.SendEvent(ev); err != nil {
			b.Fatal(err)
		}
	}
	wall = time.Since(start)
	d.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatalf("listener: %v", err)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), wall
}
