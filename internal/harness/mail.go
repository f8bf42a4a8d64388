package harness

import (
	"bytes"
	"context"
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
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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
	// OnMail, when set, is called with each message as it arrives (from
	// the server's goroutine, after it is recorded).
	OnMail func(Mail)
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
	At   time.Time
}

// SMTPServer is a real SMTP server on 127.0.0.1. Its certificate names
// localhost and 127.0.0.1.
type SMTPServer struct {
	Addr   string         // 127.0.0.1:port
	Roots  *x509.CertPool // trusts the generated certificate (ServerName "localhost" or "127.0.0.1")
	CAFile string         // the certificate as a PEM file, for tools' --ca options

	opts    SMTPOptions
	srv     *gosmtp.Server
	certDir string
	gate    *gate
	mu      sync.Mutex
	mails   []Mail
	arrive  chan struct{} // closed and replaced when a mail arrives
}

// StartSMTP starts a server; Close stops it.
func StartSMTP(o SMTPOptions) (*SMTPServer, error) {
	certPEM, cert, err := selfSignedCert()
	if err != nil {
		return nil, fmt.Errorf("generating certificate: %w", err)
	}
	s := &SMTPServer{Roots: x509.NewCertPool(), opts: o, arrive: make(chan struct{})}
	s.Roots.AppendCertsFromPEM(certPEM)
	if s.certDir, err = os.MkdirTemp("", "smtp-ca-"); err != nil {
		return nil, err
	}
	s.CAFile = filepath.Join(s.certDir, "smtp-ca.pem")
	if err := os.WriteFile(s.CAFile, certPEM, 0o644); err != nil {
		os.RemoveAll(s.certDir)
		return nil, fmt.Errorf("writing CA file: %w", err)
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(s.certDir)
		return nil, fmt.Errorf("smtp server: %w", err)
	}
	s.Addr = l.Addr().String()
	s.gate = newGate(l, o)

	s.srv = gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &smtpSession{srv: s, conn: c}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = false
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 1 << 20
	// Clients that give up (the point of several tests) and listeners
	// stopped mid-session make go-smtp log errors, possibly after a test
	// ended, when t.Log would panic.
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	var served net.Listener = s.gate
	switch {
	case o.ImplicitTLS:
		served = tls.NewListener(s.gate, tlsConfig)
	case o.StartTLS:
		s.srv.TLSConfig = tlsConfig
	}
	go s.srv.Serve(served)
	return s, nil
}

// Close stops the server and drops the connections it holds.
func (s *SMTPServer) Close() error {
	s.srv.Close()
	s.gate.Close() // in case Serve had not registered it yet
	os.RemoveAll(s.certDir)
	return nil
}

// Mails returns the messages received so far.
func (s *SMTPServer) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.mails)
}

// WaitMails waits until at least n messages arrived, or ctx ends, and
// returns them.
func (s *SMTPServer) WaitMails(ctx context.Context, n int) ([]Mail, error) {
	for {
		s.mu.Lock()
		got, arrive := slices.Clone(s.mails), s.arrive
		s.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-arrive:
		case <-ctx.Done():
			return got, fmt.Errorf("smtp server %s: got %d mails, want %d: %w", s.Addr, len(got), n, ctx.Err())
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
	s.mails = append(s.mails, m)
	close(s.arrive)
	s.arrive = make(chan struct{})
	s.mu.Unlock()
	if s.opts.OnMail != nil {
		s.opts.OnMail(m)
	}
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
	m := ParseMail(raw)
	m.From, m.To, m.Auth, m.At = ss.from, slices.Clone(ss.to), ss.user, time.Now()
	_, m.TLS = ss.conn.TLSConnectionState()
	ss.srv.record(m)
	return nil
}

func (ss *smtpSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *smtpSession) Logout() error { return nil }

// ParseMail parses raw and decodes its body into Text.
func ParseMail(raw []byte) Mail {
	m := Mail{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.Text = string(raw)
		return m
	}
	m.Msg = msg
	text, err := io.ReadAll(decodeTransfer(msg.Header.Get("Content-Transfer-Encoding"), msg.Body))
	if err != nil {
		text = append(text, fmt.Sprintf("[decoding body: %v]", err)...)
	}
	s := strings.ReplaceAll(string(text), "\r\n", "\n")
	m.Text = strings.TrimSuffix(s, "\n")
	return m
}

// decodeTransfer undoes a Content-Transfer-Encoding.
func decodeTransfer(cte string, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, body)
	}
	return body
}

var wordDecoder mime.WordDecoder

// Readable returns what a person reads of m: the From, To and Subject
// header fields with encoded words decoded (hasSubject tells an empty
// Subject from none), and the text: the first text/plain part of a
// multipart message, else Text. A message that does not parse reads as
// its raw bytes.
func (m Mail) Readable() (from, to, subject string, hasSubject bool, text string) {
	if m.Msg == nil {
		return "", "", "", false, string(m.Raw)
	}
	dec := func(s string) string {
		if d, err := wordDecoder.DecodeHeader(s); err == nil {
			return d
		}
		return s
	}
	h := m.Msg.Header
	_, hasSubject = h["Subject"]
	text = m.Text
	if mediaType, params, _ := mime.ParseMediaType(h.Get("Content-Type")); strings.HasPrefix(mediaType, "multipart/") {
		if msg, err := mail.ReadMessage(bytes.NewReader(m.Raw)); err == nil {
			text = firstTextPart(params["boundary"], msg.Body)
		}
	}
	return dec(h.Get("From")), dec(h.Get("To")), dec(h.Get("Subject")), hasSubject, text
}

// firstTextPart returns the decoded first text/plain part of a multipart
// body, descending into nested multiparts.
func firstTextPart(boundary string, body io.Reader) string {
	mr := multipart.NewReader(body, boundary)
	for {
		p, err := mr.NextPart()
		if err != nil {
			return ""
		}
		ct, params, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if strings.HasPrefix(ct, "multipart/") {
			return firstTextPart(params["boundary"], p)
		}
		if ct == "" || ct == "text/plain" {
			b, err := io.ReadAll(io.LimitReader(decodeTransfer(p.Header.Get("Content-Transfer-Encoding"), p), 1<<20))
			text := strings.ReplaceAll(string(b), "\r\n", "\n")
			if err != nil {
				text += fmt.Sprintf("\n[undecodable: %v]", err)
			}
			return strings.TrimRight(text, "\n")
		}
	}
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

// NewSendmail returns a sink whose script and messages live in dir; its
// script exits 0.
func NewSendmail(dir string) (*SendmailSink, error) {
	s := &SendmailSink{Dir: filepath.Join(dir, "mail")}
	if err := os.Mkdir(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("sendmail sink: %w", err)
	}
	script := filepath.Join(dir, "sendmail")
	if err := os.WriteFile(script, fmt.Appendf(nil, sinkScript, shellQuote(s.Dir)), 0o755); err != nil {
		return nil, fmt.Errorf("sendmail sink: %w", err)
	}
	s.Command = shellQuote(script) + " -t -i"
	return s, nil
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Mails returns the stored messages, parsed, in arrival order.
func (s *SendmailSink) Mails() ([]Mail, error) {
	names, err := filepath.Glob(filepath.Join(s.Dir, "*.eml"))
	if err != nil {
		return nil, fmt.Errorf("sendmail sink: %w", err)
	}
	slices.Sort(names) // zero-padded numbers
	var mails []Mail
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("sendmail sink: %w", err)
		}
		m := ParseMail(raw)
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
	return mails, nil
}
