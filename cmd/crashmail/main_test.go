package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/superlance"
	"github.com/superlance-go/superlance/internal/svtest"
)

var listenerEnv = []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent/supervisor.sock"}

func TestRejectedCommandLines(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown short", []string{"-Z"}, "unknown flag -Z"},
		{"unknown long", []string{"--bogus"}, "unknown flag --bogus"},
		{"prefix of a long option", []string{"--prog", "x"}, "unknown flag --prog"},
		{"missing value", []string{"-m"}, "-m needs a value"},
		{"missing long value", []string{"-a", "--optionalheader"}, "--optionalheader needs a value"},
		{"bad address", []string{"-m", "not an address"}, "crashmail: error:"},
		{"header injection in -o", []string{"-m", "a@example.com", "-o", "x\r\nBcc: b@example.com"}, "crashmail: error:"},
		{"smtp option without host", []string{"--smtp-user", "bob"}, "--smtp-user needs --smtp-host"},
		{"bad smtp tls", []string{"--smtp-host", "localhost", "--smtp-tls", "maybe"}, "--smtp-tls"},
		{"empty smtp host", []string{"-m", "a@example.com", "--smtp-host", ""}, "--smtp-host: empty host"},
		{"empty mail command", []string{"-m", "a@example.com", "-s", ""}, "-s/--sendmail: empty command"},
		{"empty mail command, long", []string{"-m", "a@example.com", "--sendmail="}, "-s/--sendmail: empty command"},
		{"smtp host with two colons", []string{"--smtp-host", "h:p:q"}, `--smtp-host: invalid host "h:p:q"`},
		{"smtp port out of range", []string{"--smtp-host", "h:99999"}, `port "99999" is not a number from 1 to 65535`},
		{"mail command and smtp host", []string{"-s", "cat", "--smtp-host", "localhost"}, "exclude each other"},
		{"empty -m", []string{"-m", ""}, "-m/--email: no address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr, listenerEnv)
			if code != 2 {
				t.Errorf("exit: got %d, want 2", code)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: got %q, want nothing", stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.want) || !strings.HasPrefix(stderr.String(), "crashmail: error: ") {
				t.Errorf("stderr: got %q, want a crashmail error containing %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestHelpAndRefusal(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, strings.NewReader(""), &stdout, &stderr, nil); code != 0 {
		t.Errorf("--help exit: got %d, want 0", code)
	}
	for _, flag := range []string{"--program", "--any", "--optionalheader", "--sendmail_program", "--email", "--smtp-host", "--from"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("help: %s missing", flag)
		}
	}
	stdout.Reset()
	stderr.Reset()
	// Upstream's spellings, with positional arguments ignored, then the refusal.
	code := run(context.Background(), []string{"-p", "a", "-p", "grp:b", "-a", "-o", "H", "--sendmail", "cat", "-m", "x@example.com", "positional"}, strings.NewReader(""), &stdout, &stderr, nil)
	if code != 0 {
		t.Errorf("outside supervisord: got exit %d, want 0", code)
	}
	if got, want := stderr.String(), "crashmail must be run as a supervisor event listener\n"; got != want {
		t.Errorf("stderr: got %q, want %q", got, want)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout: got %q, want nothing", stdout.String())
	}
}

func TestSubjectAndBody(t *testing.T) {
	ps := eventproto.ProcessState{ProcessName: "foo", GroupName: "bar", FromState: "RUNNING", Pid: 58597}
	const at = "2026-11-21 16:23:32,987"
	tests := []struct{ header, want string }{
		{"", "foo crashed at " + at},
		{"[foo]", "[foo]: foo crashed at " + at},
		{"H", "H: foo crashed at " + at},
	}
	for _, tt := range tests {
		if got := subject(tt.header, ps.ProcessName, at); got != tt.want {
			t.Errorf("subject(%q): got %q, want %q", tt.header, got, tt.want)
		}
	}
	if got, want := body(ps), "Process foo in group bar exited unexpectedly (pid 58597) from state RUNNING"; got != want {
		t.Errorf("body: got %q, want %q", got, want)
	}
	if got, want := superlance.Asctime(time.Date(2026, 11, 21, 16, 23, 32, 987999999, time.Local)), at; got != want {
		t.Errorf("asctime: got %q, want %q", got, want)
	}
}

func TestWatched(t *testing.T) {
	web := eventproto.ProcessState{ProcessName: "web", GroupName: "web"}
	grpWeb := eventproto.ProcessState{ProcessName: "web", GroupName: "grp"}
	tests := []struct {
		name     string
		programs []string
		any      bool
		ps       eventproto.ProcessState
		want     bool
	}{
		{"no -p watches all", nil, false, grpWeb, true},
		{"-a watches all", []string{"other"}, true, grpWeb, true},
		{"bare name", []string{"web"}, false, grpWeb, true},
		{"namespec", []string{"grp:web"}, false, grpWeb, true},
		{"group:name when group == name", []string{"web:web"}, false, web, true},
		{"namespec when group == name", []string{"web"}, false, web, true},
		{"other program", []string{"db"}, false, grpWeb, false},
		{"other group", []string{"other:web"}, false, grpWeb, false},
	}
	for _, tt := range tests {
		if got := watched(tt.programs, tt.any, tt.ps.GroupName, tt.ps.ProcessName); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// event renders one event as supervisord writes it.
func event(serial int, name, payload string) string {
	return fmt.Sprintf("ver:3.0 server:supervisor serial:%d pool:crashmail poolserial:%d eventname:%s len:%d\n%s",
		serial, serial, name, utf8.RuneCountInString(payload), payload)
}

func TestRunMailsOnlyWatchedUnexpectedExits(t *testing.T) {
	sink := svtest.NewSendmail(t)
	stdin := event(1, "PROCESS_STATE_EXITED", "processname:crasher groupname:crasher from_state:RUNNING expected:0 pid:11") +
		event(2, "PROCESS_STATE_EXITED", "processname:fine groupname:fine from_state:RUNNING expected:1 pid:12") +
		event(3, "PROCESS_STATE_EXITED", "processname:other groupname:grp from_state:RUNNING expected:0 pid:13") +
		event(4, "PROCESS_STATE_FATAL", "processname:crasher groupname:crasher from_state:BACKOFF") +
		event(5, "TICK_5", "when:1")
	var stdout bytes.Buffer
	var stderr svtest.LockedBuffer
	now := func() time.Time { return time.Date(2026, 11, 21, 16, 23, 32, 987654321, time.Local) }
	code := runClock(context.Background(), []string{"-p", "crasher", "-o", "[prod]", "-s", sink.Command, "-m", "ops@example.com"},
		strings.NewReader(stdin), &stdout, &stderr, listenerEnv, now)
	if code != 0 {
		t.Fatalf("exit: got %d, want 0; stderr %q", code, stderr.String())
	}
	if got, want := stdout.String(), strings.Repeat("READY\nRESULT 2\nOK", 5)+"READY\n"; got != want {
		t.Errorf("stdout: got %q, want %q", got, want)
	}
	mails := sink.Mails(t) // the drain at EOF has delivered everything
	if len(mails) != 1 {
		t.Fatalf("mails: got %d, want 1", len(mails))
	}
	m := mails[0]
	if got, want := m.Msg.Header.Get("Subject"), "[prod]: crasher crashed at 2026-11-21 16:23:32,987"; got != want {
		t.Errorf("Subject: got %q, want %q", got, want)
	}
	if got, want := m.Text, "Process crasher in group crasher exited unexpectedly (pid 11) from state RUNNING"; got != want {
		t.Errorf("body: got %q, want %q", got, want)
	}
	wantLog := "crashmail: unexpected exit, mailing\ncrashmail: Mailed:\n\nTo: ops@example.com\n" +
		"Subject: [prod]: crasher crashed at 2026-11-21 16:23:32,987\n\n" +
		"Process crasher in group crasher exited unexpectedly (pid 11) from state RUNNING\n"
	if !strings.HasPrefix(stderr.String(), wantLog) {
		t.Errorf("stderr: got %q, want it to start with %q", stderr.String(), wantLog)
	}
}

func TestRunWithoutEmailOnlyLogs(t *testing.T) {
	sink := svtest.NewSendmail(t)
	stdin := event(1, "PROCESS_STATE_EXITED", "processname:crasher groupname:grp from_state:RUNNING expected:0 pid:11")
	var stdout bytes.Buffer
	var stderr svtest.LockedBuffer
	code := run(context.Background(), []string{"-s", sink.Command}, strings.NewReader(stdin), &stdout, &stderr, listenerEnv)
	if code != 0 {
		t.Fatalf("exit: got %d, want 0", code)
	}
	if n := len(sink.Mails(t)); n != 0 {
		t.Errorf("mails: got %d, want 0", n)
	}
	want := "crashmail: unexpected exit: Process crasher in group grp exited unexpectedly (pid 11) from state RUNNING\n" +
		"crashmail: not mailed: -m/--email is not set\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr: got %q, want %q", got, want)
	}
}

// TestRunMailsCommaSeparatedRecipients: upstream hands -m to "sendmail -t"
// in the To: header, where a comma separates recipients, so -m a,b mails
// both (as httpok's and memmon's -m do).
func TestRunMailsCommaSeparatedRecipients(t *testing.T) {
	sink := svtest.NewSendmail(t)
	stdin := event(1, "PROCESS_STATE_EXITED", "processname:crasher groupname:grp from_state:RUNNING expected:0 pid:11")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-s", sink.Command, "-m", "a@example.com, b@example.com,c@example.com"},
		strings.NewReader(stdin), &stdout, &stderr, listenerEnv)
	if code != 0 {
		t.Fatalf("exit: got %d, want 0; stderr %q", code, stderr.String())
	}
	mails := sink.Mails(t)
	if len(mails) != 1 {
		t.Fatalf("mails: got %d, want 1; stderr %q", len(mails), stderr.String())
	}
	if got, want := strings.Join(mails[0].To, " "), "a@example.com b@example.com c@example.com"; got != want {
		t.Errorf("recipients: got %q, want %q", got, want)
	}
	if want := "\nTo: a@example.com, b@example.com, c@example.com\n"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr: got %q, want the Mailed: block to contain %q", stderr.String(), want)
	}

	stderr.Reset()
	if code := run(context.Background(), []string{"-m", " , "}, strings.NewReader(""), &stdout, &stderr, listenerEnv); code != 2 {
		t.Errorf("-m without an address: got exit %d, want 2; stderr %q", code, stderr.String())
	}
}

