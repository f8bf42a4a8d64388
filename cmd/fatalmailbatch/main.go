package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/superlance-go/superlance/internal/batchmon"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	return batchmon.Run(ctx, batchmon.FatalMailBatch, args, stdin, stdout, stderr, env)
}
