package notify_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/notify"
)

// queueLog collects a Queue's log lines; the delivery goroutine writes while
// the test reads.
type queueLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *queueLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func (l *queueLog) logger() *log.Logger { return log.New(l, "", 0) }

// matching returns the lines containing s.
func (l *queueLog) matching(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

func (l *queueLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// wait waits until a line contains s.
func (l *queueLog) wait(t *testing.T, s string) {
	t.Helper()
	if !svtest.WaitFor(10*time.Second, func() bool { return len(l.matching(s)) > 0 }) {
		t.Fatalf("no log line containing %q after 10s; log:\n%s", s, l)
	}
}

func msg(subject string) *notify.Message {
	return &notify.Message{To: []string{"ops@example.com"}, From: "sv@example.com", Subject: subject, Body: "body of " + subject}
}

func subjects(mails []svtest.Mail) string {
	var s []string
	for _, m := range mails {
		s = append(s, m.Msg.Header.Get("Subject"))
	}
	return strings.Join(s, " ")
}

func closeQueue(t *testing.T, q *notify.Queue) []notify.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return q.Close(ctx)
}

// TestQueueEnqueueDoesNotWait: Enqueue returns while the server holds the
// first delivery's connection without a greeting, and the messages go out
// in order once the server is released. The attempt's timeout (a minute) is
// far beyond the test's wait, so a blocking Enqueue cannot pass.
func TestQueueEnqueueDoesNotWait(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{Stall: true})
	var lg queueLog
	q := notify.NewQueue(&notify.SMTP{Addr: srv.Addr, Timeout: time.Minute}, notify.QueueOptions{Log: lg.logger()})
	if err := q.Enqueue(msg("m0")); err != nil {
		t.Fatalf("Enqueue() = %v, want nil", err)
	}
	svtest.Eventually(t, 10*time.Second, "the first delivery never connected", func() bool { return srv.Conns() > 0 })
	enqueued := make(chan error, 1)
	go func() {
		var err error
		for i := 1; i < 3 && err == nil; i++ {
			err = q.Enqueue(msg(fmt.Sprint("m", i)))
		}
		enqueued <- err
	}()
	svtest.Eventually(t, 20*time.Second, "Enqueue blocked while the server held the first delivery", func() bool {
		select {
		case err := <-enqueued:
			if err != nil {
				t.Fatalf("Enqueue() = %v, want nil", err)
			}
			return true
		default:
			return false
		}
	})
	if n := len(srv.Mails()); n != 0 {
		t.Fatalf("got %d mails before the server was released, want 0", n)
	}
	srv.Unstall()
	if got := subjects(srv.WaitMails(t, 3, 10*time.Second)); got != "m0 m1 m2" {
		t.Errorf("delivered %q, want m0 m1 m2 in order", got)
	}
	if left := closeQueue(t, q); len(left) != 0 {
		t.Errorf("Close() returned %d undelivered messages, want 0", len(left))
	}
	want := fmt.Sprintf(`delivered mail "m2" to ops@example.com via smtp %s`, srv.Addr)
	if len(lg.matching(want)) != 1 {
		t.Errorf("log lacks %q:\n%s", want, &lg)
	}
}

func TestQueueRetriesUntilServerIsBack(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{})
	srv.SetDown(true)
	var lg queueLog
	q := notify.NewQueue(&notify.SMTP{Addr: srv.Addr, Timeout: 2 * time.Second}, notify.QueueOptions{Attempts: 50, Backoff: 20 * time.Millisecond, Log: lg.logger()})
	if err := q.Enqueue(msg("retry me")); err != nil {
		t.Fatal(err)
	}
	lg.wait(t, `mail "retry me" to ops@example.com via smtp `+srv.Addr+` failed (attempt 2 of 50), retrying in 40ms: smtp `+srv.Addr+`: greeting: 421 `)
	srv.SetDown(false)
	if got := subjects(srv.WaitMails(t, 1, 10*time.Second)); got != "retry me" {
		t.Errorf("delivered %q, want \"retry me\"", got)
	}
	closeQueue(t, q)
	if got := lg.matching(`delivered mail "retry me"`); len(got) != 1 {
		t.Errorf("got %d mailed lines, want 1; log:\n%s", len(got), &lg)
	}
	if got := lg.matching("retrying in 20ms"); len(got) != 1 {
		t.Errorf("got %d lines with the first pause, want 1; log:\n%s", len(got), &lg)
	}
}

