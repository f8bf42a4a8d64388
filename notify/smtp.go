package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"
)

// TLSMode says how SMTP protects the connection.
type TLSMode int

const (
	TLSNone     TLSMode = iota // plain SMTP (upstream default)
	TLSStartTLS                // STARTTLS required (upstream --tls)
	TLSImplicit                // TLS from the first byte (port 465)
)

// String returns "none", "starttls" or "tls".
func (t TLSMode) String() string {
	switch t {
	case TLSNone:
		return "none"
	case TLSStartTLS:
		return "starttls"
	case TLSImplicit:
		return "tls"
	}
	return fmt.Sprintf("TLSMode(%d)", int(t))
}

// SMTP delivers over net/smtp with a deadline on every step. It never
// downgrades: with TLSStartTLS a server that does not offer STARTTLS is an
// error, and with credentials a server that does not offer AUTH is an error.
// net/smtp's PLAIN refuses to send credentials without TLS except to
// localhost.
type SMTP struct {
	Addr               string // host:port
	Username, Password string // AUTH PLAIN when both are set
	TLS                TLSMode
	// TLSConfig overrides the default (verification on, ServerName from
	// Addr). An empty ServerName in it is filled from Addr.
	TLSConfig *tls.Config
	// Timeout bounds one delivery when ctx has no earlier deadline; zero means 30 s.
	Timeout   time.Duration
	HelloName string // EHLO name; empty means the host name, or "localhost"
}

// String names the transport for log lines; it never includes the password.
func (s *SMTP) String() string {
	str := "smtp " + s.Addr
	switch {
	case s.TLS != TLSNone && s.auth():
		str += fmt.Sprintf(" (%s, user %s)", s.TLS, s.Username)
	case s.TLS != TLSNone:
		str += fmt.Sprintf(" (%s)", s.TLS)
	case s.auth():
		str += fmt.Sprintf(" (user %s)", s.Username)
	}
	return str
}

func (s *SMTP) auth() bool { return s.Username != "" && s.Password != "" }

// Check reports a configuration that can never deliver: a malformed Addr,
// or AUTH over a connection without TLS to a host other than localhost,
// which would put the password on the wire in clear text (net/smtp refuses
// that too, but only at the first delivery, with a terse message). The
// commands call it at start-up.
func (s *SMTP) Check() error {
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("address: %w", err)
	}
	if s.auth() && s.TLS == TLSNone && host != "localhost" && host != "127.0.0.1" && host != "::1" {
		return fmt.Errorf("SMTP AUTH to %s without TLS would send the password in clear text: use STARTTLS or implicit TLS", host)
	}
	return nil
}

// RefusedError reports recipients that the server refused while it took
// the message for the others. The message was delivered: sending it again
// would give the accepted recipients a duplicate, and a stale address must
// not keep alerts from everyone else (superlance ignored such refusals).
type RefusedError struct {
	Refused []string // the refused addresses
	Err     error    // the server's answer to the first of them
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused recipients %s: %v", strings.Join(e.Refused, ", "), e.Err)
}

func (e *RefusedError) Unwrap() error { return e.Err }

// Send delivers m in one SMTP session: EHLO, STARTTLS or not, AUTH when
// configured, MAIL FROM, one RCPT per recipient, DATA, QUIT. When the
// server refuses some recipients the message still goes to the others and
// Send returns a *RefusedError; when it refuses all of them nothing is
// sent and the error is a plain one.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	err := s.send(ctx, m)
	if err == nil {
		return nil
	}
	// A cancelled ctx shows up as an i/o timeout; say why.
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", err, ctxErr)
	}
	return fmt.Errorf("smtp %s: %w", s.Addr, err)
}

func (s *SMTP) send(ctx context.Context, m *Message) error {
	// Nothing about the message or the settings changes between attempts.
	to, from, err := m.addresses()
	if err != nil {
		return Permanent(err)
	}
	if from == nil {
		return Permanent(errors.New("message has no From address"))
	}
	if err := s.Check(); err != nil {
		return Permanent(err)
	}
	raw, err := m.Bytes()
	if err != nil {
		return Permanent(err)
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("address: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, orDefault(s.Timeout))
	defer cancel()
	conn, err := s.dial(ctx, host)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	// net/smtp has no context: the deadline covers every later read and
	// write, and a cancelled ctx cuts the session short.
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.helloName()); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if s.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("starttls: server does not offer STARTTLS")
		}
		if err := c.StartTLS(s.tlsConfig(host)); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if s.auth() {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("auth: smtp server does not support AUTH")
		}
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return permanentIf5xx(fmt.Errorf("mail from <%s>: %w", from.Address, err))
	}
	var refused *RefusedError
	for _, a := range to {
		if err := c.Rcpt(a.Address); err != nil {
			var perr *textproto.Error
			if !errors.As(err, &perr) {
				// Not an answer about this recipient: the session is broken.
				return fmt.Errorf("rcpt to <%s>: %w", a.Address, err)
			}
			if refused == nil {
				refused = &RefusedError{Err: fmt.Errorf("rcpt to <%s>: %w", a.Address, err)}
			}
			refused.Refused = append(refused.Refused, a.Address)
		}
	}
	if refused != nil && len(refused.Refused) == len(to) {
		return permanentIf5xx(refused.Err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return permanentIf5xx(fmt.Errorf("data: %w", err))
	}
	// The server has accepted the message; a failed QUIT must not make the
	// caller send it again.
	_ = c.Quit()
	if refused != nil {
		return refused
	}
	return nil
}

func (s *SMTP) dial(ctx context.Context, host string) (net.Conn, error) {
	if s.TLS == TLSImplicit {
		d := &tls.Dialer{Config: s.tlsConfig(host)}
		return d.DialContext(ctx, "tcp", s.Addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.Addr)
}

func (s *SMTP) tlsConfig(host string) *tls.Config {
	if s.TLSConfig == nil {
		return &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	cfg := s.TLSConfig.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	return cfg
}

func (s *SMTP) helloName() string {
	if s.HelloName != "" {
		return s.HelloName
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// permanentIf5xx marks err permanent when it is the server's 5xx answer
// about this message (sender, recipients, content): sending the same
// message again gets the same answer. A 4xx answer, or a 5xx to the
// greeting or AUTH, may change and stays retryable.
func permanentIf5xx(err error) error {
	var perr *textproto.Error
	if errors.As(err, &perr) && perr.Code >= 500 {
		return Permanent(err)
	}
	return err
}
