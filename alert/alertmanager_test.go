package alert

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/amtest"
	"github.com/superlance-go/superlance/internal/svtest"
)

const amWait = 60 * time.Second

// ticker calls Tick(period) every period until the test ends or stop is
// called, as TICK events would.
func ticker(t *testing.T, tr Transport, period time.Duration) (stop func(), count func() int) {
	var mu sync.Mutex
	n := 0
	done := make(chan struct{})
	var once sync.Once
	stop = func() { once.Do(func() { close(done) }) }
	t.Cleanup(stop)
	go func() {
		tk := time.NewTicker(period)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				tr.Tick(period)
				mu.Lock()
				n++
				mu.Unlock()
			}
		}
	}()
	return stop, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

func held(t *testing.T, in *amtest.Instance, match map[string]string) []amtest.Alert {
	t.Helper()
	alerts, err := in.Alerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return amtest.Match(alerts, match)
}

func newAM(t *testing.T, o AlertmanagerOptions) (*Alertmanager, *svtest.LockedBuffer) {
	t.Helper()
	logs := &svtest.LockedBuffer{}
	o.Log = log.New(logs, "", 0)
	o.Backoff = 50 * time.Millisecond
	am, err := NewAlertmanager(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A listener's grace period: an unreachable instance is retried
		// until it ends.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		am.Close(ctx)
		if t.Failed() {
			t.Logf("transport log:\n%s", logs)
		}
	})
	return am, logs
}

func TestAlertmanagerEventFiresThenExpires(t *testing.T) {
	t.Parallel()
	r := amtest.NewReceiverT(t)
	in := amtest.Start(t, amtest.Config{Receiver: r.URL})
	am, logs := newAM(t, AlertmanagerOptions{URLs: []string{in.URL}, ResolveAfter: 2 * time.Second, Labels: map[string]string{"team": "ops"}})
	q := NewQueue(Options{Tool: "crashmail", Host: "web1"}, am)
	q.Send(crash("web"))

	match := map[string]string{"alertname": "ProcessCrashed", "program": "web", "group": "web", "instance": "web1", "job": "supervisord", "team": "ops"}
	svtest.Eventually(t, amWait, "Alertmanager never held ProcessCrashed for web", func() bool { return len(held(t, in, match)) == 1 })
	a := held(t, in, match)[0]
	if a.Annotations["summary"] != "web crashed at 2026-01-02 03:04:05,000" || !strings.Contains(a.Annotations["description"], "exited unexpectedly") {
		t.Errorf("annotations = %v", a.Annotations)
	}
	if got := a.EndsAt.Sub(a.StartsAt); got != 2*time.Second {
		t.Errorf("endsAt - startsAt = %v, want --resolve-after 2s", got)
	}
	svtest.Eventually(t, amWait, "no firing notification", func() bool { return r.Seen("firing", match) })
	svtest.Eventually(t, amWait, "the crash never expired", func() bool { return len(held(t, in, match)) == 0 })
	svtest.Eventually(t, amWait, "no resolved notification", func() bool { return r.Seen("resolved", match) })
	if !strings.Contains(logs.String(), "sent ProcessCrashed for web on web1 firing until") {
		t.Errorf("log:\n%s", logs)
	}
}

func TestAlertmanagerConditionHoldsUntilRecovered(t *testing.T) {
	t.Parallel()
	r := amtest.NewReceiverT(t)
	in := amtest.Start(t, amtest.Config{Receiver: r.URL})
	am, _ := newAM(t, AlertmanagerOptions{URLs: []string{in.URL}, Instance: "fleet-7"})
	q := NewQueue(Options{Tool: "missingmail", Host: "web1"}, am)
	_, ticks := ticker(t, am, 2*time.Second) // endsAt 6 s ahead: room for a slow post on a loaded machine
	// Alertmanager never moves a firing alert's endsAt earlier, so the
	// first post must already know the tick period.
	svtest.Eventually(t, amWait, "no tick", func() bool { return ticks() > 0 })
	q.Send(Alert{Kind: Missing, Holds: true, Program: "db", Group: "db", State: "STOPPED", Subject: "db missing", Text: "db has not been running since 10:00"})

	match := map[string]string{"alertname": "ProcessMissing", "program": "db", "instance": "fleet-7"}
	svtest.Eventually(t, amWait, "ProcessMissing never held", func() bool { return len(held(t, in, match)) == 1 })
	first := held(t, in, match)[0]
	// Past the horizon of the first post (three ticks), it is still held,
	// with the same startsAt: the re-posts keep one alert alive.
	from := ticks()
	svtest.Eventually(t, amWait, "ticks stopped", func() bool { return ticks() >= from+2*aheadTicks })
	now := held(t, in, match)
	if len(now) != 1 || !now[0].StartsAt.Equal(first.StartsAt) || !now[0].EndsAt.After(first.EndsAt) {
		t.Fatalf("after %d ticks: held %+v, first post %+v; want one alert, same startsAt, later endsAt", 2*aheadTicks, now, first)
	}
	svtest.Eventually(t, amWait, "no firing notification", func() bool { return r.Seen("firing", match) })

	q.Send(Alert{Kind: Recovered, Ends: Missing, Program: "db", Group: "db", State: "RUNNING", Text: "db is running again"})
	svtest.Eventually(t, amWait, "ProcessMissing never resolved", func() bool { return len(held(t, in, match)) == 0 })
	svtest.Eventually(t, amWait, "no resolved notification", func() bool { return r.Seen("resolved", match) })
}

