// Package restart is the restart policy of the tools that bring programs
// back up: a per-program Backoff after Twisted's process monitor (a program
// that dies instantly is restarted after a delay that doubles with every
// further instant death, up to a maximum; a run of at least the threshold
// resets it, and the restart after such a run is immediate) and a Budget
// that caps the restarts of all programs together in a sliding window.
//
// Neither type starts timers or reads the wall clock: time comes from the
// injected clock, and the caller schedules what the policy decides. Neither
// is safe for concurrent use; the caller holds its own lock.
package restart

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MinThreshold is the shortest threshold Validate accepts. supervisord
// notices an exit, and sends the event for it, up to about a second late
// when it is idle (its main loop polls once a second), and the RUNNING
// event carries the same lag: a program that dies at once can appear to
// have run for more than a second. A threshold near one second would then
// take an instant death for a successful run and reset the delay exactly
// when it must grow.
const MinThreshold = 3 * time.Second

// Policy holds the settings of a Backoff.
type Policy struct {
	// Threshold: a run shorter than this is an instant death.
	Threshold time.Duration
	// MinDelay is the delay before the restart that follows the first
	// instant death; each further one doubles it, up to MaxDelay.
	MinDelay, MaxDelay time.Duration
}

// Validate reports settings the policy cannot work with, in words meant
// for the user.
func (p Policy) Validate() error {
	switch {
	case p.Threshold < MinThreshold:
		return fmt.Errorf("threshold %v is below %v: supervisord reports an exit up to about a second late, so a program that dies at once can appear to have run over a second, and a threshold that short would reset the delay exactly when it must grow", p.Threshold, MinThreshold)
	case p.MinDelay <= 0:
		return fmt.Errorf("minimum delay %v must be positive", p.MinDelay)
	case p.MaxDelay < p.MinDelay:
		return fmt.Errorf("minimum delay %v is above the maximum delay %v", p.MinDelay, p.MaxDelay)
	}
	return nil
}

// Backoff is the restart state of one program.
type Backoff struct {
	policy Policy
	now    func() time.Time

	delay   time.Duration // wait before the restart after the next instant death
	streak  int           // consecutive instant deaths
	looping bool          // streak reached 2, and no run has reached the threshold since
	since   time.Time     // start of the current run; zero when not known to be running
}

// NewBackoff returns the state of a program that has not died yet.
func NewBackoff(p Policy, now func() time.Time) *Backoff {
	return &Backoff{policy: p, now: now, delay: p.MinDelay}
}

// Death is what the policy makes of one death.
type Death struct {
	// Ran is the length of the run that ended, or -1 when the program
	// never reached RUNNING (or its start is not known).
	Ran time.Duration
	// Instant reports a run shorter than the threshold.
	Instant bool
	// Delay is the wait before restarting: the current delay after an
	// instant death, zero after a run of at least the threshold.
	Delay time.Duration
	// Streak counts the consecutive instant deaths, this one included.
	Streak int
	// Looping reports that this death made the program a crash loop: it is
	// the second instant death in a row. It is true once per loop.
	Looping bool
	// Recovered reports that this death ended a run of at least the
	// threshold that followed a crash loop Check had not yet reported.
	Recovered bool
}

// Running records that the program entered RUNNING now.
func (b *Backoff) Running() { b.since = b.now() }

// RunningSince records that the program has been RUNNING since t (e.g.
// supervisord's own start time, when the RUNNING event was missed).
func (b *Backoff) RunningSince(t time.Time) { b.since = t }

// IsRunning reports whether a run is in progress as far as the policy knows.
func (b *Backoff) IsRunning() bool { return !b.since.IsZero() }

// Died records that the program ended its run now (EXITED), or never
// reached RUNNING (FATAL): a death with no run in progress is instant.
func (b *Backoff) Died() Death {
	ran := time.Duration(-1)
	if !b.since.IsZero() {
		ran = max(b.now().Sub(b.since), 0)
	}
	return b.DiedAfter(ran)
}

// DiedAfter records a death after a run of ran (negative: never RUNNING),
// as measured elsewhere, e.g. from supervisord's start and stop times.
func (b *Backoff) DiedAfter(ran time.Duration) Death {
	b.since = time.Time{}
	if ran >= b.policy.Threshold {
		d := Death{Ran: ran, Recovered: b.looping}
		b.reset()
		return d
	}
	if ran < 0 {
		ran = -1
	}
	b.streak++
	d := Death{Ran: ran, Instant: true, Delay: b.delay, Streak: b.streak}
	if b.streak >= 2 && !b.looping {
		b.looping = true
		d.Looping = true
	}
	b.delay = min(b.delay*2, b.policy.MaxDelay)
	return d
}

