// Package module finds this repository's checkout and the go command, for
// the programs and test helpers that build the tools from source (the
// test harness, the demo, the benchmark harness).
package module

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Root returns the directory of this module's go.mod, searched upwards
// from the working directory, so that it works from any package directory
// of the checkout.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module github.com/superlance-go/superlance\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the superlance repository (its go.mod was not found above the working directory)")
		}
		dir = parent
	}
}

// GoCommand returns the go command: the one on PATH, else the one of the
// toolchain that built this program.
func GoCommand() string {
	if path, err := exec.LookPath("go"); err == nil {
		return path
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
