// Command benchharness measures every listener as a whole process, the
// way supervisord runs them: `make bench` runs it after the Go benchmarks.
//
// For each tool it measures
//
//   - the time from exec to the first READY on stdout (median of -runs starts);
//   - idle memory 200 ms after the first READY: VmRSS and RssAnon (private
//     resident memory) from /proc/<pid>/status (median of 5 starts);
//   - listener CPU per event and events per second over -events events sent
//     through pipes in lockstep, as supervisord does (event, RESULT, READY):
//     PROCESS_STATE_EXITED with expected:1, which every tool reads and
//     ignores. CPU is user+sys from the child's rusage, minus the CPU of a
//     run that only starts and stops.
//
// and memmon's reaction to one TICK over real processes under a real
// supervisord: -procs sleep programs (plain), and -procs/4 shells with three
// sleep children each (cumulative, -c). The time runs from writing the TICK
// to memmon's last "RSS of" log line, so it includes supervisord's
// getAllProcessInfo answer, which is also timed on its own.
//
// The tools are built like `make install` builds them (CGO_ENABLED=0,
// -trimpath, -ldflags=-s -w). Output: a Markdown table on stdout, progress
// on stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/superlance-go/superlance/internal/harness"
	"github.com/superlance-go/superlance/internal/module"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// tool is one listener and a command line that starts it without doing
// anything on the events the harness sends.
type tool struct {
	name string
	args []string
	// work says what an expected-exit event makes the tool do.
	work string
}

var tools = []tool{
	{"httpok", []string{"-p", "web", "http://127.0.0.1:9/health"}, "name check: not a TICK"},
	{"memmon", []string{"-p", "web=100MB"}, "name check: not a TICK"},
	{"crashmail", []string{"-m", "ops@example.com"}, "payload parsed, expected:1 ignored"},
	{"crashmailbatch", []string{"-t", "ops@example.com", "-f", "sv@example.com"}, "payload parsed, expected:1 ignored"},
	{"fatalmailbatch", []string{"-t", "ops@example.com", "-f", "sv@example.com"}, "name check: not PROCESS_STATE_FATAL"},
	{"crashsms", []string{"-t", "15550100@sms.example.com", "-f", "sv@example.com"}, "payload parsed, expected:1 ignored"},
	{"missingmail", []string{"-p", "worker", "-m", "ops@example.com"}, "state change of a program it does not watch"},
	{"procmon", []string{"-p", "worker"}, "state change of a program it does not watch"},
}

// floorTool is the reference: a listener that does nothing but the protocol.
var floorTool = tool{"floor", nil, "nothing: READY, read, RESULT"}

type options struct {
	runs, events, procs int
	memmon              bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchharness", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.runs, "runs", 21, "starts per tool for the exec-to-READY median")
	fs.IntVar(&o.events, "events", 100000, "events per tool for CPU per event and events/s")
	fs.IntVar(&o.procs, "procs", 200, "processes for memmon's tick")
	fs.BoolVar(&o.memmon, "memmon", true, "measure memmon's tick under a real supervisord")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	res, err := measure(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "benchharness: %v\n", err)
		return 1
	}
	printTable(stdout, o, res)
	return 0
}

type toolResult struct {
	tool
	ready        time.Duration // median exec to READY
	rss, anon    int64         // median bytes
	cpuPerEvent  time.Duration
	eventsPerSec float64
}

type tickResult struct {
	label     string
	processes int
	rpc       time.Duration // median getAllProcessInfo round trip
	reaction  time.Duration // median TICK to last RSS line
	min, max  time.Duration
}

type results struct {
	machine   machine
	tools     []toolResult
	work      *toolResult // crashmailbatch collecting unexpected exits
	floor     *toolResult // the cheapest possible listener, for reference
	python    *toolResult // supervisor.childutils doing crashmailbatch's work
	ticks     []tickResult
	memmonErr error
	marginal  []marginalResult
}