func TestQueueGivesUp(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{Refuse: true})
	var lg queueLog
	q := notify.NewQueue(&notify.SMTP{Addr: srv.Addr}, notify.QueueOptions{Attempts: 3, Backoff: time.Millisecond, Log: lg.logger()})
	m := msg("doomed")
	m.To = append(m.To, "b@example.com")
	if err := q.Enqueue(m); err != nil {
		t.Fatal(err)
	}
	lg.wait(t, `gave up on mail "doomed" to ops@example.com, b@example.com via smtp `+srv.Addr+` after 3 attempts: smtp `+srv.Addr+`: greeting: 554 `)
	if left := closeQueue(t, q); len(left) != 0 {
		t.Errorf("Close() returned %d messages, want 0 (given up already)", len(left))
	}
	want := []string{
		`mail "doomed" to ops@example.com, b@example.com via smtp ` + srv.Addr + ` failed (attempt 1 of 3), retrying in 1ms: `,
		`mail "doomed" to ops@example.com, b@example.com via smtp ` + srv.Addr + ` failed (attempt 2 of 3), retrying in 2ms: `,
		`gave up on mail "doomed" `,
	}
	got := lg.matching("doomed")
	if len(got) != len(want) {
		t.Fatalf("log lines = %q, want %d lines", got, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("log line %d = %q, want prefix %q", i+1, got[i], want[i])
		}
	}
}

// gatedSendmail returns a sendmail command that stores into sink but waits
// until release() is called; started() reports whether a run has begun.
func gatedSendmail(t *testing.T, sink *svtest.SendmailSink) (command string, started func() bool, release func()) {
	t.Helper()
	dir := t.TempDir()
	start, rel := filepath.Join(dir, "started"), filepath.Join(dir, "release")
	command = fmt.Sprintf("touch '%s'; while [ ! -e '%s' ]; do sleep 0.01; done; %s", start, rel, sink.Command)
	started = func() bool { _, err := os.Stat(start); return err == nil }
	release = func() {
		if err := os.WriteFile(rel, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return command, started, release
}

func TestQueueFullDropsOldest(t *testing.T) {
	t.Parallel()
	sink := svtest.NewSendmail(t)
	command, started, release := gatedSendmail(t, sink)
	var lg queueLog
	q := notify.NewQueue(&notify.Sendmail{Command: command}, notify.QueueOptions{Size: 2, Log: lg.logger()})
	if err := q.Enqueue(msg("m1")); err != nil {
		t.Fatal(err)
	}
	// m1 is being delivered, so the queue holds m2 and m3 and m4 pushes m2 out.
	svtest.Eventually(t, 10*time.Second, "sendmail did not start", started)
	for _, s := range []string{"m2", "m3", "m4"} {
		if err := q.Enqueue(msg(s)); err != nil {
			t.Fatalf("Enqueue(%s) = %v, want nil", s, err)
		}
	}
	want := `queue full (2 waiting): dropped the oldest, mail "m2" to ops@example.com via sendmail "` + command + `" (1 dropped so far); in full, to send by hand:`
	if got := lg.matching("queue full"); len(got) != 1 || !strings.HasPrefix(got[0], want+"\nTo: ops@example.com\n") {
		t.Errorf("log = %q, want one line %q", got, want)
	}
	if got := lg.matching("Subject: m2"); len(got) != 1 {
		t.Errorf("log lacks the dropped mail in full:\n%s", &lg)
	}
	release()
	if left := closeQueue(t, q); len(left) != 0 {
		t.Errorf("Close() returned %d messages, want 0", len(left))
	}
	if got := subjects(sink.Mails(t)); got != "m1 m3 m4" {
		t.Errorf("delivered %q, want m1 m3 m4", got)
	}
}

func TestQueueCloseDrains(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{})
	q := notify.NewQueue(&notify.SMTP{Addr: srv.Addr}, notify.QueueOptions{})
	for _, s := range []string{"a", "b", "c", "d", "e"} {
		if err := q.Enqueue(msg(s)); err != nil {
			t.Fatal(err)
		}
	}
	if left := closeQueue(t, q); len(left) != 0 {
		t.Errorf("Close() returned %d messages, want 0", len(left))
	}
	// Close returned, so everything is delivered: no waiting here.
	if got := subjects(srv.Mails()); got != "a b c d e" {
		t.Errorf("delivered %q, want a b c d e", got)
	}
}

func TestQueueCloseReturnsUndelivered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		server   svtest.SMTPOptions
		opts     notify.QueueOptions
		wantWhy  string // in the log line of the first message
		before   string // log line to wait for before Close
		inFlight bool   // wait for the first connection before Close
		enqueued []string
	}{
		{
			name:     "server never answers",
			server:   svtest.SMTPOptions{Stall: true},
			inFlight: true,
			enqueued: []string{"in flight", "pending"},
			wantWhy:  "context canceled",
		},
		{
			name:     "pause between attempts",
			server:   svtest.SMTPOptions{Refuse: true},
			opts:     notify.QueueOptions{Backoff: time.Minute},
			before:   "retrying in 1m0s",
			enqueued: []string{"waiting to retry", "pending"},
			wantWhy:  "last attempt: smtp ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := svtest.StartSMTP(t, tt.server)
			var lg queueLog
			opts := tt.opts
			opts.Log = lg.logger()
			q := notify.NewQueue(&notify.SMTP{Addr: srv.Addr}, opts) // 30 s per attempt
			for _, s := range tt.enqueued {
				if err := q.Enqueue(msg(s)); err != nil {
					t.Fatal(err)
				}
			}
			if tt.before != "" {
				lg.wait(t, tt.before)
			}
			if tt.inFlight {
				svtest.Eventually(t, 10*time.Second, "no connection to the server", func() bool { return srv.Conns() > 0 })
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			left := q.Close(ctx)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Close() took %v, want about 300ms", took)
			}
			var got []string
			for _, d := range left {
				got = append(got, d.(*notify.Mail).Message.Subject)
			}
			if strings.Join(got, "|") != strings.Join(tt.enqueued, "|") {
				t.Errorf("Close() returned %q, want %q", got, tt.enqueued)
			}
			lines := lg.matching("not delivered before exit")
			if len(lines) != 2 || !strings.Contains(lines[0], tt.wantWhy) || !strings.HasSuffix(lines[1], "not delivered before exit (never attempted); in full, to send by hand:\nTo: ops@example.com\nFrom: sv@example.com\nSubject: pending\n\nbody of pending") {
				t.Errorf("log lines = %q, want two, the first with %q", lines, tt.wantWhy)
			}
			if n := len(srv.Mails()); n != 0 {
				t.Errorf("server got %d mails, want 0", n)
			}
		})
	}
}

