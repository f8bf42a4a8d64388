// Package shutdown turns the signals a listener can receive into one clean
// stop, the same for every tool: stop reading events, finish the work in
// hand, deliver what is queued, exit.
package shutdown

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Signals end the event loop through the context Context returns. SIGHUP
// is one of them: a listener has no configuration to reload, and the
// default action (death) would lose the batch and the mail queue without a
// word; a hangup (the terminal of a supervisord run in the foreground, a
// careless kill -HUP) is treated like SIGTERM.
var Signals = []os.Signal{syscall.SIGTERM, syscall.SIGHUP, os.Interrupt}

// Context returns a context that is cancelled, with the signal as its
// cause, by the first of Signals. It also ignores SIGPIPE: when supervisord
// dies, the listener's stdout and stderr close with its stdin, and a Go
// program writing to a closed stdout or stderr is otherwise killed by
// SIGPIPE at the first log line, mail still queued. Ignored, such a write
// returns EPIPE: the event loop ends on the failed READY, log lines are
// lost, and the queued mail is still delivered.
//
// Call stop when the run is over, as with signal.NotifyContext.
func Context() (ctx context.Context, stop context.CancelFunc) {
	signal.Ignore(syscall.SIGPIPE)
	return signal.NotifyContext(context.Background(), Signals...)
}

// Main is every command's main: it runs run with the process's arguments,
// standard streams and environment under Context, and exits with the code
// run returns.
func Main(run func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int) {
	ctx, stop := Context()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}
