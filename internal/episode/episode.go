// Package episode decides when a supervisord process has been missing long
// enough to report, and when it is back: Buildbot's notify_on_missing, for
// supervisord processes.
//
// An episode starts when a watched process leaves RUNNING (or is found not
// RUNNING) and ends when it is RUNNING again. Once an episode has lasted
// the timeout, exactly one Missing notice is made for it; when a reported
// episode ends, one Recovered notice. Episodes shorter than the timeout
// produce nothing.
//
// A Tracker is fed from three sides: Observe with the state changes of
// PROCESS_STATE events (fast, on the event loop), Reconcile with
// getAllProcessInfo (on every TICK, so that dropped events, a restarted
// supervisord or a restarted listener never lose an episode), and Due on
// every TICK for the timeouts. Records and Restore carry the open episodes
// across a restart of the listener (see Store). Time comes from an injected
// clock; the Tracker never reads time.Now itself.
package episode

import (
	"cmp"
	"io"
	"log"
	"slices"
	"sync"
	"time"

	"github.com/superlance-go/superlance/rpcclient"
)

// Kind says what a Notice reports.
type Kind int

const (
	// Missing: the process has not been RUNNING for at least the timeout.
	Missing Kind = iota + 1
	// Recovered: a reported episode has ended.
	Recovered
)

func (k Kind) String() string {
	switch k {
	case Missing:
		return "missing"
	case Recovered:
		return "recovered"
	}
	return "unknown"
}

// Notice is one report about one process. The Missing and the Recovered
// notice of an episode share Program and Since, which identify the episode.
type Notice struct {
	Kind    Kind
	Program string // namespec: name, or group:name when they differ
	Group   string
	Name    string
	// Since is when the episode started.
	Since time.Time
	// At is when the notice was made (Missing) or when the episode ended
	// (Recovered; earlier than the notice when supervisord's times show
	// that the process ran again while nobody was listening).
	At time.Time
	// State is the state now (Missing), or the state that ended the
	// episode (Recovered): RUNNING, or STOPPED when stopped processes do
	// not count.
	State rpcclient.ProcessState
	// Info is what supervisord said about the process at the latest
	// reconciliation; nil when it has not answered yet.
	Info *rpcclient.ProcessInfo
	// Reported is when the Missing notice was made (Recovered only).
	Reported time.Time
	// PID of the process that ended the episode, 0 when unknown
	// (Recovered only).
	PID int
}

// Down is how long the process was (Recovered) or has been (Missing) down.
func (n Notice) Down() time.Duration { return n.At.Sub(n.Since) }

// Change is one state change of a process, from a PROCESS_STATE event.
type Change struct {
	Group, Name string
	State       rpcclient.ProcessState
	PID         int // from the event's pid: token, 0 when it has none
}

// Config configures a Tracker.
type Config struct {
	// Timeout is how long an episode lasts before it is reported; > 0.
	Timeout time.Duration
	// IgnoreStopped: STOPPED (stopped on purpose) does not count as
	// missing; it ends an episode the way RUNNING does.
	IgnoreStopped bool
	// Now is the clock.
	Now func() time.Time
	// Log receives one line per episode that starts or ends; nil discards.
	Log *log.Logger
}

// Tracker holds the open episodes. It is safe for concurrent use; no
// method does I/O other than logging.
type Tracker struct {
	cfg Config
	log *log.Logger

	mu  sync.Mutex
	eps map[string]*episode // open episodes by namespec
	// seen is when an event last told the state of a process: a
	// getAllProcessInfo asked for before that is older news for it.
	seen map[string]time.Time
	info map[string]rpcclient.ProcessInfo // latest answer per namespec
	gen  uint64                           // bumped whenever Records would change
}

type episode struct {
	group, name string
	since       time.Time
	state       rpcclient.ProcessState
	reported    time.Time // zero until the Missing notice
	// confirmed is false for an episode restored from a Record until an
	// event or a reconciliation shows that the process is still down.
	confirmed bool
}

