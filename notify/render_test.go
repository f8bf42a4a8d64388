package notify_test

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"

	"github.com/superlance-go/superlance/notify"
)

// masked replaces the Date and Message-Id values, which change per call.
func masked(raw []byte) string {
	re := regexp.MustCompile(`(?m)^(Date|Message-Id): [^\r]*\r$`)
	return re.ReplaceAllString(string(raw), "$1: *\r")
}

// TestBytesASCIIIsSevenBit: an ASCII body goes out as superlance's MIMEText
// does, us-ascii 7bit, every line as it is (no quoted-printable soft line
// breaks in batch lines over 76 characters), fields in MIMEText's order.
func TestBytesASCIIIsSevenBit(t *testing.T) {
	line := "2026-11-21 16:23:32,987 -- Process app:worker_with_a_long_name (pid 4242) died unexpectedly"
	m := notify.Message{
		To:      []string{"ops@example.com", "oncall@example.com"},
		From:    "supervisor@example.com",
		Subject: "Crash alert from supervisord",
		Body:    line + "\n" + line + "\na=b ==3D trailing space \n.",
	}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	want := "Content-Type: text/plain; charset=\"us-ascii\"\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Transfer-Encoding: 7bit\r\n" +
		"Subject: Crash alert from supervisord\r\n" +
		"From: supervisor@example.com\r\n" +
		"To: ops@example.com, oncall@example.com\r\n" +
		"Date: *\r\n" +
		"Message-Id: *\r\n" +
		"\r\n" +
		line + "\r\n" + line + "\r\na=b ==3D trailing space \r\n."
	if got := masked(raw); got != want {
		t.Errorf("raw message:\ngot  %q\nwant %q", got, want)
	}
}

func TestBytesEncodesOnlyWhenNeeded(t *testing.T) {
	long := strings.Repeat("x", 1200)
	for _, tt := range []struct {
		name, body, ctype, cte string
		read                   string // the body read back, when not body
	}{
		{"ascii", "a\nb", `text/plain; charset="us-ascii"`, "7bit", ""},
		{"empty", "", `text/plain; charset="us-ascii"`, "7bit", ""},
		{"non-ascii", "Grüße\n日本語", `text/plain; charset="utf-8"`, "quoted-printable", ""},
		{"line over the limit", long, `text/plain; charset="us-ascii"`, "quoted-printable", ""},
		{"bare CR is a line break", "a\rb", `text/plain; charset="utf-8"`, "quoted-printable", "a\nb"},
		{"NUL", "a\x00b", `text/plain; charset="utf-8"`, "quoted-printable", ""},
	} {
		m := notify.Message{To: []string{"ops@example.com"}, Subject: "s", Body: tt.body}
		raw, err := m.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		checkWireFormat(t, raw)
		msg, text := parse(t, raw)
		if got := msg.Header.Get("Content-Type"); got != tt.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tt.name, got, tt.ctype)
		}
		if got := msg.Header.Get("Content-Transfer-Encoding"); got != tt.cte {
			t.Errorf("%s: Content-Transfer-Encoding %q, want %q", tt.name, got, tt.cte)
		}
		if tt.read == "" {
			tt.read = tt.body
		}
		if text != tt.read {
			t.Errorf("%s: body reads back as %q, want %q", tt.name, text, tt.body)
		}
	}
}

// TestBytesLongHeadersFold: a long subject is folded at white space, and a
// long To list after its commas, so no header line runs past 78 characters
// where a space allows a break; the values read back unchanged.
func TestBytesLongHeadersFold(t *testing.T) {
	var to []string
	for _, n := range []string{"one", "two", "three", "four", "five", "six", "seven"} {
		to = append(to, n+"@example.com")
	}
	subject := strings.Repeat("long subject ", 12) + "end"
	m := notify.Message{To: to, Subject: subject, Body: "b"}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	for _, l := range strings.Split(head, "\r\n") {
		if len(l) > 78 {
			t.Errorf("header line of %d characters: %q", len(l), l)
		}
	}
	msg, _ := parse(t, raw)
	if got := msg.Header.Get("Subject"); got != subject {
		t.Errorf("Subject reads back as %q, want %q", got, subject)
	}
	if list, err := msg.Header.AddressList("To"); err != nil || len(list) != len(to) {
		t.Errorf("To reads back as %v, %v; want %d addresses", list, err, len(to))
	}
}

// TestBytesAttachment: with an attachment the mail is multipart/mixed, the
// body first and the attachment second, each readable back as it was.
func TestBytesAttachment(t *testing.T) {
	m := notify.Message{
		To:         []string{"ops@example.com"},
		From:       "sv@example.com",
		Subject:    "web crashed",
		Body:       "Process web exited unexpectedly",
		Attachment: &notify.Attachment{Name: "web-tail.log", Text: "line 1\nFehler: Größe\n" + strings.Repeat("y", 1500)},
	}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	checkWireFormat(t, raw)
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q (%v), want multipart/mixed", msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	var got []string
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = p
		if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			body = quotedprintable.NewReader(p)
		}
		b, _ := io.ReadAll(body)
		got = append(got, p.FileName()+"|"+strings.ReplaceAll(string(b), "\r\n", "\n"))
	}
	want := []string{"|" + m.Body, "web-tail.log|" + m.Attachment.Text}
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("parts:\ngot  %q\nwant %q", got, want)
	}

	bad := m
	bad.Attachment = &notify.Attachment{Name: "x\r\nBcc: evil@example.com", Text: "t"}
	if err := bad.Validate(); err == nil {
		t.Error("an attachment name with CR LF validated")
	}
	bad.Attachment = &notify.Attachment{Text: "t"}
	if err := bad.Validate(); err == nil {
		t.Error("an attachment without a name validated")
	}
}
