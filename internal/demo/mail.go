package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// received is one message delivered to the demo's SMTP server.
type received struct {
	At       time.Time
	Envelope string   // MAIL FROM
	Rcpt     []string // RCPT TO
	Raw      []byte
	From     string // decoded header fields
	To       string
	Subject  string
	HasSubj  bool // crashsms sends no Subject header without -s
	Body     string
	Tool     string // which listener sent it (see classify)
}

// mailServer is a real SMTP server on 127.0.0.1 (emersion/go-smtp) that
// hands every message to deliver. No TLS, no AUTH: it only ever listens on
// the loopback interface for the demo's own listeners.
type mailServer struct {
	Addr    string
	srv     *smtp.Server
	deliver func(received)
}

func startMailServer(deliver func(received)) (*mailServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the demo mail server: %w", err)
	}
	m := &mailServer{Addr: l.Addr().String(), deliver: deliver}
	m.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{m: m}, nil
	}))
	m.srv.Domain = "localhost"
	m.srv.ReadTimeout = 30 * time.Second
	m.srv.WriteTimeout = 30 * time.Second
	m.srv.MaxMessageBytes = 1 << 20
	// Connection resets are normal when a listener is stopped mid-session;
	// they would only clutter the narration.
	m.srv.ErrorLog = log.New(io.Discard, "", 0)
	go m.srv.Serve(l)
	return m, nil
}

func (m *mailServer) Close() error { return m.srv.Close() }

type session struct {
	m    *mailServer
	from string
	rcpt []string
}

func (s *session) Reset()        { s.from, s.rcpt = "", nil }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpt = append(s.rcpt, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg := parseMail(raw)
	msg.At = time.Now()
	msg.Envelope = s.from
	msg.Rcpt = append([]string(nil), s.rcpt...)
	s.m.deliver(msg)
	return nil
}

var wordDecoder mime.WordDecoder

// parseMail decodes the header fields and the text body a person would read.
// A message it cannot parse is kept raw, so nothing is hidden.
func parseMail(raw []byte) received {
	out := received{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		out.Body = string(raw)
		return out
	}
	dec := func(s string) string {
		if d, err := wordDecoder.DecodeHeader(s); err == nil {
			return d
		}
		return s
	}
	out.From = dec(msg.Header.Get("From"))
	out.To = dec(msg.Header.Get("To"))
	_, out.HasSubj = msg.Header["Subject"]
	out.Subject = dec(msg.Header.Get("Subject"))
	out.Body = strings.TrimRight(decodeBody(msg.Header, msg.Body), "\r\n")
	out.Body = strings.ReplaceAll(out.Body, "\r\n", "\n")
	return out
}

type headerGetter interface{ Get(string) string }

func decodeBody(h headerGetter, body io.Reader) string {
	mediaType, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return ""
			}
			if ct := p.Header.Get("Content-Type"); ct == "" || strings.HasPrefix(ct, "text/plain") {
				return decodeBody(p.Header, p)
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return string(b) + fmt.Sprintf("\n[undecodable: %v]", err)
	}
	return string(b)
}

// classify names the listener that sent m. Every tool is given its own
// sender address (tool@demo.example), so the sender decides; the subject
// and body are a fallback in case a tool ignored it.
func classify(m received) string {
	for _, addr := range []string{m.Envelope, m.From} {
		if a, err := mail.ParseAddress(addr); err == nil {
			addr = a.Address
		}
		if local, domain, ok := strings.Cut(addr, "@"); ok && domain == mailDomain && isTool(local) {
			return local
		}
	}
	switch {
	case strings.HasPrefix(m.Subject, "httpok"):
		return "httpok"
	case strings.HasPrefix(m.Subject, "memmon"):
		return "memmon"
	case strings.Contains(m.Subject, " crashed at "):
		return "crashmail"
	case strings.HasPrefix(m.Subject, "Crash alert"):
		return "crashmailbatch"
	case strings.HasPrefix(m.Subject, "Fatal start alert"):
		return "fatalmailbatch"
	case !m.HasSubj && strings.Contains(m.Body, "exited unexpectedly"):
		return "crashsms"
	case strings.Contains(m.Subject, " is missing: "), strings.Contains(m.Subject, " programs are missing: "),
		strings.Contains(m.Subject, " is back: "), strings.Contains(m.Subject, " programs are back: "):
		return "missingmail"
	case strings.HasPrefix(m.Subject, "procmon: "):
		return "procmon"
	}
	return "unknown"
}

func isTool(name string) bool {
	for _, t := range tools {
		if t == name {
			return true
		}
	}
	return false
}