// New returns an empty Tracker.
func New(cfg Config) *Tracker {
	t := &Tracker{
		cfg:  cfg,
		log:  cfg.Log,
		eps:  map[string]*episode{},
		seen: map[string]time.Time{},
		info: map[string]rpcclient.ProcessInfo{},
	}
	if t.log == nil {
		t.log = log.New(io.Discard, "", 0)
	}
	return t
}

// counts reports whether state counts as missing.
func (t *Tracker) counts(state rpcclient.ProcessState) bool {
	return state != rpcclient.StateRunning && !(t.cfg.IgnoreStopped && state == rpcclient.StateStopped)
}

func namespec(group, name string) string {
	if group == name {
		return name
	}
	return group + ":" + name
}

// Observe records a state change reported by an event, at the current
// time. It returns the Recovered notice when the change ends a reported
// episode.
func (t *Tracker) Observe(c Change) []Notice {
	now := t.cfg.Now()
	prog := namespec(c.Group, c.Name)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seen[prog] = now
	ep := t.eps[prog]
	switch {
	case ep != nil && !t.counts(c.State):
		return t.end(prog, ep, now, c.State, c.PID)
	case ep != nil:
		ep.state, ep.confirmed = c.State, true
	case t.counts(c.State):
		t.start(prog, c.Group, c.Name, now, c.State)
	}
	return nil
}

// Reconcile compares the open episodes with supervisord's process table:
// infos, the getAllProcessInfo answer for the watched processes, asked for
// at the time asked. A process whose state an event reported after asked
// is left alone: the event is newer. Episodes of processes that are not in
// infos (removed from supervisord, or no longer watched) are dropped. It
// returns the Recovered notices of reported episodes that ended.
func (t *Tracker) Reconcile(infos []rpcclient.ProcessInfo, asked time.Time) []Notice {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Notice
	present := make(map[string]bool, len(infos))
	for _, in := range infos {
		prog := in.Namespec()
		present[prog] = true
		if !t.seen[prog].Before(asked) {
			continue
		}
		t.info[prog] = in
		// supervisord's times are whole seconds of its own clock; they
		// are placed on ours through its "now" in the same answer.
		at := func(unix int64) time.Time {
			if unix <= 0 || unix > in.Now {
				return asked
			}
			return asked.Add(-time.Duration(in.Now-unix) * time.Second)
		}
		ep := t.eps[prog]
		missing := t.counts(in.State)
		switch {
		case ep != nil && !missing:
			// It came back when supervisord last started it (or
			// stopped it, with IgnoreStopped), which may be a whole
			// tick before this answer.
			end := at(in.Start)
			if in.State != rpcclient.StateRunning {
				end = at(in.Stop)
			}
			out = append(out, t.end(prog, ep, later(end, ep.since), in.State, in.PID)...)
		case ep != nil && in.State == rpcclient.StateExited && at(in.Start).After(ep.since.Add(time.Second)):
			// EXITED follows RUNNING only: the process ran again after
			// this episode began, unseen (dropped events, or while the
			// listener was down), and is down again. Two episodes. The
			// second of slack covers the whole-second times.
			out = append(out, t.end(prog, ep, at(in.Start), rpcclient.StateRunning, 0)...)
			t.start(prog, in.Group, in.Name, at(in.Stop), in.State)
		case ep != nil:
			ep.state, ep.confirmed = in.State, true
		case missing:
			since := asked
			switch in.State {
			case rpcclient.StateExited, rpcclient.StateStopped, rpcclient.StateFatal, rpcclient.StateBackoff:
				// Down since the last exit at the latest (a process
				// never started has no stop time: since now).
				since = at(in.Stop)
			}
			t.start(prog, in.Group, in.Name, since, in.State)
		}
	}
	for prog, ep := range t.eps {
		if !present[prog] {
			t.log.Printf("%s: no longer in supervisord's process table (or no longer watched); forgetting its episode since %s", prog, stamp(ep.since))
			delete(t.eps, prog)
			t.gen++
		}
	}
	for prog := range t.info {
		if !present[prog] {
			delete(t.info, prog)
		}
	}
	sortNotices(out)
	return out
}

