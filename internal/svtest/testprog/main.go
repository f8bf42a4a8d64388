// Testprog is the helper program the integration tests run under
// supervisord: something that crashes, sleeps, serves (or hangs on) HTTP,
// holds memory, fails at once, or records the event stream.
//
// Usage:
//
//	testprog crash [-after 2s] [-code 1]
//	    exit with code after the delay
//	testprog sleep [-stdout TEXT] [-stderr TEXT] [-ignore-term]
//	    print TEXT (Go escapes such as \x1b and \a are interpreted), then run
//	    until SIGTERM (ignored with -ignore-term); SIGHUP, SIGUSR1 and
//	    SIGUSR2 are reported on stdout as "got signal SIGUSR1"
//	testprog http -addr 127.0.0.1:PORT [-addr-file FILE] [-hang-after 3s] [-status 200] [-body ok]
//	              [-warm-up 3s] [-log-requests]
//	    serve HTTP; after hang-after the server keeps accepting connections
//	    but never answers; -addr-file receives the bound address (for port 0);
//	    for the first warm-up after start it answers 503 (a slow starter);
//	    -log-requests prints "answered STATUS" on stdout for every request
//	testprog alloc -mb 50 [-children 0] [-grow-per-sec 0] [-spike-mb 0]
//	    allocate N MB and touch every page so that RSS really grows, then
//	    sleep; with -children N, start N copies that hold the memory while
//	    this process holds little (for memmon's cumulative mode); with
//	    -grow-per-sec M, add M MB every second; with -spike-mb M, SIGUSR1
//	    adds M MB and SIGUSR2 gives them back to the system (a spike the
//	    test starts and ends), each reported on stdout once done
//	testprog fail
//	    exit 1 at once
//	testprog record -out FILE
//	    an event listener: append every byte received on stdin to FILE and
//	    answer OK to every event
//
// Every command exits 0 on SIGTERM unless stated otherwise.
package main

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
	"syscall"
	"time"
	"unicode/utf8"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testprog crash|sleep|http|alloc|fail|record [flags]")
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "crash":
		err = crash(args)
	case "sleep":
		err = sleep(args)
	case "http":
		err = serveHTTP(args)
	case "alloc":
		err = alloc(args)
	case "fail":
		fmt.Fprintln(os.Stderr, "testprog: failing on purpose")
		os.Exit(1)
	case "record":
		err = record(args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "testprog %s: %v\n", cmd, err)
		os.Exit(2)
	}
}

// terminated returns a channel that is closed on SIGTERM or SIGINT.
func terminated() <-chan struct{} {
	ctx, _ := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	return ctx.Done()
}

func crash(args []string) error {
	fs := flag.NewFlagSet("crash", flag.ContinueOnError)
	after := fs.Duration("after", 2*time.Second, "delay before exiting")
	code := fs.Int("code", 1, "exit code")
	if err := fs.Parse(args); err != nil {
		return err
	}
	term := terminated()
	fmt.Printf("crashing with code %d in %v\n", *code, *after)
	select {
	case <-term:
		os.Exit(0)
	case <-time.After(*after):
	}
	fmt.Fprintf(os.Stderr, "testprog: crashing with code %d\n", *code)
	os.Exit(*code)
	return nil
}

