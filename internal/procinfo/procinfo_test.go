package procinfo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
)

// spawn starts cmd in its own process group and kills the whole group when
// the test ends.
func spawn(tb testing.TB, name string, args ...string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting %s: %v", name, err)
	}
	tb.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return cmd
}

// settle waits until pid runs the program comm and its resident size has
// stopped changing: a process just started is still being loaded (or is
// still the forking shell), and comparing two reads of its RSS taken
// a moment apart would measure that, not procinfo. The tests that compare
// RSS readings call it; the benchmarks need not wait.
func settle(tb testing.TB, pid int, comm string) {
	tb.Helper()
	last := uint64(0)
	svtest.Eventually(tb, 10*time.Second, fmt.Sprintf("process %d (%s) did not settle", pid, comm), func() bool {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		if err != nil || strings.TrimSpace(string(b)) != comm {
			return false
		}
		rss := statmRSS(tb, pid)
		settled := rss == last
		last = rss
		return settled
	})
}

// spawnTree starts an sh whose n sleep children stay alive, and returns the
// sh pid and the children's pids once all of them exist.
func spawnTree(tb testing.TB, n int) (root int, kids []int) {
	tb.Helper()
	script := strings.Repeat("sleep 1000 & ", n) + "wait"
	cmd := spawn(tb, "/bin/sh", "-c", script)
	root = cmd.Process.Pid
	if !svtest.WaitFor(10*time.Second, func() bool { kids = svtest.Children(root); return len(kids) == n }) {
		tb.Fatalf("sh %d has %d children after 10 s, want %d", root, len(kids), n)
	}
	return root, kids
}

// settleTree settles an sh from spawnTree and its sleep children.
func settleTree(tb testing.TB, root int, kids []int) {
	tb.Helper()
	settle(tb, root, "sh")
	for _, k := range kids {
		settle(tb, k, "sleep")
	}
}

// statmRSS reads the resident pages of pid from /proc/<pid>/statm, in bytes.
func statmRSS(tb testing.TB, pid int) uint64 {
	tb.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		tb.Fatalf("reading statm of %d: %v", pid, err)
	}
	pages, err := strconv.ParseUint(strings.Fields(string(b))[1], 10, 64)
	if err != nil {
		tb.Fatalf("parsing statm of %d: %v", pid, err)
	}
	return pages * uint64(os.Getpagesize())
}

// near allows for the few pages a process may touch between two reads.
func near(got, want uint64) bool {
	const slack = 256 << 10
	return got+slack >= want && got <= want+slack
}

func TestRSS(t *testing.T) {
	sleeper := spawn(t, "sleep", "1000").Process.Pid
	settle(t, sleeper, "sleep")
	tab, err := Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{sleeper, os.Getpid()} {
		got, ok := tab.RSS(pid)
		want := statmRSS(t, pid)
		if !ok || !near(got, want) {
			t.Errorf("RSS(%d) = %d, %v; want about %d (statm), true", pid, got, ok, want)
		}
		if got == 0 {
			t.Errorf("RSS(%d) = 0, want the resident size of a running process", pid)
		}
	}
}

func TestTreeRSS(t *testing.T) {
	root, kids := spawnTree(t, 3)
	other := spawn(t, "sleep", "1000").Process.Pid // must not be counted
	settleTree(t, root, kids)
	settle(t, other, "sleep")
	tab, err := Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := statmRSS(t, root)
	for _, k := range kids {
		want += statmRSS(t, k)
	}
	got, ok := tab.TreeRSS(root)
	if !ok || !near(got, want) {
		t.Errorf("TreeRSS(sh %d) = %d, %v; want about %d (statm of sh and its 3 children), true", root, got, ok, want)
	}
	leaf, ok := tab.TreeRSS(kids[0])
	if rss, _ := tab.RSS(kids[0]); !ok || leaf != rss {
		t.Errorf("TreeRSS(leaf %d) = %d, %v; want its RSS %d, true", kids[0], leaf, ok, rss)
	}
	// A deeper tree: this test process is an ancestor of everything spawned.
	self, ok := tab.TreeRSS(os.Getpid())
	if min := want + statmRSS(t, other); !ok || self < min {
		t.Errorf("TreeRSS(self) = %d, %v; want at least %d (the spawned processes), true", self, ok, min)
	}
}

func TestVanished(t *testing.T) {
	cmd := spawn(t, "sleep", "1000")
	pid := cmd.Process.Pid
	tab, err := Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	cmd.Wait() // reaped: /proc/<pid> is gone
	for _, tc := range []struct {
		name string
		f    func(int) (uint64, bool)
	}{{"RSS", tab.RSS}, {"TreeRSS", tab.TreeRSS}} {
		if got, ok := tc.f(pid); ok {
			t.Errorf("%s(%d) of a process killed after the snapshot = %d, true; want false", tc.name, pid, got)
		}
	}
	// Never in the snapshot: a pid above the kernel's maximum.
	if got, ok := tab.RSS(1 << 30); ok {
		t.Errorf("RSS(1<<30) = %d, true; want false", got)
	}
	// A process born after the snapshot is not part of it.
	late := spawn(t, "sleep", "1000").Process.Pid
	if got, ok := tab.RSS(late); ok {
		t.Errorf("RSS(%d) of a process started after the snapshot = %d, true; want false", late, got)
	}
}

// TestVanishedChild kills one member of a tree after the snapshot: the
// others still count and nothing fails.
func TestVanishedChild(t *testing.T) {
	root, kids := spawnTree(t, 3)
	settleTree(t, root, kids)
	tab, err := Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	syscall.Kill(kids[0], syscall.SIGKILL)
	// sh reaps it; wait until /proc no longer has it.
	svtest.Eventually(t, 10*time.Second, fmt.Sprintf("child %d still in /proc after SIGKILL", kids[0]), func() bool {
		_, err := os.Stat("/proc/" + strconv.Itoa(kids[0]))
		return err != nil
	})
	want := statmRSS(t, root) + statmRSS(t, kids[1]) + statmRSS(t, kids[2])
	if got, ok := tab.TreeRSS(root); !ok || !near(got, want) {
		t.Errorf("TreeRSS(%d) with one child gone = %d, %v; want about %d, true", root, got, ok, want)
	}
}

// The benchmarks measure one memmon tick's worth of reads over 200 real
// processes (the design's targets: 20 ms plain, 40 ms cumulative).

func BenchmarkPlain200(b *testing.B) {
	pids := make([]int, 200)
	for i := range pids {
		pids[i] = spawn(b, "sleep", "1000").Process.Pid
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tab, err := Snapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, pid := range pids {
			if _, ok := tab.RSS(pid); !ok {
				b.Fatalf("RSS(%d) not found", pid)
			}
		}
	}
}

func BenchmarkCumulative50x4(b *testing.B) {
	roots := make([]int, 50)
	for i := range roots {
		roots[i], _ = spawnTree(b, 3)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tab, err := Snapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, pid := range roots {
			if _, ok := tab.TreeRSS(pid); !ok {
				b.Fatalf("TreeRSS(%d) not found", pid)
			}
		}
	}
}