// TestRunRedeliveryMailedOnce pins a documented difference: an event
// supervisord hands over again (same pool and poolserial) is acknowledged
// but not mailed a second time.
func TestRunRedeliveryMailedOnce(t *testing.T) {
	sink := svtest.NewSendmail(t)
	crash := event(7, "PROCESS_STATE_EXITED", "processname:crasher groupname:grp from_state:RUNNING expected:0 pid:11")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-s", sink.Command, "-m", "ops@example.com"},
		strings.NewReader(crash+crash), &stdout, &stderr, listenerEnv)
	if code != 0 {
		t.Fatalf("exit: got %d, want 0; stderr %q", code, stderr.String())
	}
	if got, want := stdout.String(), strings.Repeat("READY\nRESULT 2\nOK", 2)+"READY\n"; got != want {
		t.Errorf("stdout: got %q, want %q", got, want)
	}
	if n := len(sink.Mails(t)); n != 1 {
		t.Errorf("mails: got %d, want 1", n)
	}
}

// TestRunWarnsOfMissingMailCommand: a mail command whose program does not
// exist is said on stderr at start-up; the listener still runs (the program
// may be installed later), and without -m nothing is said.
func TestRunWarnsOfMissingMailCommand(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "sendmail")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-m", "a@example.com", "-s", missing + " -t -i"}, strings.NewReader(""), &stdout, &stderr, listenerEnv)
	if code != 0 {
		t.Fatalf("exit: got %d, want 0; stderr %q", code, stderr.String())
	}
	if want := "crashmail: warning: mail command \"" + missing + " -t -i\": " + missing + " does not exist"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr: got %q, want it to contain %q", stderr.String(), want)
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"-s", missing}, strings.NewReader(""), &stdout, &stderr, listenerEnv); code != 0 || strings.Contains(stderr.String(), "warning") {
		t.Errorf("without -m: got exit %d, stderr %q; want 0 and no warning", code, stderr.String())
	}
}

