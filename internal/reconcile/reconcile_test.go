package reconcile

import (
	"bytes"
	"context"
	"io"
	"log"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/rpcclient"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func gap(missed int64) eventproto.Event {
	return eventproto.Event{Header: eventproto.Header{Pool: "p", EventName: "PROCESS_STATE_EXITED"}, Missed: missed}
}

func proc(name string, state rpcclient.ProcessState, start, stop int64) rpcclient.ProcessInfo {
	return rpcclient.ProcessInfo{Name: name, Group: name, State: state, Start: start, Stop: stop}
}

// TestFindings: what the process table proves after a gap, measured from
// the moment the listener handled the event before the last one seen.
func TestFindings(t *testing.T) {
	const base = 1_000_000 // the listener was last caught up at base+0.5 s
	procs := []rpcclient.ProcessInfo{
		proc("steady", rpcclient.StateRunning, base-100, base-200), // untouched
		proc("restarted", rpcclient.StateRunning, base+5, base+4),  // started later: reported
		proc("samesecond", rpcclient.StateRunning, base, base-1),   // same second as since: not provable
		proc("exited", rpcclient.StateExited, base-100, base+3),    // exited later: reported
		proc("oldexit", rpcclient.StateExited, base-100, base-50),  // exited before: old news
		proc("fatal", rpcclient.StateFatal, base+2, base+2),        // gave up later: reported
		proc("told", rpcclient.StateExited, base+1, base+2),        // its event was handled: not reported
		proc("stopped", rpcclient.StateStopped, base+3, base+6),    // (re)started, then stopped
		proc("listener", rpcclient.StateRunning, base+9, base+8),   // the listener itself
		proc("unwatched", rpcclient.StateExited, base-100, base+3), // not watched
	}
	for _, tt := range []struct {
		name  string
		kinds []Kind
		want  []string
	}{
		{"crash tools", []Kind{Restarted, Exited, Fatal}, []string{"restarted", "exited", "fatal", "stopped"}},
		{"fatalmailbatch", []Kind{Fatal}, []string{"fatal"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			c := &clock{t: time.Unix(base, 0).Add(500 * time.Millisecond)}
			var got []string
			r := New(Options{
				List:      func(context.Context) ([]rpcclient.ProcessInfo, error) { return procs, nil },
				Kinds:     tt.kinds,
				Watch:     func(group, name string) bool { return name != "unwatched" },
				SelfGroup: "listener", SelfName: "listener",
				Report: func(missed int64, found []Finding) {
					if missed != 7 {
						t.Errorf("missed = %d, want 7", missed)
					}
					for _, f := range found {
						got = append(got, f.Proc.Name)
					}
				},
				Log: log.New(&logs, "", 0),
				Now: c.now,
			})
			r.Observe(eventproto.Event{}, nil) // caught up here, at base+0.5
			c.t = time.Unix(base+2, 0).Add(500 * time.Millisecond)
			told := eventproto.ProcessState{ProcessName: "told", GroupName: "told"}
			r.Observe(eventproto.Event{}, &told) // the last event before the gap
			c.t = time.Unix(base+10, 0)
			r.Observe(gap(7), nil)
			r.Wait(context.Background())
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reported %q, want %q (log: %s)", got, tt.want, logs.String())
			}

			// A second gap reports nothing already reported.
			got = nil
			r.Observe(gap(7), nil)
			r.Wait(context.Background())
			if got != nil {
				t.Errorf("second gap reported %q again", got)
			}
		})
	}
}

// TestFindingText: each finding says what was proved, with the time.
func TestFindingText(t *testing.T) {
	at := time.Date(2026, 12, 2, 4, 10, 7, 0, time.Local)
	p := rpcclient.ProcessInfo{Name: "web", Group: "site", Start: at.Unix(), Stop: at.Unix(), ExitStatus: 3}
	for kind, want := range map[Kind]string{
		Restarted: "Process site:web was (re)started at 2026-12-02 04:10:07 while events were dropped: a crash or restart of it before that may be among them",
		Exited:    "Process site:web exited at 2026-12-02 04:10:07 (exit status 3) while events were dropped, and is EXITED now",
		Fatal:     "Process site:web is FATAL now: it could not be started again after 2026-12-02 04:10:07, while events were dropped",
	} {
		if got := (Finding{Kind: kind, Proc: p}).String(); got != want {
			t.Errorf("got %q\nwant %q", got, want)
		}
	}
}

// TestGapsWhileReconciling: gaps that come while supervisord is being asked
// make one more query after it, from the earliest of their moments, not
// one query each.
func TestGapsWhileReconciling(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	release := make(chan struct{})
	var mu sync.Mutex
	var calls int
	var missed []int64
	r := New(Options{
		List: func(context.Context) ([]rpcclient.ProcessInfo, error) {
			mu.Lock()
			calls++
			first := calls == 1
			mu.Unlock()
			if first {
				<-release
			}
			return []rpcclient.ProcessInfo{proc("web", rpcclient.StateRunning, c.t.Unix()+5, 0)}, nil
		},
		Kinds:  []Kind{Restarted},
		Report: func(m int64, _ []Finding) { mu.Lock(); missed = append(missed, m); mu.Unlock() },
		Log:    log.New(io.Discard, "", 0),
		Now:    func() time.Time { return c.t },
	})
	r.Observe(eventproto.Event{}, nil)
	r.Observe(gap(1), nil) // held in List
	r.Observe(gap(2), nil)
	r.Observe(gap(3), nil)
	close(release)
	r.Wait(context.Background())
	if calls != 2 {
		t.Errorf("getAllProcessInfo called %d times, want 2", calls)
	}
	// The second run finds web again, with the same start: reported once.
	if want := []int64{1}; !reflect.DeepEqual(missed, want) {
		t.Errorf("reports for %v dropped events, want %v", missed, want)
	}
}
