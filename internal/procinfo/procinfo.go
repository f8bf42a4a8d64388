// Package procinfo reads the memory use of processes from one snapshot of
// the process table, for memmon.
//
// It goes through gopsutil so that memmon runs wherever gopsutil does, but it
// only uses the cheap per-pid reads: process.Pids once per snapshot, then
// Ppid and MemoryInfo on a bare &process.Process{Pid: pid}. It never forks
// and never calls Children, which rescans the whole table for every node.
package procinfo

import (
	"context"
	"fmt"

	"github.com/shirou/gopsutil/v4/process"
)

func init() {
	// On Linux, Ppid parses /proc/<pid>/stat and, with the default settings,
	// also re-reads the boot time from /proc/stat for every call: a second
	// file read per process in the cumulative scan. The boot time does not
	// change while memmon runs.
	process.EnableBootTimeCache(true)
}

// Table is one snapshot of the process table. RSS values are read on first
// use and then kept, and the parent map that TreeRSS needs is built on the
// first TreeRSS call, so a scan that only asks for a few pids reads only
// those. A Table is meant for one scan and is not safe for concurrent use.
type Table struct {
	ctx  context.Context
	pids map[int32]bool // present when the snapshot was taken

	rss      map[int32]uint64 // read so far
	gone     map[int32]bool   // vanished before their RSS could be read
	children map[int32][]int32
}

// Snapshot lists the processes that exist now. It fails only when the
// process table cannot be listed at all.
func Snapshot(ctx context.Context) (*Table, error) {
	list, err := process.PidsWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	pids := make(map[int32]bool, len(list))
	for _, pid := range list {
		pids[pid] = true
	}
	return &Table{
		ctx:  ctx,
		pids: pids,
		rss:  make(map[int32]uint64),
		gone: make(map[int32]bool),
	}, nil
}

// Len returns the number of processes in the snapshot.
func (t *Table) Len() int { return len(t.pids) }

// RSS returns the resident set size of pid in bytes. ok is false when pid
// was not in the snapshot or exited before it could be read.
func (t *Table) RSS(pid int) (rss uint64, ok bool) {
	return t.read(int32(pid))
}

func (t *Table) read(pid int32) (uint64, bool) {
	if !t.pids[pid] || t.gone[pid] {
		return 0, false
	}
	if rss, ok := t.rss[pid]; ok {
		return rss, true
	}
	mem, err := (&process.Process{Pid: pid}).MemoryInfoWithContext(t.ctx)
	if err != nil {
		// The process exited since the snapshot (or, rarely, its statm could
		// not be parsed): either way there is nothing to measure.
		t.gone[pid] = true
		return 0, false
	}
	t.rss[pid] = mem.RSS
	return mem.RSS, true
}

// TreeRSS returns the RSS of pid plus that of all its descendants, in bytes.
// ok is false when pid itself is unknown or gone; descendants that exit
// during the scan count as zero.
func (t *Table) TreeRSS(pid int) (total uint64, ok bool) {
	root := int32(pid)
	total, ok = t.read(root)
	if !ok {
		return 0, false
	}
	if t.children == nil {
		t.buildChildren()
	}
	// The visited set guards against a loop that pid reuse during the scan
	// could fake in the parent map.
	seen := map[int32]bool{root: true}
	stack := append([]int32(nil), t.children[root]...)
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[p] {
			continue
		}
		seen[p] = true
		if rss, ok := t.read(p); ok {
			total += rss
		}
		stack = append(stack, t.children[p]...)
	}
	return total, true
}

func (t *Table) buildChildren() {
	t.children = make(map[int32][]int32, len(t.pids))
	for pid := range t.pids {
		ppid, err := (&process.Process{Pid: pid}).PpidWithContext(t.ctx)
		if err != nil {
			continue // exited since the snapshot
		}
		if ppid != pid {
			t.children[ppid] = append(t.children[ppid], pid)
		}
	}
}
