package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/superlance-go/superlance/rpcclient"
)

// pollInterval is how often WaitFor and the supervisord helpers look again.
const pollInterval = 50 * time.Millisecond

// MaxSocketPath keeps a unix socket path within AF_UNIX's sun_path (108
// bytes on Linux, 104 on BSDs, including the NUL).
const MaxSocketPath = 100

// Options say how to start supervisord.
type Options struct {
	// Dir holds the config, the socket and the logs; it must exist.
	Dir string
	// Config, when set, is rendered into Dir/supervisord.conf with a
	// generated username and password protecting the socket.
	Config *Config
	// Conf is the path of a config the caller wrote (when Config is nil);
	// Socket, Username and Password must then match what it says.
	Conf               string
	Socket             string // default Dir/supervisor.sock
	Username, Password string
	// Bin is supervisord's path; empty means the one in PATH.
	Bin string
	// OwnProcessGroup starts supervisord in a process group of its own,
	// so that a Ctrl-C on the terminal reaches the caller only, which then
	// stops supervisord in order.
	OwnProcessGroup bool
	// StartTimeout bounds the wait for supervisord to answer RUNNING
	// (default 20 s).
	StartTimeout time.Duration
}

// Supervisor is a running supervisord -n.
type Supervisor struct {
	Dir    string // holds the config, socket and logs
	URL    string // unix:///.../supervisor.sock
	Conf   string // path of supervisord.conf
	Client *rpcclient.Client
	PID    int
	// Username and Password protect the socket; Env passes them on.
	Username, Password string

	cmd  *exec.Cmd
	done chan struct{} // closed when supervisord has exited
}

// Launch starts supervisord -n as o says and waits until it answers
// RUNNING on its socket. On error nothing it started is left running.
func Launch(ctx context.Context, o Options) (*Supervisor, error) {
	bin := o.Bin
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("supervisord"); err != nil {
			return nil, fmt.Errorf("supervisord not found: %w", err)
		}
	}
	s := &Supervisor{Dir: o.Dir, Conf: o.Conf, Username: o.Username, Password: o.Password, done: make(chan struct{})}
	sock := o.Socket
	if sock == "" {
		sock = filepath.Join(o.Dir, "supervisor.sock")
	}
	if len(sock) > MaxSocketPath {
		return nil, fmt.Errorf("socket path %s is longer than %d bytes", sock, MaxSocketPath)
	}
	s.URL = "unix://" + sock
	if o.Config != nil {
		s.Conf = filepath.Join(o.Dir, "supervisord.conf")
		s.Username, s.Password = "svtest", randomHex(8)
		conf, err := renderConfig(*o.Config, o.Dir, sock, s.Username, s.Password)
		if err != nil {
			return nil, fmt.Errorf("bad config: %w", err)
		}
		if err := os.WriteFile(s.Conf, []byte(conf), 0o600); err != nil {
			return nil, err
		}
	}
	out, err := os.Create(filepath.Join(o.Dir, "supervisord.stdout"))
	if err != nil {
		return nil, err
	}
	defer out.Close()

	s.cmd = exec.Command(bin, "-n", "-c", s.Conf)
	s.cmd.Dir = o.Dir
	s.cmd.Stdout, s.cmd.Stderr = out, out
	// If the caller dies (a test's timeout panic, a kill), supervisord and
	// its children go down with it; TERM lets supervisord stop them.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: o.OwnProcessGroup}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting supervisord: %w", err)
	}
	s.PID = s.cmd.Process.Pid
	go func() {
		s.cmd.Wait()
		close(s.done)
	}()
	s.Client, err = rpcclient.New(s.URL, rpcclient.Options{Username: s.Username, Password: s.Password})
	if err != nil {
		s.Kill()
		return nil, err
	}

	timeout := o.StartTimeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := s.Client.GetState(cctx)
		cancel()
		if err == nil && st.Name == "RUNNING" {
			return s, nil
		}
		if err == nil {
			err = fmt.Errorf("state %s", st.Name)
		}
		select {
		case <-s.done:
			s.Client.Close()
			return nil, fmt.Errorf("supervisord exited during start-up (%v)\n%s", s.cmd.ProcessState, s.Diagnostics())
		case <-ctx.Done():
			s.Kill()
			return nil, ctx.Err()
		case <-deadline.C:
			s.Kill()
			return nil, fmt.Errorf("supervisord not RUNNING after %v (last: %v)\n%s", timeout, err, s.Diagnostics())
		case <-time.After(pollInterval):
		}
	}
}

