package notify

import (
	"context"
	"crypto/tls"
	"log"
	"time"
)

// Message is one mail. Empty Subject means no Subject header at all
// (crashsms without -s); empty From is allowed for Sendmail only.
type Message struct {
	To      []string
	From    string
	Subject string
	Body    string
	// Header holds extra header fields, in order.
	Header []Field
}

// Field is one extra header field.
type Field struct{ Name, Value string }

// Validate rejects CR or LF in any header value and addresses that
// net/mail cannot parse.
func (m *Message) Validate() error { panic("unimplemented") }

// Bytes validates m and renders it as an RFC 5322 message with CRLF line
// endings (rendered with jordan-wright/email).
func (m *Message) Bytes() ([]byte, error) { panic("unimplemented") }

// Transport delivers one message. Send honours ctx's deadline.
type Transport interface {
	Send(ctx context.Context, m *Message) error
	// String names the transport for log lines (never includes a password).
	String() string
}

// Sendmail runs Command through /bin/sh -c with the message on stdin, as
// superlance does (-s "/usr/sbin/sendmail -t -i").
type Sendmail struct {
	Command string
	// Timeout bounds one run when ctx has no earlier deadline; zero means 30 s.
	Timeout time.Duration
}

func (s *Sendmail) Send(ctx context.Context, m *Message) error { panic("unimplemented") }
func (s *Sendmail) String() string                              { panic("unimplemented") }

// TLSMode says how SMTP protects the connection.
type TLSMode int

const (
	TLSNone     TLSMode = iota // plain SMTP (upstream default)
	TLSStartTLS                // STARTTLS required (upstream --tls)
	TLSImplicit                // TLS from the first byte (port 465)
)

// SMTP delivers over net/smtp with a deadline on every step.
type SMTP struct {
	Addr               string // host:port
	Username, Password string // AUTH when both are set
	TLS                TLSMode
	// TLSConfig overrides the default (verification on, ServerName from Addr).
	TLSConfig *tls.Config
	// Timeout bounds one delivery when ctx has no earlier deadline; zero means 30 s.
	Timeout   time.Duration
	HelloName string // EHLO name; empty means the host name
}

func (s *SMTP) Send(ctx context.Context, m *Message) error { panic("unimplemented") }
func (s *SMTP) String() string                              { panic("unimplemented") }

// QueueOptions configures a Queue.
type QueueOptions struct {
	Size     int           // pending messages kept; 0 means 100; when full the oldest is dropped and logged
	Attempts int           // delivery attempts per message; 0 means 5
	Backoff  time.Duration // first retry pause, doubled each time; 0 means 2 s
	Log      *log.Logger   // what was sent, retried, dropped; nil discards
}

// Queue delivers messages asynchronously: Enqueue never waits on the network.
type Queue struct{}

// NewQueue starts a queue delivering through t.
func NewQueue(t Transport, o QueueOptions) *Queue { panic("unimplemented") }

// Enqueue adds m for delivery. It never blocks; it returns an error only for
// a message that can never be sent (Validate fails).
func (q *Queue) Enqueue(m *Message) error { panic("unimplemented") }

// Close stops accepting messages and delivers what is pending until ctx is
// done. It returns the messages that could not be delivered (also logged).
func (q *Queue) Close(ctx context.Context) []*Message { panic("unimplemented") }
