package notify

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"strings"

	"github.com/jordan-wright/email"
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
	// Header holds extra header fields. Their order in the rendered
	// message is not kept. To, Cc, Bcc, From, Subject, MIME-Version and
	// the Content-* fields are reserved: they come from the other fields.
	Header []Field
}

// Field is one extra header field.
type Field struct{ Name, Value string }

// reserved header fields come from Message's own fields or from rendering;
// setting them as extra headers would either be ignored or let a message
// reach recipients that the SMTP envelope does not name.
var reserved = map[string]bool{
	"To": true, "Cc": true, "Bcc": true, "From": true, "Subject": true,
	"Mime-Version": true, "Content-Type": true, "Content-Transfer-Encoding": true,
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

// Bytes validates m and renders it as an RFC 5322 message with CRLF line
// endings (rendered with jordan-wright/email). It adds Date, Message-Id,
// MIME-Version and a quoted-printable text/plain UTF-8 body.
func (m *Message) Bytes() ([]byte, error) {
	to, from, err := m.addresses()
	if err != nil {
		return nil, err
	}
	e := email.NewEmail()
	for _, a := range to {
		e.To = append(e.To, headerAddress(a))
	}
	if from != nil {
		e.From = headerAddress(from)
	}
	e.Subject = headerText(m.Subject) // the library writes no Subject header when empty
	for _, f := range m.Header {
		e.Headers.Add(f.Name, headerText(f.Value))
	}
	e.Text = []byte(m.Body)
	raw, err := e.Bytes()
	if err != nil {
		return nil, fmt.Errorf("rendering message: %w", err)
	}
	// The library writes a bare address as "<a@x>"; superlance's mails say
	// "To: a@x", and mail filters written against them may match on it.
	raw = replaceField(raw, "To", plainAddressList(to))
	if from == nil {
		// The library always writes From, empty when unset; an empty From
		// header is invalid, and sendmail -t supplies the real sender.
		raw = dropEmptyField(raw, "From")
	} else {
		raw = replaceField(raw, "From", plainAddressList([]*mail.Address{from}))
	}
	return raw, nil
}

// plainAddressList renders addresses as superlance does: a bare address
// without angle brackets when it has no display name and needs no quoting.
func plainAddressList(as []*mail.Address) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
		if a.Name == "" && parts[i] == "<"+a.Address+">" {
			parts[i] = a.Address
		}
	}
	return strings.Join(parts, ", ")
}

// replaceField sets the value of the first "Name: " line in the header
// section of raw. value must already be valid header text (no CR or LF).
func replaceField(raw []byte, name, value string) []byte {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		return raw
	}
	prefix := []byte(name + ": ")
	for start := 0; start < end; {
		next := bytes.Index(raw[start:], []byte("\r\n")) + start
		if bytes.HasPrefix(raw[start:next], prefix) {
			out := append([]byte{}, raw[:start]...)
			out = append(out, prefix...)
			out = append(out, value...)
			return append(out, raw[next:]...)
		}
		start = next + 2
	}
	return raw
}

// headerAddress renders a for the library, which splits address headers on
// every comma before formatting each part. A display name with a comma is
// therefore given as RFC 2047 encoded words (the comma encoded), which the
// library decodes and writes back as a quoted name.
func headerAddress(a *mail.Address) string {
	if !strings.Contains(a.Name, ",") {
		return a.String()
	}
	return encodeWords(a.Name) + " <" + a.Address + ">"
}

// headerText returns s ready for the library's header encoding, which
// leaves printable ASCII alone: text that already looks like an encoded
// word ("=?") would be decoded by the receiver, so it is encoded here.
func headerText(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	return encodeWords(s)
}

// encodeWords encodes all of s as RFC 2047 Q encoded words of at most 75
// characters, splitting only between characters. Only letters and digits
// stay as they are, which is safe in any header context.
func encodeWords(s string) string {
	const prefix, suffix, limit = "=?utf-8?q?", "?=", 75
	var b, word strings.Builder
	flush := func() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(prefix + word.String() + suffix)
		word.Reset()
	}
	for _, r := range s {
		var enc strings.Builder
		for _, c := range []byte(string(r)) {
			switch {
			case c == ' ':
				enc.WriteByte('_')
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
				enc.WriteByte(c)
			default:
				fmt.Fprintf(&enc, "=%02X", c)
			}
		}
		if len(prefix)+word.Len()+enc.Len()+len(suffix) > limit {
			flush()
		}
		word.WriteString(enc.String())
	}
	flush()
	return b.String()
}

// dropEmptyField removes a "Name: " line with an empty value from the
// header section of raw.
func dropEmptyField(raw []byte, name string) []byte {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		return raw
	}
	lines := bytes.SplitAfter(raw[:end+2], []byte("\r\n"))
	empty := []byte(name + ": \r\n")
	var out []byte
	for _, l := range lines {
		if !bytes.Equal(l, empty) {
			out = append(out, l...)
		}
	}
	return append(out, raw[end+2:]...)
}
