package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/superlance-go/superlance/rpcclient"
)

func TestParsePolicy(t *testing.T) {
	const total = 8 << 30
	tests := []struct {
		name     string
		args     []string
		over     int
		programs map[string]uint64
		groups   map[string]uint64
		any      uint64
		wantLog  []string
	}{
		{"defaults", []string{"-p", "web=1MB"}, 0, map[string]uint64{"web": 1 << 20}, map[string]uint64{}, 0, nil},
		{"over 1", []string{"-a", "1", "--over", "1"}, 0, map[string]uint64{}, map[string]uint64{}, 1, nil},
		{"over", []string{"-a", "1", "--over", "3"}, 3, map[string]uint64{}, map[string]uint64{}, 1, nil},
		{"percent", []string{"-p", "web=25%", "-g", "workers=40%", "-a", "50%"}, 0,
			map[string]uint64{"web": 2 << 30}, map[string]uint64{"workers": 3435973836}, 4 << 30,
			[]string{
				"MemTotal is 8589934592 bytes: -p web=25% is 2147483648 bytes",
				"MemTotal is 8589934592 bytes: -g workers=40% is 3435973836 bytes",
				"MemTotal is 8589934592 bytes: -a 50% is 4294967296 bytes",
			}},
		{"decimal percent", []string{"-p", "grp:web= 0.5% "}, 0, map[string]uint64{"grp:web": total / 200}, map[string]uint64{}, 0,
			[]string{"MemTotal is 8589934592 bytes: -p grp:web=0.5% is 42949672 bytes"}},
		{"bytes override percent", []string{"-p", "web=25%", "-p", "web=1MB"}, 0, map[string]uint64{"web": 1 << 20}, map[string]uint64{}, 0, nil},
		{"percent overrides bytes", []string{"-p", "web=1MB", "-p", "web=100%"}, 0, map[string]uint64{"web": total}, map[string]uint64{}, 0,
			[]string{"MemTotal is 8589934592 bytes: -p web=100% is 8589934592 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cfg, code, done := parseArgs(tt.args, &stdout, &stderr, nil)
			if done {
				t.Fatalf("parseArgs(%q): exit %d, stderr %q", tt.args, code, stderr.String())
			}
			log := cfg.resolveShares(total)
			if cfg.over != tt.over || fmt.Sprint(cfg.rules.programs) != fmt.Sprint(tt.programs) ||
				fmt.Sprint(cfg.rules.groups) != fmt.Sprint(tt.groups) || cfg.rules.any != tt.any {
				t.Errorf("got over %d, programs %v, groups %v, any %d; want %d, %v, %v, %d",
					cfg.over, cfg.rules.programs, cfg.rules.groups, cfg.rules.any, tt.over, tt.programs, tt.groups, tt.any)
			}
			if fmt.Sprint(log) != fmt.Sprint(tt.wantLog) {
				t.Errorf("log:\ngot  %q\nwant %q", log, tt.wantLog)
			}
		})
	}
}

func TestUsagePolicy(t *testing.T) {
	for _, tc := range []struct {
		name, wantStderr string
		args             []string
	}{
		{"over zero", `memmon: error: --over 0: want 1 or more ticks in a row`, []string{"-a", "1", "--over", "0"}},
		{"over negative", `memmon: error: --over -1: want 1 or more ticks in a row`, []string{"-a", "1", "--over=-1"}},
		{"over not a number", `memmon: error: --over`, []string{"-a", "1", "--over", "two"}},
		{"zero percent", `memmon: error: --program "x=0%": invalid share "0%" (a share of memory is above 0% and at most 100%)`, []string{"-p", "x=0%"}},
		{"too many percent", `memmon: error: --program "x=150%": invalid share "150%" (a share of memory is above 0% and at most 100%)`, []string{"-p", "x=150%"}},
		{"negative percent", `memmon: error: --group "g=-5%": invalid share "-5%"`, []string{"-g", "g=-5%"}},
		{"percent not a number", `memmon: error: --any "half%": invalid share "half%" (want a percentage of memory, as 25%)`, []string{"-a", "half%"}},
		{"bare percent sign", `memmon: error: --any "%": invalid share "%"`, []string{"-a", "%"}},
		{"NaN percent", `memmon: error: --program "x=NaN%": invalid share`, []string{"-p", "x=NaN%"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, strings.NewReader(""), &stdout, &stderr, []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent.sock"})
			if code != 2 || stdout.Len() != 0 || !strings.HasPrefix(stderr.String(), tc.wantStderr) {
				t.Errorf("got exit %d, stdout %q, stderr %q; want 2, nothing, %q", code, stdout.String(), stderr.String(), tc.wantStderr)
			}
		})
	}
}

// TestScanOver: with --over N a process is restarted on its Nth scan over
// the limit in a row; a scan under it, a new pid or a scan without the
// process start the count again, and the mail names the readings.
func TestScanOver(t *testing.T) {
	procs := []rpcclient.ProcessInfo{{Name: "foo", Group: "foo", PID: 11, State: rpcclient.StateRunning}}
	cfg := &config{rules: rules{programs: map[string]uint64{"foo": 2 << 20}}, over: 3}
	m, sv, logBuf, mails := newTestMemmon(cfg, procs)
	rss := map[int]uint64{}
	m.snapshot = func(context.Context) (memTable, error) { return fakeTable(rss), nil }
	restarts := func() int { return strings.Count(strings.Join(sv.calls, "\n"), "startProcess") }
	for i, step := range []struct {
		pid  int
		rss  uint64
		want int // restarts so far
	}{
		{11, 3 << 20, 0},
		{11, 3 << 20, 0},
		{11, 1 << 20, 0}, // under: count again
		{11, 3 << 20, 0},
		{11, 3 << 20, 0},
		{12, 4 << 20, 0}, // a new process
		{12, 4 << 20, 0},
		{0, 0, 0}, // not running
		{12, 4 << 20, 0},
		{12, 5 << 20, 0},
		{12, 6 << 20, 1},
		{12, 6 << 20, 1}, // after a restart: from 0 again
	} {
		procs[0].PID = step.pid
		clear(rss)
		rss[step.pid] = step.rss
		m.scan(context.Background())
		if got := restarts(); got != step.want {
			t.Fatalf("after scan %d: %d restarts, want %d; log:\n%s", i+1, got, step.want, logBuf.String())
		}
	}
	if len(*mails) != 1 {
		t.Fatalf("got %d mails, want 1", len(*mails))
	}
	want := "memmon.py restarted the process named foo:foo at Sun Nov  1 16:03:02 2026 CET because it was consuming too much memory (6291456 bytes RSS)\n\n" +
		"RSS over the limit of 2097152 bytes on 3 ticks in a row (--over 3): 4194304, 5242880, 6291456 bytes"
	if got := (*mails)[0].Body; got != want {
		t.Errorf("mail body:\ngot  %q\nwant %q", got, want)
	}
	for _, line := range []string{
		"RSS of foo:foo is over its limit of 2097152 bytes on 1 of 3 ticks in a row (--over 3); not restarting yet\n",
		"RSS of foo:foo is over its limit of 2097152 bytes on 2 of 3 ticks in a row (--over 3); not restarting yet\n",
		"RSS of foo:foo is back under its limit of 2097152 bytes after 2 ticks over it; counting from 0 again\n",
	} {
		if !strings.Contains(logBuf.String(), line) {
			t.Errorf("log lacks %q:\n%s", line, logBuf.String())
		}
	}
	if len(m.overs) != 1 {
		t.Errorf("%d processes counted, want 1 (the one over its limit since the restart)", len(m.overs))
	}
}
