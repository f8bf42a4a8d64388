package restart

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// clock is a manual clock for the policy.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)} }
func secs(f float64) time.Duration       { return time.Duration(f * float64(time.Second)) }
func policy(th, lo, hi float64) Policy {
	return Policy{Threshold: secs(th), MinDelay: secs(lo), MaxDelay: secs(hi)}
}

func TestBackoffDoublesUpToMax(t *testing.T) {
	c := newClock()
	b := NewBackoff(policy(10, 1, 8), c.now)
	var got []time.Duration
	for range 6 {
		b.Running()
		c.advance(secs(0.4))
		d := b.Died()
		if !d.Instant {
			t.Fatalf("death after 0.4s: Instant = false, want true")
		}
		got = append(got, d.Delay)
		c.advance(d.Delay)
	}
	want := []time.Duration{secs(1), secs(2), secs(4), secs(8), secs(8), secs(8)}
	if !slices.Equal(got, want) {
		t.Errorf("delays = %v, want %v", got, want)
	}
	if b.Streak() != 6 {
		t.Errorf("Streak = %d, want 6", b.Streak())
	}
}

func TestBackoffLongRunResetsAndRestartsAtOnce(t *testing.T) {
	c := newClock()
	b := NewBackoff(policy(10, 0.5, 60), c.now)
	for range 3 {
		b.Died() // FATAL: never RUNNING
	}
	if b.NextDelay() != secs(4) {
		t.Fatalf("NextDelay after three instant deaths = %v, want 4s", b.NextDelay())
	}
	b.Running()
	c.advance(secs(10))
	d := b.Died()
	if d.Instant || d.Delay != 0 || d.Ran != secs(10) || d.Streak != 0 {
		t.Errorf("death after a 10s run = %+v, want not instant, delay 0, ran 10s, streak 0", d)
	}
	if !d.Recovered {
		t.Errorf("death after a 10s run that ended a loop: Recovered = false, want true")
	}
	// The next instant death starts again at the minimum.
	if d := b.Died(); d.Delay != secs(0.5) || d.Streak != 1 || d.Looping {
		t.Errorf("first instant death after the reset = %+v, want delay 0.5s, streak 1, not looping", d)
	}
}

func TestBackoffLoopAndRecoveryReportedOnce(t *testing.T) {
	c := newClock()
	b := NewBackoff(policy(5, 1, 60), c.now)
	var looping []int
	for i := 1; i <= 4; i++ {
		b.Running()
		c.advance(secs(1))
		if d := b.Died(); d.Looping {
			looping = append(looping, i)
		}
	}
	if len(looping) != 1 || looping[0] != 2 {
		t.Errorf("Looping reported at deaths %v, want only at death 2", looping)
	}
	if !b.Looping() {
		t.Fatal("Looping() = false after four instant deaths")
	}
	b.Running()
	c.advance(secs(4.9))
	if b.Check() {
		t.Error("Check before the threshold reported a recovery")
	}
	c.advance(secs(0.1))
	if !b.Check() {
		t.Error("Check at the threshold: got no recovery, want one")
	}
	if b.Check() {
		t.Error("second Check reported the recovery again")
	}
	c.advance(secs(100))
	d := b.Died()
	if d.Recovered || d.Instant || d.Delay != 0 {
		t.Errorf("exit after the reported recovery = %+v, want not recovered again, not instant, delay 0", d)
	}
	if b.NextDelay() != secs(1) || b.Looping() || b.Streak() != 0 {
		t.Errorf("after recovery: NextDelay %v, Looping %v, Streak %d; want 1s, false, 0", b.NextDelay(), b.Looping(), b.Streak())
	}
	// A new loop is a new episode.
	b.Died()
	if d := b.Died(); !d.Looping {
		t.Error("second instant death of a new loop: Looping = false, want true")
	}
}

func TestBackoffRunLengthSources(t *testing.T) {
	c := newClock()
	b := NewBackoff(policy(10, 1, 60), c.now)
	if d := b.Died(); d.Ran != -1 || !d.Instant {
		t.Errorf("death without RUNNING = %+v, want Ran -1, instant", d)
	}
	b.RunningSince(c.now().Add(-secs(30)))
	if !b.IsRunning() {
		t.Error("IsRunning after RunningSince = false")
	}
	if d := b.Died(); d.Instant || d.Ran != secs(30) {
		t.Errorf("death 30s after supervisord's start time = %+v, want a 30s run", d)
	}
	if b.IsRunning() {
		t.Error("IsRunning after Died = true")
	}
	if d := b.DiedAfter(secs(2)); !d.Instant || d.Ran != secs(2) || d.Delay != secs(1) {
		t.Errorf("DiedAfter(2s) = %+v, want instant, ran 2s, delay 1s", d)
	}
	if d := b.DiedAfter(-5); d.Ran != -1 {
		t.Errorf("DiedAfter(-5) Ran = %v, want -1", d.Ran)
	}
}