// Check resets the policy when the current run has reached the threshold,
// and reports whether that ended a crash loop (true once per loop). Call
// it Threshold after Running, or whenever convenient: before the threshold
// it does nothing.
func (b *Backoff) Check() (recovered bool) {
	if b.since.IsZero() || b.now().Sub(b.since) < b.policy.Threshold {
		return false
	}
	recovered = b.looping
	b.reset()
	return recovered
}

func (b *Backoff) reset() {
	b.streak = 0
	b.looping = false
	b.delay = b.policy.MinDelay
}

// Streak returns the number of consecutive instant deaths so far.
func (b *Backoff) Streak() int { return b.streak }

// Looping reports whether the program is in a crash loop: two or more
// instant deaths in a row, and no run of at least the threshold since.
func (b *Backoff) Looping() bool { return b.looping }

// NextDelay returns the wait that the next instant death would get.
func (b *Backoff) NextDelay() time.Duration { return b.delay }

// Budget caps the restarts of all programs together: at most Max in any
// sliding window of Window. A nil *Budget allows everything.
type Budget struct {
	max    int
	window time.Duration
	now    func() time.Time

	taken       []time.Time // restarts within the window, oldest first
	lastRefusal time.Time   // zero before the first refusal
}

// NewBudget returns a budget of max restarts per window.
func NewBudget(max int, window time.Duration, now func() time.Time) *Budget {
	return &Budget{max: max, window: window, now: now}
}

// Take spends one restart when the window allows it and reports whether
// it did. When it refuses, spent reports whether this refusal starts a new
// episode: the first refusal, or the first after a whole window without
// any. A budget held at its limit by a steady stream of deaths (each
// restart allowed as soon as an old one leaves the window, the next one
// refused again) stays one episode.
func (b *Budget) Take() (ok, spent bool) {
	if b == nil {
		return true, false
	}
	now := b.now()
	b.expire(now)
	if len(b.taken) < b.max {
		b.taken = append(b.taken, now)
		return true, false
	}
	spent = b.lastRefusal.IsZero() || now.Sub(b.lastRefusal) >= b.window
	b.lastRefusal = now
	return false, spent
}

// NextFree returns when the window will next allow a restart: now, or the
// moment the oldest restart in the window leaves it. A nil budget returns
// the zero time (always free).
func (b *Budget) NextFree() time.Time {
	if b == nil {
		return time.Time{}
	}
	now := b.now()
	b.expire(now)
	if len(b.taken) < b.max {
		return now
	}
	return b.taken[0].Add(b.window)
}

// Max and Window return the settings.
func (b *Budget) Max() int              { return b.max }
func (b *Budget) Window() time.Duration { return b.window }

func (b *Budget) expire(now time.Time) {
	i := 0
	for i < len(b.taken) && !now.Before(b.taken[i].Add(b.window)) {
		i++
	}
	b.taken = append(b.taken[:0], b.taken[i:]...)
}

// ParseBudget parses N/DURATION: a positive number of restarts and a
// positive window, given in seconds (fractions allowed) or as a Go
// duration ("10m", "1h30m").
func ParseBudget(s string) (max int, window time.Duration, err error) {
	n, d, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, errors.New("want N/DURATION, e.g. 20/10m")
	}
	max, err = strconv.Atoi(n)
	if err != nil || max <= 0 {
		return 0, 0, fmt.Errorf("%q is not a positive whole number of restarts", n)
	}
	if window, err = ParseDuration(d); err != nil {
		return 0, 0, err
	}
	return max, window, nil
}

// ParseDuration parses a positive duration given in seconds (fractions
// allowed: "0.5") or as a Go duration ("1m30s", "10m").
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	var d time.Duration
	if secs, err := strconv.ParseFloat(t, 64); err == nil {
		if math.IsNaN(secs) || math.IsInf(secs, 0) || secs > float64(math.MaxInt64/int64(time.Second)) {
			return 0, fmt.Errorf("%q is not a usable number of seconds", s)
		}
		d = time.Duration(secs * float64(time.Second))
	} else if d, err = time.ParseDuration(t); err != nil {
		return 0, fmt.Errorf("%q is neither a number of seconds nor a duration such as 90s or 10m", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration", s)
	}
	return d, nil
}
