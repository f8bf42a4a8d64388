// Package environ reads variables out of an environment given as a list of
// KEY=value strings (os.Environ() form), so that code below cmd/ never reads
// the process environment itself and tests can hand it any environment.
// It has no dependencies, so the public packages can use it.
package environ

import "strings"

// Get looks key up in env. The last entry wins, as in a process
// environment built by appending.
func Get(env []string, key string) (string, bool) {
	val, found := "", false
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			val, found = v, true
		}
	}
	return val, found
}