func TestAlertmanagerGroupsByProgram(t *testing.T) {
	t.Parallel()
	r := amtest.NewReceiverT(t)
	in := amtest.Start(t, amtest.Config{Receiver: r.URL, GroupBy: []string{"program"}})
	am, _ := newAM(t, AlertmanagerOptions{URLs: []string{in.URL}})
	q := NewQueue(Options{Tool: "memmon", Host: "h"}, am)
	q.Send(crash("web"))
	q.Send(Alert{Kind: Memory, Program: "web", Group: "web", Subject: "memmon: process web:web restarted", Text: "x"})
	q.Send(crash("db"))
	group := func(program string, alertnames ...string) bool {
		for _, n := range r.Notifications() {
			if n.Status != "firing" || n.GroupLabels["program"] != program {
				continue
			}
			var names []string
			for _, a := range n.Alerts {
				names = append(names, a.Labels["alertname"])
			}
			slices.Sort(names)
			if slices.Equal(names, alertnames) {
				return true
			}
		}
		return false
	}
	svtest.Eventually(t, amWait, "no notification grouping web's two alerts", func() bool {
		return group("web", "MemoryLimitRestart", "ProcessCrashed")
	})
	svtest.Eventually(t, amWait, "no notification for db's group", func() bool { return group("db", "ProcessCrashed") })
}

func TestAlertmanagerEveryInstanceOfAPair(t *testing.T) {
	t.Parallel()
	r := amtest.NewReceiverT(t)
	pair := amtest.StartPair(t, amtest.Config{Receiver: r.URL})
	// A third URL that refuses connections must not hold up the pair.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	am, logs := newAM(t, AlertmanagerOptions{URLs: []string{pair[0].URL, dead.URL, pair[1].URL}})
	q := NewQueue(Options{Tool: "procmon", Host: "h"}, am)
	q.Send(Alert{Kind: Restart, Holds: true, Program: "worker", Group: "pool", Subject: "worker is in a crash loop", Text: "x"})
	match := map[string]string{"alertname": "ProcessCrashLoop", "program": "worker", "group": "pool"}
	for i, in := range pair {
		svtest.Eventually(t, amWait, "instance of the pair lacks the alert", func() bool { return len(held(t, in, match)) == 1 })
		t.Logf("instance %d holds it", i)
	}
	svtest.Eventually(t, amWait, "the dead instance's failure is not logged", func() bool {
		return strings.Contains(logs.String(), "posting 1 alerts failed (attempt 1)")
	})
	if strings.Contains(logs.String(), dead.URL+"/") {
		t.Errorf("log shows a URL path:\n%s", logs)
	}
}

func TestAlertmanagerHeartbeat(t *testing.T) {
	t.Parallel()
	r := amtest.NewReceiverT(t)
	in := amtest.Start(t, amtest.Config{Receiver: r.URL})
	am, _ := newAM(t, AlertmanagerOptions{URLs: []string{in.URL}, Heartbeat: true, Host: "web1"})
	stop, ticks := ticker(t, am, 2*time.Second) // endsAt 6 s ahead: room for a slow post on a loaded machine
	match := map[string]string{"alertname": HeartbeatName, "instance": "web1", "job": "supervisord"}
	svtest.Eventually(t, amWait, "no heartbeat", func() bool { return len(held(t, in, match)) == 1 })
	first := held(t, in, match)[0]
	from := ticks()
	svtest.Eventually(t, amWait, "ticks stopped", func() bool { return ticks() >= from+2*aheadTicks })
	if now := held(t, in, match); len(now) != 1 || !now[0].StartsAt.Equal(first.StartsAt) {
		t.Fatalf("heartbeat after %d more ticks: %+v (first %+v)", 2*aheadTicks, now, first)
	}
	stop() // the listener stopped receiving ticks
	svtest.Eventually(t, amWait, "heartbeat still held after the ticks stopped", func() bool { return len(held(t, in, match)) == 0 })
	svtest.Eventually(t, amWait, "no resolved heartbeat notification", func() bool { return r.Seen("resolved", match) })
}

