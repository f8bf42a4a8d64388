package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kong"
)

// manFlag is --help-man (hidden): the manual page of the command, in
// roff, from the same model and the same help texts as --help, so that the
// two cannot drift. make man writes every tool's page with it.
type manFlag bool

func (manFlag) BeforeReset(app *kong.Kong) error {
	WriteMan(app.Stdout, app.Model)
	app.Exit(0)
	return nil
}

// WriteMan writes the manual page of a command: its description, its
// arguments and options as --help shows them (HelpText), the exit codes
// every command shares, and the version it was built from.
func WriteMan(w io.Writer, app *kong.Application) {
	name := app.Name
	summary, _, _ := strings.Cut(app.Help, ". ")
	summary = strings.TrimSuffix(summary, ".")
	fmt.Fprintf(w, ".TH %s 1 \"\" \"superlance %s\" \"User Commands\"\n", strings.ToUpper(name), roff(Build().Version))
	fmt.Fprintf(w, ".SH NAME\n%s \\- %s\n", name, roff(lowerFirst(summary)))
	fmt.Fprintf(w, ".SH SYNOPSIS\n.B %s\n%s\n", name, roff(strings.TrimPrefix(app.Summary(), name+" ")))
	fmt.Fprintf(w, ".SH DESCRIPTION\n%s\n", roffText(app.Help))
	fmt.Fprintln(w, ".PP\nIt runs as a supervisord event listener ([eventlistener:x] in supervisord.conf):")
	fmt.Fprintln(w, "events come on standard input, standard output carries the protocol's answers,")
	fmt.Fprintln(w, "and the log goes to standard error, every line starting with the time.")
	if len(app.Positional) > 0 {
		fmt.Fprintln(w, ".SH ARGUMENTS")
		for _, p := range app.Positional {
			fmt.Fprintf(w, ".TP\n.I %s\n%s\n", roff(p.Summary()), roffText(HelpText(p)))
		}
	}
	fmt.Fprintln(w, ".SH OPTIONS")
	for _, group := range app.AllFlags(true) {
		for _, f := range group {
			fmt.Fprintf(w, ".TP\n%s\n%s\n", flagLine(f), roffText(HelpText(f.Value)))
		}
	}
	var hidden []string
	for _, group := range app.AllFlags(false) {
		for _, f := range group {
			if f.Hidden {
				hidden = append(hidden, "--"+f.Name)
			}
		}
	}
	// Earlier spellings, still accepted: not shown, but known to the
	// documentation check.
	fmt.Fprintf(w, ".\\\" accepted, not shown: %s\n", strings.Join(hidden, " "))
	fmt.Fprintln(w, ".SH EXIT STATUS")
	fmt.Fprintln(w, ".TP\n0\na clean stop (standard input closed, SIGTERM or SIGHUP), --help, --version")
	fmt.Fprintln(w, ".TP\n1\na runtime failure: not run by supervisord, a protocol error, a failed test alert")
	fmt.Fprintln(w, ".TP\n2\na usage error, reported on standard error")
	fmt.Fprintln(w, ".SH SEE ALSO")
	fmt.Fprintln(w, ".BR supervisord (1),")
	fmt.Fprintln(w, ".BR supervisorctl (1);")
	fmt.Fprintln(w, "the README and examples/supervisord.conf in /usr/share/doc/superlance-go.")
}

// flagLine is the tag of an option: "-s, --subject=SUBJECT".
func flagLine(f *kong.Flag) string {
	var parts []string
	if f.Short != 0 {
		parts = append(parts, `\fB\-`+string(f.Short)+`\fR`)
	}
	long := `\fB\-\-` + roff(f.Name) + `\fR`
	if !f.IsBool() && !f.IsCounter() {
		long += `=\fI` + roff(f.FormatPlaceHolder()) + `\fR`
	}
	return strings.Join(append(parts, long), ", ")
}

// roff escapes text for one roff line: backslashes, and hyphens, which
// man pages set as minus signs in options.
func roff(s string) string {
	return strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
}

// roffText is roff for running text: blank lines start paragraphs, and no
// line may start with a control character.
func roffText(s string) string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		line = roff(strings.TrimSpace(line))
		switch {
		case line == "":
			line = ".PP"
		case line[0] == '.' || line[0] == '\'':
			line = `\&` + line
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func lowerFirst(s string) string {
	if s == "" || strings.HasPrefix(s, "A supervisord") {
		return strings.TrimPrefix(s, "A ")
	}
	return strings.ToLower(s[:1]) + s[1:]
}
