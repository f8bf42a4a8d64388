package main

import (
	"context"
	"fmt"
	"io"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/batchmon"
	"github.com/superlance-go/superlance/internal/shutdown"
)

// tool is fatalmailbatch's policy; batchmon does the rest.
var tool = batchmon.Tool{
	Name:           "fatalmailbatch",
	Description:    "Collect processes that failed to start (FATAL) and mail them in one batch per interval.",
	Event:          eventproto.ProcessStateFatal,
	DefaultSubject: "Fatal start alert from supervisord",
	Format:         format,
	Kind:           alert.Fatal,
}

// format is fatalmailbatch's line: every process that gave up starting.
func format(ps eventproto.ProcessState, asctime string) (string, bool) {
	return fmt.Sprintf("%s -- Process %s:%s failed to start too many times", asctime, ps.GroupName, ps.ProcessName), true
}

func main() { shutdown.Main(run) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	return batchmon.Run(ctx, tool, args, stdin, stdout, stderr, env)
}
