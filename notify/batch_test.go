package notify_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/notify"
)

// batchFixture is a Batch delivering to a real in-process SMTP server over
// STARTTLS with AUTH, as the batch tools do.
type batchFixture struct {
	srv   *svtest.SMTPServer
	batch *notify.Batch
	log   *svtest.LockedBuffer
}

func newBatchFixture(t *testing.T, smtpOpts svtest.SMTPOptions, maxLines int) *batchFixture {
	t.Helper()
	smtpOpts.StartTLS, smtpOpts.Username, smtpOpts.Password = true, "alice", "s3cret"
	srv := svtest.StartSMTP(t, smtpOpts)
	logs := &svtest.LockedBuffer{}
	b := notify.NewBatch(notify.BatchOptions{
		Interval: time.Minute,
		MaxLines: maxLines,
		Transport: &notify.SMTP{
			Addr: srv.Addr, Username: "alice", Password: "s3cret", TLS: notify.TLSStartTLS,
			TLSConfig: &tls.Config{RootCAs: srv.Roots, ServerName: "localhost"},
		},
		Template: notify.Message{To: []string{"ops@example.com", "oncall@example.com"}, From: "sv@example.com", Subject: "Crash alert from supervisord"},
		Log:      log.New(logs, "test: ", 0),
	})
	t.Cleanup(func() {
		// Short: a test that left a stalled server behind must not wait on it.
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		b.Close(ctx)
	})
	return &batchFixture{srv: srv, batch: b, log: logs}
}

// waitLog waits until the batch log contains want.
func (f *batchFixture) waitLog(t *testing.T, want string) {
	t.Helper()
	svtest.Eventually(t, 10*time.Second, "log line "+want, func() bool { return strings.Contains(f.log.String(), want) })
}

// tickUntilMails ticks a full interval until the server has n mails: a
// tick that comes while the previous flush is still finishing is skipped
// by design, so a test cannot know which tick will flush.
func (f *batchFixture) tickUntilMails(t *testing.T, n int) {
	t.Helper()
	svtest.Eventually(t, 10*time.Second, "mail sent", func() bool {
		if len(f.srv.Mails()) >= n {
			return true
		}
		f.batch.Tick(time.Minute)
		return false
	})
}

func TestBatchFlushAtInterval(t *testing.T) {
	t.Parallel()
	f := newBatchFixture(t, svtest.SMTPOptions{}, 0)
	f.batch.Add("line one")
	f.batch.Tick(30 * time.Second)
	f.batch.Add("line two")
	if got := len(f.srv.Mails()); got != 0 {
		t.Fatalf("mails before the interval: got %d, want 0", got)
	}
	f.batch.Tick(30 * time.Second)
	mails := f.srv.WaitMails(t, 1, 10*time.Second)
	m := mails[0]
	if want := "line one\nline two"; m.Text != want {
		t.Errorf("body: got %q, want %q", m.Text, want)
	}
	if got, want := m.Msg.Header.Get("Subject"), "Crash alert from supervisord"; got != want {
		t.Errorf("Subject: got %q, want %q", got, want)
	}
	if got, want := strings.Join(m.To, ","), "ops@example.com,oncall@example.com"; got != want {
		t.Errorf("recipients: got %q, want %q", got, want)
	}
	if !m.TLS || m.Auth != "alice" {
		t.Errorf("delivery: got TLS=%v auth=%q, want TLS and alice", m.TLS, m.Auth)
	}
	f.waitLog(t, "sent 2 alerts")
	wantLog := "test: sent 2 alerts to ops@example.com, oncall@example.com\n"
	if got := f.log.String(); got != wantLog {
		t.Errorf("log:\ngot  %q\nwant %q", got, wantLog)
	}
	if got := f.batch.Pending(); got != 0 {
		t.Errorf("pending after a sent flush: got %d, want 0", got)
	}
}

