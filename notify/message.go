package notify

import (
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"strings"
)

// Message is one mail. Empty Subject means no Subject header at all
// (crashsms without -s); empty From is allowed for Sendmail only, which
// then leaves the sender to the sendmail program.
//
// Body is plain text. Mail line endings are CRLF, so a receiver sees each
// "\n" in Body as a line break, and SMTP ends the last line with one.
type Message struct {
	To      []string
	From    string
	Subject string
	Body    string
	// Header holds extra header fields, rendered in this order after the
	// standard ones. To, Cc, Bcc, From, Subject, Date, Message-Id,
	// MIME-Version and the Content-* fields are reserved: they come from
	// the other fields or from rendering.
	Header []Field
	// Attachment, when set, goes along as a text file after the body
	// (multipart/mixed); the body stays the first part.
	Attachment *Attachment
}

// Attachment is a text file sent with a message (a program's log tail).
type Attachment struct {
	Name string // file name shown to the reader; must not be empty
	Text string
}

// Field is one extra header field.
type Field struct{ Name, Value string }

// reserved header fields come from Message's own fields or from rendering;
// setting them as extra headers would either be ignored or let a message
// reach recipients that the SMTP envelope does not name.
var reserved = map[string]bool{
	"To": true, "Cc": true, "Bcc": true, "From": true, "Subject": true,
	"Mime-Version": true, "Content-Type": true, "Content-Transfer-Encoding": true,
	"Content-Disposition": true, "Date": true, "Message-Id": true,
}

// Validate rejects CR or LF in any header value, header names that are not
// valid field names or are reserved, addresses that net/mail cannot parse,
// and a message without recipients.
func (m *Message) Validate() error {
	_, _, err := m.addresses()
	return err
}

// addresses validates m and returns its parsed recipients and sender (nil
// when From is empty).
func (m *Message) addresses() (to []*mail.Address, from *mail.Address, err error) {
	if len(m.To) == 0 {
		return nil, nil, errors.New("message has no To address")
	}
	for _, s := range m.To {
		a, err := parseAddress("To", s)
		if err != nil {
			return nil, nil, err
		}
		to = append(to, a)
	}
	if m.From != "" {
		if from, err = parseAddress("From", m.From); err != nil {
			return nil, nil, err
		}
	}
	if err := checkLine("Subject", m.Subject); err != nil {
		return nil, nil, err
	}
	for _, f := range m.Header {
		if !validFieldName(f.Name) {
			return nil, nil, fmt.Errorf("invalid header field name %q", f.Name)
		}
		if reserved[textproto.CanonicalMIMEHeaderKey(f.Name)] {
			return nil, nil, fmt.Errorf("header field %q is reserved: it comes from the message's own fields", f.Name)
		}
		if err := checkLine(f.Name, f.Value); err != nil {
			return nil, nil, err
		}
	}
	if a := m.Attachment; a != nil {
		if strings.TrimSpace(a.Name) == "" {
			return nil, nil, errors.New("attachment has no name")
		}
		if err := checkLine("attachment name", a.Name); err != nil {
			return nil, nil, err
		}
	}
	return to, from, nil
}

func parseAddress(field, s string) (*mail.Address, error) {
	if err := checkLine(field, s); err != nil {
		return nil, err
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("invalid %s address %q: %w", field, s, err)
	}
	return a, nil
}

// checkLine rejects the characters that would end a header line early and
// start a new header (header injection).
func checkLine(field, s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return fmt.Errorf("%s %q contains CR or LF", field, s)
	}
	return nil
}

// validFieldName reports whether s is an RFC 5322 field name: printable
// US-ASCII except colon.
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// clone returns a copy of m that shares nothing mutable with it.
func (m *Message) clone() *Message {
	c := *m
	c.To = append([]string(nil), m.To...)
	c.Header = append([]Field(nil), m.Header...)
	if m.Attachment != nil {
		a := *m.Attachment
		c.Attachment = &a
	}
	return &c
}
