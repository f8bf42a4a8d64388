package svtest

import (
	"crypto/x509"
	"net/mail"
	"testing"
	"time"
)

// SMTPOptions configures an in-process SMTP server (emersion/go-smtp).
type SMTPOptions struct {
	Username, Password string // require AUTH PLAIN with these when set (offered only after TLS)
	StartTLS           bool   // offer STARTTLS with a generated certificate
	ImplicitTLS        bool   // TLS from the first byte
	Stall              bool   // accept connections but never greet, until Unstall
	Refuse             bool   // answer 554 to every connection
}

// Mail is one received message.
type Mail struct {
	From string
	To   []string
	Raw  []byte
	Msg  *mail.Message // parsed; Body already read into Text
	Text string        // decoded body
	TLS  bool          // delivered over TLS
	Auth string        // authenticated user, or ""
}

// SMTPServer is a real SMTP server on 127.0.0.1.
type SMTPServer struct {
	Addr  string         // 127.0.0.1:port
	Roots *x509.CertPool // trusts the generated certificate (ServerName "localhost")
	CAFile string        // the certificate as a PEM file, for tools' --ca options
}

// StartSMTP starts a server, closed in t.Cleanup.
func StartSMTP(t testing.TB, o SMTPOptions) *SMTPServer { panic("unimplemented") }

// Mails returns the messages received so far.
func (s *SMTPServer) Mails() []Mail { panic("unimplemented") }

// WaitMails waits until at least n messages arrived and returns them.
func (s *SMTPServer) WaitMails(t testing.TB, n int, timeout time.Duration) []Mail {
	panic("unimplemented")
}

// Unstall makes a Stall server start answering (also existing connections).
func (s *SMTPServer) Unstall() { panic("unimplemented") }

// SetDown makes the server refuse (true) or accept (false) new connections.
func (s *SMTPServer) SetDown(down bool) { panic("unimplemented") }

// Sendmail writes a sendmail-compatible script into a temp dir that stores
// each message it reads on stdin as a numbered file; the returned command
// line is what tools take as -s.
type SendmailSink struct {
	Command string
	Dir     string
}

// NewSendmail returns a sink; its script exits 0.
func NewSendmail(t testing.TB) *SendmailSink { panic("unimplemented") }

// Mails returns the stored messages, parsed, in arrival order.
func (s *SendmailSink) Mails(t testing.TB) []Mail { panic("unimplemented") }

// WaitMails waits until at least n messages are stored.
func (s *SendmailSink) WaitMails(t testing.TB, n int, timeout time.Duration) []Mail {
	panic("unimplemented")
}
