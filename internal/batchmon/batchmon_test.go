package batchmon

import (
	"bytes"
	"context"
	"fmt"
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
		{"nothing", nil, "missing flags: --from=FROM_EMAIL, --toEmail=TO_EMAILS"},
		{"no from", []string{"-t", "a@example.com"}, "missing flags: --from=FROM_EMAIL"},
		{"no to", []string{"-f", "a@example.com"}, "missing flags: --toEmail=TO_EMAILS"},
		{"empty to", []string{"-t", "", "-f", "b@example.com"}, `--toEmail (-t): no address in ""`},
		{"only commas", []string{"-t", " , ", "-f", "b@example.com"}, `--toEmail (-t): no address`},
		{"bad to", []string{"-t", "not an address", "-f", "b@example.com"}, "not an address"},
		{"empty from", []string{"-t", "a@example.com", "-f", " "}, "--from (-f): empty address"},
		{"header injection in from", []string{"-t", "a@example.com", "-f", "b@example.com\r\nBcc: x@example.com"}, "crashmailbatch: error:"},
		{"header injection in subject", with("-s", "hi\nBcc: x@example.com"), "crashmailbatch: error:"},
		{"interval text", with("-i", "abc"), `--interval: "abc" is not a finite number of minutes, 0 or more`},
		{"interval negative", with("-i", "-1"), `--interval: "-1"`},
		{"interval inf", with("-i", "inf"), `--interval: "inf"`},
		{"interval nan", with("-i", "NaN"), `--interval: "NaN"`},
		{"interval missing value", with("-i"), "-i needs a value"},
		{"subject missing value", with("--subject"), "--subject needs a value"},
		{"tick zero", with("-e", "TICK_0"), `--tickEvent: "TICK_0" is not an event supervisord sends: TICK_5, TICK_60 or TICK_3600`},
		{"tick supervisord never sends", with("-e", "TICK_7"), `--tickEvent: "TICK_7" is not an event supervisord sends`},
		{"interval too large", with("-i", "1e300"), `--interval: "1e300" is too large`},
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
		{"cacert without tls", with("--smtp-cacert", notPEM), "need --tls/--smtp-tls starttls or tls"},
		{"cacert without tls, older spelling", with("--tls-cacert", notPEM), "need --tls/--smtp-tls starttls or tls"},
		{"insecure without tls", with("--smtp-insecure"), "need --tls/--smtp-tls starttls or tls"},
		{"cacert not pem", with("--tls", "--tls-cacert", notPEM), "holds no PEM certificate"},
		{"cacert missing", with("--tls", "--tls-cacert", filepath.Join(dir, "nope")), "--smtp-cacert: reading CA file"},
		{"cacert and insecure", with("--tls", "--tls-cacert", notPEM, "--tls-insecure"), "exclude each other"},
		{"sendmail with smtp auth", with("--sendmail", "-u", "bob", "-p", "pw"), "--sendmail delivers without SMTP"},
		{"sendmail with tls", with("--sendmail-program", "cat", "--tls"), "--sendmail delivers without SMTP"},
		{"smtp host without port", with("-H", "mail.example.com:"), "--smtp-host: invalid host"},
		{"smtp port out of range", with("-H", "mail.example.com:99999"), `port "99999" is not a number from 1 to 65535`},
		{"smtp port zero", with("--smtp-host", "mail.example.com:0"), `port "0" is not a number`},
		{"smtp host with two colons", with("--smtp-host", "h:p:q"), `--smtp-host: invalid host "h:p:q"`},
		{"smtp host empty", with("-H", ""), "--smtp-host (-H): empty host"},
		{"sendmail empty", with("--sendmail="), "--sendmail: empty command"},
		{"sendmail program empty", with("--sendmail-program", ""), "--sendmail: empty command"},
		{"tls contradicts smtp-tls", with("--tls", "--smtp-tls", "tls"), "--tls means --smtp-tls starttls; it contradicts --smtp-tls tls"},
		{"smtp-tls enum", with("--smtp-tls", "maybe"), "--smtp-tls"},
		{"cacert twice", with("--tls", "--smtp-cacert", notPEM, "--tls-cacert", notPEM), "the same option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			_, code, done := Parse(testTool, tt.args, &stdout, &stderr, nil)
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
		{"defaults", testTool, base, func(t *testing.T, c Config) {
			want(t, "to", strings.Join(c.To, "|"), "a@example.com")
			want(t, "from", c.From, "b@example.com")
			want(t, "subject", c.Subject, "Crash alert from supervisord")
			want(t, "interval", c.Interval, time.Minute)
			want(t, "tick", c.TickEvent, "TICK_60")
			want(t, "tick", c.Tick, time.Minute)
			s := smtpOf(t, c)
			want(t, "addr", s.Addr, "localhost:25")
			want(t, "tls", s.TLS, notify.TLSNone)
			want(t, "user", s.Username, "")
		}},
		{"to split and trimmed", testTool, []string{"-t", "frog@example.com, log@example.com,dog@example.com ", "-f", "b@example.com"}, func(t *testing.T, c Config) {
			want(t, "to", strings.Join(c.To, "|"), "frog@example.com|log@example.com|dog@example.com")
		}},
		{"long names", testTool, []string{"--toEmail=a@example.com", "--fromEmail", "b@example.com", "--interval=2.5", "--tickEvent=TICK_5", "--subject", "S", "--smtpHost", "mx.example.com:2525"}, func(t *testing.T, c Config) {
			want(t, "interval", c.Interval, 150*time.Second)
			want(t, "tick", c.Tick, 5*time.Second)
			want(t, "subject", c.Subject, "S")
			want(t, "addr", smtpOf(t, c).Addr, "mx.example.com:2525")
		}},
		{"empty parts skipped", testTool, []string{"-t", "a@example.com,,c@example.com,", "-f", "b@example.com"}, func(t *testing.T, c Config) {
			want(t, "to", strings.Join(c.To, "|"), "a@example.com|c@example.com")
		}},
		{"interval zero: every tick", testTool, with("-i", "0"), func(t *testing.T, c Config) {
			want(t, "interval", c.Interval, time.Duration(0))
		}},
		{"interval in whole seconds", testTool, with("-i", "0.0833"), func(t *testing.T, c Config) {
			want(t, "interval", c.Interval, 5*time.Second)
		}},
		{"shared long names", testTool, []string{"--toEmail", "a@example.com", "--from", "b@example.com", "--smtp-host", "mx.example.com", "--smtp-user", "bob", "--smtp-password-env", "PW", "--smtp-tls", "tls", "--smtp-insecure"}, func(t *testing.T, c Config) {
			s := smtpOf(t, c)
			want(t, "addr", s.Addr, "mx.example.com:465")
			want(t, "tls", s.TLS, notify.TLSImplicit)
			want(t, "user", s.Username, "bob")
			want(t, "password", s.Password, "from-env")
			want(t, "insecure", s.TLSConfig.InsecureSkipVerify, true)
		}},
		{"upstream long names", testTool, []string{"--toEmail", "a@example.com", "--fromEmail", "b@example.com", "--smtpHost", "mx.example.com", "--userName", "bob", "--password", "pw", "--tls"}, func(t *testing.T, c Config) {
			s := smtpOf(t, c)
			want(t, "from", c.From, "b@example.com")
			want(t, "addr", s.Addr, "mx.example.com:25")
			want(t, "tls", s.TLS, notify.TLSStartTLS)
			want(t, "user", s.Username, "bob")
			want(t, "password", s.Password, "pw")
		}},
		{"subject empty means none", testTool, with("-s", ""), func(t *testing.T, c Config) {
			want(t, "subject", c.Subject, "")
		}},
		{"crashsms has no default subject", smsTool, base, func(t *testing.T, c Config) {
			want(t, "subject", c.Subject, "")
		}},
		{"interval spaces and exponent", testTool, with("-i", " 1e1 "), func(t *testing.T, c Config) {
			want(t, "interval", c.Interval, 10*time.Minute)
		}},
		{"ipv6 host", testTool, with("-H", "[::1]:2525"), func(t *testing.T, c Config) {
			want(t, "addr", smtpOf(t, c).Addr, "[::1]:2525")
		}},
		{"ipv6 host without port", testTool, with("-H", "::1"), func(t *testing.T, c Config) {
			want(t, "addr", smtpOf(t, c).Addr, "[::1]:25")
		}},
		{"starttls with auth from argv", testTool, with("--tls", "-u", "bob", "-p", "pw"), func(t *testing.T, c Config) {
			s := smtpOf(t, c)
			want(t, "tls", s.TLS, notify.TLSStartTLS)
			want(t, "user", s.Username, "bob")
			want(t, "password", s.Password, "pw")
		}},
		{"password from env", testTool, with("-u", "bob", "--password-env", "PW"), func(t *testing.T, c Config) {
			want(t, "password", smtpOf(t, c).Password, "from-env")
		}},
		{"password from file", testTool, with("-u", "bob", "--password-file", pwFile), func(t *testing.T, c Config) {
			want(t, "password", smtpOf(t, c).Password, "from-file")
		}},
		{"implicit tls default port", testTool, with("--smtp-ssl", "-H", "mx.example.com"), func(t *testing.T, c Config) {
			s := smtpOf(t, c)
			want(t, "tls", s.TLS, notify.TLSImplicit)
			want(t, "addr", s.Addr, "mx.example.com:465")
		}},
		{"insecure tls", testTool, with("--tls", "--tls-insecure", "-H", "mx.example.com"), func(t *testing.T, c Config) {
			s := smtpOf(t, c)
			if s.TLSConfig == nil || !s.TLSConfig.InsecureSkipVerify || s.TLSConfig.ServerName != "mx.example.com" {
				t.Errorf("tls config: got %+v, want InsecureSkipVerify for mx.example.com", s.TLSConfig)
			}
		}},
		{"sendmail default", testTool, with("--sendmail"), func(t *testing.T, c Config) {
			want(t, "command", sendmailOf(t, c).Command, "/usr/sbin/sendmail -t -i")
		}},
		{"sendmail with value", testTool, with("--sendmail=/usr/bin/msmtp -t"), func(t *testing.T, c Config) {
			want(t, "command", sendmailOf(t, c).Command, "/usr/bin/msmtp -t")
		}},
		{"sendmail program", testTool, with("--sendmail-program", "cat >/dev/null"), func(t *testing.T, c Config) {
			want(t, "command", sendmailOf(t, c).Command, "cat >/dev/null")
		}},
		{"a subject that looks like --sendmail", testTool, with("-s", "--sendmail"), func(t *testing.T, c Config) {
			want(t, "subject", c.Subject, "--sendmail")
			smtpOf(t, c)
		}},
		{"positional arguments ignored", testTool, with("extra", "args"), func(t *testing.T, c Config) {
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
	_, code, done := Parse(testTool, []string{"-h"}, &stdout, &stderr, nil)
	if !done || code != 0 {
		t.Errorf("exit: got done=%v code=%d, want done and 0", done, code)
	}
	for _, flag := range []string{"--interval", "--toEmail", "--from", "--fromEmail", "--subject", "--smtp-host", "--smtpHost", "--tickEvent", "--smtp-user", "--userName", "--password", "--tls", "--smtp-password-file", "--smtp-password-env", "--smtp-tls", "--smtp-cacert", "--smtp-insecure", "--sendmail"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("help: %s missing from %q", flag, stdout.String())
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr: got %q, want nothing", stderr.String())
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

// What a Tool sets apart: its name in messages, its default subject; and
// the refusal outside supervisord.
func TestCommands(t *testing.T) {
	ok := []string{"-t", "a@example.com", "-f", "b@example.com"}
	for _, tool := range []Tool{testTool, smsTool} {
		tests := []struct {
			name       string
			args       []string
			code       int
			wantStdout string
			wantStderr string
		}{
			{"help", []string{"--help"}, 0, "--toEmail", ""},
			{"no options", nil, 2, "", tool.Name + ": error: missing flags: --from=FROM_EMAIL, --toEmail=TO_EMAILS\n"},
			{"bad tick", append(ok, "-e", "TICK_x"), 2, "", tool.Name + ": error: --tickEvent: \"TICK_x\" is not an event supervisord sends"},
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
}

// testTool and smsTool stand for the batch commands, whose own policies
// (formats, subjects) are tested in their cmd packages.
var (
	testTool = Tool{
		Name:           "crashmailbatch",
		Description:    "Collect unexpected process exits.",
		Event:          eventproto.ProcessStateExited,
		DefaultSubject: "Crash alert from supervisord",
		Format: func(ps eventproto.ProcessState, asctime string) (string, bool) {
			if ps.Expected {
				return "", false
			}
			return fmt.Sprintf("%s -- Process %s:%s (pid %d) died unexpectedly", asctime, ps.GroupName, ps.ProcessName, ps.Pid), true
		},
	}
	smsTool = Tool{
		Name:   "crashsms",
		Event:  eventproto.ProcessStateExited,
		Format: testTool.Format,
	}
)

// recorder is a transport that takes every message (a unit test of when a
// flush happens needs no server).
type recorder struct{}

func (recorder) Send(context.Context, *notify.Message) error { return nil }
func (recorder) String() string                              { return "recorder" }

// TestIntervalTicks: -i is counted in whole seconds, so with TICK_5 the
// batch goes out after exactly interval/5s ticks (superlance, summing
// float minutes, needs 7, 25 and 61 ticks for -i 0.5, 2 and 5); -i 0 sends
// at every tick.
func TestIntervalTicks(t *testing.T) {
	for _, tt := range []struct {
		interval string
		ticks    int
	}{{"0.5", 6}, {"1", 12}, {"2", 24}, {"5", 60}, {"0", 1}, {"0.0833", 1}} {
		iv, err := ParseInterval(tt.interval)
		if err != nil {
			t.Fatal(err)
		}
		b := notify.NewBatch(notify.BatchOptions{Interval: iv, Transport: recorder{}, Template: notify.Message{To: []string{"a@example.com"}}})
		b.Add("alert")
		// A flush takes the pending lines at the tick that starts it.
		n := 0
		for b.Pending() > 0 && n < 1000 {
			b.Tick(5 * time.Second)
			n++
		}
		if n != tt.ticks {
			t.Errorf("-i %s: sent after %d TICK_5, want %d", tt.interval, n, tt.ticks)
		}
		if err := b.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
