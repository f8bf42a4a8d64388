// Package reconcile finds out, after supervisord dropped events, what the
// dropped events would have said, as far as supervisord's process table can
// prove it. supervisord keeps only buffer_size events per listener pool and
// drops the oldest when a listener falls behind; eventproto sees the gap in
// poolserial. The tools that alert on process states (crashmail, the batch
// tools) then ask getAllProcessInfo, off the event loop, and report:
//
//   - a program whose start time is after the last moment the listener was
//     known to be caught up: it was (re)started in the meantime, so what it
//     did before (crash, restart) happened while events were dropped;
//   - a program now EXITED or FATAL whose exit (or last start attempt) came
//     after that moment and whose event the listener has not seen.
//
// What cannot be proved is not reported: how many times a program crashed
// in between, or a crash whose program has not been restarted yet and is
// not EXITED (BACKOFF, STARTING). supervisord's times have a resolution of
// one second, so only times in a later second than that moment count.
package reconcile

import (
	"context"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/environ"
	"github.com/superlance-go/superlance/rpcclient"
)

// Kind is what a Finding says happened to a program.
type Kind int

const (
	// Restarted: the program's start time is after the last event seen.
	Restarted Kind = iota
	// Exited: the program is EXITED, and exited after the last event seen.
	Exited
	// Fatal: the program is FATAL, and its last start attempt came after
	// the last event seen.
	Fatal
)

// Finding is one thing the process table proves about the time in which
// events were dropped.
type Finding struct {
	Kind Kind
	Proc rpcclient.ProcessInfo
}

// At is the time the finding refers to: the start for Restarted and
// Fatal, the stop for Exited.
func (f Finding) At() time.Time {
	if f.Kind == Exited {
		return time.Unix(f.Proc.Stop, 0)
	}
	return time.Unix(f.Proc.Start, 0)
}

// String is the finding as one sentence, e.g. "Process web:web was
// (re)started at 2026-12-02 04:10:07 while events were dropped: a crash or
// restart of it before that may be among them".
func (f Finding) String() string {
	name := f.Proc.Group + ":" + f.Proc.Name
	at := f.At().Local().Format(time.DateTime)
	switch f.Kind {
	case Exited:
		return fmt.Sprintf("Process %s exited at %s (exit status %d) while events were dropped, and is EXITED now", name, at, f.Proc.ExitStatus)
	case Fatal:
		return fmt.Sprintf("Process %s is FATAL now: it could not be started again after %s, while events were dropped", name, at)
	default:
		return fmt.Sprintf("Process %s was (re)started at %s while events were dropped: a crash or restart of it before that may be among them", name, at)
	}
}

// Options configures a Reconciler.
type Options struct {
	// List is getAllProcessInfo, with a deadline of its own.
	List func(ctx context.Context) ([]rpcclient.ProcessInfo, error)
	// Kinds are the findings the tool alerts on.
	Kinds []Kind
	// Watch, if set, limits the findings to the programs it accepts.
	Watch func(group, name string) bool
	// Self is the listener's own group and name, never reported.
	SelfGroup, SelfName string
	// Report receives the findings of one gap (never empty), from a
	// goroutine of the Reconciler: missed is how many events were dropped.
	Report func(missed int64, findings []Finding)
	Log    *log.Logger
	Now    func() time.Time
}

// Timeout bounds the getAllProcessInfo of one reconciliation.
const Timeout = 10 * time.Second

// Reconciler watches the events a tool handles and reconciles after a gap.
// Observe is called on the event loop and does no I/O; the query runs in
// a goroutine that Wait waits for.
type Reconciler struct {
	o Options

	// Loop state, touched by Observe only.
	prev, last time.Time // when the two latest events were handled
	started    time.Time // the Reconciler's creation: caught up, nothing seen yet

	mu       sync.Mutex
	seen     map[string]time.Time // program -> when its latest EXITED/FATAL event was handled
	reported map[string]bool      // findings already reported, by kind, program and time
	running  bool                 // a reconciliation is in flight
	// The gaps seen while one was in flight, for one more run after it.
	pendingMissed int64
	pendingSince  time.Time
	wg            sync.WaitGroup
}

// New returns a Reconciler; o.List, o.Report, o.Log and o.Now are required.
func New(o Options) *Reconciler {
	now := o.Now()
	return &Reconciler{o: o, started: now, seen: map[string]time.Time{}, reported: map[string]bool{}}
}

