package alertctx_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/alertctx"
	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestRealSupervisord fetches details and log tails from a real
// supervisord: a program that writes known lines to stderr and exits 3, one
// killed by SIGKILL and restarted at once, one that never starts, one whose
// log is full of control characters and holds a 1 MiB line.
func TestRealSupervisord(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	prog := svtest.TestProg(t)
	dir := t.TempDir()
	s := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{
			{Name: "crasher", Command: svtest.Script(t, dir, "crasher",
				"echo 'known line one' >&2\necho 'known line two' >&2\nexec "+prog+" crash -after 1500ms -code 3\n"),
				Extra: []string{"autorestart=false"}},
			{Name: "looper", Command: svtest.Script(t, dir, "looper",
				"exec "+prog+" crash -after 1500ms -code 3\n")},
			{Name: "victim", Command: prog + " sleep"},
			{Name: "failer", Command: prog + " fail", Extra: []string{"startretries=0"}},
			{Name: "noisy", Command: svtest.Script(t, dir, "noisy",
				// A 1 MiB line, then ESC and BEL, DEL, a C1 control
				// (NEL), a bidi override, and a last line.
				"head -c 1048576 /dev/zero | tr '\\000' x >&2\n"+
					"printf '\\n\\033[31mred\\033[0m\\007 del\\177 nel\\302\\205 rlo\\342\\200\\256 end\\n' >&2\n"+
					"printf 'last line\\n' >&2\nexec sleep 1000\n")},
			{Name: "merged", Command: svtest.Script(t, dir, "merged", "echo 'to stderr' >&2\nexec sleep 1000\n"),
				Extra: []string{"redirect_stderr=true"}},
		},
		Groups: map[string][]string{"grp": {"victim"}},
	})
	f := alertctx.NewFetcher(alertctx.FromClient(s.Client), alertctx.Options{Host: "testhost", Timeout: 10 * time.Second})
	ctx := context.Background()

	t.Run("exit 3 with stderr lines", func(t *testing.T) {
		running := s.WaitState(t, "crasher", rpcclient.StateRunning, 20*time.Second)
		s.WaitState(t, "crasher", rpcclient.StateExited, 20*time.Second)
		c := f.Fetch(ctx, alertctx.Request{Group: "crasher", Name: "crasher", Exit: true, PID: running.PID, Details: true, TailLines: 5})
		if c.DetailsErr != nil || c.TailErr != nil {
			t.Fatalf("Fetch: %v, %v", c.DetailsErr, c.TailErr)
		}
		if got := c.Details.Exit.String(); got != "3" {
			t.Errorf("exit status = %q, want 3", got)
		}
		if !c.Details.RanKnown || c.Details.Ran < time.Second {
			t.Errorf("ran for %v (known %v), want at least the 1.5 s sleep", c.Details.Ran, c.Details.RanKnown)
		}
		r := c.Render()
		for _, want := range []string{
			"exit status: 3\n", "spawnerr:    Bad exit code 3\n", "state now:   EXITED\n", "host:        testhost",
			"--- last 3 lines of the stderr log of crasher (" + s.Dir + "/crasher.err) ---\nknown line one\nknown line two\nmisbehave: crashing with code 3\n--- end of log ---",
		} {
			if !strings.Contains(r, want) {
				t.Errorf("Render() =\n%s\nwant it to contain %q", r, want)
			}
		}
	})

	t.Run("exit status of a restarted program", func(t *testing.T) {
		first := s.WaitState(t, "looper", rpcclient.StateRunning, 20*time.Second)
		var now rpcclient.ProcessInfo
		svtest.Eventually(t, 20*time.Second, "looper restarted", func() bool {
			var err error
			now, err = s.Client.GetProcessInfo(ctx, "looper")
			return err == nil && now.PID != 0 && now.PID != first.PID
		})
		c := f.Fetch(ctx, alertctx.Request{Group: "looper", Name: "looper", Exit: true, PID: first.PID, Details: true})
		if c.DetailsErr != nil {
			t.Fatal(c.DetailsErr)
		}
		if got := c.Details.Exit.String(); got != "3" || !c.Details.RanKnown {
			t.Errorf("exit status = %q (ran known %v), want 3 from supervisord's log\n%s", got, c.Details.RanKnown, c.Render())
		}
	})

	t.Run("killed by a signal", func(t *testing.T) {
		before := s.WaitState(t, "grp:victim", rpcclient.StateRunning, 20*time.Second)
		if err := s.Client.SignalProcess(ctx, "grp:victim", "KILL"); err != nil {
			t.Fatal(err)
		}
		svtest.Eventually(t, 20*time.Second, "victim exited", func() bool {
			info, err := s.Client.GetProcessInfo(ctx, "grp:victim")
			return err == nil && info.PID != before.PID
		})
		c := f.Fetch(ctx, alertctx.Request{Group: "grp", Name: "victim", Exit: true, PID: before.PID, Details: true})
		if got := c.Details.Exit.String(); got != "killed by signal 9 (SIGKILL)" {
			t.Errorf("exit status = %q, want killed by signal 9 (SIGKILL)\n%s", got, c.Render())
		}
		if got := c.Details.SMS(); !strings.HasPrefix(got, "SIGKILL, ran ") {
			t.Errorf("SMS() = %q, want SIGKILL and the run time", got)
		}
	})

	t.Run("fatal", func(t *testing.T) {
		s.WaitState(t, "failer", rpcclient.StateFatal, 20*time.Second)
		c := f.Fetch(ctx, alertctx.Request{Group: "failer", Name: "failer", Exit: true, Details: true, TailLines: 3})
		r := c.Render()
		for _, want := range []string{
			"exit status: 1\n", "spawnerr:    Exited too quickly (process log may have details)\n", "state now:   FATAL\n",
			"misbehave: failing on purpose\n",
		} {
			if !strings.Contains(r, want) {
				t.Errorf("Render() =\n%s\nwant it to contain %q", r, want)
			}
		}
	})

	t.Run("control characters and a 1 MiB line", func(t *testing.T) {
		s.WaitState(t, "noisy", rpcclient.StateRunning, 20*time.Second)
		c := f.Fetch(ctx, alertctx.Request{Group: "noisy", Name: "noisy", TailLines: 10})
		if c.TailErr != nil {
			t.Fatal(c.TailErr)
		}
		r := c.Tail.Render()
		for i, b := range []byte(r) {
			if (b < 0x20 && b != '\n' && b != '\t') || b == 0x7f {
				t.Fatalf("byte %#x at %d of the rendered tail", b, i)
			}
		}
		if strings.ContainsAny(r, "\u0085\u202e") {
			t.Error("C1 control or bidi override left in the rendered tail")
		}
		// supervisord sends ESC and BEL raw, which XML cannot carry; the
		// client drops them. What XML can carry is made visible here.
		for _, want := range []string{`del\x7f`, `nel\u0085`, `rlo\u202e`, "\n[...]xxxx", "xxx\n[31mred[0m del", " end\nlast line\n--- end of log ---"} {
			if !strings.Contains(r, want) {
				t.Errorf("rendered tail lacks %q", want)
			}
		}
		if body := len(r) - strings.Index(r, "\n") - len("\n--- end of log ---"); body > alertctx.DefaultTailBytes {
			t.Errorf("%d bytes of log shown, cap %d", body, alertctx.DefaultTailBytes)
		}
	})

	t.Run("stderr redirected to stdout", func(t *testing.T) {
		s.WaitState(t, "merged", rpcclient.StateRunning, 20*time.Second)
		c := f.Fetch(ctx, alertctx.Request{Group: "merged", Name: "merged", TailLines: 1})
		if got, want := c.Render(), "--- last line of the stdout log of merged ("+s.Dir+"/merged.out) ---\nto stderr\n--- end of log ---"; got != want {
			t.Errorf("Render() =\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("supervisord does not answer", func(t *testing.T) {
		// A stopped supervisord accepts connections (the kernel does)
		// but answers nothing: the fetch must give up at its deadline.
		if err := syscall.Kill(s.PID, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		defer syscall.Kill(s.PID, syscall.SIGCONT)
		quick := alertctx.NewFetcher(alertctx.FromClient(s.Client), alertctx.Options{Timeout: 200 * time.Millisecond})
		c := quick.Fetch(ctx, alertctx.Request{Group: "crasher", Name: "crasher", Details: true})
		if got, want := c.Render(), "Details: not available: supervisord did not answer within 200ms; sent without it"; got != want {
			t.Errorf("Render() = %q, want %q", got, want)
		}
	})
}