// TestRunOrphanCommandMailsOnce: a mail command that exits 0 but leaves a
// child holding its stderr delivers once: no retry, no duplicate.
func TestRunOrphanCommandMailsOnce(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("out", 0o755); err != nil {
		t.Fatal(err)
	}
	crash := event(1, "PROCESS_STATE_EXITED", "processname:crasher groupname:grp from_state:RUNNING expected:0 pid:11")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-m", "ops@example.com", "-s", "cat > out/m-$(date +%s%N).eml; setsid sleep 100 &"},
		strings.NewReader(crash), &stdout, &stderr, listenerEnv)
	if code != 0 {
		t.Fatalf("exit %d; stderr %q", code, stderr.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "out", "m-*.eml"))
	if len(files) != 1 || strings.Contains(stderr.String(), "failed") {
		t.Errorf("got %d mails, stderr %q; want one delivery, no retry", len(files), stderr.String())
	}
}

// TestRunSpoolAcrossRestart: a crash mailed while the SMTP server is down
// stays in --spool when crashmail exits, and the next crashmail on the same
// spool sends it once the server is back; the spool ends empty.
func TestRunSpoolAcrossRestart(t *testing.T) {
	t.Parallel()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{})
	srv.SetDown(true)
	spool := filepath.Join(t.TempDir(), "spool")
	args := []string{"-m", "ops@example.com", "--from", "sv@example.com", "--smtp-host", srv.Addr, "--spool", spool}
	crash := event(1, "PROCESS_STATE_EXITED", "processname:crasher groupname:grp from_state:RUNNING expected:0 pid:11")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, strings.NewReader(crash), &stdout, &stderr, listenerEnv); code != 0 {
		t.Fatalf("first run: exit %d; stderr %q", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "kept in the spool "+spool+" for the next start") || len(srv.Mails()) != 0 {
		t.Fatalf("first run: %d mails, stderr %q; want the mail kept in the spool", len(srv.Mails()), stderr.String())
	}

	srv.SetDown(false)
	stderr.Reset()
	if code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, listenerEnv); code != 0 {
		t.Fatalf("second run: exit %d; stderr %q", code, stderr.String())
	}
	mails := srv.Mails()
	if len(mails) != 1 || !strings.HasPrefix(mails[0].Msg.Header.Get("Subject"), "crasher crashed at ") {
		t.Fatalf("second run: got %d mails, want the crash once; stderr %q", len(mails), stderr.String())
	}
	if files, _ := filepath.Glob(filepath.Join(spool, "*.mail.json")); len(files) != 0 {
		t.Errorf("spool still holds %q", files)
	}
}
