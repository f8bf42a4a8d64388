package notify_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/notify"
)

// TestQueueOutlastsLongOutage: the mail server is down for longer than the
// five attempts the queue used to give up after, then comes back: every
// alert arrives, in order, none twice. The pauses are shortened so that
// the test waits on outcomes (attempts counted), not on the clock.
func TestQueueOutlastsLongOutage(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{})
	srv.SetDown(true)
	var lg queueLog
	q := notify.NewQueue(&notify.SMTP{Addr: srv.Addr, Timeout: 5 * time.Second},
		notify.QueueOptions{Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, Log: lg.logger()})
	want := []string{"a", "b", "c", "d", "e"}
	for _, s := range want {
		if err := q.Enqueue(msg(s)); err != nil {
			t.Fatal(err)
		}
	}
	lg.wait(t, "(attempt 12), retrying in 4ms")
	srv.SetDown(false)
	srv.WaitMails(t, len(want), 20*time.Second)
	if left := closeQueue(t, q); len(left) != 0 {
		t.Errorf("Close() returned %d undelivered, want 0", len(left))
	}
	if got := subjects(srv.Mails()); got != strings.Join(want, " ") {
		t.Errorf("delivered %q, want %q once each, in order", got, strings.Join(want, " "))
	}
	if got := lg.matching("gave up"); len(got) != 0 {
		t.Errorf("gave up: %q", got)
	}
}

// TestQueuePermanentFailure: a message the server refuses with 5xx for
// every recipient is given up at once (logged in full), and the mail
// behind it is not held up.
func TestQueuePermanentFailure(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{RejectTo: []string{"gone@example.com"}})
	var lg queueLog
	q := notify.NewQueue(&notify.SMTP{Addr: srv.Addr}, notify.QueueOptions{Backoff: time.Millisecond, Log: lg.logger()})
	bad := msg("to nobody")
	bad.To = []string{"gone@example.com"}
	for _, m := range []*notify.Message{bad, msg("next")} {
		if err := q.Enqueue(m); err != nil {
			t.Fatal(err)
		}
	}
	srv.WaitMails(t, 1, 10*time.Second)
	closeQueue(t, q)
	if got := subjects(srv.Mails()); got != "next" {
		t.Errorf("delivered %q, want next", got)
	}
	lines := lg.matching(`gave up on mail "to nobody"`)
	if len(lines) != 1 || !strings.Contains(lines[0], "550") || !strings.Contains(lines[0], "\nSubject: to nobody\n") {
		t.Errorf("log = %q, want one give-up line with the 550 answer and the mail in full", lines)
	}
	if got := lg.matching("retrying"); len(got) != 0 {
		t.Errorf("retried a permanent failure: %q", got)
	}
}

// flaky is a Delivery of another channel: it fails until its attempts
// reach okAt (never when okAt is 0), or fails permanently.
type flaky struct {
	name      string
	okAt      int
	permanent bool
	mu        sync.Mutex
	attempts  int
	delivered *[]string
	order     *sync.Mutex
}

func (f *flaky) Deliver(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if f.permanent {
		return notify.Permanent(errors.New("410 gone"))
	}
	if f.okAt == 0 || f.attempts < f.okAt {
		return fmt.Errorf("attempt %d: 503", f.attempts)
	}
	f.order.Lock()
	*f.delivered = append(*f.delivered, f.name)
	f.order.Unlock()
	return nil
}

func (f *flaky) String() string { return "webhook " + f.name }

