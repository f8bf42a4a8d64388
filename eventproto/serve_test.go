package eventproto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
)

// waitFor fails the test unless ch is closed or receives within d. Tests
// wait on conditions with a generous deadline, never on sleeps.
func waitFor[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
		panic("unreachable")
	}
}

func TestServeUntilEOF(t *testing.T) {
	stdin := hdr(1, 1, "TICK_5", "when:5") + hdr(2, 2, "UNKNOWN_EVENT", "whatever") + hdr(3, 3, ProcessGroupAdded, "groupname:web\n")
	var out bytes.Buffer
	var names []string
	drained := false
	err := Serve(context.Background(), NewListener(strings.NewReader(stdin), &out),
		func(ctx context.Context, ev Event) { names = append(names, ev.Name()) },
		ServeOptions{Drain: func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("drain context has no deadline")
			}
			drained = true
			return nil
		}})
	if err != nil {
		t.Fatalf("Serve = %v, want nil at EOF", err)
	}
	if want := "TICK_5 UNKNOWN_EVENT PROCESS_GROUP_ADDED"; strings.Join(names, " ") != want {
		t.Errorf("handled %v, want %s", names, want)
	}
	if !drained {
		t.Error("Drain did not run")
	}
	if want := strings.Repeat("READY\nRESULT 2\nOK", 3) + "READY\n"; out.String() != want {
		t.Errorf("stdout = %q, want %q", out.String(), want)
	}
}

// pipeKinds are the stdins Serve is tested on: what supervisord gives a
// listener (a blocking pipe, added on unix), the runtime's own pipes, and
// a reader that is not a file at all.
var pipeKinds = []struct {
	name string
	open func(t *testing.T) (io.Reader, io.WriteCloser)
}{
	{"os.Pipe", func(t *testing.T) (io.Reader, io.WriteCloser) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r, w
	}},
	{"io.Pipe", func(t *testing.T) (io.Reader, io.WriteCloser) {
		r, w := io.Pipe()
		return r, w
	}},
}

// TestServeCancelWhileReading: SIGTERM arrives (ctx cancelled) while the
// listener waits on a pipe that stays open, as supervisord's does.
func TestServeCancelWhileReading(t *testing.T) {
	for _, pk := range pipeKinds {
		t.Run(pk.name, func(t *testing.T) {
			r, w := pk.open(t)
			// Closed last: EOF releases the read Serve leaves blocked.
			t.Cleanup(func() { w.Close() })
			wrote := make(chan error, 1)
			go func() {
				_, err := io.WriteString(w, hdr(1, 1, "TICK_5", "when:5"))
				wrote <- err
			}()

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			writes := make(chan string, 10)
			drainErr := make(chan error, 1) // the drain context's state when Drain starts
			result := make(chan error, 1)
			go func() {
				result <- Serve(ctx, NewListener(r, chanWriter(writes)),
					func(ctx context.Context, ev Event) {},
					ServeOptions{Drain: func(ctx context.Context) error { drainErr <- ctx.Err(); return nil }})
			}()
			waitForStdout(t, writes, "READY\nRESULT 2\nOKREADY\n")
			if err := waitFor(t, wrote, 5*time.Second, "the event to be written"); err != nil {
				t.Fatal(err)
			}
			// The second READY is out: Serve now waits on the pipe, which
			// nobody writes to.
			cancel()
			if err := waitFor(t, result, 5*time.Second, "Serve to return after cancel"); err != nil {
				t.Errorf("Serve = %v, want nil", err)
			}
			select {
			case err := <-drainErr:
				if err != nil {
					t.Errorf("drain context already done (%v); it must outlive the cancelled ctx", err)
				}
			default:
				t.Error("Drain did not run")
			}
			select {
			case p := <-writes:
				t.Errorf("stdout got %q after the cancel, want nothing", p)
			default:
			}
		})
	}
}

// TestServeCancelWhileHandling: SIGTERM while the handler runs. The event
// is still acknowledged, so supervisord does not redeliver it, but no READY
// follows: it would invite an event that nobody answers.
func TestServeCancelWhileHandling(t *testing.T) {
	for _, pk := range pipeKinds {
		t.Run(pk.name, func(t *testing.T) {
			r, w := pk.open(t)
			t.Cleanup(func() { w.Close() })
			go io.WriteString(w, hdr(1, 1, "TICK_5", "when:5"))

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			writes := make(chan string, 10)
			result := make(chan error, 1)
			handling := make(chan struct{})
			go func() {
				result <- Serve(ctx, NewListener(r, chanWriter(writes)),
					func(ctx context.Context, ev Event) {
						close(handling)
						<-ctx.Done() // cancelled meanwhile
					}, ServeOptions{})
			}()
			waitFor(t, handling, 5*time.Second, "the handler to start")
			cancel()
			if err := waitFor(t, result, 5*time.Second, "Serve to return after cancel"); err != nil {
				t.Errorf("Serve = %v, want nil", err)
			}
			got := ""
			for len(writes) > 0 {
				got += <-writes
			}
			if want := "READY\nRESULT 2\nOK"; got != want {
				t.Errorf("stdout = %q, want %q", got, want)
			}
		})
	}
}

