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

// tool is crashmailbatch's policy; batchmon does the rest.
var tool = batchmon.Tool{
	Name:           "crashmailbatch",
	Description:    "Collect unexpected process exits and mail them in one batch per interval.",
	Event:          eventproto.ProcessStateExited,
	DefaultSubject: "Crash alert from supervisord",
	Format:         format,
	Kind:           alert.Crash,
}

// format is crashmailbatch's line: every unexpected exit.
func format(ps eventproto.ProcessState, asctime string) (string, bool) {
	if ps.Expected {
		return "", false
	}
	return fmt.Sprintf("%s -- Process %s:%s (pid %d) died unexpectedly", asctime, ps.GroupName, ps.ProcessName, ps.Pid), true
}

func main() { shutdown.Main(run) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	return batchmon.Run(ctx, tool, args, stdin, stdout, stderr, env)
}
