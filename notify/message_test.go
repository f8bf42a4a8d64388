package notify_test

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/superlance-go/superlance/notify"
)

func TestValidateRejects(t *testing.T) {
	ok := func() notify.Message {
		return notify.Message{To: []string{"ops@example.com"}, From: "sv@example.com", Subject: "s", Body: "b"}
	}
	tests := []struct {
		name    string
		edit    func(m *notify.Message)
		wantErr string
	}{
		{"no recipients", func(m *notify.Message) { m.To = nil }, "no To address"},
		{"CRLF in To", func(m *notify.Message) { m.To = []string{"ops@example.com\r\nBcc: evil@example.com"} }, "contains CR or LF"},
		{"LF in second To", func(m *notify.Message) { m.To = append(m.To, "a@example.com\nBcc: evil@example.com") }, "contains CR or LF"},
		{"CR in To", func(m *notify.Message) { m.To = []string{"ops@example.com\r"} }, "contains CR or LF"},
		{"invalid To", func(m *notify.Message) { m.To = []string{"not an address"} }, `invalid To address "not an address"`},
		{"two addresses in one To", func(m *notify.Message) { m.To = []string{"a@example.com, b@example.com"} }, "invalid To address"},
		{"CRLF in From", func(m *notify.Message) { m.From = "sv@example.com\r\nBcc: evil@example.com" }, "contains CR or LF"},
		{"invalid From", func(m *notify.Message) { m.From = "supervisor" }, `invalid From address "supervisor"`},
		{"CRLF in Subject", func(m *notify.Message) { m.Subject = "crash\r\nBcc: evil@example.com" }, "Subject"},
		{"LF in Subject", func(m *notify.Message) { m.Subject = "crash\n" }, "contains CR or LF"},
		{"CRLF in header value", func(m *notify.Message) {
			m.Header = []notify.Field{{"X-Alert", "1\r\nBcc: evil@example.com"}}
		}, `X-Alert "1\r\nBcc: evil@example.com" contains CR or LF`},
		{"LF in header name", func(m *notify.Message) { m.Header = []notify.Field{{"X-A\nBcc", "v"}} }, "invalid header field name"},
		{"colon in header name", func(m *notify.Message) { m.Header = []notify.Field{{"Bcc: evil@example.com\r\nX", "v"}} }, "invalid header field name"},
		{"space in header name", func(m *notify.Message) { m.Header = []notify.Field{{"X Alert", "v"}} }, "invalid header field name"},
		{"empty header name", func(m *notify.Message) { m.Header = []notify.Field{{"", "v"}} }, "invalid header field name"},
		{"non-ASCII header name", func(m *notify.Message) { m.Header = []notify.Field{{"X-Prüfung", "v"}} }, "invalid header field name"},
		{"Bcc as extra header", func(m *notify.Message) { m.Header = []notify.Field{{"bcc", "evil@example.com"}} }, "reserved"},
		{"Subject as extra header", func(m *notify.Message) { m.Header = []notify.Field{{"SUBJECT", "x"}} }, "reserved"},
		{"Content-Type as extra header", func(m *notify.Message) { m.Header = []notify.Field{{"Content-Type", "text/html"}} }, "reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok()
			tt.edit(&m)
			err := m.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
			raw, err := m.Bytes()
			if err == nil || raw != nil {
				t.Fatalf("Bytes() = %q, %v; want nil and an error", raw, err)
			}
		})
	}
}

// parse parses a rendered message the way a receiving program would and
// returns it with its body decoded and CRLF turned into LF.
func parse(t *testing.T, raw []byte) (*mail.Message, string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parsing rendered message: %v\n%s", err, raw)
	}
	var body io.Reader = msg.Body
	switch cte := msg.Header.Get("Content-Transfer-Encoding"); cte {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "7bit":
	default:
		t.Fatalf("Content-Transfer-Encoding = %q, want 7bit or quoted-printable", cte)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("decoding body: %v", err)
	}
	return msg, strings.ReplaceAll(string(text), "\r\n", "\n")
}

