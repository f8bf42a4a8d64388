package alertctx

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/superlance-go/superlance/rpcclient"
)

// Details is what supervisord knew about a process when the alert was
// made: one block of the alert, the same in every tool.
type Details struct {
	Program string // namespec
	Host    string // where the listener (and, through its socket, supervisord) runs
	// Exit is the exit the alert is about; nil when the alert is not about
	// an exit (httpok, memmon).
	Exit        *Exit
	SpawnErr    string
	Description string
	State       rpcclient.ProcessState // state when asked, often already the restart
	PID         int                    // pid now, 0 when not running
	// Ran is how long the process ran: until the exit for an exit, until
	// now for a process that is running. RanKnown is false when that cannot
	// be told (the process restarted before supervisord was asked, and its
	// log holds no record).
	Ran      time.Duration
	RanKnown bool
	Running  bool // Ran is an uptime: the process is running
}

// Exit is how a process ended.
type Exit struct {
	// Known is false when the exit status could not be found: the process
	// had restarted before supervisord was asked (which resets its exit
	// status) and supervisord's log does not name it.
	Known      bool
	Code       int    // exit code; -1 when killed by a signal
	Signal     int    // the signal that killed it, 0 when not killed or not known
	SignalName string // e.g. "SIGKILL", "" when not known
	CoreDumped bool
}

// String renders the exit status: "3", "killed by signal 9 (SIGKILL)",
// "killed by a signal" when supervisord's log does not say which one,
// "not known" when neither supervisord's process info (a restart resets
// it) nor its log tells.
func (e Exit) String() string {
	switch {
	case !e.Known:
		return "not known"
	case e.Code >= 0:
		return strconv.Itoa(e.Code)
	}
	var s string
	switch {
	case e.Signal > 0 && e.SignalName != "":
		s = fmt.Sprintf("killed by signal %d (%s)", e.Signal, e.SignalName)
	case e.Signal > 0:
		s = fmt.Sprintf("killed by signal %d", e.Signal)
	default:
		s = "killed by a signal"
	}
	if e.CoreDumped {
		s += ", core dumped"
	}
	return s
}

// Short renders the exit for a summary line: "exit status 3", "killed by
// signal 9 (SIGKILL)"; "" when not known.
func (e Exit) Short() string {
	switch {
	case !e.Known:
		return ""
	case e.Code >= 0:
		return "exit status " + strconv.Itoa(e.Code)
	}
	return e.String()
}

// Render returns the block, lines separated by "\n", no trailing newline.
func (d *Details) Render() string {
	exit, ran := "-", "-"
	if d.Exit != nil {
		exit = d.Exit.String()
	}
	if d.RanKnown {
		ran = Duration(d.Ran)
		if d.Running {
			ran += " (still running)"
		}
	} else if d.Exit != nil {
		ran = "not known"
	}
	state := d.State.String()
	if d.PID > 0 {
		state += fmt.Sprintf(" (pid %d)", d.PID)
	}
	lines := []string{
		"Details from supervisord:",
		field("exit status", exit),
		field("ran for", ran),
		field("spawnerr", orDash(d.SpawnErr)),
		field("description", orDash(d.Description)),
		field("state now", state),
		field("host", orDash(d.Host)),
	}
	return strings.Join(lines, "\n")
}

func field(label, value string) string {
	return fmt.Sprintf("  %-13s%s", label+":", Visible(value))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Duration renders d for people: tenths of a second below ten seconds
// (supervisord's log has milliseconds), whole seconds above.
func Duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < 10*time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return d.Round(time.Second).String()
}

// SMS renders the exit and run time in the fewest characters, for
// crashsms: "exit 3, ran 4.2s", "SIGKILL, ran 12m3s".
func (d *Details) SMS() string {
	var parts []string
	if e := d.Exit; e != nil && e.Known {
		switch {
		case e.Code >= 0:
			parts = append(parts, "exit "+strconv.Itoa(e.Code))
		case e.SignalName != "":
			parts = append(parts, e.SignalName)
		case e.Signal > 0:
			parts = append(parts, "signal "+strconv.Itoa(e.Signal))
		default:
			parts = append(parts, "signal")
		}
	}
	if d.RanKnown && !d.Running {
		parts = append(parts, "ran "+Duration(d.Ran))
	}
	return strings.Join(parts, ", ")
}

// logTimeLayout is how supervisord's log stamps a line (local time).
const logTimeLayout = "2006-01-02 15:04:05,000"

// logExit is an exit found in supervisord's log.
type logExit struct {
	exit         Exit
	start, end   time.Time
	found, timed bool // timed: start is known too
}

