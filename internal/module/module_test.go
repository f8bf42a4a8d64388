package module

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRoot(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "module", "module.go")); err != nil {
		t.Errorf("Root() = %s, which does not hold this package: %v", root, err)
	}
	t.Chdir(t.TempDir())
	if got, err := Root(); err == nil {
		t.Errorf("Root() outside the repository = %s, want an error", got)
	}
}

func TestGoCommand(t *testing.T) {
	if _, err := os.Stat(GoCommand()); err != nil {
		t.Errorf("GoCommand() = %s: %v", GoCommand(), err)
	}
}
