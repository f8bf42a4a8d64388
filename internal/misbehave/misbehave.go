// Package misbehave is a set of small programs that go wrong on purpose:
// they crash, hang, leak memory, never start, or record the event stream.
// The integration tests run them under a real supervisord (through
// svtest.TestProg) and `make demo` runs them as examples/demo/misbehave;
// they are also handy in a test environment of your own.
//
// Usage (the program's arguments):
//
//	crash [-after 2s] [-code 1]
//	    run for a while, then say so on stderr and exit with the given
//	    status (an unexpected exit for supervisord unless the code is in
//	    exitcodes=).
//	    crashmail, crashmailbatch and crashsms report it.
//	fail
//	    fail at once with status 1, as a program with a missing config file
//	    does, so supervisord never sees it RUNNING: BACKOFF, then FATAL.
//	    fatalmailbatch reports it.
//	web [-addr 127.0.0.1:8080] [-addr-file FILE] [-hang-after 0] [-status 200] [-body ok]
//	    [-warm-up 0] [-log-requests]
//	    serve HTTP on every path; after -hang-after (0: never) stop
//	    answering: connections are accepted but no response ever comes, as
//	    with a deadlocked app. httpok notices at its next tick and restarts
//	    it. -addr-file receives the bound address (for port 0); for the
//	    first -warm-up after start it answers 503 (a slow starter);
//	    -log-requests prints "answered STATUS" on stdout for every request.
//	alloc [-mb 0] [-children 0] [-step 0 -every 1s] [-spike-mb 0]
//	    allocate -mb megabytes and touch every page, so that RSS really
//	    grows, then hold it; with -step (e.g. 2MB or 512KB), add that much
//	    every -every, never freeing it (memmon -p leaky=32MB restarts it once
//	    it is over the limit); with -children N, start N copies that hold
//	    the memory while this process holds little (memmon's cumulative
//	    mode); with -spike-mb M, SIGUSR1 adds M MB and SIGUSR2 gives them
//	    back to the system (a spike the test starts and ends), each reported
//	    on stdout once done.
//	sleep [-stdout TEXT] [-stderr TEXT] [-ignore-term]
//	    print TEXT (Go escapes such as \x1b and \a are interpreted), then run
//	    until SIGTERM (ignored with -ignore-term); SIGHUP, SIGUSR1 and
//	    SIGUSR2 are reported on stdout as "got signal SIGUSR1".
//	record -out FILE
//	    an event listener: append every byte received on stdin to FILE and
//	    answer OK to every event.
//
// Each program says on stdout what it does, once its SIGTERM handler is in
// place, and exits 0 on SIGTERM unless stated otherwise, so supervisord's
// stop is clean.
package misbehave

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

// Name is the program's name in messages and the name of its binary.
const Name = "misbehave"

const usage = "usage: misbehave crash|fail|web|alloc|sleep|record [flags]"

// Run runs the program named by args[0] with the rest of args as its flags
// and returns the exit status. Exit 2 is a usage error.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet(Name+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var run func() error
	switch args[0] {
	case "crash":
		after := fs.Duration("after", 2*time.Second, "run this long, then exit")
		code := fs.Int("code", 1, "exit status")
		run = func() error { return crash(stdout, stderr, *after, *code) }
	case "fail":
		run = func() error {
			fmt.Fprintf(stderr, "%s: failing on purpose\n", Name)
			return exitCode(1)
		}
	case "web":
		var o webOptions
		fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address")
		fs.StringVar(&o.addrFile, "addr-file", "", "write the bound address here")
		fs.DurationVar(&o.hangAfter, "hang-after", 0, "stop answering after this long (0: never)")
		fs.IntVar(&o.status, "status", http.StatusOK, "status code to answer")
		fs.StringVar(&o.body, "body", "ok", "body to answer")
		fs.DurationVar(&o.warmUp, "warm-up", 0, "answer 503 for this long after start")
		fs.BoolVar(&o.logRequests, "log-requests", false, "print the status of every answer on stdout")
		run = func() error { return web(stdout, o) }
	case "alloc":
		var o allocOptions
		fs.IntVar(&o.mb, "mb", 0, "megabytes to allocate at once")
		fs.IntVar(&o.children, "children", 0, "copies that hold the memory instead of this process")
		step := fs.String("step", "0", "memory added every -every (KB or MB suffix; 0: none)")
		fs.DurationVar(&o.every, "every", time.Second, "pause between steps")
		fs.IntVar(&o.spikeMB, "spike-mb", 0, "megabytes added on SIGUSR1 and given back on SIGUSR2")
		run = func() error {
			var err error
			if o.step, err = parseSize(*step); err != nil {
				return err
			}
			return alloc(stdout, stderr, o)
		}
	case "sleep":
		text := fs.String("stdout", "", "text to print on stdout first (Go escapes)")
		errText := fs.String("stderr", "", "text to print on stderr first (Go escapes)")
		ignoreTerm := fs.Bool("ignore-term", false, "ignore SIGTERM")
		run = func() error { return sleep(stdout, stderr, *text, *errText, *ignoreTerm) }
	case "record":
		out := fs.String("out", "", "file to append the received bytes to")
		run = func() error { return record(stdin, stdout, stderr, *out) }
	default:
		fmt.Fprintf(stderr, "%s: unknown program %q\n%s\n", Name, args[0], usage)
		return 2
	}
	if fs.Parse(args[1:]) != nil {
		return 2
	}
	err := run()
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	default:
		fmt.Fprintf(stderr, "%s %s: %v\n", Name, args[0], err)
		return 1
	}
}