func TestBytesRoundTrip(t *testing.T) {
	long := strings.Repeat("0123456789 abcdefghij ", 300) // one 6600-byte line
	tests := []struct {
		name string
		m    notify.Message
		// wantTo are the parsed To addresses, as "Name <addr>" or "addr".
		wantTo []string
	}{
		{
			name:   "plain",
			m:      notify.Message{To: []string{"ops@example.com"}, From: "sv@example.com", Subject: "crashmail alert", Body: "Process foo in group bar exited unexpectedly (pid 42) from state RUNNING"},
			wantTo: []string{"ops@example.com"},
		},
		{
			name:   "non-ASCII subject, body and names",
			m:      notify.Message{To: []string{"Jörg Müller <jm@example.com>"}, From: "Überwachung <sv@example.com>", Subject: "Prozess »web« abgestürzt ✓", Body: "Grüße\n日本語の行\n"},
			wantTo: []string{"Jörg Müller <jm@example.com>"},
		},
		{
			name:   "long lines",
			m:      notify.Message{To: []string{"ops@example.com"}, Subject: strings.Repeat("long subject ", 20) + "end", Body: long + "\n" + long},
			wantTo: []string{"ops@example.com"},
		},
		{
			name:   "characters quoted-printable must escape",
			m:      notify.Message{To: []string{"ops@example.com"}, Subject: "a=b =?utf-8?q?x?=", Body: "a=b\ntrailing space \ttab\t\n.\n..\nFrom the start\n=3D"},
			wantTo: []string{"ops@example.com"},
		},
		{
			name:   "display name with a comma, several recipients",
			m:      notify.Message{To: []string{`"Doe, John" <jd@example.com>`, "ops@example.com"}, From: "sv@example.com", Subject: "s", Body: "b"},
			wantTo: []string{"Doe, John <jd@example.com>", "ops@example.com"},
		},
		{
			name:   "injection-looking text without line breaks",
			m:      notify.Message{To: []string{"ops@example.com"}, Subject: "x Bcc: evil@example.com", Body: "Bcc: evil@example.com\n\nTo: evil@example.com"},
			wantTo: []string{"ops@example.com"},
		},
		{
			name:   "empty body",
			m:      notify.Message{To: []string{"ops@example.com"}, Subject: "s"},
			wantTo: []string{"ops@example.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := tt.m.Bytes()
			if err != nil {
				t.Fatalf("Bytes() error: %v", err)
			}
			checkWireFormat(t, raw)
			msg, text := parse(t, raw)
			if text != tt.m.Body {
				t.Errorf("decoded body = %q, want %q", text, tt.m.Body)
			}
			var dec mime.WordDecoder
			if got, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || got != tt.m.Subject {
				t.Errorf("Subject = %q (%v), want %q", got, err, tt.m.Subject)
			}
			list, err := msg.Header.AddressList("To")
			if err != nil {
				t.Fatalf("To %q: %v", msg.Header.Get("To"), err)
			}
			var gotTo []string
			for _, a := range list {
				if a.Name != "" {
					gotTo = append(gotTo, a.Name+" <"+a.Address+">")
				} else {
					gotTo = append(gotTo, a.Address)
				}
			}
			if strings.Join(gotTo, "|") != strings.Join(tt.wantTo, "|") {
				t.Errorf("To = %q, want %q", gotTo, tt.wantTo)
			}
			if tt.m.From != "" {
				want, _ := mail.ParseAddress(tt.m.From)
				got, err := mail.ParseAddress(msg.Header.Get("From"))
				if err != nil || *got != *want {
					t.Errorf("From = %v (%v), want %v", got, err, want)
				}
			}
			checkOnlyFields(t, msg.Header, "To", "From", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type", "Content-Transfer-Encoding")
			if _, err := msg.Header.Date(); err != nil {
				t.Errorf("Date: %v", err)
			}
			if msg.Header.Get("Message-Id") == "" {
				t.Errorf("no Message-Id header")
			}
		})
	}
}

// checkWireFormat checks CRLF line endings and the RFC 5322 line limit.
func checkWireFormat(t *testing.T, raw []byte) {
	t.Helper()
	for i, line := range bytes.SplitAfter(raw, []byte("\n")) {
		if len(line) > 0 && line[len(line)-1] == '\n' && !bytes.HasSuffix(line, []byte("\r\n")) {
			t.Errorf("line %d %q ends in a bare LF", i+1, line)
		}
		if len(line) > 1000 {
			t.Errorf("line %d is %d bytes long, want at most 1000", i+1, len(line))
		}
		if bytes.Contains(bytes.TrimSuffix(line, []byte("\r\n")), []byte("\r")) {
			t.Errorf("line %d %q holds a bare CR", i+1, line)
		}
	}
}

// checkOnlyFields fails when h has a field outside allowed (header injection
// would add one).
func checkOnlyFields(t *testing.T, h mail.Header, allowed ...string) {
	t.Helper()
	for name, vals := range h {
		found := false
		for _, a := range allowed {
			found = found || a == name
		}
		if !found || len(vals) != 1 {
			t.Errorf("header field %s = %q, want only one of each of %q", name, vals, allowed)
		}
	}
}

func TestBytesOmitsEmptyFields(t *testing.T) {
	tests := []struct {
		name        string
		m           notify.Message
		wantSubject bool
		wantFrom    bool
	}{
		{"no subject (crashsms without -s)", notify.Message{To: []string{"ops@example.com"}, From: "sv@example.com", Body: "b"}, false, true},
		{"no from (sendmail picks the sender)", notify.Message{To: []string{"ops@example.com"}, Subject: "s", Body: "b"}, true, false},
		{"neither", notify.Message{To: []string{"ops@example.com"}, Body: "From: \nSubject: "}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := tt.m.Bytes()
			if err != nil {
				t.Fatalf("Bytes() error: %v", err)
			}
			msg, text := parse(t, raw)
			if _, got := msg.Header["Subject"]; got != tt.wantSubject {
				t.Errorf("Subject header present = %v, want %v\n%s", got, tt.wantSubject, raw)
			}
			if _, got := msg.Header["From"]; got != tt.wantFrom {
				t.Errorf("From header present = %v, want %v\n%s", got, tt.wantFrom, raw)
			}
			if text != tt.m.Body {
				t.Errorf("decoded body = %q, want %q", text, tt.m.Body)
			}
		})
	}
}

