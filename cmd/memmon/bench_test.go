package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// listSupervisor answers getAllProcessInfo from memory: the benchmarks
// measure memmon's own work per tick (snapshot and decisions) over real
// processes, without supervisord's XML-RPC round trip.
type listSupervisor struct{ fakeSupervisor }

func (l *listSupervisor) GetAllProcessInfo(context.Context) ([]rpcclient.ProcessInfo, error) {
	return l.procs, nil
}

// spawnGroup starts sh -c script in its own process group, killed with the
// whole group when the benchmark ends.
func spawnGroup(b *testing.B, script string) int {
	b.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return cmd.Process.Pid
}

func benchTick(b *testing.B, cumulative bool, procs []rpcclient.ProcessInfo) {
	cfg := &config{
		rules:      rules{programs: map[string]uint64{}, groups: map[string]uint64{}, any: math.MaxUint64, hasAny: true},
		cumulative: cumulative,
		uptime:     math.MaxInt64,
	}
	sv := &listSupervisor{fakeSupervisor{procs: procs}}
	var lines int
	m := &memmon{cfg: cfg, sv: sv, snapshot: snapshot, log: log.New(countWriter{&lines}, "", 0), now: time.Now}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		lines = 0
		m.scan(ctx)
		// The header plus one RSS line per process: every process was measured.
		if lines != 1+len(procs) {
			b.Fatalf("scan logged %d lines, want %d", lines, 1+len(procs))
		}
	}
}

type countWriter struct{ n *int }

func (w countWriter) Write(p []byte) (int, error) {
	*w.n += strings.Count(string(p), "\n")
	return io.Discard.Write(p)
}

// BenchmarkTickPlain200: one tick over 200 supervised processes (sleep).
func BenchmarkTickPlain200(b *testing.B) {
	procs := make([]rpcclient.ProcessInfo, 200)
	for i := range procs {
		// exec: the shell becomes the sleep, one process each.
		procs[i] = rpcclient.ProcessInfo{Group: "g", Name: "p" + strconv.Itoa(i), PID: spawnGroup(b, "exec sleep 1000")}
	}
	benchTick(b, false, procs)
}

// BenchmarkTickCumulative50x4: one tick with -c over 50 supervised sh
// processes with 3 sleep children each (200 processes).
func BenchmarkTickCumulative50x4(b *testing.B) {
	procs := make([]rpcclient.ProcessInfo, 50)
	for i := range procs {
		procs[i] = rpcclient.ProcessInfo{Group: "g", Name: "p" + strconv.Itoa(i), PID: spawnGroup(b, "sleep 1000 & sleep 1000 & sleep 1000 & wait")}
	}
	// Let the shells fork their children before measuring.
	for _, p := range procs {
		svtest.Eventually(b, 10*time.Second, fmt.Sprintf("sh %d did not start its 3 children", p.PID), func() bool { return hasChildren(p.PID, 3) })
	}
	benchTick(b, true, procs)
}

// hasChildren counts pid's children with pgrep-free /proc reading.
func hasChildren(pid, n int) bool {
	out, err := exec.Command("/bin/sh", "-c", "cat /proc/"+strconv.Itoa(pid)+"/task/*/children").Output()
	return err == nil && len(strings.Fields(string(out))) >= n
}
