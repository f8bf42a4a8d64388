// Command mangen writes the manual page of every tool (make man): the
// options, arguments and description from the tool's own command-line
// model (its hidden --help-man, the model --help prints), and the text of
// its package documentation (cmd/NAME/doc.go) as the page's DESCRIPTION.
// Options come from one place and prose from another, so that --help, the
// manual page and go doc cannot drift; TestEveryTool checks that doc.go
// names only options the tool accepts and lists none itself.
//
// Usage: go run ./internal/mangen -bin DIR -out DIR
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/superlance-go/superlance/internal/module"
	"github.com/superlance-go/superlance/internal/tools"
)

func main() {
	bin := flag.String("bin", "bin", "directory of the built tools")
	out := flag.String("out", "build/man", "directory for the NAME.1 pages")
	flag.Parse()
	if err := run(*bin, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
}

func run(bin, out string) error {
	root, err := module.Root()
	if err != nil {
		return err
	}
	names, err := tools.Names(root)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, t := range names {
		page, err := Page(root, filepath.Join(bin, t), t)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, t+".1"), page, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Page is the manual page of tool: what its binary prints for --help-man,
// with the package documentation of cmd/TOOL after the description.
func Page(root, binary, tool string) ([]byte, error) {
	model, err := exec.Command(binary, "--help-man").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --help-man: %w", binary, err)
	}
	doc, err := docText(filepath.Join(root, "cmd", tool))
	if err != nil {
		return nil, err
	}
	const mark = ".SH DESCRIPTION\n"
	i := bytes.Index(model, []byte(mark))
	if i < 0 {
		return nil, fmt.Errorf("%s --help-man: no DESCRIPTION", binary)
	}
	// The model's one-line description stays first; the package
	// documentation follows it, after the first sentence it repeats.
	j := i + len(mark) + bytes.Index(model[i+len(mark):], []byte("\n.PP\n"))
	var b bytes.Buffer
	b.Write(model[:j])
	b.WriteString("\n.PP\n")
	b.WriteString(doc)
	b.Write(model[j:])
	return b.Bytes(), nil
}

// roff escapes a line of text for roff.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
