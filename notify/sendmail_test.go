package notify_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/notify"
)

func testMessage() *notify.Message {
	return &notify.Message{
		To:      []string{"ops@example.com", "Jörg <jm@example.com>"},
		From:    "supervisor@example.com",
		Subject: "crashmail alert for web ✓",
		Body:    "Process web in group web exited unexpectedly (pid 4711) from state RUNNING\nsecond line",
	}
}

func TestSendmailToSink(t *testing.T) {
	t.Parallel()
	sink := svtest.NewSendmail(t)
	tr := &notify.Sendmail{Command: sink.Command}
	m := testMessage()
	if err := tr.Send(context.Background(), m); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	mails := sink.WaitMails(t, 1, 5*time.Second)
	if len(mails) != 1 {
		t.Fatalf("got %d mails, want 1", len(mails))
	}
	got := mails[0]
	if bytes.Contains(got.Raw, []byte("\r")) {
		t.Errorf("sendmail got CR characters, want LF line endings: %q", got.Raw)
	}
	if got.Msg == nil {
		t.Fatalf("stored message does not parse: %q", got.Raw)
	}
	if want := "ops@example.com,jm@example.com"; strings.Join(got.To, ",") != want {
		t.Errorf("To = %q, want %s", got.To, want)
	}
	if got.From != m.From {
		t.Errorf("From = %q, want %q", got.From, m.From)
	}
	if got.Text != m.Body {
		t.Errorf("body = %q, want %q", got.Text, m.Body)
	}
}

func TestSendmailShellCommandLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	tests := []struct {
		name    string
		command string
		want    string // content of out
	}{
		{"redirection", "cat > " + out, ""},
		{"pipe and quotes", `grep '^Subject:' | sed 's/^Subject: /subject=/' > "` + out + `"`, "subject=plain words\n"},
		{"variables and a list", `n=$(grep -c '^Subject: plain words$'); echo "$n match" > ` + out + `; true`, "1 match\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &notify.Message{To: []string{"ops@example.com"}, Subject: "plain words", Body: "body"}
			if err := (&notify.Sendmail{Command: tt.command}).Send(context.Background(), m); err != nil {
				t.Fatalf("Send() = %v, want nil", err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == "" { // the whole message, with LF line endings
				msg, err := mail.ReadMessage(bytes.NewReader(got))
				if err != nil || bytes.Contains(got, []byte("\r")) || msg.Header.Get("Subject") != m.Subject {
					t.Fatalf("stdin of the command = %q (%v), want the message with LF line endings", got, err)
				}
				if body, _ := io.ReadAll(msg.Body); string(body) != m.Body {
					t.Errorf("body = %q, want %q", body, m.Body)
				}
				return
			}
			if string(got) != want {
				t.Errorf("output = %q, want %q", got, want)
			}
		})
	}
}

func TestSendmailErrors(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "ran")
	tests := []struct {
		name    string
		command string
		m       *notify.Message
		want    []string // substrings of the error
	}{
		{
			name:    "missing program",
			command: "/nonexistent/sendmail -t -i",
			want:    []string{`sendmail "/nonexistent/sendmail -t -i": exit status 127: `, "/nonexistent/sendmail: not found"},
		},
		{
			name:    "non-zero exit with stderr",
			command: "cat >/dev/null; echo 'sendmail: fatal: no such user' >&2; echo 'second line' >&2; exit 67",
			want:    []string{"exit status 67: sendmail: fatal: no such user; second line"},
		},
		{
			name:    "killed by a signal",
			command: "kill -TERM $$",
			want:    []string{"signal: terminated"},
		},
		{
			name:    "invalid message is not handed to the command",
			command: "touch " + marker,
			m:       &notify.Message{To: []string{"ops@example.com"}, Subject: "a\r\nBcc: evil@example.com"},
			want:    []string{"contains CR or LF"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			if m == nil {
				m = testMessage()
			}
			err := (&notify.Sendmail{Command: tt.command}).Send(context.Background(), m)
			if err == nil {
				t.Fatalf("Send() = nil, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Send() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the command ran for an invalid message")
	}
}

func TestSendmailStderrBounded(t *testing.T) {
	t.Parallel()
	cmd := "cat >/dev/null; head -c 1000000 /dev/zero | tr '\\0' x >&2; exit 1"
	err := (&notify.Sendmail{Command: cmd}).Send(context.Background(), testMessage())
	if err == nil {
		t.Fatal("Send() = nil, want an error")
	}
	if n := len(err.Error()); n > 2200 || !strings.HasSuffix(err.Error(), "x ...") {
		t.Errorf("error is %d bytes long ending %q, want the start of stderr (<= 2200 bytes) ending in \"x ...\"", n, err.Error()[max(0, n-20):])
	}
}

func TestSendmailStdinNotRead(t *testing.T) {
	t.Parallel()
	// A program that exits without reading its input: not an error.
	big := testMessage()
	big.Body = strings.Repeat("a line of text\n", 100000)
	if err := (&notify.Sendmail{Command: "exit 0"}).Send(context.Background(), big); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
}

// TestSendmailTimeoutKillsGroup runs a sendmail that hangs and leaves a child
// behind; both must be gone after the timeout.
func TestSendmailTimeoutKillsGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		timeout time.Duration // Sendmail.Timeout
		ctx     time.Duration // deadline of the caller's context
	}{
		{"transport timeout", 300 * time.Millisecond, 0},
		{"context deadline", 0, 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pids := filepath.Join(t.TempDir(), "pids")
			cmd := `sleep 100 & echo "$$ $!" > ` + pids + `.tmp; mv ` + pids + `.tmp ` + pids + `; cat >/dev/null; sleep 100`
			ctx := context.Background()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			}
			start := time.Now()
			err := (&notify.Sendmail{Command: cmd, Timeout: tt.timeout}).Send(ctx, testMessage())
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Send() = %v, want context.DeadlineExceeded", err)
			}
			if took > 5*time.Second {
				t.Errorf("Send() took %v, want about 300ms", took)
			}
			b, err := os.ReadFile(pids)
			if err != nil {
				t.Fatalf("the command did not start: %v", err)
			}
			for _, f := range strings.Fields(string(b)) {
				pid, _ := strconv.Atoi(f)
				waitGone(t, pid, 5*time.Second)
			}
		})
	}
}