func TestPolicyValidate(t *testing.T) {
	for _, tt := range []struct {
		p       Policy
		wantErr string
	}{
		{policy(10, 1, 3600), ""},
		{policy(3, 0.1, 0.1), ""},
		{policy(2.9, 1, 3600), "about a second late"},
		{policy(1, 1, 3600), "below 3s"},
		{policy(10, 0, 3600), "must be positive"},
		{policy(10, 5, 4), "above the maximum"},
	} {
		err := tt.p.Validate()
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%+v: got %v, want no error", tt.p, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%+v: got %v, want an error containing %q", tt.p, err, tt.wantErr)
		}
	}
}

func TestBudgetSlidingWindow(t *testing.T) {
	c := newClock()
	b := NewBudget(3, secs(10), c.now)
	for i := range 3 {
		if ok, _ := b.Take(); !ok {
			t.Fatalf("take %d of 3 refused", i+1)
		}
		c.advance(secs(1))
	}
	// t=3: three restarts at 0, 1, 2.
	ok, spent := b.Take()
	if ok || !spent {
		t.Fatalf("fourth take = ok %v, spent %v; want refused, new episode", ok, spent)
	}
	if want := c.now().Add(secs(7)); !b.NextFree().Equal(want) {
		t.Errorf("NextFree = %v, want %v (the first restart leaves the window)", b.NextFree(), want)
	}
	c.advance(secs(6.9))
	if ok, spent := b.Take(); ok || spent {
		t.Errorf("take just before the window allows = ok %v, spent %v; want refused, same episode", ok, spent)
	}
	c.advance(secs(0.1)) // t=10: the restart at 0 left the window
	if ok, _ := b.Take(); !ok {
		t.Fatal("take at t=10 refused, want allowed")
	}
	if ok, spent := b.Take(); ok || spent {
		t.Errorf("take right after = ok %v, spent %v; want refused, same episode (last refusal 0.1s ago)", ok, spent)
	}
	// A whole window without a refusal ends the episode.
	c.advance(secs(30))
	for range 3 {
		b.Take()
	}
	if ok, spent := b.Take(); ok || !spent {
		t.Errorf("refusal a window after the last one = ok %v, spent %v; want refused, new episode", ok, spent)
	}
}

func TestNilBudgetAllowsEverything(t *testing.T) {
	var b *Budget
	for range 1000 {
		if ok, spent := b.Take(); !ok || spent {
			t.Fatal("nil budget refused a restart")
		}
	}
	if !b.NextFree().IsZero() {
		t.Error("nil budget NextFree is not the zero time")
	}
}

func TestParseBudget(t *testing.T) {
	for _, tt := range []struct {
		in      string
		max     int
		window  time.Duration
		wantErr string
	}{
		{"20/10m", 20, 10 * time.Minute, ""},
		{"3/8", 3, 8 * time.Second, ""},
		{"1/0.5", 1, 500 * time.Millisecond, ""},
		{"5/1h30m", 5, 90 * time.Minute, ""},
		{"20", 0, 0, "want N/DURATION"},
		{"0/10m", 0, 0, "positive whole number"},
		{"-1/10m", 0, 0, "positive whole number"},
		{"2.5/10m", 0, 0, "positive whole number"},
		{"x/10m", 0, 0, "positive whole number"},
		{"20/", 0, 0, "neither a number"},
		{"20/0", 0, 0, "not a positive duration"},
		{"20/-5m", 0, 0, "not a positive duration"},
		{"20/10q", 0, 0, "neither a number"},
		{"20/inf", 0, 0, "not a usable number"},
	} {
		max, window, err := ParseBudget(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseBudget(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || max != tt.max || window != tt.window {
			t.Errorf("ParseBudget(%q) = %d, %v, %v; want %d, %v", tt.in, max, window, err, tt.max, tt.window)
		}
	}
}

// BenchmarkBudgetTake measures a refused restart with a full window of
// 1000 restarts, the worst case of the sliding window.
func BenchmarkBudgetTake(b *testing.B) {
	c := newClock()
	bu := NewBudget(1000, time.Hour, c.now)
	for range 1000 {
		bu.Take()
	}
	for b.Loop() {
		bu.Take()
	}
}
