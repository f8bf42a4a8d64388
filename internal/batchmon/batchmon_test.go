package batchmon

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/notify"
)

func TestParseRejects(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := []string{"-t", "a@example.com", "-f", "b@example.com"}
	with := func(extra ...string) []string { return append(append([]string(nil), ok...), extra...) }
	tests := []struct {
		name string
		args []string
		want string // substring of stderr
	}{
		{"nothing", nil, "missing flags: --fromEmail=FROM_EMAIL, --toEmail=TO_EMAILS"},
		{"no from", []string{"-t", "a@example.com"}, "missing flags: --fromEmail=FROM_EMAIL"},
		{"no to", []string{"-f", "a@example.com"}, "missing flags: --toEmail=TO_EMAILS"},
		{"empty to", []string{"-t", "", "-f", "b@example.com"}, `--toEmail: empty address in ""`},
		{"empty part", []string{"-t", "a@example.com,,c@example.com", "-f", "b@example.com"}, "--toEmail: empty address"},
		{"bad to", []string{"-t", "not an address", "-f", "b@example.com"}, "not an address"},
		{"empty from", []string{"-t", "a@example.com", "-f", " "}, "--fromEmail: empty address"},
		{"header injection in from", []string{"-t", "a@example.com", "-f", "b@example.com\r\nBcc: x@example.com"}, "crashmailbatch: error:"},
		{"header injection in subject", with("-s", "hi\nBcc: x@example.com"), "crashmailbatch: error:"},
		{"interval text", with("-i", "abc"), `--interval: "abc" is not a positive, finite number of minutes`},
		{"interval zero", with("-i", "0"), `--interval: "0"`},
		{"interval negative", with("-i", "-1"), `--interval: "-1"`},
		{"interval inf", with("-i", "inf"), `--interval: "inf"`},
		{"interval nan", with("-i", "NaN"), `--interval: "NaN"`},
		{"interval missing value", with("-i"), "-i needs a value"},
		{"subject missing value", with("--subject"), "--subject needs a value"},
		{"tick zero", with("-e", "TICK_0"), `--tickEvent: "TICK_0" is not TICK_<seconds>`},
		{"tick junk", with("-e", "JUNK_60"), `--tickEvent: "JUNK_60"`},
		{"tick text", with("-e", "TICK_x"), `--tickEvent: "TICK_x"`},
		{"tick negative", with("-e", "TICK_-5"), `--tickEvent: "TICK_-5"`},
		{"unknown short", with("-Z"), "unknown flag -Z"},
		{"unknown long", with("--bogus"), "unknown flag --bogus"},
		{"prefix of a long option", []string{"--toEm", "a@example.com", "-f", "b@example.com"}, "unknown flag --toEm"},
		{"user without password", with("-u", "bob"), "SMTP AUTH needs both"},
		{"password in clear text to a remote host", with("-H", "mail.example.com", "-u", "bob", "-p", "pw"), "would send the password in clear text"},
		{"password without user", with("-p", "pw"), "SMTP AUTH needs both"},
		{"two password sources", with("-u", "bob", "-p", "pw", "--password-env", "PW"), "give the password only one way"},
		{"password env unset", with("-u", "bob", "--password-env", "NO_SUCH_VAR"), "NO_SUCH_VAR is not set"},
		{"password file missing", with("-u", "bob", "--password-file", filepath.Join(dir, "nope")), "reading password file"},
		{"tls and ssl", with("--tls", "--smtp-ssl"), "exclude each other"},
		{"cacert without tls", with("--tls-cacert", notPEM), "need --tls or --smtp-ssl"},
		{"insecure without tls", with("--tls-insecure"), "need --tls or --smtp-ssl"},
		{"cacert not pem", with("--tls", "--tls-cacert", notPEM), "holds no PEM certificate"},
		{"cacert missing", with("--tls", "--tls-cacert", filepath.Join(dir, "nope")), "--tls-cacert: reading CA file"},
		{"cacert and insecure", with("--tls", "--tls-cacert", notPEM, "--tls-insecure"), "exclude each other"},
		{"sendmail with smtp auth", with("--sendmail", "-u", "bob", "-p", "pw"), "--sendmail delivers without SMTP"},
		{"sendmail with tls", with("--sendmail-program", "cat", "--tls"), "--sendmail delivers without SMTP"},
		{"smtp host without port", with("-H", "mail.example.com:"), "--smtpHost: invalid host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			_, code, done := Parse(CrashMailBatch, tt.args, &stdout, &stderr, nil)
			if !done || code != 2 {
				t.Errorf("exit: got done=%v code=%d, want done and 2", done, code)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: got %q, want nothing", stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr.String(), tt.want)
			}
			if !strings.HasPrefix(stderr.String(), "crashmailbatch: error: ") {
				t.Errorf("stderr: got %q, want it to start with the command name and error:", stderr.String())
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PW=from-env"}
	base := []string{"-t", "a@example.com", "-f", "b@example.com"}
	with := func(extra ...string) []string { return append(append([]string(nil), base...), extra...) }
	tests := []struct {
		name  string
		tool  Tool
		args  []string
		check func(t *testing.T, c Config)
	}{
		{"defaults", CrashMailBatch, base, func(t *testing.T, c Config) {
			want(t, "to", strings.Join(c.To, "|"), "a@example.com")
			want(t, "from", c.From, "b@example.com")
			want(t, "subject", c.Subject, "Crash alert from supervisord")
			want(t, "interval", c.Interval, 1.0)
			want(t, "tick", c.TickEvent, "TICK_60")
			want(t, "tick minutes", c.TickMins, 1.0)
			s := smtpOf(t, c)
			want(t, "addr", s.Addr, "localhost:25")
			want(t, "tls", s.TLS, notify.TLSNone)
			want(t, "user", s.Username, "")
		}},
		{"to split and trimmed", CrashMailBatch, []string{"-t", "frog@example.com, log@example.com,dog@example.com ", "-f", "b@example.com"}, func(t *testing.T, c Config) {
			want(t, "to", strings.Join(c.To, "|"), "frog@example.com|log@example.com|dog@example.com")
		}},
		{"long names", CrashMailBatch, []string{"--toEmail=a@example.com", "--fromEmail", "b@example.com", "--interval=2.5", "--tickEvent=TICK_5", "--subject", "S", "--smtpHost", "mx.example.com:2525"}, func(t *testing.T, c Config) {
			want(t, "interval", c.Interval, 2.5)
			want(t, "tick minutes", c.TickMins, 5.0/60)
			want(t, "subject", c.Subject, "S")
			want(t, "addr", smtpOf(t, c).Addr, "mx.example.com:2525")
		}},
		{"subject empty means none", CrashMailBatch, with("-s", ""), func(t *testing.T, c Config) {
			want(t, "subject", c.Subject, "")
		}},
		{"crashsms has no default subject", CrashSMS, base, func(t *testing.T, c Config) {
			want(t, "subject", c.Subject, "")
		}},
		{"interval spaces and exponent", CrashMailBatch, with("-i", " 1e1 "), func(t *testing.T, c Config) {
			want(t, "interval", c.Interval, 10.0)
		}},
		{"ipv6 host", CrashMailBatch, with("-H", "[::1]:2525"), func(t *testing.T, c Config) {
			want(t, "addr", smtpOf(t, c).Addr, "[::1]:2525")
		}},
		{"ipv6 host without port", CrashMailBatch, with("-H", "::1"), func(t *testing.T, c Config) {
			want(t, "addr", smtpOf(t, c).Addr, "[::1]:25")
		}},
		{"starttls with auth from argv", CrashMailBatch, with("--tls", "-u", "bob", "-p", "pw"), func(t *testing.T, c Config) {
			s := smtpOf(t, c)
			want(t, "tls", s.TLS, notify.TLSStartTLS)
			want(t, "user", s.Username, "bob")
			want(t, "password", s.Password, "pw")
		}},
		{"password from env", CrashMailBatch, with("-u", "bob", "--password-env", "PW"), func(t *testing.T, c Config) {
			want(t, "password", smtpOf(t, c).Password, "from-env")
		}},
		{"password from file", CrashMailBatch, with("-u", "bob", "--password-file", pwFile), func(t *testing.T, c Config) {
			want(t, "password", smtpOf(t, c).Password, "from-file")
		}},
		{"implicit tls default port", CrashMailBatch, with("--smtp-ssl", "-H", "mx.example.com"), func(t *testing.T, c Config) {
			s := smtpOf(t, c)
			want(t, "tls", s.TLS, notify.TLSImplicit)
			want(t, "addr", s.Addr, "mx.example.com:465")
		}},
		{"insecure tls", CrashMailBatch, with("--tls", "--tls-insecure", "-H", "mx.example.com"), func(t *testing.T, c Config) {
			s := smtpOf(t, c)
			if s.TLSConfig == nil || !s.TLSConfig.InsecureSkipVerify || s.TLSConfig.ServerName != "mx.example.com" {
				t.Errorf("tls config: got %+v, want InsecureSkipVerify for mx.example.com", s.TLSConfig)
			}
		}},
		{"sendmail default", CrashMailBatch, with("--sendmail"), func(t *testing.T, c Config) {
			want(t, "command", sendmailOf(t, c).Command, "/usr/sbin/sendmail -t -i")
		}},
		{"sendmail with value", CrashMailBatch, with("--sendmail=/usr/bin/msmtp -t"), func(t *testing.T, c Config) {
			want(t, "command", sendmailOf(t, c).Command, "/usr/bin/msmtp -t")
		}},
		{"sendmail program", CrashMailBatch, with("--sendmail-program", "cat >/dev/null"), func(t *testing.T, c Config) {
			want(t, "command", sendmailOf(t, c).Command, "cat >/dev/null")
		}},
		{"a subject that looks like --sendmail", CrashMailBatch, with("-s", "--sendmail"), func(t *testing.T, c Config) {
			want(t, "subject", c.Subject, "--sendmail")
			smtpOf(t, c)
		}},
		{"positional arguments ignored", CrashMailBatch, with("extra", "args"), func(t *testing.T, c Config) {
			want(t, "ignored", strings.Join(c.Ignored, "|"), "extra|args")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cfg, code, done := Parse(tt.tool, tt.args, &stdout, &stderr, env)
			if done || code != 0 {
				t.Fatalf("Parse: got done=%v code=%d stderr=%q, want success", done, code, stderr.String())
			}
			if stdout.Len()+stderr.Len() != 0 {
				t.Errorf("output: got stdout %q stderr %q, want none", stdout.String(), stderr.String())
			}
			tt.check(t, cfg)
		})
	}
}

func TestParseHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	_, code, done := Parse(CrashMailBatch, []string{"-h"}, &stdout, &stderr, nil)
	if !done || code != 0 {
		t.Errorf("exit: got done=%v code=%d, want done and 0", done, code)
	}
	for _, flag := range []string{"--interval", "--toEmail", "--fromEmail", "--subject", "--smtpHost", "--tickEvent", "--userName", "--password", "--tls", "--password-file", "--password-env", "--smtp-ssl", "--tls-cacert", "--tls-insecure", "--sendmail-program"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("help: %s missing from %q", flag, stdout.String())
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr: got %q, want nothing", stderr.String())
	}
}

func TestFormat(t *testing.T) {
	exit := eventproto.ProcessState{ProcessName: "foo", GroupName: "bar", FromState: "RUNNING", Pid: 58597, HasPid: true, HasExpected: true}
	expected := exit
	expected.Expected = true
	fatal := eventproto.ProcessState{ProcessName: "foo", GroupName: "bar", FromState: "BACKOFF"}
	const at = "2026-11-21 16:23:32,987"
	tests := []struct {
		name   string
		format func(eventproto.ProcessState, string) (string, bool)
		ps     eventproto.ProcessState
		want   string
		ok     bool
	}{
		{"crash", Crash, exit, at + " -- Process bar:foo (pid 58597) died unexpectedly", true},
		{"crash expected", Crash, expected, "", false},
		{"sms", SMS, exit, "[bar:foo](58597) exited unexpectedly " + at, true},
		{"sms expected", SMS, expected, "", false},
		{"fatal", Fatal, fatal, at + " -- Process bar:foo failed to start too many times", true},
		{"same group and name", Crash, eventproto.ProcessState{ProcessName: "web", GroupName: "web", Pid: 7}, at + " -- Process web:web (pid 7) died unexpectedly", true},
	}
	for _, tt := range tests {
		got, ok := tt.format(tt.ps, at)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: got %q, %v, want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAsctime(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 21, 16, 23, 32, 987654321, time.Local), "2026-11-21 16:23:32,987"},
		{time.Date(2026, 1, 2, 3, 4, 5, 999999999, time.Local), "2026-01-02 03:04:05,999"},
		{time.Date(2026, 1, 2, 3, 4, 5, 1000000, time.Local), "2026-01-02 03:04:05,001"},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local), "2026-01-02 03:04:05,000"},
	}
	for _, tt := range tests {
		if got := Asctime(tt.t); got != tt.want {
			t.Errorf("Asctime(%v): got %q, want %q", tt.t, got, tt.want)
		}
	}
}

