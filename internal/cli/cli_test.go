package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superlance-go/superlance/notify"
)

type grammar struct {
	Program []string `short:"p" name:"program" sep:"none"`
	Body    string   `short:"b" name:"body"`
	URL     string   `arg:"" name:"URL"`
}

func TestParse(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantDone   bool
		wantStdout string
		wantStderr string
	}{
		{"ok", []string{"-p", "a", "-pb", "-b", "-x", "http://x/"}, 0, false, "", ""},
		{"help", []string{"-h"}, 0, true, "Usage: tool", ""},
		{"unknown flag", []string{"--bogus", "http://x/"}, ExitUsage, true, "", "tool: error: unknown flag --bogus"},
		{"missing arg", []string{"-p", "a"}, ExitUsage, true, "", "tool: error: expected \"<URL>\""},
		{"extra arg", []string{"http://a/", "http://b/"}, ExitUsage, true, "", "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g grammar
			var stdout, stderr bytes.Buffer
			_, code, done := Parse("tool", "a tool", &g, tt.args, &stdout, &stderr)
			if code != tt.wantCode || done != tt.wantDone {
				t.Fatalf("got code=%d done=%v, want code=%d done=%v (stderr %q)", code, done, tt.wantCode, tt.wantDone, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) || (tt.wantStdout == "" && stdout.Len() > 0) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) || (tt.wantStderr == "" && stderr.Len() > 0) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
	var g grammar
	if _, _, done := Parse("tool", "", &g, []string{"-p", "a", "-pb", "-b", "-x", "http://x/"}, &bytes.Buffer{}, &bytes.Buffer{}); done {
		t.Fatal("valid command line rejected")
	}
	if strings.Join(g.Program, ",") != "a,b" || g.Body != "-x" || g.URL != "http://x/" {
		t.Errorf("got %+v, want program [a b], body -x, URL http://x/", g)
	}
}

func TestSecret(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("s3cret\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PW=fromenv"}
	for _, tt := range []struct {
		name, direct, envName, file, want string
		wantErr                           bool
	}{
		{"direct", "d", "", "", "d", false},
		{"env", "", "PW", "", "fromenv", false},
		{"env missing", "", "NOPE", "", "", true},
		{"file", "", "", file, "s3cret", false},
		{"file missing", "", "", file + ".none", "", true},
		{"two sources", "d", "PW", "", "", true},
		{"none", "", "", "", "", false},
	} {
		got, err := Secret(tt.direct, tt.envName, tt.file, env)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: got %q, %v; want %q, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSMTPAddr(t *testing.T) {
	for _, tt := range []struct {
		in       string
		implicit bool
		want     string
		wantErr  bool
	}{
		{"localhost", false, "localhost:25", false},
		{"localhost", true, "localhost:465", false},
		{"mail.example.com:2525", false, "mail.example.com:2525", false},
		{"[::1]", false, "[::1]:25", false},
		{"[::1]:587", false, "[::1]:587", false},
		{"", false, "", true},
		{":25", false, "", true},
	} {
		got, err := SMTPAddr(tt.in, tt.implicit)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("SMTPAddr(%q, %v) = %q, %v; want %q, error %v", tt.in, tt.implicit, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSMTPFlagsTransport(t *testing.T) {
	env := []string{"PW=secret"}
	for _, tt := range []struct {
		name    string
		flags   SMTPFlags
		want    string // the transport's String(), or "" when an error is wanted
		wantErr string
	}{
		{"sendmail by default", SMTPFlags{SMTPTLS: "none"}, "sendmail", ""},
		{"user without host", SMTPFlags{SMTPUser: "u", SMTPTLS: "none"}, "", "--smtp-user needs --smtp-host"},
		{"tls without host", SMTPFlags{SMTPTLS: "starttls"}, "", "--smtp-tls needs --smtp-host"},
		{"user without password", SMTPFlags{SMTPHost: "h", SMTPUser: "u", SMTPTLS: "starttls"}, "", "needs both"},
		{"password env missing", SMTPFlags{SMTPHost: "h", SMTPUser: "u", SMTPPasswordEnv: "NOPE", SMTPTLS: "starttls"}, "", "NOPE is not set"},
		{"cacert without tls", SMTPFlags{SMTPHost: "h", SMTPCACert: "x.pem", SMTPTLS: "none"}, "", "needs --smtp-tls"},
		{"password in clear text", SMTPFlags{SMTPHost: "mail.example.com", SMTPUser: "u", SMTPPasswordEnv: "PW", SMTPTLS: "none"}, "", "would send the password in clear text"},
	} {
		tr, err := tt.flags.Transport("/usr/sbin/sendmail -t -i", env)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: got error %v, want one containing %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: unexpected error %v", tt.name, err)
		}
		if _, ok := tr.(interface{ String() string }); !ok {
			t.Errorf("%s: transport %T has no String", tt.name, tr)
		}
	}
	f := SMTPFlags{SMTPHost: "mail.example.com", SMTPUser: "u", SMTPPasswordEnv: "PW", SMTPTLS: "tls"}
	tr, err := f.Transport("", env)
	if err != nil {
		t.Fatal(err)
	}
	s := tr.(*notify.SMTP)
	if s.Addr != "mail.example.com:465" || s.Username != "u" || s.Password != "secret" || s.TLS != notify.TLSImplicit {
		t.Errorf("got %+v, want implicit TLS to mail.example.com:465 as u with the password from PW", *s)
	}
}

func TestParseValueOptionLast(t *testing.T) {
	type bundle struct {
		Any   bool   `short:"a" name:"any"`
		Email string `short:"m" name:"email" aliases:"mail"`
		Name  string `short:"n" name:"name"`
	}
	for _, tt := range []struct {
		args     []string
		wantFlag string // "" when the line is valid
	}{
		{[]string{"-m"}, "-m"},
		{[]string{"-a", "-m"}, "-m"},
		{[]string{"-am"}, "-m"},
		{[]string{"--email"}, "--email"},
		{[]string{"--mail"}, "--mail"},
		{[]string{"-n", "x", "--email"}, "--email"},
		{[]string{"-m", "-n"}, ""}, // -m's value is "-n", as with getopt
		{[]string{"-m", "-n", "-n"}, "-n"},
		{[]string{"-n", "-m"}, ""},
		{[]string{"-amx@y"}, ""},
		{[]string{"-m", "x@y"}, ""},
		{[]string{"--email=x@y"}, ""},
		{[]string{"-a"}, ""},
		{[]string{"-n", "-m", "-m", "x@y"}, ""},
	} {
		var g bundle
		var stdout, stderr bytes.Buffer
		_, code, done := Parse("tool", "", &g, tt.args, &stdout, &stderr)
		if tt.wantFlag == "" {
			if done {
				t.Errorf("%q: rejected with %q, want accepted", tt.args, stderr.String())
			}
			continue
		}
		want := "tool: error: " + tt.wantFlag + " needs a value"
		if !done || code != ExitUsage || !strings.Contains(stderr.String(), want) || stdout.Len() > 0 {
			t.Errorf("%q: got done=%v code=%d stderr %q stdout %q; want exit %d with %q", tt.args, done, code, stderr.String(), stdout.String(), ExitUsage, want)
		}
	}
}
