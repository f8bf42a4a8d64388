package svtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/superlance-go/superlance/internal/freeport"
	"github.com/superlance-go/superlance/internal/module"
)

// Need returns the path of supervisord. When it is missing the test is
// skipped, except under CI=true, where it fails: integration tests must run there.
func Need(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("supervisord")
	if err != nil {
		msg := "supervisord not found in PATH (Debian: apt-get install -y supervisor)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; integration tests must run in CI")
		}
		t.Skip(msg)
	}
	return path
}

// build is the result of one `go build`, shared by every test of the binary.
type build struct {
	once sync.Once
	path string
	err  error
}

var (
	buildsMu sync.Mutex
	builds   = map[string]*build{}

	binDirOnce sync.Once
	binDir     string
	binDirErr  error
)

// BuildTool builds ./cmd/<name> of this module once per test binary and
// returns the binary's path.
func BuildTool(t testing.TB, name string) string {
	t.Helper()
	return buildOnce(t, "cmd/"+name, name)
}

// TestProg returns the path of the helper program (internal/svtest/testprog),
// built once per test binary. Its subcommands:
//
//	testprog crash -after 2s -code 1          exit with code after a delay
//	testprog sleep                            run until signalled
//	testprog http -addr 127.0.0.1:PORT [-hang-after 3s] [-status 200] [-body ok]
//	                                          serve HTTP; after hang-after, accept but never answer
//	testprog alloc -mb 50 [-children 0]       allocate and touch N MB, then sleep (children hold the memory when -children > 0)
//	testprog fail                             exit 1 at once (never reaches RUNNING)
//	testprog record -out FILE                 event listener appending every byte it receives to FILE
//
// See testprog's package documentation for every flag.
func TestProg(t testing.TB) string {
	t.Helper()
	return buildOnce(t, "internal/svtest/testprog", "testprog")
}

func buildOnce(t testing.TB, pkg, name string) string {
	t.Helper()
	buildsMu.Lock()
	b, ok := builds[pkg]
	if !ok {
		b = &build{}
		builds[pkg] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() { b.path, b.err = goBuild(pkg, name) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func goBuild(pkg, name string) (string, error) {
	root, err := module.Root()
	if err != nil {
		return "", err
	}
	dir, err := binaryDir()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command(module.GoCommand(), "build", "-o", out, "./"+pkg)
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./%s: %v\n%s", pkg, err, output)
	}
	return out, nil
}

// binaryDir returns the per-process directory the built binaries go to.
// Test binaries have no common TestMain to remove it, so each new one
// removes the directories of test processes that no longer exist instead.
func binaryDir() (string, error) {
	binDirOnce.Do(func() {
		prefix := filepath.Join(os.TempDir(), "svtest-bin-")
		old, _ := filepath.Glob(prefix + "*")
		for _, d := range old {
			pid, err := strconv.Atoi(strings.TrimPrefix(d, prefix))
			if err == nil && pid != os.Getpid() && syscall.Kill(pid, 0) == syscall.ESRCH {
				os.RemoveAll(d)
			}
		}
		binDir = prefix + strconv.Itoa(os.Getpid())
		binDirErr = os.MkdirAll(binDir, 0o755)
	})
	return binDir, binDirErr
}

// FreePort returns a loopback TCP port for a program that the test starts
// later, chosen outside the kernel's ephemeral range so that no outgoing
// connection takes it meanwhile.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
