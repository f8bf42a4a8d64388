// Package startup is what every event listener does once its command line
// is read and before it serves events: send the test alert of
// --test-alert, refuse to run outside supervisord, open the log and say
// what the mail settings warned about, connect to supervisord. Each tool
// keeps its own refusal text and exit code, which are superlance's.
package startup

import (
	"context"
	"fmt"
	"io"
	"log"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/alertflags"
	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/internal/environ"
	"github.com/superlance-go/superlance/rpcclient"
)

// Options describe one tool's start.
type Options struct {
	Name string // the command's name, the prefix of its log lines
	// Refusal is the line written to stderr when the tool runs outside
	// supervisord (SUPERVISOR_SERVER_URL unset or empty), and RefusalCode
	// its exit code: both are upstream's, which differ between tools.
	Refusal     string
	RefusalCode int
	Channels    *alertflags.Channels
	// TestMail is the mail transport --test-alert sends through (nil for
	// none); it is called only then, with the log.
	TestMail func(*log.Logger) alert.Transport
	Warnings []string // the mail settings' start-up warnings
}

// Begin runs the start common to every listener. It returns the log, or
// done=true and the exit code when the tool must stop now: after the test
// alert, or outside supervisord.
func Begin(ctx context.Context, o Options, stderr io.Writer, env []string) (logger *log.Logger, code int, done bool) {
	if o.Channels.TestAlert {
		logger := cli.NewLogger(stderr, o.Name)
		var mail alert.Transport
		if o.TestMail != nil {
			mail = o.TestMail(logger)
		}
		return nil, o.Channels.SendTest(ctx, o.Name, mail, logger), true
	}
	if url, _ := environ.Get(env, "SUPERVISOR_SERVER_URL"); url == "" {
		fmt.Fprintln(stderr, o.Refusal)
		return nil, o.RefusalCode, true
	}
	logger = cli.NewLogger(stderr, o.Name)
	for _, w := range o.Warnings {
		logger.Printf("warning: %s", w)
	}
	return logger, cli.ExitOK, false
}

// Connect returns the client of the supervisord the listener runs under,
// or logs why there is none and returns done=true with the exit code.
func Connect(logger *log.Logger, env []string) (client *rpcclient.Client, code int, done bool) {
	client, err := rpcclient.FromEnv(env)
	if err != nil {
		logger.Printf("connecting to supervisord: %v", err)
		return nil, cli.ExitFailure, true
	}
	return client, cli.ExitOK, false
}
