package notify

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"strings"
	"time"
)

// maxLine is RFC 5322's limit on a line, without its CRLF.
const maxLine = 998

// foldAt is where header lines are folded when they can be (RFC 5322's
// recommended 78 characters).
const foldAt = 78

// Bytes validates m and renders it as an RFC 5322 message with CRLF line
// endings, its fields in the order Python's MIMEText writes them:
// Content-Type, MIME-Version, Content-Transfer-Encoding, Subject, From, To,
// Date, Message-Id, then m.Header. A body of US-ASCII lines that fit the
// line limit goes out as superlance's does, charset us-ascii, 7bit, its
// lines as they are; any other body is UTF-8 (us-ascii for a long ASCII
// line) in quoted-printable. With an Attachment the message is
// multipart/mixed: the body, then the attachment, each encoded the same way.
func (m *Message) Bytes() ([]byte, error) {
	to, from, err := m.addresses()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	var boundary string
	var parts *multipart.Writer
	if m.Attachment != nil {
		parts = multipart.NewWriter(&b) // writes nothing until the first part
		boundary = parts.Boundary()
		writeField(&b, "Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": boundary}))
		writeField(&b, "MIME-Version", "1.0")
	} else {
		ctype, cte := textEncoding(m.Body)
		writeField(&b, "Content-Type", ctype)
		writeField(&b, "MIME-Version", "1.0")
		writeField(&b, "Content-Transfer-Encoding", cte)
	}
	if m.Subject != "" {
		writeField(&b, "Subject", headerText(m.Subject))
	}
	if from != nil {
		writeField(&b, "From", addressList([]*mail.Address{from}))
	}
	writeField(&b, "To", addressList(to))
	writeField(&b, "Date", time.Now().Format(time.RFC1123Z))
	writeField(&b, "Message-Id", messageID())
	for _, f := range m.Header {
		writeField(&b, textproto.CanonicalMIMEHeaderKey(f.Name), headerText(f.Value))
	}
	b.WriteString("\r\n")
	if parts == nil {
		writeText(&b, m.Body)
		return b.Bytes(), nil
	}
	if err := writePart(parts, m.Body, nil); err != nil {
		return nil, err
	}
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": m.Attachment.Name})
	if err := writePart(parts, m.Attachment.Text, textproto.MIMEHeader{"Content-Disposition": {disposition}}); err != nil {
		return nil, err
	}
	if err := parts.Close(); err != nil {
		return nil, fmt.Errorf("rendering message: %w", err)
	}
	return b.Bytes(), nil
}

// textEncoding returns the Content-Type and Content-Transfer-Encoding of
// text: superlance's us-ascii 7bit when the text can go out as it is.
func textEncoding(text string) (ctype, cte string) {
	ascii, fits := true, true
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if len(line) > maxLine {
			fits = false
		}
		for i := 0; i < len(line); i++ {
			if c := line[i]; c >= 0x80 || c == 0 || c == '\r' {
				ascii = false
			}
		}
	}
	switch {
	case ascii && fits:
		return `text/plain; charset="us-ascii"`, "7bit"
	case ascii:
		return `text/plain; charset="us-ascii"`, "quoted-printable"
	}
	return `text/plain; charset="utf-8"`, "quoted-printable"
}

// writeText writes text in the encoding textEncoding chose for it, with
// CRLF line endings and no line break added at the end (SMTP adds one; a
// sendmail program gets the text as superlance wrote it).
func writeText(b *bytes.Buffer, text string) {
	if _, cte := textEncoding(text); cte == "7bit" {
		b.WriteString(crlf(text))
		return
	}
	w := quotedprintable.NewWriter(b)
	w.Write([]byte(text)) // a bytes.Buffer does not fail
	w.Close()
}

// writePart adds text as one part of a multipart message.
func writePart(parts *multipart.Writer, text string, h textproto.MIMEHeader) error {
	ctype, cte := textEncoding(text)
	if h == nil {
		h = textproto.MIMEHeader{}
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Transfer-Encoding", cte)
	w, err := parts.CreatePart(h)
	if err != nil {
		return fmt.Errorf("rendering message: %w", err)
	}
	var b bytes.Buffer
	writeText(&b, text)
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("rendering message: %w", err)
	}
	return nil
}

// crlf turns every line ending of s into CRLF.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// writeField writes "Name: value" folded at white space so that lines stay
// near 78 characters. value is header text already (no CR or LF, encoded
// words where needed).
func writeField(b *bytes.Buffer, name, value string) {
	line := name + ":"
	width := len(line)
	first := true
	for word := range strings.SplitSeq(value, " ") {
		if !first && width+1+len(word) > foldAt {
			b.WriteString(line + "\r\n")
			line, width = "", 0
		}
		line += " " + word
		width += 1 + len(word)
		first = false
	}
	b.WriteString(line + "\r\n")
}

// addressList renders addresses as superlance's mails show them: a bare
// address without angle brackets when it has no display name and needs no
// quoting, else net/mail's form (names quoted or encoded as needed).
func addressList(as []*mail.Address) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
		if a.Name == "" && parts[i] == "<"+a.Address+">" {
			parts[i] = a.Address
		}
	}
	return strings.Join(parts, ", ")
}

// headerText returns s ready for a header: as it is when it is printable
// ASCII whose words fit a line and holds nothing a reader would decode
// ("=?"), else as RFC 2047 encoded words.
func headerText(s string) string {
	plain := !strings.Contains(s, "=?") && !strings.Contains(s, "  ")
	for _, w := range strings.Split(s, " ") {
		plain = plain && len(w) <= maxLine-foldAt
	}
	for i := 0; i < len(s) && plain; i++ {
		plain = s[i] >= 0x20 && s[i] < 0x7f
	}
	if plain && s == strings.TrimSpace(s) {
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

// messageID returns a unique Message-Id: time, pid and random bits at the
// host's name (reduced to characters a message id may hold).
func messageID() string {
	var r [8]byte
	rand.Read(r[:]) // never fails
	host, _ := os.Hostname()
	host = strings.Map(func(c rune) rune {
		if c == '.' || c == '-' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			return c
		}
		return -1
	}, host)
	if host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("<%d.%d.%s@%s>", time.Now().UnixNano(), os.Getpid(), hex.EncodeToString(r[:]), host)
}