// TestServeOneWritePerEvent: Serve writes the RESULT of an event and the
// READY for the next one together, and flushes once per write; the bytes
// are those of TestServeUntilEOF.
func TestServeOneWritePerEvent(t *testing.T) {
	var w writeRecorder
	stdin := hdr(1, 1, "TICK_5", "when:5") + hdr(2, 2, "TICK_5", "when:10") + hdr(3, 3, "TICK_5", "when:15")
	if err := Serve(context.Background(), NewListener(strings.NewReader(stdin), &w),
		func(context.Context, Event) {}, ServeOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"READY\n", "RESULT 2\nOKREADY\n", "RESULT 2\nOKREADY\n", "RESULT 2\nOKREADY\n"}
	if strings.Join(w.writes, "|") != strings.Join(want, "|") || w.flushes != len(want) {
		t.Errorf("writes %q with %d flushes, want %q with %d", w.writes, w.flushes, want, len(want))
	}
}

// waitForStdout reads the writes of a chanWriter until they add up to
// want. It compares bytes, not writes: Serve may put the RESULT of one
// event and the READY for the next into one write.
func waitForStdout(t *testing.T, writes <-chan string, want string) {
	t.Helper()
	got := ""
	for len(got) < len(want) {
		got += waitFor(t, writes, 5*time.Second, fmt.Sprintf("stdout %q, got %q so far", want, got))
	}
	if got != want {
		t.Fatalf("stdout = %q, want %q", got, want)
	}
}

// chanWriter sends every Write to a channel, so a test can wait for a
// given protocol message.
type chanWriter chan string

func (c chanWriter) Write(p []byte) (int, error) {
	c <- string(p)
	return len(p), nil
}

func TestServeCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	err := Serve(ctx, NewListener(strings.NewReader(hdr(1, 1, "TICK_5", "when:5")), &out),
		func(context.Context, Event) { t.Error("handler called") }, ServeOptions{})
	if err != nil || out.Len() != 0 {
		t.Errorf("Serve = %v with stdout %q, want nil and no READY", err, out.String())
	}
}