// exitFromLog finds in supervisord's log text the exit of process name
// (the process name, not the namespec: that is how supervisord logs it).
// With pid > 0 it is the exit of that pid: the first "exited:" or
// "stopped:" line of name after "spawned: 'name' with pid PID". With pid 0
// it is the last exit of name in the text.
//
// The lines read, e.g.
//
//	2026-12-02 10:02:07,120 INFO spawned: 'web' with pid 4243
//	2026-12-02 10:02:11,348 WARN exited: web (exit status 3; not expected)
//	2026-12-02 10:03:01,004 WARN exited: web (terminated by SIGKILL; not expected)
func exitFromLog(text, name string, pid int, loc *time.Location) logExit {
	lines := strings.Split(text, "\n")
	spawned := " spawned: '" + name + "' with pid "
	exited := []string{" exited: " + name + " (", " stopped: " + name + " ("}
	var out logExit
	if pid > 0 {
		want := spawned + strconv.Itoa(pid)
		at := -1
		for i := len(lines) - 1; i >= 0; i-- {
			if strings.HasSuffix(lines[i], want) {
				at = i
				break
			}
		}
		if at < 0 {
			return out
		}
		start, okStart := lineTime(lines[at], loc)
		for _, l := range lines[at+1:] {
			for _, marker := range exited {
				if _, msg, ok := strings.Cut(l, marker); ok {
					out = parseExitLine(l, msg, loc)
					out.start, out.timed = start, okStart && out.timed
					return out
				}
			}
		}
		return out
	}
	for i := len(lines) - 1; i >= 0; i-- {
		for _, marker := range exited {
			if _, msg, ok := strings.Cut(lines[i], marker); ok {
				out = parseExitLine(lines[i], msg, loc)
				out.timed = false // the matching spawn is not looked for
				return out
			}
		}
	}
	return out
}

// parseExitLine reads "exit status 3; not expected)" or "terminated by
// SIGKILL (core dumped); not expected)", the part after "exited: name (".
func parseExitLine(line, msg string, loc *time.Location) logExit {
	out := logExit{found: true}
	out.end, out.timed = lineTime(line, loc)
	// "(exit status 3; not expected)", "(terminated by SIGTERM)": the
	// line's last ")" closes the parenthesis opened after the name.
	msg = strings.TrimSuffix(strings.TrimRight(msg, " \r"), ")")
	msg, _, _ = strings.Cut(msg, "; ")
	if rest, ok := strings.CutPrefix(msg, "exit status "); ok {
		code, err := strconv.Atoi(strings.TrimSpace(rest))
		if err != nil {
			out.found = false
			return out
		}
		out.exit = Exit{Known: true, Code: code}
		return out
	}
	rest, ok := strings.CutPrefix(msg, "terminated by ")
	if !ok {
		out.found = false
		return out
	}
	out.exit = Exit{Known: true, Code: -1}
	if r, ok := strings.CutSuffix(rest, " (core dumped)"); ok {
		out.exit.CoreDumped = true
		rest = r
	}
	// supervisord writes the signal's name, or "signal N" for one Python
	// has no name for.
	if n, ok := strings.CutPrefix(rest, "signal "); ok {
		out.exit.Signal, _ = strconv.Atoi(n)
	} else if sig, ok := signals[rest]; ok {
		out.exit.Signal, out.exit.SignalName = int(sig), rest
	} else {
		out.exit.SignalName = rest
	}
	return out
}

// lineTime reads the time stamp that starts a line of supervisord's log.
func lineTime(line string, loc *time.Location) (time.Time, bool) {
	if len(line) < len(logTimeLayout) {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(logTimeLayout, line[:len(logTimeLayout)], loc)
	return t, err == nil
}

// signals maps the names supervisord (Python's signal module) writes to
// their numbers.
var signals = map[string]syscall.Signal{
	"SIGHUP": syscall.SIGHUP, "SIGINT": syscall.SIGINT, "SIGQUIT": syscall.SIGQUIT,
	"SIGILL": syscall.SIGILL, "SIGTRAP": syscall.SIGTRAP, "SIGABRT": syscall.SIGABRT,
	"SIGIOT": syscall.SIGIOT, "SIGBUS": syscall.SIGBUS, "SIGFPE": syscall.SIGFPE,
	"SIGKILL": syscall.SIGKILL, "SIGUSR1": syscall.SIGUSR1, "SIGSEGV": syscall.SIGSEGV,
	"SIGUSR2": syscall.SIGUSR2, "SIGPIPE": syscall.SIGPIPE, "SIGALRM": syscall.SIGALRM,
	"SIGTERM": syscall.SIGTERM, "SIGCHLD": syscall.SIGCHLD, "SIGCONT": syscall.SIGCONT,
	"SIGSTOP": syscall.SIGSTOP, "SIGTSTP": syscall.SIGTSTP, "SIGTTIN": syscall.SIGTTIN,
	"SIGTTOU": syscall.SIGTTOU, "SIGURG": syscall.SIGURG, "SIGXCPU": syscall.SIGXCPU,
	"SIGXFSZ": syscall.SIGXFSZ, "SIGVTALRM": syscall.SIGVTALRM, "SIGPROF": syscall.SIGPROF,
	"SIGWINCH": syscall.SIGWINCH, "SIGIO": syscall.SIGIO, "SIGSYS": syscall.SIGSYS,
}
