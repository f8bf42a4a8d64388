package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/superlance-go/superlance/internal/freeport"
	"github.com/superlance-go/superlance/internal/harness"
	"github.com/superlance-go/superlance/internal/module"
)

// options configure one demo run.
type options struct {
	Root    string // the module's root directory
	MailDir string // where each received mail is stored
	Keep    bool   // keep the temporary directory
	Built   string // a directory with the binaries built already (tests); empty: build them
	Timing  timing
	Out     io.Writer
	Color   bool
}

// report is what a run did, for the summary and the end-to-end test.
type report struct {
	TempDir        string
	SupervisordPID int
	Mails          map[string][]received // by tool
	Restarts       map[string]int        // "httpok restarted web" style keys
	ListenerIssues []string              // listeners that exited or restarted
	Leftovers      []int                 // processes still alive after supervisord stopped (then killed)
	Webhooks       map[string]int        // alert documents the demo's webhook received, by tool
	Notifications  int                   // Alertmanager's notifications (0 without Alertmanager)
	AllActed       bool
	Interrupted    bool
}

// runDemo builds the tools, runs them under a real supervisord until every
// tool has acted, the deadline passes or ctx is cancelled, then stops
// everything it started and checks that nothing is left.
func runDemo(ctx context.Context, o options) (*report, error) {
	p := &printer{w: o.Out, start: time.Now(), color: o.Color}
	rep := &report{Mails: map[string][]received{}, Restarts: map[string]int{}}

	supervisord, err := findSupervisord(o.Root, o.Out)
	if err != nil {
		return rep, err
	}
	tmp, err := os.MkdirTemp("", "sl-demo-")
	if err != nil {
		return rep, err
	}
	rep.TempDir = tmp
	defer func() {
		// Whatever happened, nothing started from tmp survives the demo.
		harness.KillProcessesUnder(tmp)
		if !o.Keep {
			os.RemoveAll(tmp)
		}
	}()
	for _, d := range []string{"bin", "logs"} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o755); err != nil {
			return rep, err
		}
	}
	if err := prepareMailDir(o.MailDir); err != nil {
		return rep, err
	}

	if o.Built != "" {
		if err := linkBuilt(o.Built, filepath.Join(tmp, "bin")); err != nil {
			return rep, err
		}
	} else {
		p.plain("%s\n", p.paint(bold, "Building the listeners and the example programs..."))
		t0 := time.Now()
		if err := buildTools(ctx, o.Root, filepath.Join(tmp, "bin"), o.Out); err != nil {
			return rep, err
		}
		p.plain("built in %.1fs into %s\n\n", time.Since(t0).Seconds(), filepath.Join(tmp, "bin"))
	}

	webAddr, err := freeAddr()
	if err != nil {
		return rep, err
	}
	n := newNarrator(p, o, tmp, rep)
	mailSrv, err := harness.StartSMTP(harness.SMTPOptions{OnMail: func(m harness.Mail) { n.mailArrived(readable(m)) }})
	if err != nil {
		return rep, fmt.Errorf("starting the demo mail server: %w", err)
	}
	defer mailSrv.Close()

	ch, err := startChannels(ctx, p, tmp)
	if err != nil {
		return rep, err
	}
	defer ch.close()
	conf := supervisordConf(configParams{timing: o.Timing, WebAddr: webAddr, SMTPAddr: mailSrv.Addr,
		Webhook: ch.WebhookURL, Alertmanager: ch.AlertmanagerURL})
	confPath := filepath.Join(tmp, "supervisord.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return rep, err
	}
	p.frame(confPath, "copy it, adjust the paths, done", strings.Split(strings.TrimRight(conf, "\n"), "\n"))
	p.plain("\nThe demo's mail server listens on %s; every mail is printed below and saved in %s.\n",
		mailSrv.Addr, o.MailDir)
	p.plain("Its webhook receiver (%s) prints each alert document crashmail posts", ch.WebhookURL)
	if ch.AlertmanagerURL != "" {
		p.plain(";\na real Alertmanager (%s) gets crashmail's, missingmail's and procmon's alerts and\nits receiver prints each notification", ch.AlertmanagerURL)
	}
	p.plain(".\n")
	p.plain("Press Ctrl-C to stop early. Watching...\n\n")

	p.start = time.Now()
	sv, err := launch(ctx, supervisord, confPath, tmp, "", "")
	if err != nil {
		return rep, err
	}
	rep.SupervisordPID = sv.PID
	p.say("supervisord", bold, "started (pid %d)", rep.SupervisordPID)

	runCtx, stopWatching := context.WithCancel(context.Background())
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		n.watch(runCtx, sv.Client)
	}()

	deadline := time.NewTimer(o.Timing.Deadline)
	defer deadline.Stop()
	select {
	case <-ctx.Done():
		rep.Interrupted = true
		p.say("demo", yellow, "interrupted; stopping")
	case <-deadline.C:
		p.say("demo", yellow, "%v passed; stopping", o.Timing.Deadline)
	case <-n.allActed:
		// Give the lines that follow an action (a restart's log, a second
		// mail) a moment to show up.
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
		}
		p.say("demo", green+bold, "every listener has acted; stopping")
	case <-sv.Exited():
		p.say("supervisord", red, "exited on its own; see %s", filepath.Join(tmp, "supervisord.log"))
	}

	// Let a restart in progress finish, so the listener does not report a
	// failed start caused by the shutdown.
	harness.WaitFor(4*time.Second, n.settled)
	// Stop supervisord while still watching: the batch tools flush what
	// they hold on SIGTERM, and that mail should be shown too.
	var stopErr error
	if !sv.Stopped() {
		p.say("supervisord", bold, "stopping (SIGTERM to pid %d)", sv.PID)
		rep.Leftovers, stopErr = sv.Stop(30 * time.Second)
		if stopErr == nil {
			p.say("supervisord", bold, "stopped")
		}
	} else {
		rep.Leftovers, _ = sv.Stop(0) // only the leftovers to kill
	}
	stopWatching()
	<-watchDone
	mailSrv.Close()
	ch.close() // Alertmanager runs from tmp too: not a leftover
	for _, pid := range harness.KillProcessesUnder(tmp) {
		if !slices.Contains(rep.Leftovers, pid) {
			rep.Leftovers = append(rep.Leftovers, pid)
		}
	}
	if len(rep.Leftovers) > 0 {
		p.say("demo", red, "killed %d leftover process(es): %v", len(rep.Leftovers), rep.Leftovers)
	}
	n.finish()
	n.summary(o.Keep)
	ch.summary()
	rep.Webhooks, rep.Notifications = ch.Webhooks(), ch.Notifications()
	return rep, stopErr
}

