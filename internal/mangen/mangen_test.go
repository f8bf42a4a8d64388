package main

import (
	"go/doc/comment"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/superlance-go/superlance/internal/module"
	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/internal/tools"
)

var longOpt = regexp.MustCompile(`--[A-Za-z][A-Za-z0-9_-]*`)

// TestEveryTool checks, for every tool under cmd/, that --version works,
// that the manual page lists every option --help lists, that it renders
// without warnings, and that the tool's doc.go names no option the tool
// does not accept and lists no options of its own: options live in the
// command-line model, prose in doc.go, and the two meet only in the
// manual page. A list in doc.go would be a second copy that misses the
// next option added to the model.
func TestEveryTool(t *testing.T) {
	root, err := module.Root()
	if err != nil {
		t.Fatal(err)
	}
	names, err := tools.Names(root)
	if err != nil || len(names) < 7 {
		t.Fatalf("tools %v, %v", names, err)
	}
	for _, tool := range names {
		t.Run(tool, func(t *testing.T) {
			bin := svtest.BuildTool(t, tool)

			out, err := exec.Command(bin, "--version").Output()
			if err != nil {
				t.Fatalf("--version: %v", err)
			}
			if !regexp.MustCompile(`^` + tool + ` \S+\ncommit \S+\nbuilt with ` + regexp.QuoteMeta(runtime.Version()) + `\n$`).Match(out) {
				t.Errorf("--version printed %q", out)
			}

			help, err := exec.Command(bin, "--help").Output()
			if err != nil {
				t.Fatalf("--help: %v", err)
			}
			page, err := Page(root, bin, tool)
			if err != nil {
				t.Fatal(err)
			}
			man := strings.ReplaceAll(string(page), `\-`, "-")
			known := map[string]bool{}
			for _, o := range longOpt.FindAllString(man, -1) {
				known[o] = true
			}
			for _, o := range longOpt.FindAllString(string(help), -1) {
				if !known[o] {
					t.Errorf("--help names %s, the manual page does not", o)
				}
			}
			doc, err := DocComment(root + "/cmd/" + tool)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range longOpt.FindAllString(doc, -1) {
				if !known[o] {
					t.Errorf("doc.go names %s, which %s does not accept", o, tool)
				}
			}
			for _, l := range optionListLines(doc, tool) {
				t.Errorf("doc.go lists options (%q): leave them to the command-line model, --help and the manual page", l)
			}
			if !strings.Contains(strings.Join(strings.Fields(doc), " "), `"`+tool+` --help"`) {
				t.Errorf("doc.go does not point to %q for the options", tool+" --help")
			}
			if man, err := exec.LookPath("man"); err == nil {
				cmd := exec.Command(man, "--warnings", "-l", "-")
				cmd.Stdin = strings.NewReader(string(page))
				cmd.Env = []string{"MANWIDTH=80", "PATH=/usr/bin:/bin"}
				out, err := cmd.CombinedOutput()
				if err != nil || strings.Contains(string(out), "warning") {
					t.Errorf("man -l: %v\n%s", err, out)
				}
			}
		})
	}
}

// TestHelpComplete checks what a reader of --help could not find before:
// defaults, accepted spellings, memmon's SIZE syntax.
func TestHelpComplete(t *testing.T) {
	want := map[string][]string{
		"memmon":         {"(default \"/usr/sbin/sendmail -t -i\")", "--groupname", "--sendmail", "KB, MB or GB"},
		"crashmail":      {"(default \"/usr/sbin/sendmail -t -i\")", "--sendmail"},
		"crashmailbatch": {"(default: localhost)", `(default: "Crash alert from supervisord"`, "--sendmail-program"},
		"fatalmailbatch": {"(default: localhost)", `(default: "Fatal start alert from supervisord"`},
		"crashsms":       {"(default: localhost)", "--fromEmail"},
	}
	for tool, wants := range want {
		out, err := exec.Command(svtest.BuildTool(t, tool), "--help").Output()
		if err != nil {
			t.Fatal(err)
		}
		help := strings.Join(strings.Fields(string(out)), " ")
		for _, w := range wants {
			if !strings.Contains(help, w) {
				t.Errorf("%s --help lacks %q", tool, w)
			}
		}
	}
}

// optionLine is a line of a code block that starts an option list entry
// ("-p, --program NAME", "--spool DIR") or a usage synopsis that lists
// options ("crashmail [-p NAME]...").
var optionLine = regexp.MustCompile(`^\s*(--?[A-Za-z]|\S+ [\[(]-)`)

// optionListLines returns the lines of doc's code blocks that look like a
// hand-written option list or synopsis. Prose may name options (the test
// above checks that each exists); only lists duplicate the model.
func optionListLines(doc, tool string) []string {
	var p comment.Parser
	var found []string
	for _, b := range p.Parse(doc).Content {
		code, ok := b.(*comment.Code)
		if !ok {
			continue
		}
		for _, l := range strings.Split(code.Text, "\n") {
			if optionLine.MatchString(l) {
				found = append(found, l)
			}
		}
	}
	return found
}

// TestOptionListLines makes sure the check above can fail: it finds the
// kinds of list doc.go files used to carry, and passes prose and examples.
func TestOptionListLines(t *testing.T) {
	doc := "Usage:\n\n\tcrashmail [-p NAME]... [-a]\n\nFlags:\n\n\t-p, --program NAME  watch NAME\n\t--spool DIR  keep mail\n\n" +
		"Prose naming -p and --spool is fine.\n\n\t[eventlistener:crashmail]\n\tcommand=/usr/local/bin/crashmail -p web\n\n\tSubject: web crashed\n"
	got := optionListLines(doc, "crashmail")
	want := []string{"crashmail [-p NAME]... [-a]", "-p, --program NAME  watch NAME", "--spool DIR  keep mail"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("optionListLines = %q, want %q", got, want)
	}
}