func want[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func smtpOf(t *testing.T, c Config) *notify.SMTP {
	t.Helper()
	s, ok := c.Transport.(*notify.SMTP)
	if !ok {
		t.Fatalf("transport: got %T, want *notify.SMTP", c.Transport)
	}
	return s
}

func sendmailOf(t *testing.T, c Config) *notify.Sendmail {
	t.Helper()
	s, ok := c.Transport.(*notify.Sendmail)
	if !ok {
		t.Fatalf("transport: got %T, want *notify.Sendmail", c.Transport)
	}
	return s
}

// What sets each batch command apart: its name in messages, its default
// subject, its refusal outside supervisord.
func TestCommands(t *testing.T) {
	ok := []string{"-t", "a@example.com", "-f", "b@example.com"}
	for _, tool := range []Tool{CrashMailBatch, FatalMailBatch, CrashSMS} {
		tests := []struct {
			name       string
			args       []string
			code       int
			wantStdout string
			wantStderr string
		}{
			{"help", []string{"--help"}, 0, "--toEmail", ""},
			{"no options", nil, 2, "", tool.Name + ": error: missing flags: --fromEmail=FROM_EMAIL, --toEmail=TO_EMAILS\n"},
			{"bad tick", append(ok, "-e", "TICK_x"), 2, "", tool.Name + ": error: --tickEvent: \"TICK_x\" is not TICK_<seconds>"},
			{"unknown option", append(ok, "-Z"), 2, "", tool.Name + ": error: unknown flag -Z"},
			{"outside supervisord", ok, 1, "", "Must run as a supervisor event listener\n"},
		}
		for _, tt := range tests {
			t.Run(tool.Name+"/"+tt.name, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := Run(context.Background(), tool, tt.args, strings.NewReader(""), &stdout, &stderr, nil)
				if code != tt.code {
					t.Errorf("exit: got %d, want %d", code, tt.code)
				}
				if !strings.Contains(stdout.String(), tt.wantStdout) || (tt.wantStdout == "" && stdout.Len() != 0) {
					t.Errorf("stdout: got %q, want %q", stdout.String(), tt.wantStdout)
				}
				if !strings.HasPrefix(stderr.String(), tt.wantStderr) || (tt.wantStderr == "" && stderr.Len() != 0) {
					t.Errorf("stderr: got %q, want it to start with %q", stderr.String(), tt.wantStderr)
				}
			})
		}
		for _, tt := range []struct {
			name string
			args []string
			want string
		}{
			{"absent: the default", ok, tool.DefaultSubject},
			{"empty: no Subject header", append(ok, "-s", ""), ""},
			{"given", append(ok, "--subject", "hello"), "hello"},
		} {
			var stdout, stderr bytes.Buffer
			cfg, _, done := Parse(tool, tt.args, &stdout, &stderr, nil)
			if done {
				t.Fatalf("%s %s: Parse failed: %s", tool.Name, tt.name, stderr.String())
			}
			if cfg.Subject != tt.want {
				t.Errorf("%s subject %s: got %q, want %q", tool.Name, tt.name, cfg.Subject, tt.want)
			}
		}
	}
	if CrashMailBatch.DefaultSubject != "Crash alert from supervisord" || FatalMailBatch.DefaultSubject != "Fatal start alert from supervisord" || CrashSMS.DefaultSubject != "" {
		t.Errorf("default subjects: got %q, %q, %q; want superlance's", CrashMailBatch.DefaultSubject, FatalMailBatch.DefaultSubject, CrashSMS.DefaultSubject)
	}
}
