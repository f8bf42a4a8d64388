package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/notify"
	"github.com/superlance-go/superlance/rpcclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	cfg, code, done := parseArgs(args, stdout, stderr)
	if done {
		return code
	}
	transport, err := cfg.smtp.Transport(cfg.sendmail, env)
	if err != nil {
		cli.Usagef(stderr, "memmon", "%v", err)
		return cli.ExitUsage
	}
	if cfg.email != nil {
		// Refuse a recipient, name or From that could never be mailed now,
		// rather than at the first restart.
		if err := cfg.message("x", "").Validate(); err != nil {
			cli.Usagef(stderr, "memmon", "mail settings: %v", err)
			return cli.ExitUsage
		}
	}
	if url, ok := cli.Getenv(env, "SUPERVISOR_SERVER_URL"); !ok || url == "" {
		fmt.Fprintln(stderr, "memmon must be run as a supervisor event listener")
		return cli.ExitFailure
	}
	logger := cli.NewLogger(stderr, "memmon")
	client, err := rpcclient.FromEnv(env)
	if err != nil {
		logger.Printf("connecting to supervisord: %v", err)
		return cli.ExitFailure
	}
	defer client.Close()

	m := &memmon{cfg: cfg, sv: client, snapshot: snapshot, log: logger, now: time.Now}
	m.selfName, _ = cli.Getenv(env, "SUPERVISOR_PROCESS_NAME")
	m.selfGroup, _ = cli.Getenv(env, "SUPERVISOR_GROUP_NAME")
	var queue *notify.Queue
	if cfg.email != nil {
		queue = notify.NewQueue(transport, notify.QueueOptions{Log: logger})
		m.enqueue = queue.Enqueue
	}
	err = cli.ServeTicks(ctx, stdin, stdout, logger, queue, m.scan)
	if err != nil {
		logger.Printf("%v", err)
		return cli.ExitFailure
	}
	return cli.ExitOK
}
