package svtest

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/harness"
)

// LockedBuffer is a bytes.Buffer that a command's goroutines and the test
// may use at once (a command's stderr in an in-process test).
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far, Untimed: a command's log as
// its tests read it.
func (l *LockedBuffer) String() string {
	return Untimed(l.Raw())
}

// Raw returns everything written so far, as written.
func (l *LockedBuffer) Raw() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Run is a command's run() with everything but its standard streams bound.
type Run = harness.Run

// Driver plays supervisord's side of the event protocol against a command
// run in-process over pipes (harness.Driver); anything but READY and
// RESULT 2\nOK on its stdout fails the test.
type Driver struct {
	t    testing.TB
	d    *harness.Driver
	code <-chan int
	// Stderr is what the command logged so far.
	Stderr *LockedBuffer
}

// Drive starts run in a goroutine with pipes for stdin and stdout; pool
// names the listener pool in the events' headers.
func Drive(t testing.TB, pool string, run Run) *Driver {
	t.Helper()
	stderr := &LockedBuffer{}
	d, code, release := harness.DriveFunc(pool, run, stderr)
	t.Cleanup(release)
	return &Driver{t: t, d: d, code: code, Stderr: stderr}
}

// Send waits for READY, delivers one event and returns how long the
// acknowledgement took, from writing the event to reading the whole
// RESULT 2\nOK.
func (d *Driver) Send(eventName, payload string) time.Duration {
	d.t.Helper()
	took, err := d.d.Send(eventName, payload)
	if err != nil {
		d.t.Fatalf("%v; stderr:\n%s", err, d.Stderr.String())
	}
	return took
}

// Tick sends a TICK_5 event for the current time.
func (d *Driver) Tick() time.Duration {
	d.t.Helper()
	took, err := d.d.Tick()
	if err != nil {
		d.t.Fatalf("%v; stderr:\n%s", err, d.Stderr.String())
	}
	return took
}

// Finish closes stdin, as supervisord does when it stops a listener, and
// returns the command's exit code; it fails the test when the command has
// not returned within timeout.
func (d *Driver) Finish(timeout time.Duration) int {
	d.t.Helper()
	d.d.Close()
	select {
	case c := <-d.code:
		return c
	case <-time.After(timeout):
		d.t.Fatalf("the command did not return within %v of stdin EOF; stderr:\n%s", timeout, d.Stderr.String())
		return -1
	}
}
