package svtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/rpcclient"
)

const (
	startTimeout = 15 * time.Second
	stopTimeout  = 15 * time.Second
	// maxSocketPath keeps the socket path within AF_UNIX's sun_path
	// (108 bytes on Linux, 104 on BSDs, including the NUL).
	maxSocketPath = 100
	pollInterval  = 50 * time.Millisecond
)

// Supervisor is a running supervisord -n in a temporary directory.
type Supervisor struct {
	Dir    string // temp dir holding the config, socket and logs
	URL    string // unix:///.../supervisor.sock
	Client *rpcclient.Client
	PID    int

	// Conf is the path of the generated supervisord.conf.
	Conf string
	// Username and Password protect the socket; Env passes them on.
	Username, Password string

	cmd  *exec.Cmd
	done chan struct{} // closed when supervisord has exited
}

// Start writes the config into t.TempDir() (unix socket with username and
// password, the rpcinterface section), starts supervisord -n, waits until it
// answers, and stops it (by PID) in t.Cleanup.
func Start(t testing.TB, cfg Config) *Supervisor {
	t.Helper()
	bin := Need(t)

	dir := t.TempDir()
	if len(dir+"/supervisor.sock") > maxSocketPath {
		short, err := os.MkdirTemp("", "sv")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(short) })
		dir = short
	}
	s := &Supervisor{
		Dir:      dir,
		URL:      "unix://" + dir + "/supervisor.sock",
		Conf:     filepath.Join(dir, "supervisord.conf"),
		Username: "svtest",
		Password: randomHex(8),
		done:     make(chan struct{}),
	}
	conf, err := renderConfig(cfg, dir, s.Username, s.Password)
	if err != nil {
		t.Fatalf("svtest: bad config: %v", err)
	}
	if err := os.WriteFile(s.Conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "supervisord.stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()

	s.cmd = exec.Command(bin, "-n", "-c", s.Conf)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = out, out
	// If the test binary dies (timeout panic, kill), take supervisord and
	// its children down with it; TERM lets it stop them.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting supervisord: %v", err)
	}
	s.PID = s.cmd.Process.Pid
	go func() {
		s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() { s.stop(t) })

	s.Client, err = rpcclient.New(s.URL, rpcclient.Options{Username: s.Username, Password: s.Password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Client.Close() })

	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := s.Client.GetState(ctx)
		cancel()
		if err == nil && st.Name == "RUNNING" {
			return s
		}
		lastErr = err
		if err == nil {
			lastErr = fmt.Errorf("state %s", st.Name)
		}
		select {
		case <-s.done:
			t.Fatalf("supervisord exited during startup (%v)\n%s", s.cmd.ProcessState, s.diagnostics())
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			t.Fatalf("supervisord not RUNNING after %v (last: %v)\n%s", startTimeout, lastErr, s.diagnostics())
		}
	}
}

// stop terminates supervisord (TERM, then KILL) and any process of it that
// survived: supervisord puts every child in its own process group, so a
// surviving group is killed as a whole.
func (s *Supervisor) stop(t testing.TB) {
	var pids []int
	if s.Client != nil { // nil when Start failed before creating it
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		infos, _ := s.Client.GetAllProcessInfo(ctx)
		cancel()
		for _, p := range infos {
			if p.PID > 0 {
				pids = append(pids, p.PID)
			}
		}
	}

	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		t.Errorf("svtest: supervisord (pid %d) did not stop within %v after SIGTERM; killing it\n%s", s.PID, stopTimeout, s.diagnostics())
		s.cmd.Process.Kill()
		<-s.done
	}
	for _, pid := range pids {
		if syscall.Kill(-pid, 0) == nil {
			t.Logf("svtest: process group %d outlived supervisord; killing it", pid)
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
}

// Stopped reports whether the supervisord process has exited.
func (s *Supervisor) Stopped() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// diagnostics returns supervisord's log and its own output, for failures.
func (s *Supervisor) diagnostics() string {
	logText, _ := os.ReadFile(filepath.Join(s.Dir, "supervisord.log"))
	out, _ := os.ReadFile(filepath.Join(s.Dir, "supervisord.stdout"))
	return fmt.Sprintf("--- supervisord.log\n%s--- supervisord output\n%s", logText, out)
}

// WaitState waits until the process reaches state and returns its info.
func (s *Supervisor) WaitState(t testing.TB, namespec string, state rpcclient.ProcessState, timeout time.Duration) rpcclient.ProcessInfo {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var info rpcclient.ProcessInfo
	var err error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		info, err = s.Client.GetProcessInfo(ctx, namespec)
		cancel()
		if err == nil && info.State == state {
			return info
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(pollInterval)
	}
	if err != nil {
		t.Fatalf("waiting for %s to be %v: %v", namespec, state, err)
	}
	t.Fatalf("%s is %v after %v, want %v (spawnerr %q, exitstatus %d)", namespec, info.State, timeout, state, info.SpawnErr, info.ExitStatus)
	return info
}

// Eventually polls cond every 50 ms until it is true or timeout passes (then fails the test with msg).
func Eventually(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	if !WaitFor(timeout, cond) {
		t.Fatalf("after %v: %s", timeout, msg)
	}
}

// WaitFor polls cond every 50 ms until it is true (then it returns true) or
// timeout passes (false). cond is always called at least once more after
// the timeout passed, so a slow poll never loses a last true.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollInterval)
	}
	return true
}

// ListenerStderr returns what the listener (process name) wrote to stderr so far.
func (s *Supervisor) ListenerStderr(t testing.TB, name string) string {
	t.Helper()
	return s.readFile(t, name+".err")
}

// ProgramStdout returns what the process (process name) wrote to stdout so far.
func (s *Supervisor) ProgramStdout(t testing.TB, name string) string {
	t.Helper()
	return s.readFile(t, name+".out")
}

// Log returns supervisord's own log so far.
func (s *Supervisor) Log(t testing.TB) string {
	t.Helper()
	return s.readFile(t, "supervisord.log")
}

// readFile reads a file of Dir; one not created yet reads as empty.
func (s *Supervisor) readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Dir, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

// Env returns the environment a listener of this supervisord would see
// (SUPERVISOR_SERVER_URL, SUPERVISOR_USERNAME, SUPERVISOR_PASSWORD), for
// running a tool's run() in-process against it.
func (s *Supervisor) Env() []string {
	return []string{
		"SUPERVISOR_SERVER_URL=" + s.URL,
		"SUPERVISOR_USERNAME=" + s.Username,
		"SUPERVISOR_PASSWORD=" + s.Password,
	}
}

// Ctl runs supervisorctl -c <conf> args... and returns its combined output.
// supervisorctl's exit status is not checked (status exits 3 when a process
// is not running); the test inspects the output.
func (s *Supervisor) Ctl(t testing.TB, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("supervisorctl")
	if err != nil {
		t.Fatalf("supervisorctl not found: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"-c", s.Conf}, args...)...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("supervisorctl %v: %v\n%s", args, ctx.Err(), out)
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("supervisorctl %v: %v", args, err)
	}
	return string(out)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