// Stop terminates supervisord (SIGTERM: it stops every program and
// listener, waiting up to each one's stopwaitsecs), kills it when it has not
// exited within timeout, and then kills the process group of each of its
// processes that survived it. It returns the groups it had to kill, and an
// error when supervisord itself had to be killed. KillProcessesUnder finds
// what else was started from a directory.
func (s *Supervisor) Stop(timeout time.Duration) (leftovers []int, err error) {
	// supervisord puts every child in its own process group, so a group
	// that survives it is killed as a whole.
	var groups []int
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	infos, _ := s.Client.GetAllProcessInfo(ctx)
	cancel()
	for _, p := range infos {
		if p.PID > 0 {
			groups = append(groups, p.PID)
		}
	}

	if !s.Stopped() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(timeout):
			err = fmt.Errorf("supervisord (pid %d) did not stop within %v after SIGTERM; killed it\n%s", s.PID, timeout, s.Diagnostics())
			s.cmd.Process.Kill()
			<-s.done
		}
	}
	s.Client.Close()
	for _, pid := range groups {
		if syscall.Kill(-pid, 0) == nil {
			syscall.Kill(-pid, syscall.SIGKILL)
			leftovers = append(leftovers, pid)
		}
	}
	return leftovers, err
}

// Kill kills supervisord at once (its children get SIGTERM through their
// parent-death signal only if they asked for one) and waits for it.
func (s *Supervisor) Kill() {
	s.cmd.Process.Kill()
	<-s.done
	if s.Client != nil {
		s.Client.Close()
	}
}

// Exited is closed when the supervisord process has exited.
func (s *Supervisor) Exited() <-chan struct{} { return s.done }

// Stopped reports whether the supervisord process has exited.
func (s *Supervisor) Stopped() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Diagnostics returns supervisord's log and its own output, for failures.
func (s *Supervisor) Diagnostics() string {
	logText, _ := os.ReadFile(filepath.Join(s.Dir, "supervisord.log"))
	out, _ := os.ReadFile(filepath.Join(s.Dir, "supervisord.stdout"))
	return fmt.Sprintf("--- supervisord.log\n%s--- supervisord output\n%s", logText, out)
}

// WaitState waits until the process reaches state, or ctx ends, and
// returns its info.
func (s *Supervisor) WaitState(ctx context.Context, namespec string, state rpcclient.ProcessState) (rpcclient.ProcessInfo, error) {
	var info rpcclient.ProcessInfo
	var err error
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		info, err = s.Client.GetProcessInfo(cctx, namespec)
		cancel()
		if err == nil && info.State == state {
			return info, nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return info, fmt.Errorf("waiting for %s to be %v: %w", namespec, state, err)
			}
			return info, fmt.Errorf("%s is %v, want %v (spawnerr %q, exitstatus %d)", namespec, info.State, state, info.SpawnErr, info.ExitStatus)
		case <-time.After(pollInterval):
		}
	}
}

// ReadFile returns the contents of a file of Dir so far; one not created
// yet reads as empty.
func (s *Supervisor) ReadFile(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	return string(b), nil
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
// is not running); the caller inspects the output.
func (s *Supervisor) Ctl(ctx context.Context, args ...string) (string, error) {
	bin, err := exec.LookPath("supervisorctl")
	if err != nil {
		return "", fmt.Errorf("supervisorctl not found: %w", err)
	}
	out, err := exec.CommandContext(ctx, bin, append([]string{"-c", s.Conf}, args...)...).CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("supervisorctl %v: %w", args, ctx.Err())
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return string(out), fmt.Errorf("supervisorctl %v: %w", args, err)
	}
	return string(out), nil
}

// WaitFor polls cond every 50 ms until it is true (then it returns true) or
// timeout passes (false). cond is always called once more after the
// timeout passed, so a slow poll never loses a last true.
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

// ProcessesUnder lists the live processes, other than this one, whose
// command line mentions a path under dir: everything started from a binary
// or with a config there.
func ProcessesUnder(dir string) []int {
	under := []byte(filepath.Clean(dir) + "/")
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		// A zombie's command line is empty already; one that still shows
		// it is running.
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, under) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// KillProcessesUnder kills the processes of ProcessesUnder(dir), until none
// is left or 5 s passed, and returns their pids.
func KillProcessesUnder(dir string) []int {
	var found []int
	WaitFor(5*time.Second, func() bool {
		pids := ProcessesUnder(dir)
		for _, pid := range pids {
			if !slices.Contains(found, pid) {
				found = append(found, pid)
			}
			syscall.Kill(pid, syscall.SIGKILL)
		}
		return len(pids) == 0
	})
	return found
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
