package alertctx

import (
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/rpcclient"
)

const mainLog = `2026-12-02 10:02:01,000 INFO spawned: 'web' with pid 4200
2026-12-02 10:02:02,500 INFO success: web entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)
2026-12-02 10:02:05,250 WARN exited: web (exit status 1; not expected)
2026-12-02 10:02:06,000 INFO spawned: 'web' with pid 4243
2026-12-02 10:02:06,100 INFO spawned: 'web2' with pid 4244
2026-12-02 10:02:07,000 INFO exited: web2 (exit status 0; expected)
2026-12-02 10:02:10,200 WARN exited: web (exit status 3; not expected)
2026-12-02 10:02:11,000 INFO spawned: 'web' with pid 4250
2026-12-02 10:03:01,000 WARN exited: web (terminated by SIGKILL (core dumped); not expected)
2026-12-02 10:03:02,000 INFO spawned: 'web' with pid 4260
2026-12-02 10:03:03,000 WARN exited: web (terminated by signal 37; not expected)
2026-12-02 10:03:04,000 INFO spawned: 'web' with pid 4270
2026-12-02 10:03:05,000 INFO stopped: web (terminated by SIGTERM)
2026-12-02 10:04:00,000 INFO gave up: api entered FATAL state, too many start retries too quickly
`

func TestExitFromLog(t *testing.T) {
	for _, tc := range []struct {
		name string
		pid  int
		want string // Exit.String(), "" when not found
		ran  time.Duration
	}{
		{"web", 4200, "1", 4250 * time.Millisecond},
		{"web", 4243, "3", 4200 * time.Millisecond},
		{"web", 4250, "killed by signal 9 (SIGKILL), core dumped", 50 * time.Second},
		{"web", 4260, "killed by signal 37", time.Second},
		{"web", 4270, "killed by signal 15 (SIGTERM)", time.Second},
		{"web", 9999, "", 0},
		{"web2", 4244, "0", 900 * time.Millisecond},
		{"web", 0, "killed by signal 15 (SIGTERM)", 0},
		{"we", 4243, "", 0}, // a name that is a prefix of another
	} {
		le := exitFromLog(mainLog, tc.name, tc.pid, time.Local)
		got := ""
		if le.found {
			got = le.exit.String()
		}
		if got != tc.want {
			t.Errorf("exit of %s pid %d = %q, want %q", tc.name, tc.pid, got, tc.want)
		}
		if tc.ran > 0 && (!le.timed || le.end.Sub(le.start) != tc.ran) {
			t.Errorf("run of %s pid %d = %v (timed %v), want %v", tc.name, tc.pid, le.end.Sub(le.start), le.timed, tc.ran)
		}
	}
}

func TestDetailsRender(t *testing.T) {
	d := &Details{
		Program: "web", Host: "box", Exit: &Exit{Known: true, Code: 3},
		SpawnErr: "Bad exit code 3", Description: "Dec 02 10:02 AM",
		State: rpcclient.StateStarting, PID: 4250, Ran: 4200 * time.Millisecond, RanKnown: true,
	}
	want := `Details from supervisord:
  exit status: 3
  ran for:     4.2s
  spawnerr:    Bad exit code 3
  description: Dec 02 10:02 AM
  state now:   STARTING (pid 4250)
  host:        box`
	if got := d.Render(); got != want {
		t.Errorf("Render() =\n%s\nwant\n%s", got, want)
	}
	running := &Details{Program: "web", State: rpcclient.StateRunning, PID: 7, Ran: 3723 * time.Second, RanKnown: true, Running: true, Description: "pid 7, uptime 1:02:03"}
	if got := running.Render(); !strings.Contains(got, "exit status: -\n") || !strings.Contains(got, "ran for:     1h2m3s (still running)\n") || !strings.Contains(got, "spawnerr:    -\n") {
		t.Errorf("Render() of a running process =\n%s", got)
	}
	lost := &Details{Program: "web", Exit: &Exit{}, State: rpcclient.StateRunning}
	if got := lost.Render(); !strings.Contains(got, "exit status: not known\n  ran for:     not known\n") {
		t.Errorf("Render() with the exit lost =\n%s", got)
	}
}

