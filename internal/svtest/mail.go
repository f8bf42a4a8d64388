package svtest

import (
	"context"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/harness"
)

// SMTPOptions configures the in-process SMTP server; Mail is one message
// it received (see package harness).
type (
	SMTPOptions = harness.SMTPOptions
	Mail        = harness.Mail
)

// SMTPServer is a real SMTP server on 127.0.0.1 (emersion/go-smtp). Its
// certificate names localhost and 127.0.0.1.
type SMTPServer struct {
	*harness.SMTPServer
}

// StartSMTP starts a server, closed in t.Cleanup.
func StartSMTP(t testing.TB, o SMTPOptions) *SMTPServer {
	t.Helper()
	s, err := harness.StartSMTP(o)
	if err != nil {
		t.Fatalf("svtest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return &SMTPServer{s}
}

// WaitMails waits until at least n messages arrived and returns them.
func (s *SMTPServer) WaitMails(t testing.TB, n int, timeout time.Duration) []Mail {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	mails, err := s.SMTPServer.WaitMails(ctx, n)
	if err != nil {
		t.Fatalf("after %v: %v", timeout, err)
	}
	return mails
}

// SendmailSink is a sendmail-compatible script in a temp dir that stores
// each message it reads on stdin as a numbered file in Dir; Command (the
// script's path plus "-t -i") is what tools take as -s.
type SendmailSink struct {
	*harness.SendmailSink
}

// NewSendmail returns a sink; its script exits 0.
func NewSendmail(t testing.TB) *SendmailSink {
	t.Helper()
	s, err := harness.NewSendmail(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &SendmailSink{s}
}

// Mails returns the stored messages, parsed, in arrival order.
func (s *SendmailSink) Mails(t testing.TB) []Mail {
	t.Helper()
	mails, err := s.SendmailSink.Mails()
	if err != nil {
		t.Fatal(err)
	}
	return mails
}

// WaitMails waits until at least n messages are stored.
func (s *SendmailSink) WaitMails(t testing.TB, n int, timeout time.Duration) []Mail {
	t.Helper()
	var mails []Mail
	Eventually(t, timeout, "sendmail sink "+s.Dir+": too few mails", func() bool {
		mails = s.Mails(t)
		return len(mails) >= n
	})
	return mails
}
