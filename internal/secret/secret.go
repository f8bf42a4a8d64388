// Package secret reads a password the ways a command line may name it:
// directly, through an environment variable, or through a file, so that
// argv and the environment of a supervisord config can stay free of it.
package secret

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/superlance-go/superlance/internal/environ"
)

// Resolve returns the password given directly, through the name of an
// environment variable in env (os.Environ() form), or through a file (its
// first line, line ending removed). At most one source may be set.
func Resolve(direct, envName, file string, env []string) (string, error) {
	set := 0
	for _, s := range []string{direct, envName, file} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		return "", errors.New("give the password only one way: directly, by environment variable, or by file")
	}
	switch {
	case envName != "":
		v, ok := environ.Get(env, envName)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", envName)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading password file: %w", err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimSuffix(first, "\r"), nil
	}
	return direct, nil
}