func measure(ctx context.Context, o options, log io.Writer) (*results, error) {
	root, err := module.Root()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "sl-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bin")
	fmt.Fprintln(log, "building the tools (as make install does)...")
	if err := build(ctx, root, bin); err != nil {
		return nil, err
	}
	res := &results{machine: machineInfo()}
	for _, t := range tools {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		fmt.Fprintf(log, "%s: %d starts, %d events...\n", t.name, o.runs, o.events)
		r, err := measureTool(filepath.Join(bin, t.name), t, o, expectedExit)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		res.tools = append(res.tools, *r)
	}
	fmt.Fprintf(log, "floor (reference): %d events...\n", o.events)
	if res.floor, err = measureTool(filepath.Join(bin, "floor"), floorTool, options{runs: 5, events: o.events}, expectedExit); err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	if py, t, ok := pythonTool(tmp); ok {
		fmt.Fprintf(log, "python reference (supervisor.childutils): %d events...\n", o.events)
		if res.python, err = measureTool(py, t, options{runs: 5, events: o.events}, expectedExit); err != nil {
			return nil, fmt.Errorf("python reference: %w", err)
		}
	} else {
		fmt.Fprintln(log, "python reference skipped: no python3 with supervisor.childutils")
	}
	// The same stream, but every exit unexpected: crashmailbatch formats a
	// line, logs it and adds it to the batch (bounded at 10,000 lines; no
	// TICK arrives, so nothing is sent).
	fmt.Fprintf(log, "crashmailbatch: %d unexpected exits...\n", o.events)
	w := tools[3]
	w.work = "line formatted, logged, added to the batch"
	if res.work, err = measureTool(filepath.Join(bin, w.name), w, options{runs: 3, events: o.events}, unexpectedExit); err != nil {
		return nil, fmt.Errorf("crashmailbatch (unexpected exits): %w", err)
	}
	fmt.Fprintf(log, "marginal CPU per event (%d minus %d events, %d pairs each)...\n", marginalLarge, marginalSmall, marginalReps)
	if res.marginal, err = measureMarginals(bin, tmp, res.tools); err != nil {
		return nil, err
	}
	if o.memmon {
		fmt.Fprintf(log, "memmon: tick over %d processes under supervisord...\n", o.procs)
		res.ticks, res.memmonErr = measureMemmonTick(ctx, filepath.Join(bin, "memmon"), tmp, o.procs, log)
		if res.memmonErr != nil {
			fmt.Fprintf(log, "memmon tick: %v\n", res.memmonErr)
		}
	}
	return res, nil
}

// measureMarginals measures the marginal CPU per ignored event of every
// tool and of the references, in one run: the minimal Go listener as
// built (and with GOMAXPROCS=1), the minimal Python listener, and Python
// superlance when it is installed.
func measureMarginals(bin, tmp string, ts []toolResult) ([]marginalResult, error) {
	var out []marginalResult
	add := func(label, path string, t tool, env []string, note string) error {
		d, err := measureMarginal(path, t, env)
		if err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		out = append(out, marginalResult{label, d, note})
		return nil
	}
	for _, t := range ts {
		if err := add(t.name, filepath.Join(bin, t.name), t.tool, listenerEnv(t.name, deadSocket), t.work); err != nil {
			return nil, err
		}
	}
	floor := filepath.Join(bin, "floor")
	if err := add("*minimal Go listener*", floor, floorTool, listenerEnv("floor", deadSocket), "built as the tools are; blocking reads"); err != nil {
		return nil, err
	}
	if err := add("*minimal Go listener, GOMAXPROCS=1*", floor, floorTool, append(listenerEnv("floor", deadSocket), "GOMAXPROCS=1"), "the same binary on one P"); err != nil {
		return nil, err
	}
	if py, t, ok := pythonTool(tmp); ok {
		if err := add("*minimal Python listener*", py, t, listenerEnv("python", deadSocket), "supervisor.childutils, blocking reads"); err != nil {
			return nil, err
		}
	} else {
		out = append(out, marginalResult{"*minimal Python listener*", 0, "not measured: no python3 with supervisor.childutils"})
	}
	if path, ok := superlanceTool(); ok {
		t := tool{"crashmailbatch", []string{"-t", "ops@example.com", "-f", "sv@example.com"}, "Python superlance's crashmailbatch"}
		if err := add("*Python superlance crashmailbatch*", path, t, listenerEnv("crashmailbatch", deadSocket), t.work); err != nil {
			return nil, err
		}
	} else {
		out = append(out, marginalResult{"*Python superlance*", 0, "not measured: not installed (Debian has no superlance package)"})
	}
	return out, nil
}

