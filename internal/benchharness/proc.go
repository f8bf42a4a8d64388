package main

import (
	"bufio"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/superlance-go/superlance/internal/harness"
)

// child is one tool started the way supervisord starts a listener: stdin
// and stdout are pipes carrying the event protocol, stderr is its log.
type child struct {
	cmd     *exec.Cmd
	proto   *harness.Driver
	lines   chan string // stderr, line by line
	started time.Time
}

func startChild(bin string, args, env []string) (*child, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, lines: make(chan string, 4096)}
	c.started = time.Now()
	if c.proto, err = harness.Start(cmd, filepath.Base(bin)); err != nil {
		return nil, err
	}
	go func() {
		// Always drained, as supervisord does: a listener blocked on a full
		// stderr pipe would measure the harness, not the tool.
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case c.lines <- sc.Text():
			default: // nobody is looking at the log right now
			}
		}
		close(c.lines)
	}()
	return c, nil
}

// waitReady reads the first READY and returns the time since exec.
func (c *child) waitReady(timeout time.Duration) (time.Duration, error) {
	done := make(chan error, 1)
	go func() { done <- c.proto.Ready() }()
	select {
	case err := <-done:
		elapsed := time.Since(c.started)
		if err != nil {
			return 0, fmt.Errorf("reading READY: %w (stderr: %s)", err, c.drainLog())
		}
		return elapsed, nil
	case <-time.After(timeout):
		c.cmd.Process.Kill()
		return 0, fmt.Errorf("no READY within %v (stderr: %s)", timeout, c.drainLog())
	}
}

// stop closes stdin (EOF: a listener drains and exits 0) and returns the
// child's total CPU time from its rusage.
func (c *child) stop() (time.Duration, error) {
	c.proto.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return 0, fmt.Errorf("%s exited: %w", c.cmd.Path, err)
		}
	case <-time.After(15 * time.Second):
		c.cmd.Process.Kill()
		<-done
		return 0, fmt.Errorf("%s did not exit within 15s of stdin EOF", c.cmd.Path)
	}
	ru, ok := c.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, errors.New("no rusage")
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

func (c *child) drainLog() string {
	var b strings.Builder
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				return b.String()
			}
			b.WriteString(l + "; ")
		case <-time.After(100 * time.Millisecond):
			return b.String()
		}
	}
}
