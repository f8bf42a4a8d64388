// Package cli holds what the six commands share on their command line:
// kong set up for a testable run(), one exit-code policy, and small helpers
// for reading the listener's environment and secrets.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/alecthomas/kong"
)

// Exit codes shared by all commands.
const (
	ExitOK      = 0
	ExitFailure = 1 // runtime failure
	ExitUsage   = 2 // bad command line: message on stderr
)

// exitRequest carries kong's exit code out of Parse; kong calls its Exit
// function from inside parsing (after -h), and run() must return instead of
// calling os.Exit.
type exitRequest struct{ code int }

// Parse parses args into grammar, a kong struct. When the process should
// stop now it returns done=true and the exit code: 0 after -h/--help (help on
// stdout), ExitUsage after a usage error (message on stderr, never stdout,
// which belongs to the event protocol).
func Parse(name, description string, grammar any, args []string, stdout, stderr io.Writer, opts ...kong.Option) (kctx *kong.Context, code int, done bool) {
	base := []kong.Option{
		kong.Name(name),
		kong.Description(description),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(exitRequest{code}) }),
		// getopt lets an option value start with '-' (httpok -b -x).
		kong.WithHyphenPrefixedParameters(true),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
	}
	parser, err := kong.New(grammar, append(base, opts...)...)
	if err != nil {
		// A broken grammar is a programming error, caught by every test.
		panic(fmt.Sprintf("%s: bad command-line grammar: %v", name, err))
	}
	defer func() {
		if r := recover(); r != nil {
			req, ok := r.(exitRequest)
			if !ok {
				panic(r)
			}
			kctx, code, done = nil, req.code, true
			if code != 0 {
				code = ExitUsage
			}
		}
	}()
	kctx, err = parser.Parse(args)
	if err != nil {
		Usagef(stderr, name, "%v", err)
		return nil, ExitUsage, true
	}
	return kctx, 0, false
}

// Usagef writes a usage error in the form every command uses:
// "NAME: error: MESSAGE" plus a pointer to --help.
func Usagef(stderr io.Writer, name, format string, args ...any) {
	fmt.Fprintf(stderr, "%s: error: %s\n", name, fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", name)
}

// Getenv looks key up in env (os.Environ() form). The last entry wins, as
// in a process environment built by appending.
func Getenv(env []string, key string) (string, bool) {
	val, found := "", false
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			val, found = v, true
		}
	}
	return val, found
}

// NewLogger returns the stderr logger of a command: one line per message,
// prefixed by the command name, no timestamp (supervisord adds its own when
// it stores the listener's stderr).
func NewLogger(stderr io.Writer, name string) *log.Logger {
	return log.New(stderr, name+": ", 0)
}

// Secret resolves a password given directly, through the name of an
// environment variable, or through a file (first line, trailing newline
// removed). At most one source may be set, so that argv can stay free of it.
func Secret(direct, envName, file string, env []string) (string, error) {
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
		v, ok := Getenv(env, envName)
		if !ok {
			return "", fmt.Errorf("password environment variable %s is not set", envName)
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
