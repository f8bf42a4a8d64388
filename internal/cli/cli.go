// Package cli is the command-line handling every command shares: kong set
// up for a testable run(), one exit-code policy, and one form of usage
// error and of log line.
package cli

import (
	"fmt"
	"io"
	"log"
	"regexp"
	"strings"
	"time"

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
		kong.Embed(&common{}),
		kong.ValueFormatter(HelpText),
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
	if flag := valueFlagWithoutValue(parser, args); flag != "" {
		Usagef(stderr, name, "%s needs a value", flag)
		return nil, ExitUsage, true
	}
	kctx, err = parser.Parse(args)
	if err != nil {
		Usagef(stderr, name, "%v", err)
		return nil, ExitUsage, true
	}
	return kctx, 0, false
}

// valueFlagWithoutValue returns the option that ends args while expecting a
// value ("-m", "-am" or "--email" as the last word), or "". getopt rejects
// such a command line; kong, allowed to take values starting with '-'
// (httpok -b -x), would silently give the option an empty value and, for
// example, turn mail off. args are scanned the way getopt consumes them, so
// the value of one option is never taken for another option.
func valueFlagWithoutValue(parser *kong.Kong, args []string) string {
	shorts := map[rune]bool{}
	longs := map[string]bool{}
	for _, group := range parser.Model.AllFlags(false) {
		for _, f := range group {
			takesValue := !f.IsBool() && !f.IsCounter()
			if f.Short != 0 {
				shorts[f.Short] = takesValue
			}
			longs["--"+f.Name] = takesValue
			for _, alias := range f.Aliases {
				longs["--"+alias] = takesValue
			}
		}
	}
	for i := 0; i < len(args); i++ {
		a, last := args[i], i == len(args)-1
		switch {
		case a == "--":
			return ""
		case strings.HasPrefix(a, "--"):
			if longs[a] { // "--opt=value" is not a key, so it never lands here
				if last {
					return a
				}
				i++
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			// In a bundle of short options the first one that takes a
			// value takes the rest of the word, or else the next word.
			runes := []rune(a[1:])
			for j, r := range runes {
				if !shorts[r] {
					continue // a flag, or unknown: kong reports those
				}
				if j == len(runes)-1 {
					if last {
						return "-" + string(r)
					}
					i++
				}
				break
			}
		}
	}
	return ""
}

// HelpText is the help of one option as --help and the manual page show
// it: its help, then its default and its other spellings, unless the help
// already names them, so that no default and no accepted spelling goes
// unmentioned.
func HelpText(v *kong.Value) string {
	h := kong.DefaultHelpValueFormatter(v)
	if v.Default != "" && !v.IsBool() && !strings.Contains(h, v.Default) {
		h += fmt.Sprintf(" (default: %s)", v.Default)
	}
	if v.Flag == nil {
		return h
	}
	var also []string
	for _, a := range v.Flag.Aliases {
		if !strings.Contains(h, "--"+a) {
			also = append(also, "--"+a)
		}
	}
	if len(also) > 0 {
		h += " (also " + strings.Join(also, ", ") + ")"
	}
	return h
}

// Usagef writes a usage error in the form every command uses:
// "NAME: error: MESSAGE" plus a pointer to --help.
func Usagef(stderr io.Writer, name, format string, args ...any) {
	fmt.Fprintf(stderr, "%s: error: %s\n", name, fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", name)
}

// TimeLayout is supervisord's own timestamp format, which every log line
// starts with: supervisord stores a listener's stderr as it comes, adding
// nothing, and a line without a time is of little use in a log file.
const TimeLayout = "2006-01-02 15:04:05,000"

// NewLogger returns the stderr logger of a command, "TIME NAME: message",
// one line per message, and logs the command's version once: every
// command calls it once, when it starts serving.
func NewLogger(stderr io.Writer, name string) *log.Logger {
	return newLogger(stderr, name, time.Now)
}

func newLogger(stderr io.Writer, name string, now func() time.Time) *log.Logger {
	l := log.New(&stampWriter{w: stderr, now: now}, name+": ", 0)
	l.Printf("starting, version %s", Build())
	return l
}

// stampWriter puts the time in front of each line a log.Logger writes (it
// writes every message, prefix and newline included, in one call).
type stampWriter struct {
	w   io.Writer
	now func() time.Time
}

func (s *stampWriter) Write(p []byte) (int, error) {
	line := make([]byte, 0, len(TimeLayout)+1+len(p))
	line = s.now().AppendFormat(line, TimeLayout)
	line = append(line, ' ')
	line = append(line, p...)
	if _, err := s.w.Write(line); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Given returns the names of the flags that appeared on the command line
// (an alias counts under the flag's name), so that a flag given an empty
// value can be told apart from one left out.
func Given(kctx *kong.Context) map[string]bool {
	given := map[string]bool{}
	for _, p := range kctx.Path {
		if p.Flag != nil {
			given[p.Flag.Name] = true
		}
	}
	return given
}

var (
	logTime     = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} `)
	versionLine = regexp.MustCompile(`(?m)^\S+: starting, version .*\n`)
)

// Untimed returns the lines of a command's log without their timestamps
// and without the version line logged at start: the facts alone, for the
// demo's narration and the tests.
func Untimed(log string) string {
	return versionLine.ReplaceAllString(logTime.ReplaceAllString(log, ""), "")
}
