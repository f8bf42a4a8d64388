package alertctx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/superlance-go/superlance/rpcclient"
)

// DefaultTimeout bounds one fetch of context: an alert waits at most this
// long for it.
const DefaultTimeout = 3 * time.Second

// logWindow is how much of supervisord's own log is searched for an exit.
const logWindow = 64 << 10

// Request asks for the context of one alert.
type Request struct {
	Group, Name string // the process; Name is what supervisord's log calls it
	// Exit says the alert is about an exit: PID is the pid that exited
	// (from the PROCESS_STATE_EXITED event), or 0 for the last exit
	// (a FATAL process: its last attempt).
	Exit bool
	PID  int
	// Details asks for the Details block, TailLines > 0 for that many
	// lines of the program's log.
	Details   bool
	TailLines int
	// Before is the process as the tool saw it when it raised the alert,
	// before acting on it (httpok and memmon restart it): its run time is
	// then how long it had been up. nil: the run time comes from what
	// supervisord says when asked.
	Before *rpcclient.ProcessInfo
}

// Namespec is name when group == name, else group:name.
func (r Request) Namespec() string {
	if r.Group == r.Name || r.Group == "" {
		return r.Name
	}
	return r.Group + ":" + r.Name
}

// Context is the answer to a Request. A part that was asked for and could
// not be fetched has its error set instead.
type Context struct {
	Request
	Details    *Details
	DetailsErr error
	Tail       *Tail
	TailErr    error
	timeout    time.Duration
}

// Render returns the blocks asked for, separated by a blank line, to be
// appended to an alert's text after a blank line; "" when nothing was
// asked for. A part that could not be fetched says so in one line.
func (c Context) Render() string {
	var parts []string
	if c.Request.Details {
		if c.Details != nil {
			parts = append(parts, c.Details.Render())
		} else {
			parts = append(parts, "Details: not available: "+c.reason(c.DetailsErr))
		}
	}
	if c.Request.TailLines > 0 {
		if c.Tail != nil {
			parts = append(parts, c.Tail.Render())
		} else {
			parts = append(parts, "Log tail: not available: "+c.reason(c.TailErr))
		}
	}
	return strings.Join(parts, "\n\n")
}

// Append returns text with the rendered context after a blank line, or
// text itself when nothing was asked for.
func (c Context) Append(text string) string {
	r := c.Render()
	if r == "" {
		return text
	}
	return text + "\n\n" + r
}

// reason words err for the alert's reader.
func (c Context) reason(err error) string {
	switch {
	case err == nil:
		return "no answer"
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("supervisord did not answer within %s; sent without it", c.timeout)
	case errors.Is(err, context.Canceled):
		return "shutting down; sent without it"
	}
	return Visible(err.Error())
}

// Options configures a Fetcher.
type Options struct {
	Timeout  time.Duration // whole fetch; 0 means DefaultTimeout
	MaxBytes int           // cap of one log tail; 0 means DefaultTailBytes
	Host     string        // "" means os.Hostname()
	// Location of supervisord's log time stamps; nil means time.Local
	// (supervisord runs on the same host and writes local time).
	Location *time.Location
}

// Fetcher asks supervisord for the context of alerts.
type Fetcher struct {
	src Source
	o   Options
}

// NewFetcher returns a fetcher asking src.
func NewFetcher(src Source, o Options) *Fetcher {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultTailBytes
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	return &Fetcher{src: src, o: o}
}

// Fetch gets what req asks for within the fetcher's timeout (or ctx,
// whichever ends first). It is safe for concurrent use.
func (f *Fetcher) Fetch(ctx context.Context, req Request) Context {
	ctx, cancel := context.WithTimeout(ctx, f.o.Timeout)
	defer cancel()
	out := Context{Request: req, timeout: f.o.Timeout}
	if !req.Details && req.TailLines <= 0 {
		return out
	}
	info, err := f.src.GetProcessInfo(ctx, req.Namespec())
	if err != nil {
		err = fmt.Errorf("getProcessInfo %q: %w", req.Namespec(), err)
		out.DetailsErr, out.TailErr = err, err
		return out
	}
	if req.Details {
		out.Details = f.details(ctx, req, info)
	}
	if req.TailLines > 0 {
		out.Tail, out.TailErr = f.tail(ctx, req, info)
	}
	return out
}

