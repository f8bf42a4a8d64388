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

// tool is crashsms's policy; batchmon does the rest.
var tool = batchmon.Tool{
	Name:           "crashsms",
	Description:    "Collect unexpected process exits as short SMS-style lines and mail them in one batch per interval.",
	Event:          eventproto.ProcessStateExited,
	DefaultSubject: "", // no Subject unless -s, for email-to-SMS gateways
	Format:         format,
	Kind:           alert.Crash,
	SMS:            true,
}

// format is crashsms's short line: every unexpected exit.
func format(ps eventproto.ProcessState, asctime string) (string, bool) {
	if ps.Expected {
		return "", false
	}
	return fmt.Sprintf("[%s:%s](%d) exited unexpectedly %s", ps.GroupName, ps.ProcessName, ps.Pid, asctime), true
}

func main() { shutdown.Main(run) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	return batchmon.Run(ctx, tool, args, stdin, stdout, stderr, env)
}
