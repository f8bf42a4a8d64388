package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"time"
	"unicode/utf8"
)

// Driver plays supervisord's side of the event protocol with one listener:
// it waits for READY, writes one event, and reads the RESULT, as
// supervisord does. The listener is a process (its stdin and stdout pipes)
// or a command's run() in-process (DriveFunc).
type Driver struct {
	pool   string
	stdin  io.WriteCloser
	stdout *bufio.Reader
	serial int
	ready  bool // READY read, no event sent since
}

// NewDriver speaks the protocol over a listener's stdin and stdout; pool
// names the listener pool in the events' headers.
func NewDriver(pool string, stdin io.WriteCloser, stdout io.Reader) *Driver {
	return &Driver{pool: pool, stdin: stdin, stdout: bufio.NewReader(stdout)}
}

// Start starts cmd, a listener, with pipes for its stdin and stdout and
// returns the driver that speaks the protocol over them; pool names the
// listener pool in the events' headers. cmd's stderr is the caller's to
// set up before.
func Start(cmd *exec.Cmd, pool string) (*Driver, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	return NewDriver(pool, stdin, stdout), nil
}

// Run is a command's run() with everything but its standard streams bound.
type Run func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) int

// DriveFunc starts run in a goroutine with pipes for stdin and stdout. It
// returns the driver, a channel that receives run's exit code, and a
// function that releases a run still blocked on its pipes (for cleanup).
func DriveFunc(pool string, run Run, stderr io.Writer) (d *Driver, code <-chan int, release func()) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := make(chan int, 1)
	go func() {
		code := run(context.Background(), inR, outW, stderr)
		outW.Close()
		c <- code
	}()
	return NewDriver(pool, inW, outR), c, func() { inW.Close(); outR.Close() }
}

// Event renders one event as supervisord 4.2.5 writes it: len counts
// characters, not bytes.
func Event(serial int, pool, name, payload string) []byte {
	return fmt.Appendf(nil, "ver:3.0 server:supervisor serial:%d pool:%s poolserial:%d eventname:%s len:%d\n%s",
		serial, pool, serial, name, utf8.RuneCountInString(payload), payload)
}

// Ready reads the listener's READY, unless it was read already.
func (d *Driver) Ready() error {
	if d.ready {
		return nil
	}
	if err := d.expect("READY\n"); err != nil {
		return err
	}
	d.ready = true
	return nil
}

// Send delivers one event (numbered by the driver) and returns how long
// the acknowledgement took, from writing the event to reading the whole
// RESULT 2\nOK.
func (d *Driver) Send(eventName, payload string) (time.Duration, error) {
	if err := d.Ready(); err != nil {
		return 0, fmt.Errorf("before %s: %w", eventName, err)
	}
	d.serial++
	took, err := d.SendEvent(Event(d.serial, d.pool, eventName, payload))
	if err != nil {
		return took, fmt.Errorf("%s: %w", eventName, err)
	}
	return took, nil
}

// Tick sends a TICK_5 event for the current time.
func (d *Driver) Tick() (time.Duration, error) {
	return d.Send("TICK_5", fmt.Sprintf("when:%d", time.Now().Unix()))
}

// SendEvent is Send for an event rendered by the caller (with Event).
func (d *Driver) SendEvent(ev []byte) (time.Duration, error) {
	if err := d.Ready(); err != nil {
		return 0, err
	}
	start := time.Now()
	if _, err := d.stdin.Write(ev); err != nil {
		return 0, fmt.Errorf("writing the event: %w", err)
	}
	d.ready = false
	if err := d.expect("RESULT 2\nOK"); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func (d *Driver) expect(want string) error {
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(d.stdout, buf); err != nil || string(buf) != want {
		return fmt.Errorf("listener wrote %q (%v), want %q", buf, err, want)
	}
	return nil
}

// Close closes the listener's stdin, as supervisord does when it stops a
// listener; a listener drains and exits on the EOF.
func (d *Driver) Close() error {
	go io.Copy(io.Discard, d.stdout) // a last READY must not block the listener
	return d.stdin.Close()
}
