package eventproto_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/superlance-go/superlance/eventproto"
)

// A listener reads events and answers each one. Here stdin is a fixed
// stream of two events; stdout shows the protocol bytes written back.
func ExampleListener() {
	stdin := strings.NewReader(
		"ver:3.0 server:supervisor serial:26 pool:crashmail poolserial:26 eventname:PROCESS_STATE_EXITED len:76\n" +
			"processname:crasher groupname:crasher from_state:RUNNING expected:0 pid:8802" +
			"ver:3.0 server:supervisor serial:27 pool:crashmail poolserial:27 eventname:TICK_5 len:15\n" +
			"when:1795278030")
	var stdout strings.Builder
	l := eventproto.NewListener(stdin, &stdout)
	for {
		ev, err := l.Next()
		if err != nil {
			break // io.EOF: supervisord closed stdin
		}
		if ev.Name() == eventproto.ProcessStateExited {
			p, err := eventproto.ParseProcessState(ev.Payload)
			if err == nil && !p.Expected {
				// A real listener logs to stderr: stdout is the protocol.
				fmt.Printf("%s crashed (pid %d)\n", p.Namespec(), p.Pid)
			}
		}
		l.OK()
	}
	fmt.Printf("%q\n", stdout.String())
	// Output:
	// crasher crashed (pid 8802)
	// "READY\nRESULT 2\nOKREADY\nRESULT 2\nOKREADY\n"
}

// Serve is the loop a command runs: the handler decides quickly, slow work
// goes to a Worker, and the drain waits for it when stdin ends or SIGTERM
// cancels ctx.
func ExampleServe() {
	stdin := strings.NewReader(
		"ver:3.0 server:supervisor serial:15 pool:httpok poolserial:15 eventname:TICK_5 len:15\nwhen:1795278005")
	var stdout strings.Builder
	logger := log.New(os.Stdout, "httpok: ", 0) // a command logs to stderr

	ctx := context.Background() // in main: signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	worker := eventproto.NewWorker(ctx)
	checks := make(chan string, 1)
	err := eventproto.Serve(ctx, eventproto.NewListener(stdin, &stdout),
		func(ctx context.Context, ev eventproto.Event) {
			if !ev.IsTick() {
				return
			}
			if !worker.TryGo(func(ctx context.Context) { checks <- "checked at " + ev.Payload }) {
				logger.Printf("previous check still running, %s skipped", ev.Name())
			}
		},
		eventproto.ServeOptions{Log: logger, Drain: worker.Wait})
	fmt.Println(err, <-checks)
	fmt.Printf("%q\n", stdout.String())
	// Output:
	// <nil> checked at when:1795278005
	// "READY\nRESULT 2\nOKREADY\n"
}