func build(ctx context.Context, root, bin string) error {
	args := []string{"build", "-trimpath", "-ldflags=-s -w", "-o", bin + string(filepath.Separator)}
	for _, t := range tools {
		args = append(args, "./cmd/"+t.name)
	}
	args = append(args, "./internal/benchharness/floor")
	cmd := exec.CommandContext(ctx, module.GoCommand(), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// listenerEnv is what supervisord gives a listener. The server URL points
// nowhere: these events never make a tool call supervisord.
func listenerEnv(name, serverURL string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"SUPERVISOR_ENABLED=1",
		"SUPERVISOR_SERVER_URL=" + serverURL,
		"SUPERVISOR_PROCESS_NAME=" + name,
		"SUPERVISOR_GROUP_NAME=" + name,
	}
}

const deadSocket = "unix:///nonexistent/supervisor.sock"

func expectedExit(i int) string {
	return fmt.Sprintf("processname:web groupname:web from_state:RUNNING expected:1 pid:%d", 1000+i%30000)
}

func unexpectedExit(i int) string {
	return fmt.Sprintf("processname:web groupname:web from_state:RUNNING expected:0 pid:%d", 1000+i%30000)
}

func measureTool(bin string, t tool, o options, payload func(int) string) (*toolResult, error) {
	r := &toolResult{tool: t}
	env := listenerEnv(t.name, deadSocket)
	var readies []time.Duration
	var rsss, anons []int64
	var idleCPU []time.Duration
	for i := 0; i < o.runs; i++ {
		c, err := startChild(bin, t.args, env)
		if err != nil {
			return nil, err
		}
		d, err := c.waitReady(10 * time.Second)
		if err != nil {
			return nil, err
		}
		readies = append(readies, d)
		if i < 5 {
			time.Sleep(200 * time.Millisecond)
			rss, anon, err := harness.Memory(c.cmd.Process.Pid)
			if err != nil {
				return nil, err
			}
			rsss, anons = append(rsss, rss), append(anons, anon)
		}
		cpu, err := c.stop()
		if err != nil {
			return nil, err
		}
		idleCPU = append(idleCPU, cpu)
	}
	r.ready = median(readies)
	r.rss, r.anon = median(rsss), median(anons)

	c, err := startChild(bin, t.args, env)
	if err != nil {
		return nil, err
	}
	if _, err := c.waitReady(10 * time.Second); err != nil {
		return nil, err
	}
	evs := make([][]byte, 1000)
	start := time.Now()
	for i := 0; i < o.events; i++ {
		if i%len(evs) == 0 {
			for j := range evs {
				evs[j] = harness.Event(i+j+1, t.name, "PROCESS_STATE_EXITED", payload(i+j))
			}
		}
		if _, err := c.proto.SendEvent(evs[i%len(evs)]); err != nil {
			c.cmd.Process.Kill()
			return nil, fmt.Errorf("event %d: %w (stderr: %s)", i+1, err, c.drainLog())
		}
	}
	wall := time.Since(start)
	cpu, err := c.stop()
	if err != nil {
		return nil, err
	}
	r.cpuPerEvent = (cpu - median(idleCPU)) / time.Duration(o.events)
	r.eventsPerSec = float64(o.events) / wall.Seconds()
	return r, nil
}

func median[T int64 | time.Duration](s []T) T {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	return c[len(c)/2]
}

type machine struct {
	cpu, kernel, goVersion, load string
	cores                        int
}

func machineInfo() machine {
	m := machine{cores: runtime.NumCPU(), goVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.load = strings.Join(f[:3], " ")
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	return m
}