// Observe is called for every event, before the tool handles it. ps is the
// event's parsed payload when it reports a process state the tool alerts
// on (EXITED, FATAL), else nil: the program's event was seen, and its
// current state is not news. When the event follows a gap, Observe starts
// the reconciliation.
func (r *Reconciler) Observe(ev eventproto.Event, ps *eventproto.ProcessState) {
	if r == nil {
		return
	}
	now := r.o.Now()
	if ev.Missed > 0 {
		// The listener was last known to be caught up when it asked for
		// the event before the gap: around the time it had handled the one
		// before that. The dropped events are all later than that.
		since := r.prev
		if since.IsZero() {
			since = r.started
		}
		r.o.Log.Printf("pool %s: reconciling with supervisord's process table: %d event(s) dropped after %s",
			ev.Header.Pool, ev.Missed, since.Local().Format(time.DateTime))
		r.start(ev.Missed, since)
	}
	if ps != nil {
		r.mu.Lock()
		r.seen[ps.GroupName+":"+ps.ProcessName] = now
		r.mu.Unlock()
	}
	r.prev, r.last = r.last, now
}

// Wait waits for the reconciliations in flight, or for ctx.
func (r *Reconciler) Wait(ctx context.Context) {
	if r == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// start runs a reconciliation in a goroutine, or, while one runs, leaves
// the gap for one more run after it: a listener that keeps falling behind
// asks supervisord at most twice at a time, never once per gap.
func (r *Reconciler) start(missed int64, since time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		if r.pendingMissed == 0 || since.Before(r.pendingSince) {
			r.pendingSince = since
		}
		r.pendingMissed += missed
		return
	}
	r.running = true
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			r.reconcile(missed, since)
			r.mu.Lock()
			if r.pendingMissed == 0 {
				r.running = false
				r.mu.Unlock()
				return
			}
			missed, since = r.pendingMissed, r.pendingSince
			r.pendingMissed = 0
			r.mu.Unlock()
		}
	}()
}

func (r *Reconciler) reconcile(missed int64, since time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	procs, err := r.o.List(ctx)
	cancel()
	if err != nil {
		r.o.Log.Printf("could not reconcile after %d dropped event(s): getAllProcessInfo: %v", missed, err)
		return
	}
	found := r.find(procs, since)
	if len(found) == 0 {
		r.o.Log.Printf("reconciled after %d dropped event(s): supervisord's process table shows nothing unreported", missed)
		return
	}
	r.o.Report(missed, found)
}

// find applies the rules of the package documentation to procs.
func (r *Reconciler) find(procs []rpcclient.ProcessInfo, since time.Time) []Finding {
	after := since.Unix() // times in a later second than this are after since
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Finding
	for _, p := range procs {
		if (p.Group == r.o.SelfGroup && p.Name == r.o.SelfName) || (r.o.Watch != nil && !r.o.Watch(p.Group, p.Name)) {
			continue
		}
		key := p.Group + ":" + p.Name
		// An event of this program handled after its current start
		// already told of its current state.
		seen, ok := r.seen[key]
		told := ok && seen.Unix() >= p.Start
		var f Finding
		switch {
		case p.State == rpcclient.StateExited && p.Stop > after && !told:
			f = Finding{Kind: Exited, Proc: p}
		case p.State == rpcclient.StateFatal && p.Start > after && !told:
			f = Finding{Kind: Fatal, Proc: p}
		case p.Start > after && p.State != rpcclient.StateExited && p.State != rpcclient.StateFatal:
			f = Finding{Kind: Restarted, Proc: p}
		default:
			continue
		}
		if !r.wants(f.Kind) {
			continue
		}
		id := fmt.Sprintf("%d %s %d", f.Kind, key, f.At().Unix())
		if r.reported[id] {
			continue
		}
		r.reported[id] = true
		out = append(out, f)
	}
	return out
}

func (r *Reconciler) wants(k Kind) bool {
	for _, w := range r.o.Kinds {
		if w == k {
			return true
		}
	}
	return false
}

// ForListener returns a Reconciler that asks the supervisord the listener
// runs under (SUPERVISOR_SERVER_URL and the credentials in env) and skips
// the listener itself (SUPERVISOR_GROUP_NAME, SUPERVISOR_PROCESS_NAME):
// o.List, o.SelfGroup and o.SelfName are set from env. When env names no
// usable supervisord it logs why and returns nil, on which Observe and
// Wait do nothing: dropped events are then only logged. Call done when the
// listener is finished.
func ForListener(env []string, o Options) (r *Reconciler, done func()) {
	client, err := rpcclient.FromEnv(env)
	if err != nil {
		o.Log.Printf("connecting to supervisord: %v; dropped events will not be reconciled", err)
		return nil, func() {}
	}
	o.List = client.GetAllProcessInfo
	o.SelfGroup, _ = environ.Get(env, "SUPERVISOR_GROUP_NAME")
	o.SelfName, _ = environ.Get(env, "SUPERVISOR_PROCESS_NAME")
	return New(o), func() { client.Close() }
}
