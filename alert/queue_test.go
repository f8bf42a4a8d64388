package alert

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a transport that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	got    []Alert
	ticks  []time.Duration
	refuse error
	lost   int
}

func (r *recorder) Post(a *Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse != nil {
		return r.refuse
	}
	r.got = append(r.got, *a)
	return nil
}
func (r *recorder) Tick(p time.Duration)      { r.ticks = append(r.ticks, p) }
func (r *recorder) Close(context.Context) int { return r.lost }
func (r *recorder) String() string            { return "recorder" }

func TestQueueFillsAndFansOut(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a, b := &recorder{}, &recorder{refuse: errors.New("closed")}
	q := NewQueue(Options{Tool: "crashmail", Host: "web1", Now: func() time.Time { return at }}, a, b)
	err := q.Send(Alert{Kind: Crash, Program: "web", Group: "web", Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "recorder: closed") {
		t.Errorf("Send error = %v, want the refusal named by its transport", err)
	}
	if len(a.got) != 1 {
		t.Fatalf("first transport got %d alerts, want 1 (a refusal elsewhere must not stop it)", len(a.got))
	}
	got := a.got[0]
	if got.Tool != "crashmail" || got.Host != "web1" || !got.Time.Equal(at) {
		t.Errorf("got Tool %q Host %q Time %v, want crashmail web1 %v", got.Tool, got.Host, got.Time, at)
	}
	q.TickEvent("TICK_5")
	q.TickEvent("PROCESS_STATE_EXITED")
	if len(a.ticks) != 1 || a.ticks[0] != 5*time.Second {
		t.Errorf("ticks = %v, want [5s]", a.ticks)
	}
	if err := q.Send(Alert{Kind: Recovered}); err == nil {
		t.Error("a recovered alert without Ends was accepted")
	}
	a.lost = 2
	if err := q.Close(context.Background()); err == nil || !strings.Contains(err.Error(), "2 alerts") {
		t.Errorf("Close = %v, want the 2 undelivered alerts counted", err)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func TestKindsHaveAlertNames(t *testing.T) {
	for _, k := range Kinds {
		if k == Recovered {
			if k.AlertName() != "" {
				t.Errorf("recovered has alertname %q; it resolves another kind's alert", k.AlertName())
			}
			continue
		}
		if k.AlertName() == "" {
			t.Errorf("kind %q has no alertname", k)
		}
	}
}

func TestDetailsJSONKeepsOrder(t *testing.T) {
	d := &Details{Fields: []Field{{"exit_status", "3"}, {"ran_for", "2s"}, {"a", "\"q\""}}, LogTail: "l1\nl2", Log: "stderr"}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"fields":{"exit_status":"3","ran_for":"2s","a":"\"q\""},"log_tail":"l1\nl2","log":"stderr"}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
	if v, ok := d.Get("ran_for"); !ok || v != "2s" {
		t.Errorf("Get(ran_for) = %q, %v", v, ok)
	}
}