// details builds the Details block from the process info and, for an
// exit, supervisord's log: a program restarted by autorestart has lost its
// exit status in the process info by the time a listener asks, but the log
// still says "exited: web (exit status 3; not expected)".
func (f *Fetcher) details(ctx context.Context, req Request, info rpcclient.ProcessInfo) *Details {
	d := &Details{
		Program:     req.Namespec(),
		Host:        f.o.Host,
		SpawnErr:    info.SpawnErr,
		Description: info.Description,
		State:       info.State,
		PID:         info.PID,
	}
	start, stop, now := time.Unix(info.Start, 0), time.Unix(info.Stop, 0), time.Unix(info.Now, 0)
	ranInfo := func() {
		if info.Start > 0 && info.Stop >= info.Start {
			d.Ran, d.RanKnown = stop.Sub(start), true
		}
	}
	if b := req.Before; b != nil && !req.Exit {
		if b.PID > 0 && b.Start > 0 && b.Now >= b.Start {
			d.Ran, d.RanKnown = time.Unix(b.Now, 0).Sub(time.Unix(b.Start, 0)), true
		}
		return d
	}
	if !req.Exit {
		if info.PID > 0 && info.Start > 0 {
			d.Ran, d.RanKnown, d.Running = now.Sub(start), true, true
		} else {
			ranInfo()
		}
		return d
	}
	d.Exit = &Exit{}
	var le logExit
	if text, err := f.readLog(ctx); err == nil {
		le = exitFromLog(text, req.Name, req.PID, f.o.Location)
	}
	// The process info still describes the exit when the process has
	// not been started again since: its state is still EXITED (for an
	// exit event) with no pid. BACKOFF and FATAL exits ("exited too
	// quickly") have no exit status in it at all.
	unchanged := info.State == rpcclient.StateExited && info.PID == 0
	switch {
	case le.found:
		*d.Exit = le.exit
		if le.timed {
			d.Ran, d.RanKnown = le.end.Sub(le.start), true
		} else if unchanged {
			ranInfo()
		}
	case unchanged:
		*d.Exit = Exit{Known: true, Code: info.ExitStatus}
		ranInfo()
	default:
		if info.State == rpcclient.StateFatal || info.State == rpcclient.StateBackoff {
			ranInfo()
		}
	}
	return d
}

// readLog reads the end of supervisord's own log.
func (f *Fetcher) readLog(ctx context.Context) (string, error) {
	var err error
	for shift := range 4 {
		var s string
		if s, err = f.src.ReadLog(ctx, -(logWindow - shift), 0); err == nil {
			return s, nil
		}
		if !notUTF8(err) {
			break
		}
	}
	return "", err
}

// tail fetches the last req.TailLines lines of the program's stderr log,
// or of its stdout log when stderr has no log file of its own (it is
// redirected to stdout, or not logged).
func (f *Fetcher) tail(ctx context.Context, req Request, info rpcclient.ProcessInfo) (*Tail, error) {
	t := &Tail{Program: req.Namespec(), Want: req.TailLines}
	call := f.src.TailProcessStderrLog
	switch {
	case info.StderrLogfile != "":
		t.Stream, t.Path = "stderr", info.StderrLogfile
	case info.StdoutLogfile != "":
		t.Stream, t.Path = "stdout", info.StdoutLogfile
		call = f.src.TailProcessStdoutLog
	default:
		return nil, errors.New("the program logs neither stderr nor stdout to a file")
	}
	var lt rpcclient.LogTail
	var err error
	for shift := range 4 {
		if lt, err = call(ctx, req.Namespec(), 0, f.o.MaxBytes-shift); err == nil || !notUTF8(err) {
			break
		}
	}
	if err != nil {
		if notUTF8(err) {
			return nil, fmt.Errorf("the %s log is not UTF-8 text (supervisord cannot send it)", t.Stream)
		}
		return nil, fmt.Errorf("tail of the %s log: %w", t.Stream, err)
	}
	t.Lines, t.Cut, t.Capped = makeTail(lt.Bytes, lt.Overflow, req.TailLines, f.o.MaxBytes)
	// With more log than was read, fewer lines than asked for means
	// the byte cap cut them.
	if lt.Overflow && len(t.Lines) < req.TailLines {
		t.Capped = true
	}
	return t, nil
}
