package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/batchmon"
)

// tool is what sets crashmailbatch apart from the other batch commands.
var tool = batchmon.Tool{
	Name:           "crashmailbatch",
	Description:    "Collect unexpected process exits and mail them in one batch per interval.",
	Event:          eventproto.ProcessStateExited,
	DefaultSubject: "Crash alert from supervisord",
	Format:         batchmon.Crash,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	return batchmon.Run(ctx, tool, args, stdin, stdout, stderr, env)
}
