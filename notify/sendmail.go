package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// DefaultTimeout bounds one delivery when neither the transport's Timeout
// nor the caller's context sets an earlier deadline.
const DefaultTimeout = 30 * time.Second

// maxStderr bounds how much of a sendmail program's stderr ends up in an
// error (and so in a log line).
const maxStderr = 2048

// DefaultSendmailCommand is what a Sendmail with an empty Command runs.
const DefaultSendmailCommand = "/usr/sbin/sendmail -t -i"

// Sendmail runs Command through /bin/sh -c with the message on stdin, as
// superlance does (-s "/usr/sbin/sendmail -t -i"); the zero value runs
// DefaultSendmailCommand. The message is written
// with LF line endings, as local sendmail programs expect. The program's
// stdout is discarded (a listener's stdout carries the event protocol); a
// non-zero exit status is an error that includes the start of its stderr.
// Exit status 0 means delivered, even when a child the command left in the
// background still holds its stderr open.
type Sendmail struct {
	Command string // a shell command line; empty means DefaultSendmailCommand
	// Timeout bounds one run when ctx has no earlier deadline; zero means 30 s.
	// When it expires the program's whole process group is killed.
	Timeout time.Duration
}

// Send runs the command once with m on its stdin.
func (s *Sendmail) Send(ctx context.Context, m *Message) error {
	raw, err := m.Bytes()
	if err != nil {
		return Permanent(fmt.Errorf("%s: %w", s, err))
	}
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))

	ctx, cancel := context.WithTimeout(ctx, orDefault(s.Timeout))
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", s.command())
	cmd.Stdin = bytes.NewReader(raw)
	// Stdout stays nil, which is /dev/null: never the listener's stdout.
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	// Its own process group, so that a timeout also ends what the shell
	// started (a sendmail stuck on a lock, a pipeline's other commands).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A child left in the background (possibly in a session of its own,
	// out of reach of the group kill) may hold stderr open for as long as
	// it runs: stop reading a second after the command itself ended.
	cmd.WaitDelay = time.Second

	err = cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success() {
		// The command exited 0: the message was handed over. Only a
		// leftover child's output was cut short; sending again would
		// deliver a duplicate.
		err = nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil && err != nil {
		err = ctxErr
	}
	if err != nil {
		if msg := stderr.String(); msg != "" {
			return fmt.Errorf("%s: %w: %s", s, err, msg)
		}
		return fmt.Errorf("%s: %w", s, err)
	}
	return nil
}

// String names the transport for log lines.
func (s *Sendmail) String() string { return fmt.Sprintf("sendmail %q", s.command()) }

func (s *Sendmail) command() string {
	if strings.TrimSpace(s.Command) == "" {
		return DefaultSendmailCommand
	}
	return s.Command
}

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
}

// limitedBuffer keeps the first maxStderr bytes written to it and accepts
// (drops) the rest, so that a chatty program is never blocked on its stderr.
type limitedBuffer struct {
	buf       bytes.Buffer
	truncated bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxStderr - b.buf.Len(); room < len(p) {
		b.buf.Write(p[:max(room, 0)])
		b.truncated = true
		return len(p), nil
	}
	return b.buf.Write(p)
}

// String returns the kept output on one line, for an error message.
func (b *limitedBuffer) String() string {
	s := strings.TrimSpace(b.buf.String())
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
	if b.truncated {
		s += " ..."
	}
	return s
}
