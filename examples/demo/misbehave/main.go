// Command misbehave is a set of small programs that go wrong on purpose, for
// trying the superlance listeners under supervisord. `make demo` runs them;
// they are also handy in a test environment of your own.
//
// Usage:
//
//	misbehave web -addr 127.0.0.1:8080 -hang-after 12s
//	    serve HTTP ("ok" on every path), then stop answering: connections
//	    are accepted but no response ever comes, as with a deadlocked app.
//	    httpok -t 2 notices at its next tick and restarts it.
//	misbehave leak -step 2MB -every 500ms
//	    allocate and touch memory at a steady rate, never freeing it.
//	    memmon -p leaky=32MB restarts it once it is over the limit.
//	misbehave crash -after 6s -code 1
//	    run for a while, then exit with the given status (an unexpected
//	    exit for supervisord unless the code is in exitcodes=).
//	    crashmail, crashmailbatch and crashsms report it.
//	misbehave nostart
//	    fail at once, as a program with a missing config file does, so
//	    supervisord never sees it RUNNING: BACKOFF, then FATAL.
//	    fatalmailbatch reports it.
//
// Each program logs what it does on stdout and exits 0 on SIGTERM, so
// supervisord's stop is clean.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: misbehave web|leak|crash|nostart [flags]")
		return 2
	}
	fs := flag.NewFlagSet("misbehave "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var err error
	switch args[0] {
	case "web":
		addr := fs.String("addr", "127.0.0.1:8080", "listen address")
		hangAfter := fs.Duration("hang-after", 12*time.Second, "stop answering after this long")
		if fs.Parse(args[1:]) != nil {
			return 2
		}
		err = web(stdout, *addr, *hangAfter)
	case "leak":
		step := fs.String("step", "2MB", "memory added at each step (KB or MB suffix)")
		every := fs.Duration("every", 500*time.Millisecond, "pause between steps")
		if fs.Parse(args[1:]) != nil {
			return 2
		}
		var n int
		if n, err = parseSize(*step); err == nil {
			err = leak(stdout, n, *every)
		}
	case "crash":
		after := fs.Duration("after", 6*time.Second, "run this long, then exit")
		code := fs.Int("code", 1, "exit status")
		if fs.Parse(args[1:]) != nil {
			return 2
		}
		fmt.Fprintf(stdout, "working; will exit with status %d in %v\n", *code, *after)
		if waitOrSignal(*after) {
			return 0
		}
		fmt.Fprintf(stdout, "something went wrong, exiting with status %d\n", *code)
		return *code
	case "nostart":
		if fs.Parse(args[1:]) != nil {
			return 2
		}
		fmt.Fprintln(stderr, "nostart: open /etc/nostart/config.yml: no such file or directory")
		return 1
	default:
		fmt.Fprintf(stderr, "misbehave: unknown program %q (want web, leak, crash or nostart)\n", args[0])
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "misbehave %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// waitOrSignal waits for d and reports whether SIGTERM or SIGINT came first.
func waitOrSignal(d time.Duration) bool {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	select {
	case <-sig:
		return true
	case <-time.After(d):
		return false
	}
}

func web(stdout io.Writer, addr string, hangAfter time.Duration) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	var hung atomic.Bool
	time.AfterFunc(hangAfter, func() {
		hung.Store(true)
		fmt.Fprintln(stdout, "deadlocked: requests are accepted but never answered")
	})
	never := make(chan struct{})
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hung.Load() {
				// Like a worker stuck on a lock: the connection stays
				// open and nothing is ever written.
				<-never
			}
			fmt.Fprintln(w, "ok")
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	fmt.Fprintf(stdout, "serving http://%s/ (will hang after %v)\n", l.Addr(), hangAfter)
	go srv.Serve(l)
	waitOrSignal(time.Duration(1<<63 - 1))
	return nil
}

// hold keeps the leaked memory reachable so the garbage collector cannot
// give it back.
var hold [][]byte

func leak(stdout io.Writer, step int, every time.Duration) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	total := 0
	for n := 0; ; n++ {
		select {
		case <-sig:
			return nil
		case <-tick.C:
		}
		b := make([]byte, step)
		// Touch every page: untouched pages are not resident and would not
		// show up in RSS.
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		hold = append(hold, b)
		total += step
		if n%4 == 0 {
			fmt.Fprintf(stdout, "holding %d MB\n", total>>20)
		}
	}
}

// parseSize reads "512KB", "2MB" or a plain byte count.
func parseSize(s string) (int, error) {
	mult := 1
	u := strings.ToUpper(strings.TrimSpace(s))
	switch {
	case strings.HasSuffix(u, "MB"):
		mult, u = 1<<20, strings.TrimSuffix(u, "MB")
	case strings.HasSuffix(u, "KB"):
		mult, u = 1<<10, strings.TrimSuffix(u, "KB")
	}
	n, err := strconv.Atoi(u)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n * mult, nil
}
