// Command mylistener is the example of the README's "Writing your own
// listener": on every unexpected exit of a program it mails the end of the
// program's stderr log, so the alert says why the program died.
//
//	[eventlistener:crashtail]
//	command=/usr/local/bin/mylistener ops@example.com
//	events=PROCESS_STATE_EXITED
//
// It uses the three public packages: eventproto for the protocol and the
// event loop, rpcclient to read the log from supervisord, notify to mail
// without ever making supervisord wait.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/notify"
	"github.com/superlance-go/superlance/rpcclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	// stdout belongs to the protocol: log to stderr only.
	logger := log.New(stderr, "mylistener: ", 0)
	if len(args) != 1 {
		logger.Print("usage: mylistener ADDRESS")
		return 2
	}
	to := args[0]
	sv, err := rpcclient.FromEnv(env) // SUPERVISOR_SERVER_URL, set by supervisord
	if err != nil {
		logger.Printf("%v (run me from an [eventlistener:x] section)", err)
		return 1
	}
	defer sv.Close()

	mail := notify.NewQueue(&notify.Sendmail{Command: "/usr/sbin/sendmail -t -i"}, notify.QueueOptions{Log: logger})
	work := eventproto.NewWorker(ctx)

	// The handler runs on the event loop: it decides and returns at once.
	// The RPC call and the mail go to the worker, because supervisord
	// keeps only buffer_size events for a listener that is slow to answer.
	handle := func(ctx context.Context, ev eventproto.Event) {
		if ev.Name() != eventproto.ProcessStateExited {
			return
		}
		p, err := eventproto.ParseProcessState(ev.Payload)
		if err != nil {
			logger.Print(err)
			return
		}
		if p.Expected {
			return
		}
		work.Go(func(ctx context.Context) {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			body := fmt.Sprintf("%s exited unexpectedly (pid %d, was %s).\n\n", p.Namespec(), p.Pid, p.FromState)
			if tail, err := sv.TailProcessStderrLog(ctx, p.Namespec(), 0, 2000); err != nil {
				body += fmt.Sprintf("Its stderr log could not be read: %v\n", err)
			} else {
				body += "The end of its stderr log:\n\n" + tail.Bytes
			}
			m := &notify.Message{To: []string{to}, Subject: p.Namespec() + " crashed", Body: body}
			if err := mail.Enqueue(m); err != nil {
				logger.Printf("not mailed: %v", err)
			}
		})
	}

	err = eventproto.Serve(ctx, eventproto.NewListener(stdin, stdout), handle, eventproto.ServeOptions{
		Log: logger,
		// On stdin EOF or SIGTERM: finish the jobs, then send what is queued,
		// within the grace period Serve gives.
		Drain: func(ctx context.Context) error {
			werr := work.Wait(ctx)
			mail.Close(ctx) // logs what it could not deliver
			return werr
		},
	})
	if err != nil {
		logger.Print(err)
		return 1
	}
	return 0
}