// TestAlertmanagerPayload checks the request itself against a recording
// server: labels, annotations, the resolved post and its re-sending.
func TestAlertmanagerPayload(t *testing.T) {
	var mu sync.Mutex
	var posts [][]postable
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var p []postable
		json.Unmarshal(b, &p)
		mu.Lock()
		posts = append(posts, p)
		paths = append(paths, r.URL.Path)
		mu.Unlock()
	}))
	defer srv.Close()
	now := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	var clock sync.Mutex
	at := func() time.Time { clock.Lock(); defer clock.Unlock(); return now }
	advance := func(d time.Duration) { clock.Lock(); now = now.Add(d); clock.Unlock() }
	am, _ := newAM(t, AlertmanagerOptions{URLs: []string{srv.URL + "/prefix/"}, Host: "h", Now: at})
	last := func() []postable {
		mu.Lock()
		defer mu.Unlock()
		if len(posts) == 0 {
			return nil
		}
		return posts[len(posts)-1]
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(posts) }

	am.Post(&Alert{Kind: HealthCheck, Holds: true, Host: "h", Text: "line1\nline2", Time: at()})
	svtest.Eventually(t, 10*time.Second, "no post", func() bool { return count() == 1 })
	p := last()
	if len(p) != 1 || p[0].Labels["alertname"] != "HealthCheckFailed" || p[0].Annotations["summary"] != "line1" || p[0].Labels["program"] != "" {
		t.Fatalf("post = %+v", p)
	}
	if paths[0] != "/prefix/api/v2/alerts" {
		t.Errorf("path = %q", paths[0])
	}
	if p[0].EndsAt != "2026-01-02T03:03:00.000Z" {
		t.Errorf("endsAt before any tick = %s, want three TICK_60 periods ahead", p[0].EndsAt)
	}
	advance(5 * time.Second)
	am.Tick(5 * time.Second)
	svtest.Eventually(t, 10*time.Second, "no re-post on tick", func() bool { return count() == 2 })
	if p := last(); p[0].StartsAt != "2026-01-02T03:00:00.000Z" || p[0].EndsAt != "2026-01-02T03:00:20.000Z" {
		t.Errorf("re-post = %+v, want the same startsAt and endsAt three ticks ahead", p[0])
	}
	am.Post(&Alert{Kind: Recovered, Ends: HealthCheck, Host: "h", Text: "ok again", Time: at()})
	svtest.Eventually(t, 10*time.Second, "no resolved post", func() bool { return count() == 3 })
	if p := last(); len(p) != 1 || p[0].EndsAt != "2026-01-02T03:00:05.000Z" || p[0].Annotations["summary"] != "ok again" {
		t.Errorf("resolved post = %+v", p)
	}
	// Re-sent resolved on ticks for a few minutes, then no longer.
	advance(time.Minute)
	am.Tick(5 * time.Second)
	svtest.Eventually(t, 10*time.Second, "resolved alert not re-sent", func() bool { return count() == 4 })
	if p := last(); len(p) != 1 || p[0].EndsAt != "2026-01-02T03:00:05.000Z" {
		t.Errorf("re-sent resolved = %+v", p)
	}
	advance(resendResolved)
	am.Tick(5 * time.Second)
	am.Post(&Alert{Kind: Crash, Program: "x", Host: "h", Text: "t", Time: at()})
	svtest.Eventually(t, 10*time.Second, "no post of the crash", func() bool { return count() >= 5 })
	if p := last(); len(p) != 1 || p[0].Labels["alertname"] != "ProcessCrashed" {
		t.Errorf("after the re-send window: %+v, want only the crash", p)
	}
}

func TestCheckLabel(t *testing.T) {
	for name, ok := range map[string]bool{"team": true, "_x1": true, "1x": false, "a-b": false, "job": false, "instance": false, "": false} {
		if err := CheckLabel(name); (err == nil) != ok {
			t.Errorf("CheckLabel(%q) = %v", name, err)
		}
	}
}
