package svtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
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

// String returns everything written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Run is a command's run() with everything but its standard streams bound.
type Run func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) int

// Driver plays supervisord's side of the event protocol against a command
// run in-process over pipes: it waits for READY, writes one event, and
// reads the RESULT, as supervisord does with the real binary.
type Driver struct {
	t      testing.TB
	pool   string
	stdin  *io.PipeWriter
	stdout *bufio.Reader
	code   chan int
	serial int
	// Stderr is what the command logged so far.
	Stderr *LockedBuffer
}

// Drive starts run in a goroutine with pipes for stdin and stdout; pool
// names the listener pool in the events' headers.
func Drive(t testing.TB, pool string, run Run) *Driver {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	d := &Driver{t: t, pool: pool, stdin: inW, stdout: bufio.NewReader(outR), code: make(chan int, 1), Stderr: &LockedBuffer{}}
	go func() {
		code := run(context.Background(), inR, outW, d.Stderr)
		outW.Close()
		d.code <- code
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	return d
}

// Send waits for READY, delivers one event and returns how long the
// acknowledgement took, from writing the event to reading the whole
// RESULT 2\nOK. Anything else on stdout fails the test.
func (d *Driver) Send(eventName, payload string) time.Duration {
	d.t.Helper()
	d.expect("READY\n", "before "+eventName)
	d.serial++
	ev := fmt.Sprintf("ver:3.0 server:supervisor serial:%d pool:%s poolserial:%d eventname:%s len:%d\n%s",
		d.serial, d.pool, d.serial, eventName, utf8.RuneCountInString(payload), payload)
	start := time.Now()
	if _, err := io.WriteString(d.stdin, ev); err != nil {
		d.t.Fatalf("writing %s: %v", eventName, err)
	}
	d.expect("RESULT 2\nOK", "after "+eventName)
	return time.Since(start)
}

// Tick sends a TICK_5 event for the current time.
func (d *Driver) Tick() time.Duration {
	d.t.Helper()
	return d.Send("TICK_5", fmt.Sprintf("when:%d", time.Now().Unix()))
}

func (d *Driver) expect(want, when string) {
	d.t.Helper()
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(d.stdout, buf); err != nil || string(buf) != want {
		d.t.Fatalf("stdout %s: got %q (%v), want %q; stderr:\n%s", when, buf, err, want, d.Stderr.String())
	}
}

// Finish closes stdin, as supervisord does when it stops a listener, and
// returns the command's exit code; it fails the test when the command has
// not returned within timeout.
func (d *Driver) Finish(timeout time.Duration) int {
	d.t.Helper()
	go io.Copy(io.Discard, d.stdout) // a last READY must not block the command
	d.stdin.Close()
	select {
	case c := <-d.code:
		return c
	case <-time.After(timeout):
		d.t.Fatalf("the command did not return within %v of stdin EOF; stderr:\n%s", timeout, d.Stderr.String())
		return -1
	}
}
