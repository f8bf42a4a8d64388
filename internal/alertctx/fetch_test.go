package alertctx

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superlance-go/superlance/rpcclient"
)

// fakeSource stands in for supervisord where a test needs answers the real
// one gives only by chance (a restart that wins the race with the
// listener) or never on demand (a slice cut inside a character). The
// integration tests in supervisord_test.go use the real one.
type fakeSource struct {
	info     rpcclient.ProcessInfo
	infoErr  error
	log      string
	logErr   error
	tail     map[string]string // stream -> whole log
	utf8Cut  int               // answer HTTP 500 this many times
	block    chan struct{}     // when set, every call waits for it or ctx
	mu       sync.Mutex
	tailArgs []string
}

func (f *fakeSource) wait(ctx context.Context) error {
	if f.block == nil {
		return nil
	}
	select {
	case <-f.block:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeSource) GetProcessInfo(ctx context.Context, name string) (rpcclient.ProcessInfo, error) {
	if err := f.wait(ctx); err != nil {
		return rpcclient.ProcessInfo{}, err
	}
	return f.info, f.infoErr
}

func (f *fakeSource) TailProcessStderrLog(ctx context.Context, name string, offset, length int) (rpcclient.LogTail, error) {
	return f.tailOf(ctx, "stderr", name, offset, length)
}

func (f *fakeSource) TailProcessStdoutLog(ctx context.Context, name string, offset, length int) (rpcclient.LogTail, error) {
	return f.tailOf(ctx, "stdout", name, offset, length)
}

func (f *fakeSource) tailOf(ctx context.Context, stream, name string, offset, length int) (rpcclient.LogTail, error) {
	if err := f.wait(ctx); err != nil {
		return rpcclient.LogTail{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tailArgs = append(f.tailArgs, fmt.Sprintf("%s %s %d %d", stream, name, offset, length))
	if f.utf8Cut > 0 {
		f.utf8Cut--
		return rpcclient.LogTail{}, &rpcclient.StatusError{StatusCode: 500, Status: "500 Internal Server Error"}
	}
	text := f.tail[stream]
	if len(text) > offset+length {
		return rpcclient.LogTail{Bytes: text[len(text)-length:], Offset: int64(len(text)), Overflow: true}, nil
	}
	return rpcclient.LogTail{Bytes: text[offset:], Offset: int64(len(text))}, nil
}

func (f *fakeSource) ReadLog(ctx context.Context, offset, length int) (string, error) {
	if err := f.wait(ctx); err != nil {
		return "", err
	}
	return f.log, f.logErr
}

func TestFetchExit(t *testing.T) {
	exited := rpcclient.ProcessInfo{Name: "web", Group: "web", State: rpcclient.StateExited, StateName: "EXITED",
		Start: 1000, Stop: 1007, Now: 1008, ExitStatus: 3, SpawnErr: "Bad exit code 3", Description: "Dec 02 10:02 AM"}
	restarted := rpcclient.ProcessInfo{Name: "web", Group: "web", State: rpcclient.StateStarting, StateName: "STARTING",
		Start: 1008, Stop: 1007, Now: 1008, PID: 4250}
	for _, tc := range []struct {
		name      string
		info      rpcclient.ProcessInfo
		log       string
		logErr    error
		exit, ran string
	}{
		{"from the log, restarted", restarted, mainLog, nil, "exit status: 3\n", "ran for:     4.2s\n"},
		{"from the info, log unreadable", exited, "", &rpcclient.Fault{Code: rpcclient.FaultNoFile}, "exit status: 3\n", "ran for:     7.0s\n"},
		{"lost: restarted, not in the log", restarted, "", nil, "exit status: not known", "ran for:     not known\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{info: tc.info, log: tc.log, logErr: tc.logErr}
			f := NewFetcher(src, Options{Host: "box"})
			c := f.Fetch(context.Background(), Request{Group: "web", Name: "web", Exit: true, PID: 4243, Details: true})
			if c.DetailsErr != nil {
				t.Fatal(c.DetailsErr)
			}
			r := c.Render()
			if !strings.Contains(r, tc.exit) || !strings.Contains(r, tc.ran) {
				t.Errorf("Render() =\n%s\nwant %q and %q", r, tc.exit, tc.ran)
			}
		})
	}
}

func TestFetchTail(t *testing.T) {
	info := rpcclient.ProcessInfo{Name: "app", Group: "web", State: rpcclient.StateRunning, PID: 7, Start: 1, Now: 5,
		StdoutLogfile: "/log/app.out", StderrLogfile: "/log/app.err"}
	src := &fakeSource{info: info, tail: map[string]string{"stderr": "one\ntwo\nthree\n", "stdout": "out\n"}}
	f := NewFetcher(src, Options{Host: "box"})
	c := f.Fetch(context.Background(), Request{Group: "web", Name: "app", TailLines: 2})
	want := "--- last 2 lines of the stderr log of web:app (/log/app.err) ---\ntwo\nthree\n--- end of log ---"
	if got := c.Render(); got != want {
		t.Errorf("Render() =\n%s\nwant\n%s", got, want)
	}
	if c.Details != nil {
		t.Error("details fetched without being asked for")
	}

	// Redirected stderr: supervisord reports no stderr log file.
	src.info.StderrLogfile = ""
	c = f.Fetch(context.Background(), Request{Group: "web", Name: "app", TailLines: 2})
	if got := c.Render(); !strings.Contains(got, "last line of the stdout log of web:app (/log/app.out)") {
		t.Errorf("Render() with stderr redirected =\n%s", got)
	}
	src.info.StdoutLogfile = ""
	c = f.Fetch(context.Background(), Request{Group: "web", Name: "app", TailLines: 2})
	if got := c.Render(); got != "Log tail: not available: the program logs neither stderr nor stdout to a file" {
		t.Errorf("Render() without logs = %q", got)
	}
}

// TestFetchTailNotUTF8: a slice starting inside a multi-byte character
// makes supervisord answer HTTP 500; a start one byte later helps.
func TestFetchTailNotUTF8(t *testing.T) {
	info := rpcclient.ProcessInfo{Name: "app", Group: "app", StderrLogfile: "/log/app.err"}
	src := &fakeSource{info: info, tail: map[string]string{"stderr": "é\n"}, utf8Cut: 2}
	f := NewFetcher(src, Options{MaxBytes: 100})
	c := f.Fetch(context.Background(), Request{Group: "app", Name: "app", TailLines: 1})
	if c.TailErr != nil || len(c.Tail.Lines) != 1 || c.Tail.Lines[0] != "é" {
		t.Errorf("tail = %+v, %v; want é", c.Tail, c.TailErr)
	}
	want := "stderr app 0 100,stderr app 0 99,stderr app 0 98"
	if got := strings.Join(src.tailArgs, ","); got != want {
		t.Errorf("calls = %s, want %s", got, want)
	}
	src.utf8Cut = 10
	c = f.Fetch(context.Background(), Request{Group: "app", Name: "app", TailLines: 1})
	if got := c.Render(); got != "Log tail: not available: the stderr log is not UTF-8 text (supervisord cannot send it)" {
		t.Errorf("Render() = %q", got)
	}
}

// TestFetchTimeout: a supervisord that does not answer costs the alert its
// context, not its delivery, and the alert says why.
func TestFetchTimeout(t *testing.T) {
	src := &fakeSource{block: make(chan struct{})}
	f := NewFetcher(src, Options{Timeout: 50 * time.Millisecond})
	c := f.Fetch(context.Background(), Request{Group: "web", Name: "web", Exit: true, PID: 1, Details: true, TailLines: 5})
	want := "Details: not available: supervisord did not answer within 50ms; sent without it\n\n" +
		"Log tail: not available: supervisord did not answer within 50ms; sent without it"
	if got := c.Render(); got != want {
		t.Errorf("Render() =\n%s\nwant\n%s", got, want)
	}
}

// TestPipelineOrder: results are handed over in the order of the
// requests, even when a later fetch finishes first.
func TestPipelineOrder(t *testing.T) {
	slow := &fakeSource{block: make(chan struct{}), info: rpcclient.ProcessInfo{Name: "a", Group: "a"}}
	fast := &fakeSource{info: rpcclient.ProcessInfo{Name: "b", Group: "b"}}
	both := &switchSource{by: map[string]Source{"a": slow, "b": fast}}
	p := NewPipeline(NewFetcher(both, Options{Timeout: time.Minute}))
	var mu sync.Mutex
	var got []string
	deliver := func(c Context) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, c.Name)
	}
	p.Go(Request{Group: "a", Name: "a", Details: true}, deliver)
	p.Go(Request{Group: "b", Name: "b", Details: true}, deliver)
	p.Go(Request{Group: "b", Name: "b"}, deliver) // nothing to fetch
	// b's fetches end first; a's only now.
	close(slow.block)
	p.Close(context.Background())
	if strings.Join(got, ",") != "a,b,b" {
		t.Errorf("delivered %v, want a,b,b", got)
	}
	// After Close, Go delivers at once, without context.
	var late Context
	p.Go(Request{Group: "c", Name: "c", Details: true}, func(c Context) { late = c })
	if late.Name != "c" || late.DetailsErr == nil {
		t.Errorf("Go after Close delivered %+v", late)
	}
}

