package main

import (
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/superlance-go/superlance/internal/harness"
)

// received is one message delivered to the demo's SMTP server (a
// harness.SMTPServer on 127.0.0.1: no TLS, no AUTH, it only ever listens
// on the loopback interface for the demo's own listeners), as a person
// reads it.
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

// readable turns a received message into what the demo prints.
func readable(m harness.Mail) received {
	r := received{At: m.At, Envelope: m.From, Rcpt: m.To, Raw: m.Raw}
	r.From, r.To, r.Subject, r.HasSubj, r.Body = m.Readable()
	return r
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

func isTool(name string) bool { return slices.Contains(tools, name) }
