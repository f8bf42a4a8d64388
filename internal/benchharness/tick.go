package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/superlance-go/superlance/internal/harness"
	"github.com/superlance-go/superlance/rpcclient"
)

const tickRuns = 11

// measureMemmonTick runs a real supervisord with procs sleep programs and
// procs/4 shells with three sleep children each, then times memmon's
// reaction to TICK events, plain over the sleeps and cumulative over the
// shells (procs processes each way).
func measureMemmonTick(ctx context.Context, memmon, tmp string, procs int, log io.Writer) ([]tickResult, error) {
	supervisord, err := exec.LookPath("supervisord")
	if err != nil {
		return nil, fmt.Errorf("supervisord not found (run ./scripts/need-supervisor): %w", err)
	}
	dir := filepath.Join(tmp, "sv")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	trees := procs / 4
	conf := fmt.Sprintf(`[supervisord]
logfile=%%(here)s/supervisord.log
pidfile=%%(here)s/supervisord.pid
childlogdir=%%(here)s

[unix_http_server]
file=%%(here)s/supervisor.sock
chmod=0700

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:sleepers]
command=/bin/sleep 100000
process_name=%%(program_name)s_%%(process_num)03d
numprocs=%d
startsecs=0
stdout_logfile=NONE
stderr_logfile=NONE

; Each a shell with three children: 4 processes per program.
[program:trees]
command=/bin/sh -c "sleep 100000 & sleep 100000 & sleep 100000 & wait"
process_name=%%(program_name)s_%%(process_num)03d
numprocs=%d
startsecs=0
stopasgroup=true
killasgroup=true
stdout_logfile=NONE
stderr_logfile=NONE
`, procs, trees)
	confPath := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	sv, err := harness.Launch(ctx, harness.Options{Dir: dir, Conf: confPath, Bin: supervisord, OwnProcessGroup: true})
	if err != nil {
		return nil, err
	}
	defer sv.Stop(60 * time.Second)
	client, url := sv.Client, sv.URL
	if err := waitAllRunning(ctx, client, procs+trees, sv.Exited()); err != nil {
		return nil, err
	}
	if err := waitChildren(dir, trees*3); err != nil {
		return nil, err
	}

	// Timed right before each tick, so both see supervisord in the same
	// state.
	var rpc []time.Duration
	timeRPC := func() error {
		t0 := time.Now()
		_, err := client.GetAllProcessInfo(ctx)
		rpc = append(rpc, time.Since(t0))
		return err
	}

	var out []tickResult
	for _, v := range []struct {
		label string
		args  []string
		lines int
	}{
		{fmt.Sprintf("memmon tick, %d processes", procs), []string{"-g", "sleepers=1GB"}, procs},
		{fmt.Sprintf("memmon tick, %d processes, cumulative (-c, %d trees of 4)", procs, trees), []string{"-c", "-g", "trees=1GB"}, trees},
	} {
		fmt.Fprintf(log, "  %s...\n", v.label)
		rpc = rpc[:0]
		r, err := tickReaction(memmon, url, v.args, v.lines, timeRPC)
		if err != nil {
			return out, fmt.Errorf("%s: %w", v.label, err)
		}
		r.label, r.processes, r.rpc = v.label, procs, median(rpc)
		out = append(out, *r)
	}
	return out, nil
}

func waitAllRunning(ctx context.Context, c *rpcclient.Client, want int, exited <-chan struct{}) error {
	running := 0
	var err error
	all := harness.WaitFor(90*time.Second, func() bool {
		select {
		case <-exited:
			return true
		default:
		}
		if ctx.Err() != nil {
			return true
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var infos []rpcclient.ProcessInfo
		infos, err = c.GetAllProcessInfo(cctx)
		cancel()
		running = 0
		for _, pi := range infos {
			if pi.State == rpcclient.StateRunning {
				running++
			}
		}
		return err == nil && running == want
	})
	select {
	case <-exited:
		return fmt.Errorf("supervisord exited during start-up")
	default:
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !all {
		return fmt.Errorf("%d of %d programs RUNNING after 90s (last error %v)", running, want, err)
	}
	return nil
}

// waitChildren waits until n sleep processes that are children of a shell
// exist, so the cumulative tick sees whole trees.
func waitChildren(dir string, n int) error {
	count := 0
	if harness.WaitFor(30*time.Second, func() bool {
		count = 0
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if err != nil {
				continue
			}
			// comm is in parentheses; ppid is the 2nd field after it.
			s := string(b)
			i := strings.LastIndexByte(s, ')')
			if i < 0 || !strings.Contains(s[:i], "(sleep") {
				continue
			}
			f := strings.Fields(s[i+1:])
			if len(f) > 1 {
				if pb, err := os.ReadFile(filepath.Join("/proc", f[1], "cmdline")); err == nil && strings.HasPrefix(string(pb), "/bin/sh\x00-c\x00sleep 100000 &") {
					count++
				}
			}
		}
		return count >= n
	}) {
		return nil
	}
	return fmt.Errorf("%d of %d shell children running after 30s", count, n)
}

// tickReaction starts memmon against the supervisord at url and times
// tickRuns TICK events, each from writing the event to memmon's last
// "RSS of" line (one per matched process).
func tickReaction(memmon, url string, args []string, lines int, timeRPC func() error) (*tickResult, error) {
	c, err := startChild(memmon, args, listenerEnv("memmon", url))
	if err != nil {
		return nil, err
	}
	defer c.stop()
	if _, err := c.waitReady(10 * time.Second); err != nil {
		return nil, err
	}
	var times []time.Duration
	serial := 0
	for i := 0; i < tickRuns; i++ {
		// Anything left from the previous tick is not this tick's.
		for len(c.lines) > 0 {
			<-c.lines
		}
		if err := timeRPC(); err != nil {
			return nil, err
		}
		serial++
		ev := harness.Event(serial, "memmon", "TICK_5", fmt.Sprintf("when:%d", time.Now().Unix()))
		t0 := time.Now()
		if _, err := c.proto.SendEvent(ev); err != nil {
			return nil, err
		}
		seen, skipped := 0, false
		timeout := time.After(30 * time.Second)
		for seen < lines && !skipped {
			select {
			case l, ok := <-c.lines:
				switch {
				case !ok:
					return nil, fmt.Errorf("memmon exited")
				case strings.Contains(l, "RSS of "):
					seen++
				case strings.Contains(l, "still running"):
					// The previous scan had logged its last line but not
					// yet returned: memmon coalesced this tick. Try again.
					skipped = true
				case !strings.Contains(l, "Checking "):
					return nil, fmt.Errorf("unexpected log line %q", l)
				}
			case <-timeout:
				return nil, fmt.Errorf("tick %d: %d of %d RSS lines after 30s", i+1, seen, lines)
			}
		}
		if skipped {
			i--
			time.Sleep(50 * time.Millisecond)
			continue
		}
		times = append(times, time.Since(t0))
		// Let the scan return before the next tick.
		time.Sleep(20 * time.Millisecond)
	}
	r := &tickResult{reaction: median(times), min: slices.Min(times), max: slices.Max(times)}
	return r, nil
}
