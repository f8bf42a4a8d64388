// Package tools is the list of the project's tools: the directories under
// cmd/. The Makefile (its wildcard), the manual pages (internal/mangen),
// the Debian package (scripts/test-deb) and the tests that cover every
// tool all read that one list, so a new tool is covered without being
// named anywhere else.
package tools

import (
	"os"
	"path/filepath"
)

// Names returns the names of the tools of the module at root.
func Names(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "cmd"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
