package svtest

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/harness"
)

// Proc is a tool's binary run as supervisord runs a listener, with its
// stdin, stdout and stderr held by the test, which plays supervisord's side
// of the protocol. Unlike a listener under supervisord, the test decides
// when stdin closes, which signal arrives, and whether stdout and stderr
// are still read: what happens to a listener when supervisord dies or
// stops it can be staged exactly. Its environment points at a real
// supervisord when the tool needs one (Supervisor.Env).
type Proc struct {
	t   testing.TB
	Cmd *exec.Cmd
	// Stdin, StdoutPipe and StderrPipe are the test's ends of the pipes;
	// closing them is what supervisord's death does.
	Stdin      io.WriteCloser
	StdoutPipe io.ReadCloser
	StderrPipe io.ReadCloser
	// Stderr is what the tool logged, unless SpawnOptions.RawStderr.
	Stderr *LockedBuffer

	d    *harness.Driver // pool "p"
	done chan struct{}   // closed when the process has exited
	err  error           // cmd.Wait's result, once done
}

// SpawnOptions are the optional settings of Spawn.
type SpawnOptions struct {
	Env []string // the tool's whole environment besides PATH
	// RawStderr leaves StderrPipe unread, for a test that closes it.
	RawStderr bool
}

// Spawn starts bin with args and waits for its first READY.
func Spawn(t testing.TB, bin string, o SpawnOptions, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, o.Env...)
	p := &Proc{t: t, Cmd: cmd, Stderr: &LockedBuffer{}, done: make(chan struct{})}
	var err error
	if p.Stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if p.StdoutPipe, err = cmd.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if p.StderrPipe, err = cmd.StderrPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	copied := make(chan struct{})
	if o.RawStderr {
		close(copied)
	} else {
		go func() {
			io.Copy(p.Stderr, p.StderrPipe)
			close(copied)
		}()
	}
	go func() {
		<-copied // Wait closes the pipe: read it to the end first
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	p.d = harness.NewDriver("p", p.Stdin, p.StdoutPipe)
	if err := p.d.Ready(); err != nil {
		t.Fatalf("%v (stderr: %s)", err, p.Stderr)
	}
	return p
}

// Send writes one event of pool "p" (poolserial following serial) and
// reads its acknowledgement and the next READY: when Send returns, the
// tool has handled the event and waits for the next one.
func (p *Proc) Send(eventName, payload string) {
	p.t.Helper()
	if _, err := p.d.Send(eventName, payload); err != nil {
		p.t.Fatalf("%v (stderr: %s)", err, p.Stderr)
	}
	if err := p.d.Ready(); err != nil {
		p.t.Fatalf("after %s: %v (stderr: %s)", eventName, err, p.Stderr)
	}
}

// Exit waits for the process to exit on its own and returns its exit
// status; a death by signal, or no exit within timeout, fails the test.
func (p *Proc) Exit(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		var ee *exec.ExitError
		switch {
		case p.err == nil:
			return 0
		case errors.As(p.err, &ee) && ee.ExitCode() >= 0:
			return ee.ExitCode()
		default:
			p.t.Fatalf("the tool did not exit on its own: %v (stderr: %s)", p.err, p.Stderr)
		}
	case <-time.After(timeout):
		p.t.Fatalf("the tool did not exit within %v (stderr: %s)", timeout, p.Stderr)
	}
	return -1
}

// Children lists the pids whose parent is pid, read from /proc/*/stat
// directly, so that a test of process trees does not check the code under
// test against itself. (/proc/PID/task/*/children would list the children
// of one thread only, and Go forks from any.)
func Children(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var kids []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // exited meanwhile
		}
		// The command name in parentheses may hold spaces: the fields
		// (state, ppid, ...) start after the last ')'.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			kids = append(kids, child)
		}
	}
	return kids
}
