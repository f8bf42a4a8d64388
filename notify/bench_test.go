package notify_test

import (
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