// Due returns a Missing notice for every confirmed episode that has lasted
// the timeout and was not reported yet, and marks them reported.
func (t *Tracker) Due() []Notice {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Notice
	for prog, ep := range t.eps {
		if !ep.reported.IsZero() || !ep.confirmed || now.Sub(ep.since) < t.cfg.Timeout {
			continue
		}
		ep.reported = now
		t.gen++
		n := Notice{Kind: Missing, Program: prog, Group: ep.group, Name: ep.name, Since: ep.since, At: now, State: ep.state}
		if in, ok := t.info[prog]; ok {
			n.Info = &in
		}
		out = append(out, n)
	}
	sortNotices(out)
	return out
}

// start opens an episode; t.mu is held.
func (t *Tracker) start(prog, group, name string, since time.Time, state rpcclient.ProcessState) {
	t.eps[prog] = &episode{group: group, name: name, since: since, state: state, confirmed: true}
	t.gen++
	t.log.Printf("%s is %s: not RUNNING since %s; reported if still so at %s", prog, state, stamp(since), stamp(since.Add(t.cfg.Timeout)))
}

// end closes an episode at the time at; t.mu is held.
func (t *Tracker) end(prog string, ep *episode, at time.Time, state rpcclient.ProcessState, pid int) []Notice {
	delete(t.eps, prog)
	t.gen++
	if ep.reported.IsZero() {
		t.log.Printf("%s is %s again after %s: shorter than the timeout (%s), not reported", prog, state, Round(at.Sub(ep.since)), t.cfg.Timeout)
		return nil
	}
	n := Notice{Kind: Recovered, Program: prog, Group: ep.group, Name: ep.name, Since: ep.since, At: at, State: state, Reported: ep.reported, PID: pid}
	if in, ok := t.info[prog]; ok {
		n.Info = &in
	}
	return []Notice{n}
}

// Record is an open episode as Store keeps it.
type Record struct {
	Group    string    `json:"group"`
	Name     string    `json:"name"`
	Since    time.Time `json:"since"`
	Reported time.Time `json:"reported,omitzero"`
}

// Records returns the open episodes, sorted, and a generation number that
// changes whenever they change (so that a writer can skip a write).
func (t *Tracker) Records() ([]Record, uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Record, 0, len(t.eps))
	for _, ep := range t.eps {
		out = append(out, Record{Group: ep.group, Name: ep.name, Since: ep.since, Reported: ep.reported})
	}
	slices.SortFunc(out, func(a, b Record) int {
		if c := cmp.Compare(a.Group, b.Group); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out, t.gen
}

// Restore adds episodes kept by a previous listener. They count only once
// an event or a reconciliation shows that the process is still down; a
// process already known here keeps what is known.
func (t *Tracker) Restore(recs []Record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range recs {
		prog := namespec(r.Group, r.Name)
		if _, ok := t.eps[prog]; ok || r.Name == "" || r.Group == "" {
			continue
		}
		if _, ok := t.seen[prog]; ok {
			continue
		}
		t.eps[prog] = &episode{group: r.Group, name: r.Name, since: r.Since, reported: r.Reported, state: rpcclient.StateUnknown}
	}
}

// Open returns how many episodes are open and how many of them were reported.
func (t *Tracker) Open() (open, reported int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, ep := range t.eps {
		open++
		if !ep.reported.IsZero() {
			reported++
		}
	}
	return open, reported
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func sortNotices(ns []Notice) {
	slices.SortFunc(ns, func(a, b Notice) int { return cmp.Compare(a.Program, b.Program) })
}

// stamp formats a time for the log: local time to the second.
func stamp(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

// Round shortens a duration for people: tenths of a second below ten
// seconds, whole seconds above.
func Round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
