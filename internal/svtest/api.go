package svtest

import (
	"testing"
	"time"

	"github.com/superlance-go/superlance/rpcclient"
)

// Need returns the path of supervisord. When it is missing the test is
// skipped, except under CI=true, where it fails: integration tests must run there.
func Need(t testing.TB) string { panic("unimplemented") }

// BuildTool builds ./cmd/<name> of this module once per test binary and
// returns the binary's path.
func BuildTool(t testing.TB, name string) string { panic("unimplemented") }

// TestProg returns the path of the helper program (internal/svtest/testprog),
// built once per test binary. Its subcommands:
//
//	testprog crash -after 2s -code 1          exit with code after a delay
//	testprog sleep                            run until signalled
//	testprog http -addr 127.0.0.1:PORT [-hang-after 3s] [-status 200] [-body ok]
//	                                          serve HTTP; after hang-after, accept but never answer
//	testprog alloc -mb 50 [-children 0]       allocate and touch N MB, then sleep (children hold the memory when -children > 0)
//	testprog fail                             exit 1 at once (never reaches RUNNING)
func TestProg(t testing.TB) string { panic("unimplemented") }

// Program is one [program:x] section. Extra lines (key=value) are appended verbatim.
type Program struct {
	Name    string
	Command string
	Extra   []string // e.g. "autorestart=false", "startsecs=0", "numprocs=2"
}

// Listener is one [eventlistener:x] section.
type Listener struct {
	Name    string
	Command string
	Events  string   // e.g. "TICK_5" or "PROCESS_STATE"
	Env     []string // KEY=value pairs for environment=; SUPERVISOR_USERNAME/PASSWORD are added automatically
	Extra   []string
}

// Config describes a supervisord instance.
type Config struct {
	Programs  []Program
	Listeners []Listener
	Groups    map[string][]string // [group:g] programs=a,b
	Raw       string              // appended verbatim
}

// Supervisor is a running supervisord -n in a temporary directory.
type Supervisor struct {
	Dir    string // temp dir holding the config, socket and logs
	URL    string // unix:///.../supervisor.sock
	Client *rpcclient.Client
	PID    int
}

// Start writes the config into t.TempDir() (unix socket with username and
// password, the rpcinterface section), starts supervisord -n, waits until it
// answers, and stops it (by PID) in t.Cleanup.
func Start(t testing.TB, cfg Config) *Supervisor { panic("unimplemented") }

// WaitState waits until the process reaches state and returns its info.
func (s *Supervisor) WaitState(t testing.TB, namespec string, state rpcclient.ProcessState, timeout time.Duration) rpcclient.ProcessInfo {
	panic("unimplemented")
}

// Eventually polls cond every 50 ms until it is true or timeout passes (then fails the test with msg).
func Eventually(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	panic("unimplemented")
}

// ListenerStderr returns what the listener (process name) wrote to stderr so far.
func (s *Supervisor) ListenerStderr(t testing.TB, name string) string { panic("unimplemented") }

// Log returns supervisord's own log so far.
func (s *Supervisor) Log(t testing.TB) string { panic("unimplemented") }

// Env returns the environment a listener of this supervisord would see
// (SUPERVISOR_SERVER_URL, SUPERVISOR_USERNAME, SUPERVISOR_PASSWORD), for
// running a tool's run() in-process against it.
func (s *Supervisor) Env() []string { panic("unimplemented") }