func sleep(args []string) error {
	fs := flag.NewFlagSet("sleep", flag.ContinueOnError)
	stdout := fs.String("stdout", "", "text to print on stdout first (Go escapes)")
	stderr := fs.String("stderr", "", "text to print on stderr first (Go escapes)")
	ignoreTerm := fs.Bool("ignore-term", false, "ignore SIGTERM")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, o := range []struct {
		text string
		w    io.Writer
	}{{*stdout, os.Stdout}, {*stderr, os.Stderr}} {
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
	if *ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
	} else {
		term = terminated()
	}
	for {
		select {
		case sig := <-sigs:
			fmt.Printf("got signal %s\n", signalNames[sig])
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

func serveHTTP(args []string) error {
	fs := flag.NewFlagSet("http", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	addrFile := fs.String("addr-file", "", "write the bound address here")
	hangAfter := fs.Duration("hang-after", 0, "stop answering after this long (0: never)")
	status := fs.Int("status", http.StatusOK, "status code to answer")
	body := fs.String("body", "ok", "body to answer")
	warmUp := fs.Duration("warm-up", 0, "answer 503 for this long after start")
	logRequests := fs.Bool("log-requests", false, "print the status of every answer on stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *addrFile != "" {
		// Write then rename, so a reader never sees half an address.
		tmp := *addrFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(l.Addr().String()), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, *addrFile); err != nil {
			return err
		}
	}
	start := time.Now()
	hang := make(chan struct{}) // never closed: a hung answer lasts until the process ends
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *hangAfter > 0 && time.Since(start) >= *hangAfter {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		code := *status
		if time.Since(start) < *warmUp {
			code = http.StatusServiceUnavailable
		}
		if *logRequests {
			fmt.Printf("answered %d\n", code)
		}
		w.WriteHeader(code)
		io.WriteString(w, *body)
	})
	fmt.Printf("serving on %s\n", l.Addr())
	go http.Serve(l, handler)
	<-terminated()
	return nil
}

// pageSize is the unit the kernel backs memory with; touching one byte per
// page makes the whole allocation resident.
const pageSize = 4096

// held keeps allocations reachable so the collector never returns them.
var held [][]byte

func touch(mb int) {
	b := make([]byte, mb<<20)
	for i := 0; i < len(b); i += pageSize {
		b[i] = 1
	}
	held = append(held, b)
}

func alloc(args []string) error {
	fs := flag.NewFlagSet("alloc", flag.ContinueOnError)
	mb := fs.Int("mb", 50, "megabytes to allocate")
	children := fs.Int("children", 0, "copies that hold the memory instead of this process")
	grow := fs.Int("grow-per-sec", 0, "megabytes added every second")
	spikeMB := fs.Int("spike-mb", 0, "megabytes added on SIGUSR1 and given back on SIGUSR2")
	if err := fs.Parse(args); err != nil {
		return err
	}
	spike := make(chan os.Signal, 1)
	if *spikeMB > 0 {
		signal.Notify(spike, syscall.SIGUSR1, syscall.SIGUSR2)
	}
	var spiked []byte
	term := terminated()
	var procs []*exec.Cmd
	if *children > 0 {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		for range *children {
			c := exec.Command(self, "alloc", "-mb", strconv.Itoa(*mb), "-grow-per-sec", strconv.Itoa(*grow))
			c.Stdout, c.Stderr = os.Stdout, os.Stderr
			// A child must not outlive its parent, even if the parent is killed.
			c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			if err := c.Start(); err != nil {
				return err
			}
			procs = append(procs, c)
		}
		fmt.Printf("started %d children holding %d MB each\n", *children, *mb)
	} else {
		touch(*mb)
		fmt.Printf("holding %d MB\n", *mb)
	}
	var tick <-chan time.Time
	if *grow > 0 && *children == 0 {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-tick:
			touch(*grow)
		case sig := <-spike:
			if sig == syscall.SIGUSR1 && spiked == nil {
				spiked = make([]byte, *spikeMB<<20)
				for i := 0; i < len(spiked); i += pageSize {
					spiked[i] = 1
				}
				fmt.Printf("spiked by %d MB\n", *spikeMB)
			} else if sig == syscall.SIGUSR2 && spiked != nil {
				spiked = nil
				debug.FreeOSMemory()
				fmt.Printf("spike of %d MB released\n", *spikeMB)
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

// record speaks the listener protocol just enough to store the stream
// byte for byte: header line, then len characters (not bytes) of payload.
func record(args []string) error {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	out := fs.String("out", "", "file to append the received bytes to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-out is required")
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(os.Stderr, "testprog record: appending events to %s\n", *out)

	go func() {
		<-terminated()
		os.Exit(0)
	}()
	in := bufio.NewReader(os.Stdin)
	for {
		if _, err := io.WriteString(os.Stdout, "READY\n"); err != nil {
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
		if _, err := io.WriteString(os.Stdout, "RESULT 2\nOK"); err != nil {
			return err
		}
	}
}
