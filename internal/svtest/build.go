package svtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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

// A tool's tests run the tool as a real process under supervisord without
// building it: the test binary is the tool too. TestMain calls ToolMain
// first; started under the tool's name (through a link named like the
// tool, which Tool returns), the test binary runs the tool's main instead
// of the tests.
var (
	toolsMu sync.Mutex
	tools   = map[string]bool{}

	linkDirOnce sync.Once
	linkDir     string
	linkDirErr  error
)

// ToolMain runs main, the tool's own main function, when this process was
// started as name, and then exits (main normally exits itself). Otherwise
// it registers name for Tool and returns. Call it first in TestMain:
//
//	func TestMain(m *testing.M) {
//		svtest.ToolMain("crashmail", main)
//		os.Exit(svtest.RunTests(m))
//	}
func ToolMain(name string, main func()) {
	if filepath.Base(os.Args[0]) == name {
		main()
		os.Exit(0)
	}
	toolsMu.Lock()
	tools[name] = true
	toolsMu.Unlock()
	// A race-detector build sleeps a second at exit to let other goroutines
	// report; the tools started from this test binary (through supervisord,
	// which passes its environment on) exit without it, so that stopping
	// supervisord does not wait a second per listener.
	if g := os.Getenv("GORACE"); !strings.Contains(g, "atexit_sleep_ms") {
		os.Setenv("GORACE", strings.TrimSpace(g+" atexit_sleep_ms=0"))
	}
}

// RunTests runs the tests and removes the tools' links afterwards.
func RunTests(m *testing.M) int {
	code := m.Run()
	if linkDir != "" {
		os.RemoveAll(linkDir)
	}
	return code
}

// Tool returns the path of the tool name, which TestMain registered with
// ToolMain: a link to this test binary under the tool's name.
func Tool(t testing.TB, name string) string {
	t.Helper()
	toolsMu.Lock()
	registered := tools[name]
	toolsMu.Unlock()
	if !registered {
		t.Fatalf("svtest.Tool(%q): TestMain must call svtest.ToolMain(%q, main) first", name, name)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := links()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, name)
	if err := os.Symlink(self, link); err != nil && !os.IsExist(err) {
		t.Fatal(err)
	}
	return link
}

// links returns the per-process directory of the tools' links. A test
// process that was killed leaves its directory behind, so each new one
// removes those of processes that no longer exist.
func links() (string, error) {
	linkDirOnce.Do(func() {
		prefix := filepath.Join(os.TempDir(), "svtest-bin-")
		old, _ := filepath.Glob(prefix + "*")
		for _, d := range old {
			pid, err := strconv.Atoi(strings.TrimPrefix(d, prefix))
			if err == nil && pid != os.Getpid() && syscall.Kill(pid, 0) == syscall.ESRCH {
				os.RemoveAll(d)
			}
		}
		linkDir = prefix + strconv.Itoa(os.Getpid())
		linkDirErr = os.MkdirAll(linkDir, 0o755)
	})
	return linkDir, linkDirErr
}

// BuildTool builds ./cmd/<name> of this module once per test binary and
// returns the binary's path: for benchmarks that measure the binary itself
// (its memory, its start-up), and for tests outside the tool's package. A
// tool's own tests use Tool.
func BuildTool(t testing.TB, name string) string {
	t.Helper()
	buildsMu.Lock()
	b, ok := builds[name]
	if !ok {
		b = &build{}
		builds[name] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "svtest-build-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, name)
		b.err = goBuild("./cmd/"+name, b.path)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

type build struct {
	once sync.Once
	path string
	err  error
}

var (
	buildsMu sync.Mutex
	builds   = map[string]*build{}
)

// goBuild runs go build -o out pkg in this module.
func goBuild(pkg, out string) error {
	root, err := module.Root()
	if err != nil {
		return err
	}
	cmd := exec.Command(module.GoCommand(), "build", "-o", out, pkg)
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, output)
	}
	return nil
}

// misbehaveSources are the files the misbehave binary is built from; they
// name its build in the shared cache.
var misbehaveSources = []string{"examples/demo/misbehave", "internal/misbehave"}

var (
	progOnce sync.Once
	progPath string
	progErr  error
)

// TestProg returns the path of the programs that misbehave on purpose
// (examples/demo/misbehave; see package misbehave for every flag):
//
//	misbehave crash -after 2s -code 1      exit with code after a delay
//	misbehave fail                         exit 1 at once (never reaches RUNNING)
//	misbehave sleep                        run until signalled
//	misbehave web -addr 127.0.0.1:PORT [-hang-after 3s] [-status 200] [-body ok]
//	                                       serve HTTP; after hang-after, accept but never answer
//	misbehave alloc -mb 50 [-children 0] [-step 2MB -every 1s]
//	                                       allocate and touch memory, then hold it
//	misbehave record -out FILE             event listener appending every byte it receives to FILE
//
// It is not the test binary acting as misbehave, as Tool's tools are: the
// memory tests measure these programs, and a race-detector build would
// hold several times the memory it allocates. So it is built without
// flags, once for every test binary of a `go test` run: the build is kept
// in the temp directory under a name made of its sources' hash.
func TestProg(t testing.TB) string {
	t.Helper()
	progOnce.Do(func() { progPath, progErr = sharedBuild() })
	if progErr != nil {
		t.Fatal(progErr)
	}
	return progPath
}

func sharedBuild() (string, error) {
	root, err := module.Root()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	for _, dir := range misbehaveSources {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		slices.Sort(files)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			r, err := os.Open(f)
			if err != nil {
				return "", err
			}
			fmt.Fprintln(h, filepath.Base(f))
			io.Copy(h, r)
			r.Close()
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))[:16]
	prefix := filepath.Join(os.TempDir(), "svtest-misbehave-")
	dir := prefix + sum
	bin := filepath.Join(dir, "misbehave")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	// Builds of older sources go once nobody can be using them.
	old, _ := filepath.Glob(prefix + "*")
	for _, d := range old {
		if fi, err := os.Stat(d); err == nil && d != dir && time.Since(fi.ModTime()) > time.Hour {
			os.RemoveAll(d)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Test binaries of one run build at the same time: each into a name of
	// its own, then renamed into place, which is atomic.
	tmp := fmt.Sprintf("%s.%d", bin, os.Getpid())
	if err := goBuild("./examples/demo/misbehave", tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
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

// Script writes a shell script into dir and returns the command that runs
// it, for a program whose few lines matter to the test (what it writes
// before it exits, say).
func Script(t testing.TB, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name+".sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return "/bin/sh " + path
}
