package alert

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Transport is one way alerts leave a listener: mail, a webhook, an
// Alertmanager cluster. Post never waits on the network; each transport
// delivers in its own goroutines, with its own deadlines and retries, so a
// stalled webhook never holds up mail or the event loop.
type Transport interface {
	// Post hands a over. An error means this transport will not deliver
	// a (it can never be sent, or the transport is closed).
	Post(a *Alert) error
	// Tick is called on every TICK event with the tick's period; the
	// Alertmanager transport re-posts what is firing.
	Tick(period time.Duration)
	// Close delivers what is pending until ctx is done and returns how
	// many alerts it could not deliver (each one logged).
	Close(ctx context.Context) int
	// String names the transport in log lines; it never includes a
	// secret (no header values, no URL path).
	String() string
}

// Failer is a Transport that can say how many alerts it dropped before
// Close: refused for good, or given up on after its retries. Close counts
// only what was still pending; --test-alert needs both.
type Failer interface {
	Failed() int
}

// Options configures a Queue.
type Options struct {
	Tool string           // fills Alert.Tool when empty
	Host string           // fills Alert.Host when empty; "" means os.Hostname()
	Now  func() time.Time // fills Alert.Time when zero; nil means time.Now
}

// Queue is the one delivery path of a listener: every alert a tool raises
// is handed to Send, which gives it to each transport. It never blocks on
// the network.
type Queue struct {
	o          Options
	transports []Transport

	mu     sync.Mutex
	closed bool
}

// NewQueue returns a queue delivering through ts (none is allowed: alerts
// are then dropped, which is what a tool without -m has always done).
func NewQueue(o Options, ts ...Transport) *Queue {
	if o.Host == "" {
		o.Host = Hostname()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Queue{o: o, transports: ts}
}

// Hostname is os.Hostname, or "localhost" when it fails.
func Hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// Transports returns how many transports the queue has.
func (q *Queue) Transports() int { return len(q.transports) }

// Send completes a (Tool, Host, Time when unset) and hands it to every
// transport. It returns the transports' refusals, joined; the other
// transports still got the alert.
func (q *Queue) Send(a Alert) error {
	if a.Tool == "" {
		a.Tool = q.o.Tool
	}
	if a.Host == "" {
		a.Host = q.o.Host
	}
	if a.Time.IsZero() {
		a.Time = q.o.Now()
	}
	if a.Kind == Recovered && a.Ends == "" {
		return errors.New("a recovered alert needs the kind it ends")
	}
	var errs []error
	for _, t := range q.transports {
		c := a // each transport gets its own copy
		if err := t.Post(&c); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t, err))
		}
	}
	return errors.Join(errs...)
}

// Tick passes a TICK event's period on to every transport.
func (q *Queue) Tick(period time.Duration) {
	for _, t := range q.transports {
		t.Tick(period)
	}
}

// TickEvent is Tick for an event name ("TICK_5"); other names are ignored.
func (q *Queue) TickEvent(name string) {
	if p, ok := TickPeriod(name); ok {
		q.Tick(p)
	}
}

// TickPeriod parses the period of supervisord's TICK_<seconds> events.
func TickPeriod(name string) (time.Duration, bool) {
	rest, ok := strings.CutPrefix(name, "TICK_")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n <= 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// Close closes every transport at once, each delivering what it holds
// until ctx is done, and returns an error counting what was not delivered.
// Calling it again returns nil.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	q.mu.Unlock()

	lost := make([]int, len(q.transports))
	var wg sync.WaitGroup
	for i, t := range q.transports {
		wg.Go(func() { lost[i] = t.Close(ctx) })
	}
	wg.Wait()
	var errs []error
	for i, n := range lost {
		if n > 0 {
			errs = append(errs, fmt.Errorf("%s: %d alerts not delivered before exit", q.transports[i], n))
		}
	}
	return errors.Join(errs...)
}
