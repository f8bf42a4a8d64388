package alertctx

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/rpcclient"
)

type outbox struct {
	mu  sync.Mutex
	got []alert.Alert
}

func (o *outbox) out(a alert.Alert) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, a)
}

func (o *outbox) list() []alert.Alert {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]alert.Alert(nil), o.got...)
}

func crashAlert(n int) alert.Alert {
	return alert.Alert{Kind: alert.Crash, Program: "web", Group: "web", Subject: "web crashed", Text: "Process web in group web exited unexpectedly"}
}

var exitedWeb = rpcclient.ProcessInfo{Name: "web", Group: "web", State: rpcclient.StateExited, Start: 1000, Stop: 1004,
	ExitStatus: 3, SpawnErr: "Bad exit code 3", StderrLogfile: "/log/web.err"}

// TestSenderPassThrough: without options an alert goes out at once, as
// it came, and nothing is asked of supervisord.
func TestSenderPassThrough(t *testing.T) {
	src := &fakeSource{block: make(chan struct{})} // would hang if asked
	var o outbox
	s := NewSender(Flags{}, src, o.out, SenderOptions{})
	a := crashAlert(1)
	s.Send(a, Request{Group: "web", Name: "web", Exit: true, PID: 7})
	got := o.list()
	if len(got) != 1 || got[0].Text != a.Text || got[0].Subject != a.Subject || got[0].Details != nil {
		t.Fatalf("delivered %+v, want the alert untouched", got)
	}
	s.Close(context.Background())
}

// TestSenderFlood: a crash loop against --flood 2/5s gives two alerts
// and one summary with the count and the last exit status.
func TestSenderFlood(t *testing.T) {
	clk := NewManualClock(t0)
	src := &fakeSource{info: exitedWeb}
	var o outbox
	s := NewSender(Flags{Flood: Limit{2, 5 * time.Second}}, src, o.out, SenderOptions{Clock: clk})
	for i := range 5 { // one crash a second
		s.Send(crashAlert(i), Request{Group: "web", Name: "web", Exit: true, PID: 100 + i})
		clk.Advance(time.Second)
	}
	// The window of the first alert has passed; the summary waits for its
	// exit status in the pipeline.
	s.Close(context.Background())
	got := o.list()
	if len(got) != 3 {
		t.Fatalf("delivered %d alerts, want 2 and a summary: %+v", len(got), got)
	}
	if got[0].Text != crashAlert(0).Text || got[1].Text != crashAlert(1).Text {
		t.Errorf("first two = %q, %q; want the alerts untouched", got[0].Text, got[1].Text)
	}
	want := "web: 3 more unexpected exits between 10:02:02 and 10:02:04, last exit status 3"
	if got[2].Text != want || got[2].Subject != want || got[2].Kind != alert.Crash || got[2].Program != "web" {
		t.Errorf("summary = %+v\nwant Text and Subject %q", got[2], want)
	}
}

func TestSenderMailStyle(t *testing.T) {
	src := &fakeSource{info: exitedWeb, tail: map[string]string{"stderr": "boom\n"}}
	var o outbox
	s := NewSender(Flags{Details: true, LogTail: 5}, src, o.out, SenderOptions{Fetch: Options{Host: "box"}})
	s.Send(crashAlert(0), Request{Group: "web", Name: "web", Exit: true, PID: 7})
	s.Close(context.Background())
	got := o.list()
	if len(got) != 1 {
		t.Fatalf("delivered %d alerts, want 1", len(got))
	}
	want := crashAlert(0).Text + "\n\nDetails from supervisord:\n  exit status: 3\n  ran for:     4.0s\n  spawnerr:    Bad exit code 3\n" +
		"  description: -\n  state now:   EXITED\n  host:        box\n\n" +
		"--- last line of the stderr log of web (/log/web.err) ---\nboom\n--- end of log ---"
	if got[0].Text != want {
		t.Errorf("Text =\n%s\nwant\n%s", got[0].Text, want)
	}
	d := got[0].Details
	if v, _ := d.Get("exit_status"); v != "3" || d.LogTail != "boom" || d.Log != "stderr" {
		t.Errorf("Details = %+v", d)
	}
}

// TestSenderBatchStyle: each line gets its details; the log tails are
// kept apart, one per program, the latest.
func TestSenderBatchStyle(t *testing.T) {
	src := &fakeSource{info: exitedWeb, tail: map[string]string{"stderr": "first crash\n"}}
	var o outbox
	s := NewSender(Flags{Details: true, LogTail: 1}, src, o.out, SenderOptions{Style: StyleBatch})
	line := alert.Alert{Kind: alert.Crash, Program: "web", Group: "web", Text: "-- Process web:web died"}
	s.Send(line, Request{Group: "web", Name: "web", Exit: true, PID: 7})
	s.Close(context.Background()) // waits for the deliveries
	src.tail["stderr"] = "second crash\n"
	s = NewSender(Flags{Details: true, LogTail: 1}, src, o.out, SenderOptions{Style: StyleBatch})
	s.Send(line, Request{Group: "web", Name: "web", Exit: true, PID: 8})
	s.Send(line, Request{Group: "web", Name: "web", Exit: true, PID: 9})
	s.Close(context.Background())
	got := o.list()
	if len(got) != 3 {
		t.Fatalf("delivered %d alerts, want 3", len(got))
	}
	for _, a := range got {
		if !strings.HasPrefix(a.Text, "-- Process web:web died\n\nDetails from supervisord:\n") || strings.Contains(a.Text, "---") {
			t.Errorf("line = %q, want the line, its details and no tail", a.Text)
		}
	}
	want := "--- last line of the stderr log of web (/log/web.err) ---\nsecond crash\n--- end of log ---"
	if tails := s.Tails(); tails != want {
		t.Errorf("Tails() = %q, want one tail, the latest: %q", tails, want)
	}
	if tails := s.Tails(); tails != "" {
		t.Errorf("Tails() again = %q, want nothing", tails)
	}
}

func TestSenderSMSStyle(t *testing.T) {
	src := &fakeSource{info: exitedWeb, tail: map[string]string{"stderr": "boom\n"}}
	var o outbox
	s := NewSender(Flags{Details: true, LogTail: 5}, src, o.out, SenderOptions{Style: StyleSMS})
	short := alert.Alert{Kind: alert.Crash, Program: "web", Text: "[web:web](7) exited unexpectedly 2026-12-02 10:02:11,123"}
	long := alert.Alert{Kind: alert.Crash, Program: "web", Text: strings.Repeat("x", SMSBudget-10)}
	s.Send(short, Request{Group: "web", Name: "web", Exit: true, PID: 7})
	s.Send(long, Request{Group: "web", Name: "web", Exit: true, PID: 7})
	s.Close(context.Background())
	got := o.list()
	if got[0].Text != short.Text+" (exit 3, ran 4.0s)" {
		t.Errorf("short line = %q", got[0].Text)
	}
	if got[1].Text != long.Text {
		t.Errorf("long line = %q, want it without details (over %d characters)", got[1].Text, SMSBudget)
	}
	for _, a := range got {
		if len([]rune(a.Text)) > SMSBudget && a.Text != long.Text {
			t.Errorf("%d characters: %q", len([]rune(a.Text)), a.Text)
		}
	}
}
