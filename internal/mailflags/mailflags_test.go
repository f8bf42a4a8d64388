package mailflags

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/superlance-go/superlance/notify"
)

func TestSMTPAddr(t *testing.T) {
	for _, tt := range []struct {
		in       string
		implicit bool
		want     string
		wantErr  string
	}{
		{"localhost", false, "localhost:25", ""},
		{"localhost", true, "localhost:465", ""},
		{"mail.example.com:2525", false, "mail.example.com:2525", ""},
		{"[::1]", false, "[::1]:25", ""},
		{"::1", true, "[::1]:465", ""},
		{"[::1]:587", false, "[::1]:587", ""},
		{"", false, "", "empty host"},
		{" ", false, "", "empty host"},
		{":25", false, "", "no host name"},
		{"h:", false, "", `port "" is not a number`},
		{"h:99999", false, "", `port "99999" is not a number from 1 to 65535`},
		{"h:0", false, "", `port "0"`},
		{"h:smtp", false, "", `port "smtp"`},
		{"h:p:q", false, "", `invalid host "h:p:q": want HOST or HOST:PORT`},
		{"[mail]", false, "", "brackets hold an IPv6 address"},
	} {
		got, err := SMTPAddr(tt.in, tt.implicit)
		if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("SMTPAddr(%q, %v) = %q, %v; want %q, error containing %q", tt.in, tt.implicit, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestRecipients(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"a@x", []string{"a@x"}, false},
		{"frog@x, log@x,dog@x ", []string{"frog@x", "log@x", "dog@x"}, false},
		{"a@x,,b@x,", []string{"a@x", "b@x"}, false},
		{"", nil, true},
		{" , ", nil, true},
	} {
		got, err := Recipients(tt.in)
		if !reflect.DeepEqual(got, tt.want) || (err != nil) != tt.wantErr {
			t.Errorf("Recipients(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestOptionsMail covers the start-up validation of the -m/-s tools:
// whatever cannot work is refused with a message naming the option.
func TestOptionsMail(t *testing.T) {
	env := []string{"PW=secret"}
	def := Options{Sendmail: DefaultSendmail, Shared: Shared{SMTPTLS: "none"}}
	with := func(f func(*Options)) Options { o := def; f(&o); return o }
	for _, tt := range []struct {
		name    string
		o       Options
		given   []string
		wantErr string
	}{
		{"sendmail by default", def, nil, ""},
		{"user without host", with(func(o *Options) { o.SMTPUser = "u" }), nil, "--smtp-user needs --smtp-host"},
		{"tls without host", with(func(o *Options) { o.SMTPTLS = "starttls" }), nil, "--smtp-tls needs --smtp-host"},
		{"insecure without host", with(func(o *Options) { o.SMTPInsecure = true }), nil, "--smtp-insecure needs --smtp-host"},
		{"user without password", with(func(o *Options) { o.SMTPHost, o.SMTPUser, o.SMTPTLS = "h", "u", "starttls" }), []string{"smtp-host"}, "needs both"},
		{"password env missing", with(func(o *Options) { o.SMTPHost, o.SMTPUser, o.SMTPPasswordEnv, o.SMTPTLS = "h", "u", "NOPE", "starttls" }), []string{"smtp-host"}, "NOPE is not set"},
		{"cacert without tls", with(func(o *Options) { o.SMTPHost, o.SMTPCACert = "h", "x.pem" }), []string{"smtp-host"}, "need --smtp-tls starttls or tls"},
		{"password in clear text", with(func(o *Options) { o.SMTPHost, o.SMTPUser, o.SMTPPasswordEnv = "mail.example.com", "u", "PW" }), []string{"smtp-host"}, "would send the password in clear text"},
		{"empty smtp host", with(func(o *Options) { o.SMTPHost = "" }), []string{"smtp-host"}, "--smtp-host: empty host"},
		{"smtp host with two colons", with(func(o *Options) { o.SMTPHost = "h:p:q" }), []string{"smtp-host"}, `--smtp-host: invalid host "h:p:q"`},
		{"smtp port out of range", with(func(o *Options) { o.SMTPHost = "h:99999" }), []string{"smtp-host"}, "from 1 to 65535"},
		{"empty mail command", with(func(o *Options) { o.Sendmail = "" }), []string{"sendmail_program"}, "-s/--sendmail: empty command"},
		{"blank mail command", with(func(o *Options) { o.Sendmail = "  " }), []string{"sendmail_program"}, "-s/--sendmail: empty command"},
		{"command and smtp host", with(func(o *Options) { o.SMTPHost = "h" }), []string{"sendmail_program", "smtp-host"}, "exclude each other"},
		{"empty -m", with(func(o *Options) { o.Email = "" }), []string{"email"}, `-m/--email: no address in ""`},
		{"-m of commas", with(func(o *Options) { o.Email = " , " }), []string{"email"}, "-m/--email: no address"},
		{"spool without -m", with(func(o *Options) { o.Spool = "/tmp/x" }), nil, "--spool needs -m/--email"},
	} {
		given := map[string]bool{}
		for _, g := range tt.given {
			given[g] = true
		}
		m, err := tt.o.Mail(given, env)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: got error %v, want one containing %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: unexpected error %v", tt.name, err)
			continue
		}
		if s, ok := m.Transport.(*notify.Sendmail); !ok || s.Command != DefaultSendmail {
			t.Errorf("%s: got transport %v, want the default sendmail", tt.name, m.Transport)
		}
	}

	o := with(func(o *Options) {
		o.SMTPHost, o.SMTPUser, o.SMTPPasswordEnv, o.SMTPTLS, o.Email, o.From = "mail.example.com", "u", "PW", "tls", "a@x, b@x", "me@x"
	})
	m, err := o.Mail(map[string]bool{"smtp-host": true, "email": true}, env)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Transport.(*notify.SMTP)
	if s.Addr != "mail.example.com:465" || s.Username != "u" || s.Password != "secret" || s.TLS != notify.TLSImplicit {
		t.Errorf("got %+v, want implicit TLS to mail.example.com:465 as u with the password from PW", *s)
	}
	if !reflect.DeepEqual(m.To, []string{"a@x", "b@x"}) || m.From != "me@x" || len(m.Warnings) != 0 {
		t.Errorf("got To %q From %q warnings %q, want [a@x b@x], me@x, none", m.To, m.From, m.Warnings)
	}
}

// TestSendmailProgramCheck: a mail command whose program does not exist
// is reported at start-up, but only when mail would go through it, so a
// machine without /usr/sbin/sendmail can run the tools without -m or with
// SMTP.
func TestSendmailProgramCheck(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "sendmail")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nope") + " -t -i"
	for _, tt := range []struct {
		name, command, email string
		smtp                 bool
		want                 string // "" for no warning
	}{
		{"missing, mail on", missing, "a@x", false, "does not exist"},
		{"not executable", notExec + " -t", "a@x", false, "not executable"},
		{"directory", dir, "a@x", false, "not a file"},
		{"not in PATH", "no-such-sendmail-here -t", "a@x", false, "not found in PATH"},
		{"missing, no mail", missing, "", false, ""},
		{"missing, SMTP", missing, "a@x", true, ""},
		{"in PATH", "cat >/dev/null", "a@x", false, ""},
		{"shell builtin", "exec cat", "a@x", false, ""},
		{"shell syntax", "FOO=1 cat", "a@x", false, ""},
	} {
		o := Options{Sendmail: tt.command, Email: tt.email, Shared: Shared{SMTPTLS: "none"}}
		given := map[string]bool{"sendmail_program": !tt.smtp}
		if tt.smtp {
			o.SMTPHost = "localhost"
			given["smtp-host"] = true
		}
		m, err := o.Mail(given, nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := strings.Join(m.Warnings, "\n")
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: got warnings %q, want %q", tt.name, got, tt.want)
		}
	}
	b := BatchOptions{ToEmail: "a@x", From: "b@x", Sendmail: missing, Shared: Shared{SMTPTLS: "none"}}
	if m, err := b.Mail(map[string]bool{"sendmail": true}, nil); err != nil || len(m.Warnings) != 1 {
		t.Errorf("batch --sendmail with a missing program: got %v, %q; want one warning", err, m.Warnings)
	}
}

func TestRewriteSendmail(t *testing.T) {
	vf := append([]string{"-s"}, BatchValueFlags...)
	for _, tt := range []struct{ in, want []string }{
		{[]string{"--sendmail"}, []string{"--sendmail=" + DefaultSendmail}},
		{[]string{"--sendmail=cat"}, []string{"--sendmail=cat"}},
		{[]string{"-s", "--sendmail"}, []string{"-s", "--sendmail"}},
		{[]string{"--", "--sendmail"}, []string{"--", "--sendmail"}},
		{[]string{"-t", "a", "--sendmail", "x"}, []string{"-t", "a", "--sendmail=" + DefaultSendmail, "x"}},
	} {
		if got := RewriteSendmail(tt.in, vf); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("RewriteSendmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