// TestQueueAddAnyDelivery: the queue is not only for mail: any Delivery is
// retried, given up when permanent, delivered in order.
func TestQueueAddAnyDelivery(t *testing.T) {
	t.Parallel()
	var lg queueLog
	var delivered []string
	var mu sync.Mutex
	q := notify.NewQueue(nil, notify.QueueOptions{Backoff: time.Millisecond, MaxBackoff: time.Millisecond, Log: lg.logger()})
	items := []*flaky{
		{name: "one", okAt: 3, delivered: &delivered, order: &mu},
		{name: "gone", permanent: true, delivered: &delivered, order: &mu},
		{name: "two", okAt: 1, delivered: &delivered, order: &mu},
	}
	for _, it := range items {
		if err := q.Add(it); err != nil {
			t.Fatal(err)
		}
	}
	if left := closeQueue(t, q); len(left) != 0 {
		t.Errorf("Close() returned %d, want 0", len(left))
	}
	if got := strings.Join(delivered, " "); got != "one two" {
		t.Errorf("delivered %q, want one two", got)
	}
	if got := lg.matching("gave up on webhook gone: 410 gone"); len(got) != 1 {
		t.Errorf("log:\n%s\nwant one give-up for gone", &lg)
	}
	if got := lg.matching("webhook one failed (attempt 2), retrying in 1ms: attempt 2: 503"); len(got) != 1 {
		t.Errorf("log:\n%s\nwant the second failure of one", &lg)
	}
}

func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.mail.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestSpoolAcrossRestart: mail queued while the server is down stays in the
// spool when the queue is closed, and the next queue on the same spool (a
// restarted listener) sends it, oldest first, and empties the spool.
func TestSpoolAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "spool")
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{})
	srv.SetDown(true)

	sp, err := notify.OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := notify.OpenSpool(dir); err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("second OpenSpool = %v, want the spool in use", err)
	}
	var lg queueLog
	q := notify.NewQueue(&notify.SMTP{Addr: srv.Addr}, notify.QueueOptions{Backoff: time.Millisecond, MaxBackoff: time.Millisecond, Spool: sp, Log: lg.logger()})
	for _, s := range []string{"first", "second", "third"} {
		if err := q.Enqueue(msg(s)); err != nil {
			t.Fatal(err)
		}
	}
	// Written in the background, off the caller's goroutine.
	svtest.Eventually(t, 10*time.Second, "three mails in the spool", func() bool { return len(spoolFiles(t, dir)) == 3 })
	lg.wait(t, "(attempt 3)")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // an exit with the server still down
	if left := q.Close(ctx); len(left) != 3 {
		t.Fatalf("Close() returned %d, want 3", len(left))
	}
	if got := lg.matching("kept in the spool " + dir + " for the next start"); len(got) != 3 {
		t.Errorf("log:\n%s\nwant three mails kept in the spool", &lg)
	}
	sp.Close()
	if n := len(spoolFiles(t, dir)); n != 3 {
		t.Fatalf("spool holds %d mails after Close, want 3", n)
	}

	// The restarted listener, with the server back.
	srv.SetDown(false)
	sp2, err := notify.OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sp2.Close()
	var lg2 queueLog
	q2 := notify.NewQueue(&notify.SMTP{Addr: srv.Addr}, notify.QueueOptions{Spool: sp2, Log: lg2.logger()})
	if err := q2.Enqueue(msg("fourth")); err != nil {
		t.Fatal(err)
	}
	if left := closeQueue(t, q2); len(left) != 0 {
		t.Errorf("Close() returned %d, want 0", len(left))
	}
	if got := subjects(srv.Mails()); got != "first second third fourth" {
		t.Errorf("delivered %q, want first second third fourth", got)
	}
	if got := lg2.matching("3 mails left in the spool " + dir); len(got) != 1 {
		t.Errorf("log:\n%s\nwant the spooled mail announced", &lg2)
	}
	if files := spoolFiles(t, dir); len(files) != 0 {
		t.Errorf("spool still holds %q after delivery", files)
	}
}

// TestSpoolBadFile: a file that does not hold a mail is set aside, not
// lost and not read again.
func TestSpoolBadFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "00000000000000000001-000001.mail.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := notify.OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	got, err := sp.Load()
	if len(got) != 0 || err == nil || !strings.Contains(err.Error(), ".bad") {
		t.Errorf("Load() = %d mails, %v; want none and an error naming the .bad file", len(got), err)
	}
	if _, err := os.Stat(bad + ".bad"); err != nil {
		t.Errorf("bad file not set aside: %v", err)
	}
}