// TestPipelineCloseCutsShort: Close whose context ends delivers the alerts
// still waiting, without their context.
func TestPipelineCloseCutsShort(t *testing.T) {
	src := &fakeSource{block: make(chan struct{})}
	p := NewPipeline(NewFetcher(src, Options{Timeout: time.Hour}))
	var got []Context
	p.Go(Request{Group: "a", Name: "a", Details: true}, func(c Context) { got = append(got, c) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.Close(ctx)
	if len(got) != 1 || !strings.Contains(got[0].Render(), "shutting down") {
		t.Errorf("delivered %+v, want one alert without context", got)
	}
}

// switchSource sends each call to the source of its program.
type switchSource struct{ by map[string]Source }

func (s *switchSource) GetProcessInfo(ctx context.Context, name string) (rpcclient.ProcessInfo, error) {
	return s.by[name].GetProcessInfo(ctx, name)
}
func (s *switchSource) TailProcessStderrLog(ctx context.Context, name string, o, l int) (rpcclient.LogTail, error) {
	return s.by[name].TailProcessStderrLog(ctx, name, o, l)
}
func (s *switchSource) TailProcessStdoutLog(ctx context.Context, name string, o, l int) (rpcclient.LogTail, error) {
	return s.by[name].TailProcessStdoutLog(ctx, name, o, l)
}
func (s *switchSource) ReadLog(ctx context.Context, o, l int) (string, error) { return "", nil }