func TestBytesExtraHeaders(t *testing.T) {
	m := notify.Message{
		To:      []string{"ops@example.com"},
		Subject: "s",
		Header: []notify.Field{
			{"X-Supervisor-Process", "web:web_01"},
			{"x-superlance-note", "Größe überschritten"},
			{"X-Literal", "=?utf-8?q?not_encoded?= " + strings.Repeat("ä=?", 40)},
			{"Reply-To", "oncall@example.com"},
			{"X-Supervisor-Process", "db"},
		},
	}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatalf("Bytes() error: %v", err)
	}
	msg, _ := parse(t, raw)
	var dec mime.WordDecoder
	tests := []struct {
		field string
		want  []string
	}{
		{"X-Supervisor-Process", []string{"web:web_01", "db"}},
		{"X-Superlance-Note", []string{"Größe überschritten"}},
		{"Reply-To", []string{"oncall@example.com"}},
		{"X-Literal", []string{"=?utf-8?q?not_encoded?= " + strings.Repeat("ä=?", 40)}},
	}
	for _, tt := range tests {
		var got []string
		for _, v := range msg.Header[tt.field] {
			d, err := dec.DecodeHeader(v)
			if err != nil {
				t.Errorf("%s %q: %v", tt.field, v, err)
			}
			got = append(got, d)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s = %q, want %q", tt.field, got, tt.want)
		}
	}
}

