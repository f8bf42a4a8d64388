package alertctx

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limit is --flood N/DURATION: at most N alerts per program in any window
// of Window. The zero Limit is off.
type Limit struct {
	N      int
	Window time.Duration
}

// Off reports whether the limit lets every alert through.
func (l Limit) Off() bool { return l.N <= 0 }

// String returns the N/DURATION form, "" when off.
func (l Limit) String() string {
	if l.Off() {
		return ""
	}
	return strconv.Itoa(l.N) + "/" + l.Window.String()
}

// maxWindow keeps a window's end within what timers and the summary's
// wording handle sensibly.
const maxWindow = 7 * 24 * time.Hour

// ParseLimit parses N/DURATION, e.g. "3/10m" or "1/1h30m": N a positive
// integer, DURATION a positive Go duration of at most a week.
func ParseLimit(s string) (Limit, error) {
	ns, ds, ok := strings.Cut(s, "/")
	if !ok {
		return Limit{}, fmt.Errorf("%q is not N/DURATION (e.g. 3/10m)", s)
	}
	n, err := strconv.Atoi(ns)
	if err != nil || n <= 0 {
		return Limit{}, fmt.Errorf("%q: N must be a positive integer", s)
	}
	d, err := time.ParseDuration(ds)
	if err != nil || d <= 0 || d > maxWindow {
		return Limit{}, fmt.Errorf("%q: DURATION must be a positive duration such as 30s, 10m or 1h, at most a week", s)
	}
	return Limit{N: n, Window: d}, nil
}

// UnmarshalText lets kong parse --flood.
func (l *Limit) UnmarshalText(b []byte) error {
	v, err := ParseLimit(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Summary counts the alerts of one program that a Flood held back.
type Summary[T any] struct {
	Key         string
	Count       int
	First, Last time.Time // when the first and the last held-back alert came
	Item        T         // what the last held-back alert was about
}

// Text renders the summary line, e.g. "web: 41 more unexpected exits
// between 10:02:11 and 10:12:11, last exit status 1" (times of day, with
// the date when they fall on different days). one and many name the
// alert ("unexpected exit", "unexpected exits"); last, when not empty, is
// added after a comma.
func (s Summary[T]) Text(one, many, last string) string {
	layout := "15:04:05"
	if first, lastT := s.First.Local(), s.Last.Local(); first.YearDay() != lastT.YearDay() || first.Year() != lastT.Year() {
		layout = "Jan 2 15:04:05"
	}
	var b strings.Builder
	if s.Count == 1 {
		fmt.Fprintf(&b, "%s: 1 more %s at %s", s.Key, one, s.First.Local().Format(layout))
	} else {
		fmt.Fprintf(&b, "%s: %d more %s between %s and %s", s.Key, s.Count, many, s.First.Local().Format(layout), s.Last.Local().Format(layout))
	}
	if last != "" {
		b.WriteString(", " + last)
	}
	return b.String()
}

// Flood limits alerts per key (program): at most Limit.N in any window of
// Limit.Window. Alerts beyond that are counted, and once the window that
// held them back has passed, one Summary goes to emit. It is safe for
// concurrent use; emit is never called with a lock held.
type Flood[T any] struct {
	limit Limit
	clock Clock
	emit  func(Summary[T])

	mu     sync.Mutex
	keys   map[string]*floodKey[T]
	closed bool
}

type floodKey[T any] struct {
	sent []time.Time // times of the alerts let through, oldest first, at most N
	held *Summary[T] // alerts held back since the window filled up
	due  time.Time   // when held is summed up
	stop func() bool // the timer that does it
}

// NewFlood returns a flood limit; with an Off limit, Allow always says yes.
func NewFlood[T any](limit Limit, clock Clock, emit func(Summary[T])) *Flood[T] {
	if clock == nil {
		clock = RealClock{}
	}
	return &Flood[T]{limit: limit, clock: clock, emit: emit, keys: map[string]*floodKey[T]{}}
}

// Allow reports whether an alert for key may go out now. If not, it is
// counted, with item kept as the latest. A summary that is due (its timer
// may not have fired yet) is emitted before Allow returns, so that it comes
// before the alert let through after it.
func (f *Flood[T]) Allow(key string, item T) bool {
	if f == nil || f.limit.Off() {
		return true
	}
	now := f.clock.Now()
	f.mu.Lock()
	k := f.keys[key]
	if k == nil {
		k = &floodKey[T]{}
		f.keys[key] = k
	}
	var due *Summary[T]
	if k.held != nil && !now.Before(k.due) {
		due = k.take()
	}
	// An alert sent at s is in the window at now while now < s+Window.
	k.sent = slices.DeleteFunc(k.sent, func(s time.Time) bool { return !now.Before(s.Add(f.limit.Window)) })
	allowed := len(k.sent) < f.limit.N
	if allowed {
		k.sent = append(k.sent, now)
	} else {
		if k.held == nil {
			k.held = &Summary[T]{Key: key, First: now}
			k.due = k.sent[0].Add(f.limit.Window)
			if !f.closed {
				k.stop = f.clock.AfterFunc(k.due.Sub(now), func() { f.fire(key) })
			}
		}
		k.held.Count++
		k.held.Last = now
		k.held.Item = item
	}
	if k.held == nil && len(k.sent) == 0 {
		delete(f.keys, key)
	}
	f.mu.Unlock()
	if due != nil {
		f.emit(*due)
	}
	return allowed
}

// take returns the held summary and forgets it and its timer; f.mu held.
func (k *floodKey[T]) take() *Summary[T] {
	s := k.held
	k.held = nil
	if k.stop != nil {
		k.stop()
		k.stop = nil
	}
	return s
}

// fire is the timer of key's held alerts.
func (f *Flood[T]) fire(key string) {
	f.mu.Lock()
	k := f.keys[key]
	var s *Summary[T]
	if k != nil && k.held != nil && !f.clock.Now().Before(k.due) {
		k.stop = nil // this very timer
		s = k.take()
	}
	f.mu.Unlock()
	if s != nil {
		f.emit(*s)
	}
}

// Close stops the timers and returns the summaries still held, by key, so
// that a tool that shuts down can send them with its last alerts. Allow
// still works after Close but sets no timers.
func (f *Flood[T]) Close() []Summary[T] {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	var out []Summary[T]
	for _, k := range f.keys {
		if k.held != nil {
			out = append(out, *k.take())
		}
	}
	slices.SortFunc(out, func(a, b Summary[T]) int { return strings.Compare(a.Key, b.Key) })
	return out
}
