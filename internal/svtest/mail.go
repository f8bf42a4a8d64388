package svtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// SMTPOptions configures an in-process SMTP server (emersion/go-smtp).
type SMTPOptions struct {
	Username, Password string   // require AUTH PLAIN with these when set (offered only after TLS)
	StartTLS           bool     // offer STARTTLS with a generated certificate
	ImplicitTLS        bool     // TLS from the first byte
	Stall              bool     // accept connections but never greet, until Unstall
	Refuse             bool     // answer 554 to every connection, then close it
	RejectTo           []string // recipients answered with 550 at RCPT
}

// Mail is one received message.
type Mail struct {
	From string   // envelope sender (SendmailSink: the From header's address)
	To   []string // envelope recipients (SendmailSink: the To header's addresses)
	Raw  []byte
	Msg  *mail.Message // parsed; Body already read into Text; nil if Raw does not parse
	// Text is the body decoded per Content-Transfer-Encoding, with "\n" line
	// endings and without the final line break that SMTP adds, so it compares
	// equal to the notify.Message Body that was sent.
	Text string
	TLS  bool   // delivered over TLS
	Auth string // authenticated user, or ""
}

// SMTPServer is a real SMTP server on 127.0.0.1. Its certificate names
// localhost and 127.0.0.1.
type SMTPServer struct {
	Addr   string         // 127.0.0.1:port
	Roots  *x509.CertPool // trusts the generated certificate (ServerName "localhost" or "127.0.0.1")
	CAFile string         // the certificate as a PEM file, for tools' --ca options

	opts   SMTPOptions
	gate   *gate
	mu     sync.Mutex
	mails  []Mail
	arrive chan struct{} // closed and replaced when a mail arrives
}

// StartSMTP starts a server, closed in t.Cleanup.
func StartSMTP(t testing.TB, o SMTPOptions) *SMTPServer {
	t.Helper()
	certPEM, cert, err := selfSignedCert()
	if err != nil {
		t.Fatalf("generating certificate: %v", err)
	}
	s := &SMTPServer{Roots: x509.NewCertPool(), opts: o, arrive: make(chan struct{})}
	s.Roots.AppendCertsFromPEM(certPEM)
	s.CAFile = filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(s.CAFile, certPEM, 0o644); err != nil {
		t.Fatalf("writing CA file: %v", err)
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtp server: %v", err)
	}
	s.Addr = l.Addr().String()
	s.gate = newGate(l, o)

	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &smtpSession{srv: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = false
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	// Clients that give up (the point of several tests) make go-smtp log
	// errors, possibly after the test ended, when t.Log would panic.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	var served net.Listener = s.gate
	switch {
	case o.ImplicitTLS:
		served = tls.NewListener(s.gate, tlsConfig)
	case o.StartTLS:
		srv.TLSConfig = tlsConfig
	}
	go srv.Serve(served)
	t.Cleanup(func() {
		srv.Close()
		s.gate.Close() // in case Serve had not registered it yet
	})
	return s
}

// Mails returns the messages received so far.
func (s *SMTPServer) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.mails)
}

// WaitMails waits until at least n messages arrived and returns them.
func (s *SMTPServer) WaitMails(t testing.TB, n int, timeout time.Duration) []Mail {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, arrive := slices.Clone(s.mails), s.arrive
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-arrive:
		case <-deadline.C:
			t.Fatalf("smtp server %s: got %d mails after %v, want %d", s.Addr, len(got), timeout, n)
		}
	}
}

// Conns returns how many TCP connections the server has accepted, including
// held (stalled) and refused ones: a test can wait until a client is
// waiting on a stalled server.
func (s *SMTPServer) Conns() int {
	s.gate.mu.Lock()
	defer s.gate.mu.Unlock()
	return s.gate.accepted
}

// Unstall makes a Stall server start answering (also existing connections).
func (s *SMTPServer) Unstall() { s.gate.unstall() }

// SetDown makes the server refuse (true) or accept (false) new connections.
// A refused connection is accepted, greeted with "421 service not
// available" and closed (with ImplicitTLS: closed without a word), as a
// mail server that is overloaded or shutting down does. The address stays
// bound, so the same Addr works again after SetDown(false).
func (s *SMTPServer) SetDown(down bool) { s.gate.setDown(down) }

func (s *SMTPServer) record(m Mail) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mails = append(s.mails, m)
	close(s.arrive)
	s.arrive = make(chan struct{})
}

// smtpSession is one client connection's state.
type smtpSession struct {
	srv  *SMTPServer
	conn *gosmtp.Conn
	user string
	from string
	to   []string
}

