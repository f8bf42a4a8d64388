// Command misbehave is a set of small programs that go wrong on purpose,
// for trying the superlance listeners under supervisord: `make demo` runs
// them, the integration tests too, and they are handy in a test environment
// of your own.
//
// Usage:
//
//	misbehave web -addr 127.0.0.1:8080 -hang-after 12s
//	    serve HTTP, then hang: connections accepted, never answered.
//	misbehave alloc -step 2MB -every 500ms
//	    grow steadily, never freeing memory.
//	misbehave crash -after 6s -code 1
//	    run for a while, then exit with that status.
//	misbehave fail
//	    fail at once: BACKOFF, then FATAL.
//	misbehave sleep | record -out FILE
//	    run until SIGTERM; record the event stream as a listener.
//
// Every flag is described in internal/misbehave's documentation
// (go doc ./internal/misbehave).
package main

import (
	"os"

	"github.com/superlance-go/superlance/internal/misbehave"
)

func main() {
	os.Exit(misbehave.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
