package eventproto_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/harness"
)

// pipeEvents is how many events one child listener gets in
// BenchmarkServePipe: enough that start-up is noise in the CPU per event.
const pipeEvents = 100000

// nopListener is the child of BenchmarkServePipe: Serve over the real
// stdin and stdout with a handler that ignores every event, the cost every
// tool pays for the events it does not care about.
func nopListener() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := eventproto.Serve(ctx, eventproto.NewListener(os.Stdin, os.Stdout),
		func(context.Context, eventproto.Event) {}, eventproto.ServeOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// floorListener is the reference point of BenchmarkServePipe: the least a
// listener process can do per event, one read(2) and one write(2), with no
// parsing. It relies on the benchmark writing each event with one write
// of less than PIPE_BUF bytes, which a read then returns whole.
func floorListener() int {
	buf := make([]byte, 4096)
	if _, err := os.Stdout.Write([]byte("READY\n")); err != nil {
		return 1
	}
	for {
		if n, err := os.Stdin.Read(buf); n == 0 || err != nil {
			return 0
		}
		if _, err := os.Stdout.Write([]byte("RESULT 2\nOKREADY\n")); err != nil {
			return 1
		}
	}
}

// BenchmarkServePipe runs Serve in a child process (this test binary) over
// real pipes, playing supervisord in lock step: wait for READY, write one
// PROCESS_STATE event, wait for the RESULT. It reports the child's own CPU
// time (user+system from its rusage, start-up included) per event, split
// into user and system, and the events acknowledged per second.
//
// "floor" runs floorListener instead of Serve: what the kernel and the Go
// runtime cost per event on this machine, the bound Serve cannot go below.
//
//	go test ./eventproto -run '^$' -bench ServePipe -benchtime 1x
func BenchmarkServePipe(b *testing.B) {
	self, err := filepath.Abs(os.Args[0])
	if err != nil {
		b.Fatal(err)
	}
	events := make([][]byte, pipeEvents)
	for i := range events {
		p := fmt.Sprintf("processname:web%d groupname:web from_state:STARTING pid:%d", i%50, 1000+i)
		events[i] = harness.Event(i, "bench", "PROCESS_STATE_RUNNING", p)
	}
	for _, mode := range []string{"serve", "floor"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				user, sys, wall := feedChild(b, self, mode, events)
				n := float64(len(events))
				b.ReportMetric(float64((user+sys).Nanoseconds())/1e3/n, "cpu-us/event")
				b.ReportMetric(float64(user.Nanoseconds())/1e3/n, "user-us/event")
				b.ReportMetric(float64(sys.Nanoseconds())/1e3/n, "sys-us/event")
				b.ReportMetric(n/wall.Seconds(), "events/s")
			}
		})
	}
}

func feedChild(b *testing.B, self, mode string, events [][]byte) (user, sys, wall time.Duration) {
	b.Helper()
	listener := "nop"
	if mode == "floor" {
		listener = "floor"
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), listenerEnv+"="+listener)
	cmd.Stderr = os.Stderr
	d, err := harness.Start(cmd, "bench")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for _, ev := range events {
		if _, err := d.SendEvent(ev); err != nil {
			cmd.Process.Kill()
			b.Fatal(err)
		}
	}
	wall = time.Since(start)
	if err := d.Ready(); err != nil {
		b.Errorf("after the last event: %v; want the final READY", err)
	}
	d.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatalf("listener: %v", err)
	}
	return cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime(), wall
}