func TestQueueEnqueueErrors(t *testing.T) {
	t.Parallel()
	sink := svtest.NewSendmail(t)
	q := notify.NewQueue(&notify.Sendmail{Command: sink.Command}, notify.QueueOptions{})

	bad := msg("x\r\nBcc: evil@example.com")
	if err := q.Enqueue(bad); err == nil || errors.Is(err, notify.ErrQueueClosed) {
		t.Errorf("Enqueue(invalid) = %v, want a validation error", err)
	}
	m := msg("original")
	if err := q.Enqueue(m); err != nil {
		t.Fatal(err)
	}
	// The queue keeps its own copy.
	m.Subject, m.To[0] = "changed", "other@example.com"

	if left := closeQueue(t, q); len(left) != 0 {
		t.Errorf("Close() returned %d messages, want 0", len(left))
	}
	if err := q.Enqueue(msg("late")); !errors.Is(err, notify.ErrQueueClosed) {
		t.Errorf("Enqueue() after Close = %v, want ErrQueueClosed", err)
	}
	if left := closeQueue(t, q); left != nil {
		t.Errorf("second Close() = %v, want nil", left)
	}
	mails := sink.Mails(t)
	if len(mails) != 1 || subjects(mails) != "original" || mails[0].To[0] != "ops@example.com" {
		t.Errorf("delivered %d mails %q to %v, want one \"original\" to ops@example.com", len(mails), subjects(mails), mails[0].To)
	}
}

// TestQueuePartialRefusalIsNotRetried: a message the server took for some
// recipients and refused for others is delivered; sending it again would
// give the accepted recipients duplicates.
func TestQueuePartialRefusalIsNotRetried(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{RejectTo: []string{"gone@example.com"}})
	var lg queueLog
	q := notify.NewQueue(&notify.SMTP{Addr: srv.Addr}, notify.QueueOptions{Backoff: 10 * time.Millisecond, Log: lg.logger()})
	m := msg("partial")
	m.To = []string{"ops@example.com", "gone@example.com"}
	if err := q.Enqueue(m); err != nil {
		t.Fatal(err)
	}
	srv.WaitMails(t, 1, 10*time.Second)
	if left := closeQueue(t, q); len(left) != 0 {
		t.Errorf("Close() returned %d undelivered messages, want 0", len(left))
	}
	if n := len(srv.Mails()); n != 1 {
		t.Errorf("server got %d mails, want 1", n)
	}
	if got := lg.matching(`delivered mail "partial" to ops@example.com, gone@example.com via smtp ` + srv.Addr + "; refused: gone@example.com"); len(got) != 1 {
		t.Errorf("log lacks the delivery with the refusal:\n%s", &lg)
	}
	if got := lg.matching("retrying"); len(got) != 0 {
		t.Errorf("got retries %q, want none", got)
	}
}