func TestServeLogsGapsAndRepeats(t *testing.T) {
	stdin := hdr(10, 10, "TICK_5", "when:5") + hdr(14, 14, "TICK_5", "when:25") + hdr(14, 14, "TICK_5", "when:25")
	var logs svtest.LockedBuffer
	err := Serve(context.Background(), NewListener(strings.NewReader(stdin), io.Discard),
		func(context.Context, Event) {}, ServeOptions{Log: log.New(&logs, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	want := "pool p: supervisord dropped 3 event(s) before poolserial 14 (event buffer overflow?)\n" +
		"pool p: TICK_5 serial 14 poolserial 14 delivered again (rejected earlier, here or in another pool, or the listener restarted)\n"
	if logs.String() != want {
		t.Errorf("log = %q, want %q", logs.String(), want)
	}
}

func TestServeRecoversHandlerPanic(t *testing.T) {
	stdin := hdr(1, 1, ProcessStateExited, "processname:a groupname:a from_state:RUNNING expected:0 pid:1") + hdr(2, 2, "TICK_5", "when:5")
	var out bytes.Buffer
	var logs svtest.LockedBuffer
	var calls int
	err := Serve(context.Background(), NewListener(strings.NewReader(stdin), &out),
		func(ctx context.Context, ev Event) {
			calls++
			if ev.Name() == ProcessStateExited {
				panic("boom")
			}
		}, ServeOptions{Log: log.New(&logs, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("handler called %d times, want 2: the loop must go on", calls)
	}
	if want := strings.Repeat("READY\nRESULT 2\nOK", 2) + "READY\n"; out.String() != want {
		t.Errorf("stdout = %q, want %q (the panicking event acknowledged)", out.String(), want)
	}
	if !strings.Contains(logs.String(), "handler panicked on PROCESS_STATE_EXITED (serial 1), acknowledged anyway: boom") {
		t.Errorf("log = %q, want the panic with the event name", logs.String())
	}
}

func TestServeProtocolError(t *testing.T) {
	drained := false
	err := Serve(context.Background(), NewListener(strings.NewReader("garbage\n"), io.Discard),
		func(context.Context, Event) {},
		ServeOptions{Drain: func(context.Context) error { drained = true; return nil }})
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Msg != "malformed header: token without ':'" {
		t.Errorf("Serve = %v, want the ProtocolError", err)
	}
	if !drained {
		t.Error("Drain did not run after a protocol error")
	}
}

// okFailsWriter accepts READY and fails the RESULT, like a stdout whose
// reader went away after the event was sent.
type okFailsWriter struct{}

func (okFailsWriter) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("RESULT")) {
		return 0, errors.New("broken pipe")
	}
	return len(p), nil
}

func TestServeWriteError(t *testing.T) {
	err := Serve(context.Background(), NewListener(strings.NewReader(hdr(1, 1, "TICK_5", "when:5")), okFailsWriter{}),
		func(context.Context, Event) {}, ServeOptions{})
	if err == nil || !strings.Contains(err.Error(), "acknowledging TICK_5: eventproto: writing RESULT OK: broken pipe") {
		t.Errorf("Serve = %v, want the write error", err)
	}
}

func TestServeDrainBoundedByGrace(t *testing.T) {
	var logs svtest.LockedBuffer
	var drainErr error
	err := Serve(context.Background(), NewListener(strings.NewReader(""), io.Discard),
		func(context.Context, Event) {},
		ServeOptions{
			Log:   log.New(&logs, "", 0),
			Grace: 20 * time.Millisecond,
			Drain: func(ctx context.Context) error {
				<-ctx.Done() // work that never finishes by itself
				drainErr = ctx.Err()
				return errors.New("2 messages not delivered")
			},
		})
	if err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
	if !errors.Is(drainErr, context.DeadlineExceeded) {
		t.Errorf("drain context ended with %v, want DeadlineExceeded", drainErr)
	}
	if !strings.Contains(logs.String(), "drain: 2 messages not delivered") {
		t.Errorf("log = %q, want the drain error", logs.String())
	}
}

// TestServeWithWorker is the shape the tick-driven tools use: a tick starts
// a check with TryGo; a tick that comes while it still runs is skipped; the
// drain waits for the running check.
func TestServeWithWorker(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	worker := NewWorker(context.Background())
	release := make(chan struct{})
	var started, skipped, finished atomic.Int32
	handled := make(chan struct{}, 3)
	result := make(chan error, 1)
	go func() {
		result <- Serve(context.Background(), NewListener(r, io.Discard),
			func(ctx context.Context, ev Event) {
				if !worker.TryGo(func(ctx context.Context) {
					started.Add(1)
					<-release
					finished.Add(1)
				}) {
					skipped.Add(1)
				}
				handled <- struct{}{}
			},
			ServeOptions{Drain: worker.Wait})
	}()
	for i := range 3 {
		if _, err := w.WriteString(hdr(i, i, "TICK_5", "when:5")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, handled, 5*time.Second, "tick to be handled")
	}
	// Every tick was acknowledged while the first check still runs.
	if skipped.Load() != 2 {
		t.Errorf("skipped %d ticks, want 2", skipped.Load())
	}
	w.Close() // stdin EOF: Serve drains, which waits for the check
	close(release)
	if err := waitFor(t, result, 5*time.Second, "Serve"); err != nil {
		t.Fatal(err)
	}
	if started.Load() != 1 || finished.Load() != 1 {
		t.Errorf("checks started %d, finished %d; want 1, 1", started.Load(), finished.Load())
	}
}

func TestWorkerTryGoCoalesces(t *testing.T) {
	w := NewWorker(context.Background())
	release := make(chan struct{})
	if !w.TryGo(func(context.Context) { <-release }) {
		t.Fatal("first TryGo refused")
	}
	if w.TryGo(func(context.Context) { t.Error("coalesced job ran") }) {
		t.Error("second TryGo started while the first runs")
	}
	// Go is never coalesced.
	ran := make(chan struct{})
	w.Go(func(context.Context) { close(ran) })
	waitFor(t, ran, 5*time.Second, "Go job")

	close(release)
	if err := w.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	again := make(chan struct{})
	if !w.TryGo(func(context.Context) { close(again) }) {
		t.Error("TryGo refused after the previous job finished")
	}
	waitFor(t, again, 5*time.Second, "TryGo job after the first")
	if err := w.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWorkerWaitDeadlineCancelsJobs(t *testing.T) {
	w := NewWorker(context.Background())
	cancelled := make(chan error, 2)
	for range 2 {
		w.Go(func(ctx context.Context) {
			<-ctx.Done() // a stuck SMTP dial, say, that honours its context
			cancelled <- ctx.Err()
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := w.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v, want DeadlineExceeded", err)
	}
	for range 2 {
		if err := waitFor(t, cancelled, 5*time.Second, "job cancellation"); !errors.Is(err, context.Canceled) {
			t.Errorf("job context ended with %v, want Canceled", err)
		}
	}
}

func TestWorkerWaitIdle(t *testing.T) {
	w := NewWorker(context.Background())
	if err := w.Wait(context.Background()); err != nil {
		t.Errorf("Wait on an idle worker = %v, want nil", err)
	}
	// Jobs started by jobs are waited for too.
	var done atomic.Bool
	w.Go(func(context.Context) {
		w.Go(func(context.Context) { done.Store(true) })
	})
	if err := w.Wait(context.Background()); err != nil || !done.Load() {
		t.Errorf("Wait = %v, nested job done %v; want nil, true", err, done.Load())
	}
}
