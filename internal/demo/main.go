// Command demo shows the superlance listeners at work: `make demo`.
//
// It builds httpok, memmon, crashmail, crashmailbatch, fatalmailbatch,
// crashsms, missingmail and procmon from this tree, starts a real supervisord
// (supervisord -n) in a temporary directory with four example programs
// that misbehave (examples/demo/misbehave: a web app that hangs, one that
// leaks memory, one that crashes, one that never starts), and runs the
// listeners against them on TICK_5, so everything happens within a
// minute. Their mail goes to an SMTP server inside the demo, which prints
// each message and saves it in demo-mail/. The demo narrates what it sees
// in supervisord's process table, in the listeners' logs and in the mail,
// then stops supervisord and checks that nothing it started is still
// running.
//
// Usage:
//
//	go run ./internal/demo [-short] [-keep] [-mail-dir DIR]
//
// It stops when every listener has acted, after 80 s at the latest, or on
// Ctrl-C. Exit status 0 when every listener acted, 1 otherwise.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/superlance-go/superlance/internal/module"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	short := fs.Bool("short", false, "misbehave faster (what the end-to-end test uses)")
	keep := fs.Bool("keep", false, "keep the temporary directory (config, logs) afterwards")
	mailDir := fs.String("mail-dir", "", "store each mail here (default: demo-mail/ in the repository)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	root, err := module.Root()
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	o := options{Root: root, MailDir: *mailDir, Keep: *keep, Timing: normalTiming, Out: stdout, Color: isTerminal(stdout)}
	if *short {
		o.Timing = shortTiming
	}
	if o.MailDir == "" {
		o.MailDir = filepath.Join(root, "demo-mail")
	}
	rep, err := runDemo(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	if !rep.AllActed && !rep.Interrupted {
		fmt.Fprintln(stderr, "demo: not every listener acted; the logs are in the summary above (run with -keep to look at them)")
		return 1
	}
	return 0
}

// isTerminal reports whether w is a terminal, for colours; NO_COLOR turns
// them off (https://no-color.org).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