// exitCode ends a program with that status and no message.
type exitCode int

func (c exitCode) Error() string { return "exit status " + strconv.Itoa(int(c)) }

// terminated returns a channel that is closed on SIGTERM or SIGINT; the
// handler is in place when it returns.
func terminated() <-chan struct{} {
	ctx, _ := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	return ctx.Done()
}

func crash(stdout, stderr io.Writer, after time.Duration, code int) error {
	term := terminated()
	fmt.Fprintf(stdout, "working; will exit with status %d in %v\n", code, after)
	select {
	case <-term:
		return nil
	case <-time.After(after):
	}
	// On stderr, where a crashing program says why.
	fmt.Fprintf(stderr, "%s: crashing with code %d\n", Name, code)
	return exitCode(code)
}

type webOptions struct {
	addr, addrFile    string
	hangAfter, warmUp time.Duration
	status            int
	body              string
	logRequests       bool
}

func web(stdout io.Writer, o webOptions) error {
	term := terminated()
	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	if o.addrFile != "" {
		// Write then rename, so a reader never sees half an address.
		tmp := o.addrFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(l.Addr().String()), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, o.addrFile); err != nil {
			return err
		}
	}
	start := time.Now()
	var hung atomic.Bool
	if o.hangAfter > 0 {
		time.AfterFunc(o.hangAfter, func() {
			hung.Store(true)
			fmt.Fprintln(stdout, "deadlocked: requests are accepted but never answered")
		})
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hung.Load() {
				// Like a worker stuck on a lock: the connection stays open
				// and nothing is ever written, until the client gives up.
				<-r.Context().Done()
				return
			}
			code := o.status
			if time.Since(start) < o.warmUp {
				code = http.StatusServiceUnavailable
			}
			if o.logRequests {
				fmt.Fprintf(stdout, "answered %d\n", code)
			}
			w.WriteHeader(code)
			io.WriteString(w, o.body)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	if o.hangAfter > 0 {
		fmt.Fprintf(stdout, "serving http://%s/ (will hang after %v)\n", l.Addr(), o.hangAfter)
	} else {
		fmt.Fprintf(stdout, "serving http://%s/\n", l.Addr())
	}
	go srv.Serve(l)
	<-term
	return nil
}

type allocOptions struct {
	mb, children, step, spikeMB int
	every                       time.Duration
}

// pageSize is the unit the kernel backs memory with; touching one byte per
// page makes the whole allocation resident.
const pageSize = 4096

// held keeps allocations reachable so the collector never returns them.
var held [][]byte

func touch(n int) {
	if n <= 0 {
		return
	}
	b := make([]byte, n)
	for i := 0; i < len(b); i += pageSize {
		b[i] = 1
	}
	held = append(held, b)
}

