package episode

import (
	"bytes"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/rpcclient"
)

// clock is the injected time: it moves only when the test says so.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

var t0 = time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC)

func newTracker(t *testing.T, ignoreStopped bool) (*Tracker, *clock, *bytes.Buffer) {
	t.Helper()
	c := &clock{t: t0}
	var logs bytes.Buffer
	tr := New(Config{Timeout: time.Minute, IgnoreStopped: ignoreStopped, Now: c.now, Log: log.New(&logs, "", 0)})
	return tr, c, &logs
}

func change(prog string, s rpcclient.ProcessState) Change {
	group, name, ok := strings.Cut(prog, ":")
	if !ok {
		name = group
	}
	return Change{Group: group, Name: name, State: s}
}

// info is a getAllProcessInfo entry at supervisord time now (unix seconds).
func info(prog string, s rpcclient.ProcessState, start, stop, now int64) rpcclient.ProcessInfo {
	group, name, ok := strings.Cut(prog, ":")
	if !ok {
		name = group
	}
	return rpcclient.ProcessInfo{Group: group, Name: name, State: s, StateName: s.String(), Start: start, Stop: stop, Now: now, Description: "desc of " + name}
}

func kinds(ns []Notice) string {
	var parts []string
	for _, n := range ns {
		parts = append(parts, n.Kind.String()+" "+n.Program)
	}
	return strings.Join(parts, ", ")
}

func want(t *testing.T, step string, got []Notice, wantKinds string) {
	t.Helper()
	if k := kinds(got); k != wantKinds {
		t.Fatalf("%s: got notices [%s], want [%s]", step, k, wantKinds)
	}
}

func TestShortEpisodeIsNotReported(t *testing.T) {
	tr, c, logs := newTracker(t, false)
	want(t, "exit", tr.Observe(change("web", rpcclient.StateExited)), "")
	c.advance(30 * time.Second)
	want(t, "tick inside the timeout", tr.Due(), "")
	c.advance(29 * time.Second)
	want(t, "back", tr.Observe(change("web", rpcclient.StateRunning)), "")
	c.advance(time.Hour)
	want(t, "much later", tr.Due(), "")
	if !strings.Contains(logs.String(), "web is RUNNING again after 59s: shorter than the timeout (1m0s), not reported") {
		t.Errorf("log: got %q, want the short episode explained", logs.String())
	}
}

func TestLongEpisodeReportedOnceThenRecovered(t *testing.T) {
	tr, c, _ := newTracker(t, false)
	tr.Observe(change("web", rpcclient.StateExited))
	c.advance(5 * time.Second)
	tr.Observe(change("web", rpcclient.StateStarting))
	tr.Observe(change("web", rpcclient.StateBackoff))
	c.advance(54 * time.Second)
	want(t, "59 s", tr.Due(), "")
	c.advance(time.Second)
	got := tr.Due()
	want(t, "60 s", got, "missing web")
	n := got[0]
	if !n.Since.Equal(t0) || !n.At.Equal(t0.Add(time.Minute)) || n.State != rpcclient.StateBackoff || n.Down() != time.Minute {
		t.Errorf("notice: got since %v at %v state %v, want since %v, a minute later, BACKOFF", n.Since, n.At, n.State, t0)
	}
	for i := range 10 {
		c.advance(5 * time.Second)
		tr.Observe(change("web", rpcclient.StateFatal))
		want(t, "later tick "+string(rune('0'+i)), tr.Due(), "")
	}
	c.advance(time.Minute)
	rec := tr.Observe(Change{Group: "web", Name: "web", State: rpcclient.StateRunning, PID: 42})
	want(t, "back", rec, "recovered web")
	r := rec[0]
	if !r.Since.Equal(t0) || r.Down() != 170*time.Second || !r.Reported.Equal(t0.Add(time.Minute)) || r.PID != 42 || r.State != rpcclient.StateRunning {
		t.Errorf("recovery: got %+v, want since %v, down 2m50s, reported at 1m, pid 42", r, t0)
	}
	// A new episode is a new story.
	tr.Observe(change("web", rpcclient.StateExited))
	c.advance(time.Minute)
	want(t, "second episode", tr.Due(), "missing web")
}

func TestSameTickOneBatch(t *testing.T) {
	tr, c, _ := newTracker(t, false)
	tr.Observe(change("b", rpcclient.StateExited))
	tr.Observe(change("app:a", rpcclient.StateFatal))
	c.advance(10 * time.Second)
	tr.Observe(change("c", rpcclient.StateExited))
	c.advance(50 * time.Second)
	want(t, "first expiry", tr.Due(), "missing app:a, missing b")
	c.advance(10 * time.Second)
	want(t, "second expiry", tr.Due(), "missing c")
}