// findSupervisord returns supervisord's path, installing Debian's package
// through scripts/need-supervisor when it is missing (that script explains
// what to install when it cannot do it itself).
func findSupervisord(root string, out io.Writer) (string, error) {
	if path, err := exec.LookPath("supervisord"); err == nil {
		return path, nil
	}
	cmd := exec.Command(filepath.Join(root, "scripts", "need-supervisor"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("supervisord is needed for the demo: %w", err)
	}
	return exec.LookPath("supervisord")
}

// prepareMailDir creates dir and removes the mail files of an earlier run,
// so that what is there afterwards is this run's mail.
func prepareMailDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the mail directory: %w", err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*.eml"))
	for _, f := range old {
		os.Remove(f)
	}
	return nil
}

// demoPackages are built into the demo's bin directory.
var demoPackages = []string{
	"./cmd/httpok", "./cmd/memmon", "./cmd/crashmail",
	"./cmd/crashmailbatch", "./cmd/fatalmailbatch", "./cmd/crashsms",
	"./cmd/missingmail", "./cmd/procmon",
	"./examples/demo/misbehave",
}

func buildTools(ctx context.Context, root, bin string, out io.Writer) error {
	args := append([]string{"build", "-o", bin + string(filepath.Separator)}, demoPackages...)
	cmd := exec.CommandContext(ctx, module.GoCommand(), args...)
	cmd.Dir = root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		out.Write(buf.Bytes())
		return fmt.Errorf("building the tools: %w", err)
	}
	return nil
}

// freeAddr picks a free loopback port for the web program, which binds it
// later (and again after every restart).
func freeAddr() (string, error) {
	p, err := freeport.Loopback()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), nil
}

// launch starts supervisord with the config at conf in dir, in a process
// group of its own: Ctrl-C reaches the demo only, which then stops
// supervisord in order instead of every child at once.
func launch(ctx context.Context, supervisord, conf, dir, user, password string) (*harness.Supervisor, error) {
	return harness.Launch(ctx, harness.Options{
		Dir: dir, Conf: conf, Username: user, Password: password,
		Bin: supervisord, OwnProcessGroup: true,
	})
}

// linkBuilt makes bin a link to the directory of binaries built already.
func linkBuilt(built, bin string) error {
	if err := os.Remove(bin); err != nil {
		return err
	}
	return os.Symlink(built, bin)
}