func TestSMS(t *testing.T) {
	for _, tc := range []struct {
		d    Details
		want string
	}{
		{Details{Exit: &Exit{Known: true, Code: 3}, Ran: 4200 * time.Millisecond, RanKnown: true}, "exit 3, ran 4.2s"},
		{Details{Exit: &Exit{Known: true, Code: -1, Signal: 9, SignalName: "SIGKILL"}, Ran: 725 * time.Second, RanKnown: true}, "SIGKILL, ran 12m5s"},
		{Details{Exit: &Exit{Known: true, Code: -1, Signal: 37}}, "signal 37"},
		{Details{Exit: &Exit{}}, ""},
	} {
		if got := tc.d.SMS(); got != tc.want {
			t.Errorf("SMS() = %q, want %q", got, tc.want)
		}
	}
}

func TestVisible(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain\ttext é", "plain\ttext é"},
		{"\x1b[31mred\x1b[0m\a", `\x1b[31mred\x1b[0m\x07`},
		{"a\rb\x00c\x7f", `a\x0db\x00c\x7f`},
		{"\u0085next\u2028line", `\u0085next\u2028line`},
		{"evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"bad \xff byte", "bad \uFFFD byte"},
		{"line\nbreak", `line\x0abreak`},
	} {
		if got := Visible(tc.in); got != tc.want {
			t.Errorf("Visible(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMakeTail(t *testing.T) {
	for _, tc := range []struct {
		name     string
		text     string
		overflow bool
		want     int
		max      int
		lines    []string
		cut      bool
		capped   bool
	}{
		{"fewer than asked", "a\nb\n", false, 5, 100, []string{"a", "b"}, false, false},
		{"last n", "a\nb\nc\nd\n", false, 2, 100, []string{"c", "d"}, false, false},
		{"no final newline", "a\nb", false, 5, 100, []string{"a", "b"}, false, false},
		{"crlf", "a\r\nb\r\n", false, 5, 100, []string{"a", "b"}, false, false},
		{"empty", "", false, 5, 100, nil, false, false},
		{"overflow, first line partial", "rt of a\nb\n", true, 5, 100, []string{"rt of a", "b"}, true, false},
		{"overflow, enough lines", "rt of a\nb\nc\n", true, 2, 100, []string{"b", "c"}, false, false},
		{"byte cap drops old lines", "aaaa\nbbbb\ncccc\n", false, 5, 12, []string{"cccc"}, false, true},
		{"one long line", strings.Repeat("x", 500) + "END\n", false, 5, 100, []string{strings.Repeat("x", 91) + "END"}, true, true},
		{"long line cut, newer kept", strings.Repeat("x", 500) + "END\nlast\n", false, 5, 100, []string{strings.Repeat("x", 86) + "END", "last"}, true, true},
		{"no room for a useful part", "aaaa\n" + strings.Repeat("b", 90) + "\n", false, 5, 100, []string{strings.Repeat("b", 90)}, false, true},
		{"escapes count", "\x01\x01\x01\nb\n", false, 5, 12, []string{"b"}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, cut, capped := makeTail(tc.text, tc.overflow, tc.want, tc.max)
			if strings.Join(lines, "|") != strings.Join(tc.lines, "|") || cut != tc.cut || capped != tc.capped {
				t.Errorf("makeTail = %q cut=%v capped=%v; want %q cut=%v capped=%v", lines, cut, capped, tc.lines, tc.cut, tc.capped)
			}
			size := 0
			for i, l := range lines {
				size += len(l) + 1
				if i == 0 && cut {
					size += len("[...]")
				}
			}
			if size > tc.max {
				t.Errorf("%d bytes shown, cap %d", size, tc.max)
			}
		})
	}
}