// FuzzBytes checks the property that matters for security: whatever a caller
// puts into the header fields, a rendered message has exactly the fields we
// mean it to have, and the subject reads back unchanged.
func FuzzBytes(f *testing.F) {
	f.Add("ops@example.com", "sv@example.com", "crash", "X-A", "v")
	f.Add("ops@example.com\r\nBcc: e@x", "sv@example.com", "s", "X-A", "v")
	f.Add("ops@example.com", "sv@example.com\nBcc: e@x", "s", "X-A", "v")
	f.Add("ops@example.com", "", "s\r\nBcc: e@x", "X-A", "v")
	f.Add("ops@example.com", "", "=?utf-8?q?a=0D=0ABcc:_e@x?=", "X-A", "v\rBcc: e@x")
	f.Add(`"a,b" <a@example.com>`, `"\r\n" <b@example.com>`, "", "Bcc", "e@x")
	f.Fuzz(func(t *testing.T, to, from, subject, hname, hvalue string) {
		m := notify.Message{To: []string{to}, From: from, Subject: subject, Header: []notify.Field{{hname, hvalue}}, Body: "b"}
		raw, err := m.Bytes()
		if err != nil {
			return
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("rendered message does not parse: %v\n%q", err, raw)
		}
		allowed := map[string]bool{"To": true, "Date": true, "Message-Id": true, "Mime-Version": true, "Content-Type": true, "Content-Transfer-Encoding": true}
		if from != "" {
			allowed["From"] = true
		}
		if subject != "" {
			allowed["Subject"] = true
		}
		allowed[textproto.CanonicalMIMEHeaderKey(hname)] = true
		for name := range msg.Header {
			if !allowed[name] {
				t.Fatalf("unexpected header field %q in %q", name, raw)
			}
		}
		// Header parsing trims surrounding white space; anything else must
		// read back as it was given.
		if subject != "" && utf8.ValidString(subject) && strings.TrimSpace(subject) == subject {
			var dec mime.WordDecoder
			if got, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || got != subject {
				t.Fatalf("Subject = %q (%v), want %q", got, err, subject)
			}
		}
		if list, err := msg.Header.AddressList("To"); err != nil || len(list) != 1 {
			t.Fatalf("To = %q: %d addresses (%v), want 1", msg.Header.Get("To"), len(list), err)
		}
	})
}

// superlance writes "To: a@x"; the To (and From) line must read the same, so that mail
// filters written against Python superlance's mails keep matching.
func TestBytesToLine(t *testing.T) {
	tests := []struct {
		to   []string
		want string
	}{
		{[]string{"ops@example.com"}, "To: ops@example.com\r\n"},
		{[]string{"ops@example.com", "oncall@example.com"}, "To: ops@example.com, oncall@example.com\r\n"},
		{[]string{"Ops Team <ops@example.com>"}, "To: \"Ops Team\" <ops@example.com>\r\n"},
		{[]string{"\"john doe\"@example.com"}, "To: <\"john doe\"@example.com>\r\n"},
	}
	for _, tt := range tests {
		m := notify.Message{To: tt.to, From: "sv@example.com", Subject: "s", Body: "To: body@example.com"}
		raw, err := m.Bytes()
		if err != nil {
			t.Fatalf("Bytes(%q) error: %v", tt.to, err)
		}
		head, body, _ := strings.Cut(string(raw), "\r\n\r\n")
		hasLine := func(line string) bool { return strings.Contains("\r\n"+head+"\r\n", "\r\n"+line+"\r\n") }
		if !hasLine(strings.TrimSuffix(tt.want, "\r\n")) {
			t.Errorf("To %q: header section\n%s\nwant the line %q", tt.to, head, tt.want)
		}
		if !hasLine("From: sv@example.com") {
			t.Errorf("To %q: header section\n%s\nwant the line %q", tt.to, head, "From: sv@example.com")
		}
		if !strings.Contains(body, "To: body@example.com") {
			t.Errorf("To %q: body changed: %q", tt.to, body)
		}
		msg, _ := parse(t, raw)
		got, err := msg.Header.AddressList("To")
		if err != nil || len(got) != len(tt.to) {
			t.Errorf("To %q: parsed %v, %v; want %d addresses", tt.to, got, err, len(tt.to))
		}
	}
}