// waitGone waits until pid no longer runs (a zombie left to an init that
// does not reap counts as gone: it cannot do anything).
func waitGone(t *testing.T, pid int, timeout time.Duration) {
	t.Helper()
	var stat []byte
	gone := func() bool {
		var err error
		stat, err = os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || syscall.Kill(pid, 0) != nil {
			return true
		}
		// The state follows the parenthesised command name.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		return len(f) > 0 && f[0] == "Z"
	}
	if !svtest.WaitFor(timeout, gone) {
		t.Fatalf("process %d still runs %v after the timeout: %s", pid, timeout, stat)
	}
}

// TestSendmailStdoutNotInherited runs Send in a child process (this test
// binary) whose stdout the test reads: the listener's stdout carries the
// event protocol, so nothing the sendmail program prints may reach it.
func TestSendmailStdoutNotInherited(t *testing.T) {
	if os.Getenv("NOTIFY_TEST_SENDMAIL_CHILD") == "1" {
		err := (&notify.Sendmail{Command: "echo LEAKED; cat; echo LEAKED >&1"}).Send(context.Background(), testMessage())
		if err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(3)
		}
		os.Exit(0)
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSendmailStdoutNotInherited$")
	cmd.Env = append(os.Environ(), "NOTIFY_TEST_SENDMAIL_CHILD=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v: %s", err, stderr.Bytes())
	}
	if stdout.Len() != 0 {
		t.Errorf("listener stdout = %q, want nothing", stdout.Bytes())
	}
}

func TestSendmailString(t *testing.T) {
	got := (&notify.Sendmail{Command: "/usr/sbin/sendmail -t -i"}).String()
	if want := `sendmail "/usr/sbin/sendmail -t -i"`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// orphanCommand exits 0 at once but leaves a child in a session of its own
// holding the command's stdout and stderr.
const orphanCommand = "cat > out/m-$(date +%s%N).eml; setsid sleep 100 &"

// TestSendmailExitZeroWithOrphanIsDelivered: exit status 0 means delivered,
// even when a child left behind keeps stderr open; the message must be
// counted as sent once, never retried into a duplicate.
func TestSendmailExitZeroWithOrphanIsDelivered(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("out", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := (&notify.Sendmail{Command: orphanCommand}).Send(context.Background(), testMessage()); err != nil {
		t.Fatalf("Send() = %v, want nil: the command exited 0", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "out", "m-*.eml"))
	if len(files) != 1 {
		t.Fatalf("got %d messages, want 1: %q", len(files), files)
	}

	// Through a queue too: one delivery, logged as mailed, no retry.
	var logBuf svtest.LockedBuffer
	q := notify.NewQueue(&notify.Sendmail{Command: orphanCommand}, notify.QueueOptions{Log: log.New(&logBuf, "", 0), Backoff: time.Millisecond})
	if err := q.Enqueue(testMessage()); err != nil {
		t.Fatal(err)
	}
	if lost := q.Close(context.Background()); len(lost) != 0 {
		t.Fatalf("Close: %d undelivered; log %q", len(lost), logBuf.String())
	}
	files, _ = filepath.Glob(filepath.Join(dir, "out", "m-*.eml"))
	if len(files) != 2 || strings.Contains(logBuf.String(), "failed") || !strings.Contains(logBuf.String(), "delivered mail") {
		t.Errorf("got %d messages (want 2) and log %q, want one delivery logged as delivered", len(files), logBuf.String())
	}
}

// TestSendmailZeroValue: the zero value runs the default command, never an
// empty shell line that would report success without sending anything.
func TestSendmailZeroValue(t *testing.T) {
	var s notify.Sendmail
	if got, want := s.String(), `sendmail "/usr/sbin/sendmail -t -i"`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if _, err := os.Stat("/usr/sbin/sendmail"); err == nil {
		return // installed here: running it would really send
	}
	if err := s.Send(context.Background(), testMessage()); err == nil || !strings.Contains(err.Error(), "/usr/sbin/sendmail") {
		t.Errorf("Send() = %v, want the default command's failure", err)
	}
}
