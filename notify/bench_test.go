package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/notify"
)

func BenchmarkMessageBytes(b *testing.B) {
	m := testMessage()
	for b.Loop() {
		if _, err := m.Bytes(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnqueueStalledServer measures what the event loop pays per mail
// while the SMTP server never answers (the queue is full, so every Enqueue
// also drops the oldest message).
func BenchmarkEnqueueStalledServer(b *testing.B) {
	srv := svtest.StartSMTP(b, svtest.SMTPOptions{Stall: true})
	q := notify.NewQueue(&notify.SMTP{Addr: srv.Addr, Timeout: time.Minute}, notify.QueueOptions{})
	m := testMessage()
	for b.Loop() {
		if err := q.Enqueue(m); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	srv.Unstall()
}

func BenchmarkSMTPSend(b *testing.B) {
	srv := svtest.StartSMTP(b, svtest.SMTPOptions{StartTLS: true, Username: testUser, Password: testPassword})
	tr := &notify.SMTP{Addr: srv.Addr, TLS: notify.TLSStartTLS, Username: testUser, Password: testPassword}
	tr.TLSConfig = tlsConfigFor(srv)
	m := testMessage()
	for b.Loop() {
		if err := tr.Send(b.Context(), m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSendmailSend(b *testing.B) {
	tr := &notify.Sendmail{Command: "cat >/dev/null"}
	m := testMessage()
	for b.Loop() {
		if err := tr.Send(b.Context(), m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMessageBytesBatch renders a full batch mail: 10,000 ASCII lines
// of ~90 characters, which go out 7bit as they are.
func BenchmarkMessageBytesBatch(b *testing.B) {
	line := "2026-11-21 16:23:32,987 -- Process app:worker_with_a_long_name (pid 4242) died unexpectedly"
	body := strings.Repeat(line+"\n", 9999) + line
	m := &notify.Message{To: []string{"ops@example.com"}, From: "sv@example.com", Subject: "Crash alert from supervisord", Body: body}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := m.Bytes(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnqueueSpooled is Enqueue's cost with --spool while the
// server stalls: the files are written and synced in the background, so
// the caller does not wait for the disk (the queue is sized for the whole
// run: past a full queue Enqueue writes itself).
func BenchmarkEnqueueSpooled(b *testing.B) {
	srv := svtest.StartSMTP(b, svtest.SMTPOptions{Stall: true})
	sp, err := notify.OpenSpool(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	q := notify.NewQueue(&notify.SMTP{Addr: srv.Addr, Timeout: time.Minute}, notify.QueueOptions{Spool: sp, Size: 1 << 16})
	m := testMessage()
	for b.Loop() {
		if err := q.Enqueue(m); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q.Close(ctx) // waits for the spooler, so the directory can be removed
	srv.Unstall()
}