func (ss *smtpSession) AuthMechanisms() []string {
	if ss.srv.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		o := ss.srv.opts
		if user != o.Username || pass != o.Password || (identity != "" && identity != user) {
			return gosmtp.ErrAuthFailed
		}
		ss.user = user
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if ss.srv.opts.Username != "" && ss.user == "" {
		return gosmtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if slices.Contains(ss.srv.opts.RejectTo, to) {
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such user " + to}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := parseMail(raw)
	m.From, m.To, m.Auth = ss.from, slices.Clone(ss.to), ss.user
	_, m.TLS = ss.conn.TLSConnectionState()
	ss.srv.record(m)
	return nil
}

func (ss *smtpSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *smtpSession) Logout() error { return nil }

// parseMail parses raw and decodes its body into Text.
func parseMail(raw []byte) Mail {
	m := Mail{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.Text = string(raw)
		return m
	}
	m.Msg = msg
	var body io.Reader = msg.Body
	switch strings.ToLower(strings.TrimSpace(msg.Header.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		text = append(text, fmt.Sprintf("[svtest: decoding body: %v]", err)...)
	}
	s := strings.ReplaceAll(string(text), "\r\n", "\n")
	m.Text = strings.TrimSuffix(s, "\n")
	return m
}

// selfSignedCert returns a fresh ECDSA certificate for localhost and
// 127.0.0.1, as PEM and as a tls.Certificate.
func selfSignedCert() ([]byte, tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "svtest SMTP server"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return certPEM, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// gate sits between the TCP listener and go-smtp. It decides, per accepted
// connection, whether go-smtp sees it now (normal), later (stalled: the
// client waits for a greeting that does not come), or never (refused or
// down: the gate answers and hangs up itself).
type gate struct {
	inner  net.Listener
	silent bool   // implicit TLS: a plain-text reply would be garbage to the client
	refuse string // permanent reply, or ""
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once

	mu       sync.Mutex
	accepted int
	down     bool
	stalled  chan struct{} // closed by unstall; nil when not stalled
}

func newGate(l net.Listener, o SMTPOptions) *gate {
	g := &gate{inner: l, silent: o.ImplicitTLS, conns: make(chan net.Conn), closed: make(chan struct{})}
	if o.Refuse {
		g.refuse = "554 5.3.2 no service"
	}
	if o.Stall {
		g.stalled = make(chan struct{})
	}
	go g.acceptLoop()
	return g
}

func (g *gate) acceptLoop() {
	for {
		c, err := g.inner.Accept()
		if err != nil {
			g.Close()
			return
		}
		g.mu.Lock()
		g.accepted++
		down, stalled := g.down, g.stalled
		g.mu.Unlock()
		switch {
		case g.refuse != "":
			go g.reject(c, g.refuse)
		case down:
			go g.reject(c, "421 4.3.2 service not available, closing channel")
		case stalled != nil:
			go func() {
				select {
				case <-stalled:
					g.handOver(c)
				case <-g.closed:
					c.Close()
				}
			}()
		default:
			g.handOver(c)
		}
	}
}

func (g *gate) handOver(c net.Conn) {
	select {
	case g.conns <- c:
	case <-g.closed:
		c.Close()
	}
}

func (g *gate) reject(c net.Conn, reply string) {
	defer c.Close()
	if g.silent {
		return
	}
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, reply+"\r\n")
}

func (g *gate) unstall() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stalled != nil {
		close(g.stalled)
		g.stalled = nil
	}
}

func (g *gate) setDown(down bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = down
}

// Accept implements net.Listener for go-smtp.
func (g *gate) Accept() (net.Conn, error) {
	select {
	case c := <-g.conns:
		return c, nil
	case <-g.closed:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener; it also drops held connections.
func (g *gate) Close() error {
	g.once.Do(func() {
		close(g.closed)
		g.inner.Close()
	})
	return nil
}

// Addr implements net.Listener.
func (g *gate) Addr() net.Addr { return g.inner.Addr() }

// SendmailSink is a sendmail-compatible script in a temp dir that stores
// each message it reads on stdin as a numbered file in Dir; Command (the
// script's path plus "-t -i") is what tools take as -s.
type SendmailSink struct {
	Command string
	Dir     string
}

// sinkScript stores stdin under the next free number. ln is atomic (it
// fails when the name exists), so concurrent runs never share a number and
// numbers follow the order in which the messages were complete.
const sinkScript = `#!/bin/sh
# A sendmail stand-in: stores the message on stdin, ignores its arguments.
dir=%s
tmp=$(mktemp "$dir/.incoming.XXXXXX") || exit 75
cat >"$tmp" || exit 74
n=$(ls "$dir" | grep -c '\.eml$')
while n=$((n + 1)); ! ln "$tmp" "$dir/$(printf %%06d "$n").eml" 2>/dev/null; do :; done
rm -f "$tmp"
exit 0
`

// NewSendmail returns a sink; its script exits 0.
func NewSendmail(t testing.TB) *SendmailSink {
	t.Helper()
	base := t.TempDir()
	s := &SendmailSink{Dir: filepath.Join(base, "mail")}
	if err := os.Mkdir(s.Dir, 0o755); err != nil {
		t.Fatalf("sendmail sink: %v", err)
	}
	script := filepath.Join(base, "sendmail")
	if err := os.WriteFile(script, fmt.Appendf(nil, sinkScript, shellQuote(s.Dir)), 0o755); err != nil {
		t.Fatalf("sendmail sink: %v", err)
	}
	s.Command = shellQuote(script) + " -t -i"
	return s
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Mails returns the stored messages, parsed, in arrival order.
func (s *SendmailSink) Mails(t testing.TB) []Mail {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(s.Dir, "*.eml"))
	if err != nil {
		t.Fatalf("sendmail sink: %v", err)
	}
	slices.Sort(names) // zero-padded numbers
	var mails []Mail
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("sendmail sink: %v", err)
		}
		m := parseMail(raw)
		if m.Msg != nil {
			if a, err := mail.ParseAddress(m.Msg.Header.Get("From")); err == nil {
				m.From = a.Address
			}
			if list, err := m.Msg.Header.AddressList("To"); err == nil {
				for _, a := range list {
					m.To = append(m.To, a.Address)
				}
			}
		}
		mails = append(mails, m)
	}
	return mails
}

// WaitMails waits until at least n messages are stored.
func (s *SendmailSink) WaitMails(t testing.TB, n int, timeout time.Duration) []Mail {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		mails := s.Mails(t)
		if len(mails) >= n {
			return mails
		}
		if time.Now().After(deadline) {
			t.Fatalf("sendmail sink %s: got %d mails after %v, want %d", s.Dir, len(mails), timeout, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
