package alertctx

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 2, 10, 2, 0, 0, time.Local)

type summaries struct {
	mu  sync.Mutex
	got []Summary[int]
}

func (s *summaries) emit(x Summary[int]) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, x)
}

func (s *summaries) list() []Summary[int] {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Summary[int](nil), s.got...)
}

func TestParseLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Limit
		ok   bool
	}{
		{"3/10m", Limit{3, 10 * time.Minute}, true},
		{"2/5s", Limit{2, 5 * time.Second}, true},
		{"1/1h30m", Limit{1, 90 * time.Minute}, true},
		{"0/10m", Limit{}, false},
		{"-1/10m", Limit{}, false},
		{"3", Limit{}, false},
		{"3/", Limit{}, false},
		{"3/10", Limit{}, false}, // a duration needs a unit
		{"3/0s", Limit{}, false},
		{"3/-1m", Limit{}, false},
		{"3/200h", Limit{}, false},
		{"x/10m", Limit{}, false},
	} {
		got, err := ParseLimit(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseLimit(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestFloodWindow plays a crash loop against 2/5s: two alerts go out, the
// rest are held, and one summary with their count comes when the window of
// the first alert has passed; then alerts flow again.
func TestFloodWindow(t *testing.T) {
	clk := NewManualClock(t0)
	var s summaries
	f := NewFlood(Limit{2, 5 * time.Second}, clk, s.emit)
	var trace []string
	crash := func(i int) {
		trace = append(trace, fmt.Sprintf("%d:%v", i, f.Allow("web", i)))
	}
	for i := range 9 { // one crash every 500ms: 0s .. 4s
		crash(i)
		clk.Advance(500 * time.Millisecond)
	}
	if got := s.list(); len(got) != 0 {
		t.Fatalf("summary before the window passed: %+v", got)
	}
	clk.Advance(500 * time.Millisecond) // now 5s: the first alert leaves the window
	got := s.list()
	if len(got) != 1 {
		t.Fatalf("got %d summaries at the end of the window, want 1", len(got))
	}
	want := Summary[int]{Key: "web", Count: 7, First: t0.Add(time.Second), Last: t0.Add(4 * time.Second), Item: 8}
	if got[0] != want {
		t.Errorf("summary = %+v, want %+v", got[0], want)
	}
	crash(9) // 5s: one slot free again
	crash(10)
	wantTrace := "0:true 1:true 2:false 3:false 4:false 5:false 6:false 7:false 8:false 9:true 10:false"
	if g := strings.Join(trace, " "); g != wantTrace {
		t.Errorf("allowed = %s\nwant      %s", g, wantTrace)
	}
	if clk.Pending() != 1 {
		t.Errorf("%d timers pending, want 1 (for the alert held at 5s)", clk.Pending())
	}
	// That one is summed up once the alert of 0.5s has left the window: at 5.5s.
	clk.Advance(500 * time.Millisecond)
	if got := s.list(); len(got) != 2 || got[1].Count != 1 || got[1].Item != 10 {
		t.Errorf("second summary = %+v, want one held alert (10)", got[len(got)-1])
	}
}

// TestFloodPerProgram: one program's loop does not hold back another's.
func TestFloodPerProgram(t *testing.T) {
	clk := NewManualClock(t0)
	var s summaries
	f := NewFlood(Limit{1, time.Minute}, clk, s.emit)
	if !f.Allow("web", 1) || f.Allow("web", 2) || !f.Allow("db", 3) || f.Allow("db", 4) || f.Allow("db", 5) {
		t.Fatal("want one alert per program let through")
	}
	clk.Advance(time.Minute)
	got := s.list()
	if len(got) != 2 {
		t.Fatalf("got %d summaries, want 2", len(got))
	}
	counts := map[string]int{got[0].Key: got[0].Count, got[1].Key: got[1].Count}
	if counts["web"] != 1 || counts["db"] != 2 {
		t.Errorf("counts = %v, want web 1, db 2", counts)
	}
}

// TestFloodDueBeforeTimer: when the window has passed but the timer has
// not run yet, the next Allow emits the summary first, so that it comes
// before the alert it lets through.
func TestFloodDueBeforeTimer(t *testing.T) {
	clk := &lateClock{ManualClock: NewManualClock(t0)}
	var order []string
	f := NewFlood(Limit{1, time.Second}, clk, func(s Summary[int]) {
		order = append(order, fmt.Sprintf("summary %d", s.Count))
	})
	f.Allow("web", 1)
	f.Allow("web", 2)
	clk.now = t0.Add(2 * time.Second) // the timer is late
	if f.Allow("web", 3) {
		order = append(order, "alert 3")
	}
	if got := strings.Join(order, ", "); got != "summary 1, alert 3" {
		t.Errorf("order = %s, want summary 1, alert 3", got)
	}
	clk.ManualClock.Advance(time.Hour) // the late timer finds nothing to do
	if len(order) != 2 {
		t.Errorf("the late timer emitted again: %v", order)
	}
}

// lateClock reads its own now while timers follow the manual clock.
type lateClock struct {
	*ManualClock
	now time.Time
}

func (c *lateClock) Now() time.Time {
	if c.now.IsZero() {
		return c.ManualClock.Now()
	}
	return c.now
}

func TestFloodClose(t *testing.T) {
	clk := NewManualClock(t0)
	var s summaries
	f := NewFlood(Limit{1, time.Minute}, clk, s.emit)
	f.Allow("web", 1)
	f.Allow("web", 2)
	f.Allow("db", 3)
	f.Allow("db", 4)
	held := f.Close()
	if len(held) != 2 || held[0].Key != "db" || held[1].Key != "web" {
		t.Fatalf("Close() = %+v, want db and web held", held)
	}
	if clk.Pending() != 0 {
		t.Errorf("%d timers left after Close", clk.Pending())
	}
	clk.Advance(time.Hour)
	if got := s.list(); len(got) != 0 {
		t.Errorf("emitted after Close: %+v", got)
	}
}

func TestFloodOff(t *testing.T) {
	f := NewFlood[int](Limit{}, NewManualClock(t0), func(Summary[int]) { t.Error("summary with the limit off") })
	for i := range 100 {
		if !f.Allow("web", i) {
			t.Fatal("held back with the limit off")
		}
	}
	var nilFlood *Flood[int]
	if !nilFlood.Allow("web", 1) || nilFlood.Close() != nil {
		t.Error("a nil Flood must let everything through")
	}
}

func TestSummaryText(t *testing.T) {
	s := Summary[int]{Key: "web", Count: 41, First: t0.Add(11 * time.Second), Last: t0.Add(10*time.Minute + 11*time.Second)}
	if got, want := s.Text("unexpected exit", "unexpected exits", "last exit status 1"), "web: 41 more unexpected exits between 10:02:11 and 10:12:11, last exit status 1"; got != want {
		t.Errorf("Text() = %q\nwant     %q", got, want)
	}
	one := Summary[int]{Key: "web", Count: 1, First: t0, Last: t0}
	if got, want := one.Text("unexpected exit", "unexpected exits", ""), "web: 1 more unexpected exit at 10:02:00"; got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
	days := Summary[int]{Key: "web", Count: 2, First: t0, Last: t0.Add(24 * time.Hour)}
	if got, want := days.Text("alert", "alerts", ""), "web: 2 more alerts between Dec 2 10:02:00 and Dec 3 10:02:00"; got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
}