func alloc(stdout, stderr io.Writer, o allocOptions) error {
	spike := make(chan os.Signal, 1)
	if o.spikeMB > 0 {
		signal.Notify(spike, syscall.SIGUSR1, syscall.SIGUSR2)
	}
	var spiked []byte
	term := terminated()
	var procs []*exec.Cmd
	if o.children > 0 {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		for range o.children {
			c := exec.Command(self, "alloc", "-mb", strconv.Itoa(o.mb), "-step", strconv.Itoa(o.step), "-every", o.every.String())
			c.Stdout, c.Stderr = stdout, stderr
			// A child must not outlive its parent, even if the parent is killed.
			c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			if err := c.Start(); err != nil {
				return err
			}
			procs = append(procs, c)
		}
		fmt.Fprintf(stdout, "started %d children holding %d MB each\n", o.children, o.mb)
	} else {
		touch(o.mb << 20)
		fmt.Fprintf(stdout, "holding %d MB\n", o.mb)
	}
	var tick <-chan time.Time
	if o.step > 0 && o.children == 0 {
		t := time.NewTicker(o.every)
		defer t.Stop()
		tick = t.C
	}
	total := o.mb << 20
	for n := 1; ; n++ {
		select {
		case <-tick:
			touch(o.step)
			total += o.step
			if n%4 == 0 {
				fmt.Fprintf(stdout, "holding %d MB\n", total>>20)
			}
		case sig := <-spike:
			if sig == syscall.SIGUSR1 && spiked == nil {
				spiked = make([]byte, o.spikeMB<<20)
				for i := 0; i < len(spiked); i += pageSize {
					spiked[i] = 1
				}
				fmt.Fprintf(stdout, "spiked by %d MB\n", o.spikeMB)
			} else if sig == syscall.SIGUSR2 && spiked != nil {
				spiked = nil
				debug.FreeOSMemory()
				fmt.Fprintf(stdout, "spike of %d MB released\n", o.spikeMB)
			}
		case <-term:
			var wg sync.WaitGroup
			for _, c := range procs {
				c.Process.Signal(syscall.SIGTERM)
				wg.Go(func() { c.Wait() })
			}
			wg.Wait()
			return nil
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
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n * mult, nil
}

func sleep(stdout, stderr io.Writer, text, errText string, ignoreTerm bool) error {
	for _, o := range []struct {
		text string
		w    io.Writer
	}{{text, stdout}, {errText, stderr}} {
		if o.text == "" {
			continue
		}
		s, err := strconv.Unquote(`"` + strings.ReplaceAll(o.text, `"`, `\"`) + `"`)
		if err != nil {
			return fmt.Errorf("bad escape in %q: %w", o.text, err)
		}
		io.WriteString(o.w, s)
	}
	// Report signals other than TERM, so tests can see them arrive.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	var term <-chan struct{}
	if ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
	} else {
		term = terminated()
	}
	for {
		select {
		case sig := <-sigs:
			fmt.Fprintf(stdout, "got signal %s\n", signalNames[sig])
		case <-term:
			return nil
		}
	}
}

var signalNames = map[os.Signal]string{
	syscall.SIGHUP:  "SIGHUP",
	syscall.SIGUSR1: "SIGUSR1",
	syscall.SIGUSR2: "SIGUSR2",
}

// record speaks the listener protocol just enough to store the stream
// byte for byte: header line, then len characters (not bytes) of payload.
func record(stdin io.Reader, stdout, stderr io.Writer, out string) error {
	if out == "" {
		return errors.New("-out is required")
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(stderr, "%s record: appending events to %s\n", Name, out)

	term := terminated()
	go func() {
		<-term
		os.Exit(0)
	}()
	in := bufio.NewReader(stdin)
	for {
		if _, err := io.WriteString(stdout, "READY\n"); err != nil {
			return err
		}
		header, err := in.ReadString('\n')
		if err != nil {
			if err == io.EOF && header == "" {
				return nil
			}
			return fmt.Errorf("reading header: %w", err)
		}
		n := -1
		for _, tok := range strings.Fields(header) {
			if v, ok := strings.CutPrefix(tok, "len:"); ok {
				n, err = strconv.Atoi(v)
				if err != nil {
					return fmt.Errorf("bad len in %q", header)
				}
			}
		}
		if n < 0 {
			return fmt.Errorf("no len in %q", header)
		}
		var payload strings.Builder
		for range n {
			r, size, err := in.ReadRune()
			if err != nil {
				return fmt.Errorf("reading payload: %w", err)
			}
			if r == utf8.RuneError && size == 1 {
				// Keep a stray byte as it came, not as U+FFFD.
				in.UnreadRune()
				b, _ := in.ReadByte()
				payload.WriteByte(b)
				continue
			}
			payload.WriteRune(r)
		}
		if _, err := f.WriteString(header + payload.String()); err != nil {
			return err
		}
		if _, err := io.WriteString(stdout, "RESULT 2\nOK"); err != nil {
			return err
		}
	}
}
