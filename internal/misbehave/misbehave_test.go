package misbehave_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
)

// startProg runs misbehave with args and returns it with its stdout lines.
func startProg(t *testing.T, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(svtest.TestProg(t), args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, bufio.NewScanner(stdout)
}

// terminate sends SIGTERM and checks the exit status is 0.
func terminate(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("misbehave %v after SIGTERM: %v, want exit 0", cmd.Args[1:], err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("misbehave %v did not exit after SIGTERM", cmd.Args[1:])
	}
}

// rssKB reads VmRSS of pid.
func rssKB(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return -1
}

func TestWeb(t *testing.T) {
	t.Parallel()
	addrFile := filepath.Join(t.TempDir(), "addr")
	cmd, _ := startProg(t, "web", "-addr", "127.0.0.1:0", "-addr-file", addrFile, "-hang-after", "1500ms", "-status", "503", "-body", "down")
	var addr string
	svtest.Eventually(t, 5*time.Second, "misbehave web never wrote its address", func() bool {
		b, err := os.ReadFile(addrFile)
		addr = string(b)
		return err == nil
	})
	client := &http.Client{Timeout: 300 * time.Millisecond}
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("GET before hang-after: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || string(body) != "down" {
		t.Errorf("GET = %d %q, want 503 %q", resp.StatusCode, body, "down")
	}

	// After hang-after: the connection is accepted, the answer never comes.
	svtest.Eventually(t, 5*time.Second, "misbehave web never started hanging", func() bool {
		resp, err := client.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			return false
		}
		var ne net.Error
		return errors.As(err, &ne) && ne.Timeout()
	})
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Errorf("dial while hanging: %v, want the connection accepted", err)
	} else {
		conn.Close()
	}
	terminate(t, cmd)
}

func TestAlloc(t *testing.T) {
	t.Parallel()
	t.Run("self", func(t *testing.T) {
		t.Parallel()
		cmd, out := startProg(t, "alloc", "-mb", "40", "-step", "10MB", "-every", "1s")
		if !out.Scan() || out.Text() != "holding 40 MB" {
			t.Fatalf("first line %q, want %q", out.Text(), "holding 40 MB")
		}
		if rss := rssKB(cmd.Process.Pid); rss < 40<<10 {
			t.Errorf("RSS %d kB, want at least %d kB", rss, 40<<10)
		}
		svtest.Eventually(t, 10*time.Second, "RSS did not grow by -step", func() bool {
			return rssKB(cmd.Process.Pid) >= 55<<10
		})
		terminate(t, cmd)
	})
	t.Run("children", func(t *testing.T) {
		t.Parallel()
		cmd, out := startProg(t, "alloc", "-mb", "30", "-children", "2")
		if !out.Scan() || out.Text() != "started 2 children holding 30 MB each" {
			t.Fatalf("first line %q", out.Text())
		}
		pid := cmd.Process.Pid
		var kids []int
		svtest.Eventually(t, 10*time.Second, "the two children never held 30 MB each", func() bool {
			kids = svtest.Children(pid)
			if len(kids) != 2 {
				return false
			}
			for _, k := range kids {
				if rssKB(k) < 30<<10 {
					return false
				}
			}
			return true
		})
		if rss := rssKB(pid); rss >= 30<<10 {
			t.Errorf("parent RSS %d kB, want less than the children's %d kB", rss, 30<<10)
		}
		terminate(t, cmd)
		for _, k := range kids {
			if err := syscall.Kill(k, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("child %d outlived its parent (kill 0: %v)", k, err)
			}
		}
	})
}

func TestCrashAndFail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"crash", "-after", "10ms", "-code", "7"}, 7},
		{[]string{"fail"}, 1},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := exec.CommandContext(ctx, svtest.TestProg(t), tt.args...).Run()
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != tt.code {
			t.Errorf("misbehave %v: %v, want exit code %d", tt.args, err, tt.code)
		}
	}
	cmd, out := startProg(t, "crash", "-after", "1h")
	out.Scan() // printed once the SIGTERM handler is installed
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("crash after SIGTERM: %v, want exit 0", err)
	}
}
