package eventproto_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// listenerEnv makes the test binary act as an event listener, so a real
// supervisord can run it: "raw" drives a Listener by hand and FAILs the
// first "failonce" event; "serve" runs Serve until SIGTERM; "nop" runs
// Serve with a handler that ignores everything and "floor" a bare
// read/write loop (both for BenchmarkServePipe).
const listenerEnv = "EVENTPROTO_TEST_LISTENER"

func TestMain(m *testing.M) {
	switch os.Getenv(listenerEnv) {
	case "raw":
		os.Exit(rawListener())
	case "serve":
		os.Exit(serveListener())
	case "nop":
		os.Exit(nopListener())
	case "floor":
		os.Exit(floorListener())
	}
	os.Exit(m.Run())
}

// logEvent writes one line per event to stderr for the test to read.
func logEvent(ev eventproto.Event) {
	fmt.Fprintf(os.Stderr, "event %s serial=%d poolserial=%d len=%d repeat=%v missed=%d payload=%q\n",
		ev.Name(), ev.Header.Serial, ev.Header.PoolSerial, ev.Header.Len, ev.Repeat, ev.Missed, ev.Payload)
}

func rawListener() int {
	l := eventproto.NewListener(os.Stdin, os.Stdout)
	failed := false
	for {
		ev, err := l.Next()
		if err == io.EOF {
			return 0
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		logEvent(ev)
		if rc, _ := eventproto.ParseRemoteCommunication(ev.Payload); rc.Type == "failonce" && !failed {
			failed = true
			err = l.Fail()
		} else {
			err = l.OK()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
}

func serveListener() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := log.New(os.Stderr, "serve: ", 0)
	err := eventproto.Serve(ctx, eventproto.NewListener(os.Stdin, os.Stdout),
		func(ctx context.Context, ev eventproto.Event) { logEvent(ev) },
		eventproto.ServeOptions{Log: logger, Drain: func(ctx context.Context) error {
			logger.Print("draining")
			return nil
		}})
	logger.Printf("returned %v", err)
	if err != nil {
		return 1
	}
	return 0
}

// TestRealSupervisord runs two listeners built on this package under a real
// supervisord 4.2.5, both subscribed to REMOTE_COMMUNICATION at the default
// priority: the FAIL in pool "raw" must come back to it as a Repeat, the
// cross-pool duplicate must reach pool "served" as a Repeat too, len must
// be counted in characters, and Serve must exit 0 promptly on SIGTERM
// while it waits on stdin.
func TestRealSupervisord(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	self, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	s := svtest.Start(t, svtest.Config{
		Listeners: []svtest.Listener{
			{Name: "raw", Command: self, Events: "REMOTE_COMMUNICATION", Env: []string{listenerEnv + "=raw"}},
			{Name: "served", Command: self, Events: "REMOTE_COMMUNICATION", Env: []string{listenerEnv + "=serve"}},
		},
	})
	s.WaitState(t, "raw", rpcclient.StateRunning, 20*time.Second)
	s.WaitState(t, "served", rpcclient.StateRunning, 20*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, ev := range [][2]string{{"failonce", "café ✓ 1"}, {"plain", "second\nline 日本語"}} {
		var ok bool
		if err := s.Client.Call(ctx, "supervisor.sendRemoteCommEvent", &ok, ev[0], ev[1]); err != nil {
			t.Fatalf("sendRemoteCommEvent: %v", err)
		}
	}

	failonce := `event REMOTE_COMMUNICATION serial=0 poolserial=0 len=22 repeat=%v missed=0 payload="type:failonce\ncafé ✓ 1"`
	plain := `event REMOTE_COMMUNICATION serial=1 poolserial=1 len=26 repeat=false missed=0 payload="type:plain\nsecond\nline 日本語"`
	for _, name := range []string{"raw", "served"} {
		// Both pools get serial 0 twice: "raw" because it failed it,
		// "served" because supervisord re-queues a rejected event in every
		// pool of the same priority.
		var got string
		if !svtest.WaitFor(20*time.Second, func() bool {
			got = s.ListenerStderr(t, name)
			return strings.Contains(got, plain)
		}) {
			t.Fatalf("%s stderr after 20 s:\n%s\nwant %q\nsupervisord log:\n%s", name, got, plain, s.Log(t))
		}
		first, second := fmt.Sprintf(failonce, false), fmt.Sprintf(failonce, true)
		i, j := strings.Index(got, first), strings.Index(got, second)
		if i < 0 || j < i {
			t.Errorf("%s stderr:\n%s\nwant %q, then its redelivery %q", name, got, first, second)
		}
	}

	// SIGTERM while Serve waits on stdin: it drains and exits 0 at once,
	// long before supervisord would resort to SIGKILL.
	out := s.Ctl(t, "stop", "served")
	info := s.WaitState(t, "served", rpcclient.StateStopped, 20*time.Second)
	if info.ExitStatus != 0 {
		t.Errorf("served exit status %d (%s), want 0", info.ExitStatus, out)
	}
	if got := s.ListenerStderr(t, "served"); !strings.Contains(got, "serve: draining\nserve: returned <nil>\n") ||
		!strings.Contains(got, "serve: pool served: REMOTE_COMMUNICATION serial 0 poolserial 0 delivered again") {
		t.Errorf("served stderr:\n%s\nwant the repeat logged, the drain and a nil return", got)
	}
	if log := s.Log(t); strings.Contains(log, "UNKNOWN state") || strings.Contains(log, "bad result line") {
		t.Errorf("supervisord saw a protocol violation:\n%s", log)
	}
}