func TestStopped(t *testing.T) {
	t.Run("counts by default", func(t *testing.T) {
		tr, c, _ := newTracker(t, false)
		tr.Observe(change("idle", rpcclient.StateStopped))
		c.advance(time.Minute)
		want(t, "tick", tr.Due(), "missing idle")
	})
	t.Run("ignored", func(t *testing.T) {
		tr, c, _ := newTracker(t, true)
		tr.Observe(change("idle", rpcclient.StateStopped))
		c.advance(time.Minute)
		want(t, "tick", tr.Due(), "")
		// A reported episode that ends in STOPPED is over, and said so.
		tr.Observe(change("web", rpcclient.StateFatal))
		c.advance(time.Minute)
		want(t, "fatal", tr.Due(), "missing web")
		rec := tr.Observe(change("web", rpcclient.StateStopped))
		want(t, "stopped", rec, "recovered web")
		if rec[0].State != rpcclient.StateStopped {
			t.Errorf("recovery state: got %v, want STOPPED", rec[0].State)
		}
	})
}

func TestReconcile(t *testing.T) {
	t.Run("finds a process that went down unseen", func(t *testing.T) {
		tr, c, _ := newTracker(t, false)
		c.advance(100 * time.Second)
		// supervisord's clock is far from ours; only differences count.
		want(t, "reconcile", tr.Reconcile([]rpcclient.ProcessInfo{
			info("web", rpcclient.StateExited, 5000, 5040, 5100),
			info("ok", rpcclient.StateRunning, 5000, 0, 5100),
			info("never", rpcclient.StateStopped, 0, 0, 5100),
		}, c.now()), "")
		c.advance(time.Second)
		got := tr.Due()
		want(t, "due", got, "missing web")
		if wantSince := t0.Add(40 * time.Second); !got[0].Since.Equal(wantSince) {
			t.Errorf("since: got %v, want %v (supervisord's stop time)", got[0].Since, wantSince)
		}
		if got[0].Info == nil || got[0].Info.Description != "desc of web" {
			t.Errorf("details: got %+v, want supervisord's info", got[0].Info)
		}
		c.advance(59 * time.Second)
		want(t, "never started, a minute later", tr.Due(), "missing never")
	})
	t.Run("ends an episode whose RUNNING event was dropped", func(t *testing.T) {
		tr, c, _ := newTracker(t, false)
		tr.Observe(change("web", rpcclient.StateExited))
		c.advance(time.Minute)
		want(t, "due", tr.Due(), "missing web")
		c.advance(time.Minute)
		// supervisord started it again 10 s before its answer.
		rec := tr.Reconcile([]rpcclient.ProcessInfo{info("web", rpcclient.StateRunning, 100, 0, 110)}, c.now())
		want(t, "reconcile", rec, "recovered web")
		if d := rec[0].Down(); d != 110*time.Second {
			t.Errorf("down: got %v, want 1m50s (until supervisord's start, not its answer)", d)
		}
	})
	t.Run("an event newer than the answer wins", func(t *testing.T) {
		tr, c, _ := newTracker(t, false)
		tr.Observe(change("web", rpcclient.StateExited))
		c.advance(time.Minute)
		want(t, "due", tr.Due(), "missing web")
		asked := c.now()
		c.advance(time.Second)
		want(t, "event", tr.Observe(change("web", rpcclient.StateRunning)), "recovered web")
		// The answer was asked for before the event: it still says FATAL.
		want(t, "stale answer", tr.Reconcile([]rpcclient.ProcessInfo{info("web", rpcclient.StateFatal, 100, 105, 110)}, asked), "")
		c.advance(time.Hour)
		want(t, "later", tr.Due(), "")
	})
	t.Run("ran again unseen: two episodes", func(t *testing.T) {
		tr, c, _ := newTracker(t, false)
		tr.Observe(change("web", rpcclient.StateExited)) // supervisord time 1000
		c.advance(time.Minute)
		want(t, "due", tr.Due(), "missing web")
		c.advance(time.Minute) // supervisord time 1120: it ran from 1070 to 1110
		rec := tr.Reconcile([]rpcclient.ProcessInfo{info("web", rpcclient.StateExited, 1070, 1110, 1120)}, c.now())
		want(t, "reconcile", rec, "recovered web")
		if d := rec[0].Down(); d != 70*time.Second {
			t.Errorf("first episode: down %v, want 1m10s (until the unseen start)", d)
		}
		c.advance(49 * time.Second)
		want(t, "second episode, 59 s", tr.Due(), "")
		c.advance(time.Second)
		want(t, "second episode, 60 s", tr.Due(), "missing web")
	})
	t.Run("still down: same episode", func(t *testing.T) {
		tr, c, _ := newTracker(t, false)
		tr.Observe(change("web", rpcclient.StateExited))
		c.advance(time.Minute)
		want(t, "due", tr.Due(), "missing web")
		for range 5 {
			c.advance(5 * time.Second)
			// Start is the run before the exit; stop the exit itself.
			want(t, "reconcile", tr.Reconcile([]rpcclient.ProcessInfo{info("web", rpcclient.StateExited, 990, 1000, 1000+int64(c.now().Sub(t0)/time.Second))}, c.now()), "")
			want(t, "tick", tr.Due(), "")
		}
	})
	t.Run("removed process is forgotten", func(t *testing.T) {
		tr, c, logs := newTracker(t, false)
		tr.Observe(change("web", rpcclient.StateExited))
		tr.Reconcile(nil, c.now().Add(time.Second))
		c.advance(time.Hour)
		want(t, "due", tr.Due(), "")
		if !strings.Contains(logs.String(), "web: no longer in supervisord's process table") {
			t.Errorf("log: got %q, want the forgotten episode named", logs.String())
		}
	})
}