func TestBatchEmptySendsNothing(t *testing.T) {
	t.Parallel()
	f := newBatchFixture(t, svtest.SMTPOptions{}, 0)
	for range 5 {
		f.batch.Tick(time.Minute)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.batch.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := len(f.srv.Mails()); got != 0 {
		t.Errorf("mails: got %d, want 0", got)
	}
	if got := f.log.String(); got != "" {
		t.Errorf("log: got %q, want nothing", got)
	}
}

func TestBatchFailureKeepsLinesForNextFlush(t *testing.T) {
	t.Parallel()
	f := newBatchFixture(t, svtest.SMTPOptions{}, 0)
	f.srv.SetDown(true)
	f.batch.Add("first batch")
	f.batch.Tick(time.Minute)
	f.waitLog(t, "; 1 kept for the next flush")
	if !strings.Contains(f.log.String(), "sending 1 alerts: smtp ") {
		t.Errorf("log: got %q, want the failure", f.log.String())
	}
	if strings.Contains(f.log.String(), "sent ") {
		t.Errorf("log: got %q, want nothing sent", f.log.String())
	}
	f.srv.SetDown(false)
	f.batch.Add("second batch")
	f.batch.Tick(time.Minute)
	mails := f.srv.WaitMails(t, 1, 10*time.Second)
	if want := "first batch\nsecond batch"; mails[0].Text != want {
		t.Errorf("body: got %q, want %q", mails[0].Text, want)
	}
}

func TestBatchBoundDropsOldestWithNotice(t *testing.T) {
	t.Parallel()
	f := newBatchFixture(t, svtest.SMTPOptions{}, 3)
	f.srv.SetDown(true)
	for _, l := range []string{"l1", "l2", "l3", "l4"} {
		f.batch.Add(l)
	}
	f.batch.Tick(time.Minute) // fails: l2 l3 l4 are kept, one drop counted
	f.waitLog(t, "kept for the next flush")
	f.batch.Add("l5") // over the bound again while merged: l2 dropped
	f.srv.SetDown(false)
	f.batch.Tick(time.Minute)
	mails := f.srv.WaitMails(t, 1, 10*time.Second)
	if want := "(2 older alerts dropped: more than 3 were waiting)\nl3\nl4\nl5"; mails[0].Text != want {
		t.Errorf("body: got %q, want %q", mails[0].Text, want)
	}
	// One line per flush, each with its true reason.
	for _, want := range []string{
		"test: dropped the 1 oldest alerts: more than 3 were waiting because they arrived within one interval (1 dropped since the last mail)\n",
		"test: dropped the 1 oldest alerts: more than 3 were waiting because mail could not be sent: smtp ",
	} {
		if strings.Count(f.log.String(), want) != 1 {
			t.Errorf("log:\n%s\nwant once: %q", f.log.String(), want)
		}
	}
	// The notice is reported once: the next mail has none.
	f.batch.Add("l6")
	f.tickUntilMails(t, 2)
	mails = f.srv.Mails()
	if want := "l6"; mails[1].Text != want {
		t.Errorf("second body: got %q, want %q", mails[1].Text, want)
	}
}

func TestBatchInFlightFlushCoalesces(t *testing.T) {
	t.Parallel()
	f := newBatchFixture(t, svtest.SMTPOptions{Stall: true}, 0)
	f.batch.Add("a")
	f.batch.Tick(time.Minute) // in flight until the server answers
	svtest.Eventually(t, 10*time.Second, "the first flush never reached the server", func() bool { return f.srv.Conns() > 0 })
	f.batch.Add("b")
	// The second Tick must return while the server still holds the first
	// flush: the attempt's own timeout (30 s) is beyond this wait.
	ticked := make(chan struct{})
	go func() {
		f.batch.Tick(time.Minute)
		close(ticked)
	}()
	svtest.Eventually(t, 10*time.Second, "Tick waited for the flush in flight", func() bool {
		select {
		case <-ticked:
			return true
		default:
			return false
		}
	})
	if n := len(f.srv.Mails()); n != 0 {
		t.Fatalf("got %d mails before the server was released, want 0", n)
	}
	f.waitLog(t, "previous mail still being sent, 1 alerts wait for the next flush")
	f.srv.Unstall()
	mails := f.srv.WaitMails(t, 1, 10*time.Second)
	if mails[0].Text != "a" {
		t.Errorf("first body: got %q, want %q", mails[0].Text, "a")
	}
	f.tickUntilMails(t, 2)
	mails = f.srv.Mails()
	if mails[1].Text != "b" {
		t.Errorf("second body: got %q, want %q", mails[1].Text, "b")
	}
}

func TestBatchCloseSendsPending(t *testing.T) {
	t.Parallel()
	f := newBatchFixture(t, svtest.SMTPOptions{}, 0)
	f.batch.Add("pending at shutdown")
	f.batch.Tick(30 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.batch.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := f.srv.Mails(); len(got) != 1 || got[0].Text != "pending at shutdown" {
		t.Fatalf("mails after Close: got %+v, want one with the pending line", got)
	}
}

func TestBatchCloseWaitsForFlushInFlight(t *testing.T) {
	t.Parallel()
	f := newBatchFixture(t, svtest.SMTPOptions{Stall: true}, 0)
	f.batch.Add("a")
	f.batch.Tick(time.Minute)
	f.batch.Add("b")
	time.AfterFunc(200*time.Millisecond, f.srv.Unstall)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.batch.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	mails := f.srv.Mails()
	if len(mails) != 2 || mails[0].Text != "a" || mails[1].Text != "b" {
		t.Fatalf("mails: got %d, want a then b", len(mails))
	}
}

func TestBatchCloseGivesUpAtDeadline(t *testing.T) {
	t.Parallel()
	f := newBatchFixture(t, svtest.SMTPOptions{Stall: true}, 0)
	f.batch.Add("a")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := f.batch.Close(ctx)
	if err == nil {
		t.Fatal("Close against a stalled server: got nil, want an error")
	}
	if !strings.Contains(f.log.String(), "1 alerts not sent before exit") {
		t.Errorf("log: got %q, want the count of unsent alerts", f.log.String())
	}
}

// TestBatchPartialRefusalIsDelivered: a recipient the server refuses does
// not keep the batch from the others, and the batch is not sent again.
func TestBatchPartialRefusalIsDelivered(t *testing.T) {
	t.Parallel()
	f := newBatchFixture(t, svtest.SMTPOptions{RejectTo: []string{"oncall@example.com"}}, 0)
	f.batch.Add("line 1")
	f.tickUntilMails(t, 1)
	f.waitLog(t, "test: sent 1 alerts to the recipients that took them")
	if got := f.srv.Mails()[0].To; strings.Join(got, " ") != "ops@example.com" {
		t.Errorf("envelope recipients: got %q, want ops@example.com", got)
	}
	if want := "oncall@example.com"; !strings.Contains(f.log.String(), "refused") || !strings.Contains(f.log.String(), want) {
		t.Errorf("log: got %q, want the refusal of %s", f.log.String(), want)
	}
	if n := f.batch.Pending(); n != 0 {
		t.Errorf("pending after a partial delivery: got %d, want 0", n)
	}
	if strings.Contains(f.log.String(), "kept for the next flush") {
		t.Errorf("log: got %q, want the batch not kept", f.log.String())
	}
}

// TestBatchFloodLogsOncePerFlush: past the bound, the drops are one log
// line per flush with their count, not one line per alert, and the reason
// is true: nothing was sent yet, so it is not a mail failure.
func TestBatchFloodLogsOncePerFlush(t *testing.T) {
	t.Parallel()
	f := newBatchFixture(t, svtest.SMTPOptions{}, 100)
	for i := range 10050 {
		f.batch.Add(fmt.Sprint("alert ", i))
	}
	if got := f.log.String(); got != "" {
		t.Fatalf("log before the flush: %q, want nothing", got)
	}
	f.batch.Tick(time.Minute)
	mails := f.srv.WaitMails(t, 1, 10*time.Second)
	if !strings.HasPrefix(mails[0].Text, "(9950 older alerts dropped: more than 100 were waiting)\nalert 9950\n") {
		t.Errorf("body starts %q, want the drop notice, then alert 9950", mails[0].Text[:80])
	}
	want := "test: dropped the 9950 oldest alerts: more than 100 were waiting because they arrived within one interval (9950 dropped since the last mail)\n"
	if got := f.log.String(); !strings.HasPrefix(got, want) || strings.Count(got, "dropped the") != 1 {
		t.Errorf("log:\n%s\nwant one drop line %q", got, want)
	}
}