func TestRestore(t *testing.T) {
	reported := []Record{{Group: "web", Name: "web", Since: t0, Reported: t0.Add(time.Minute)}}
	t.Run("reported episode still down is not reported again", func(t *testing.T) {
		tr, c, _ := newTracker(t, false)
		c.advance(10 * time.Minute)
		tr.Restore(reported)
		want(t, "unconfirmed", tr.Due(), "")
		tr.Reconcile([]rpcclient.ProcessInfo{info("web", rpcclient.StateFatal, 100, 101, 200)}, c.now())
		c.advance(time.Hour)
		want(t, "confirmed, much later", tr.Due(), "")
		rec := tr.Observe(change("web", rpcclient.StateRunning))
		want(t, "back", rec, "recovered web")
		if !rec[0].Since.Equal(t0) {
			t.Errorf("since: got %v, want the restored %v", rec[0].Since, t0)
		}
	})
	t.Run("back while nobody listened", func(t *testing.T) {
		tr, c, _ := newTracker(t, false)
		c.advance(10 * time.Minute)
		tr.Restore(reported)
		want(t, "reconcile", tr.Reconcile([]rpcclient.ProcessInfo{info("web", rpcclient.StateRunning, 100, 0, 200)}, c.now()), "recovered web")
	})
	t.Run("unreported episode keeps its start", func(t *testing.T) {
		tr, c, _ := newTracker(t, false)
		c.advance(30 * time.Second)
		tr.Restore([]Record{{Group: "web", Name: "web", Since: t0}})
		tr.Observe(change("web", rpcclient.StateBackoff))
		c.advance(29 * time.Second)
		want(t, "59 s after the restored start", tr.Due(), "")
		c.advance(time.Second)
		want(t, "60 s", tr.Due(), "missing web")
	})
	t.Run("an event before the restore wins", func(t *testing.T) {
		tr, _, _ := newTracker(t, false)
		tr.Observe(change("web", rpcclient.StateRunning))
		tr.Restore(reported)
		if open, _ := tr.Open(); open != 0 {
			t.Errorf("open episodes: got %d, want 0", open)
		}
	})
}

func TestRecordsGeneration(t *testing.T) {
	tr, c, _ := newTracker(t, false)
	_, g0 := tr.Records()
	tr.Observe(change("web", rpcclient.StateExited))
	recs, g1 := tr.Records()
	if g1 == g0 || len(recs) != 1 || !recs[0].Since.Equal(t0) || !recs[0].Reported.IsZero() {
		t.Fatalf("after start: got %+v gen %d (was %d), want one unreported episode and a new generation", recs, g1, g0)
	}
	tr.Observe(change("web", rpcclient.StateBackoff))
	if _, g := tr.Records(); g != g1 {
		t.Errorf("state change inside an episode: generation %d, want unchanged %d", g, g1)
	}
	c.advance(time.Minute)
	tr.Due()
	recs, g2 := tr.Records()
	if g2 == g1 || !recs[0].Reported.Equal(c.now()) {
		t.Errorf("after the notice: got %+v gen %d, want Reported set and a new generation", recs, g2)
	}
}
