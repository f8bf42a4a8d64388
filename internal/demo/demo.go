package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/superlance-go/superlance/internal/freeport"
	"github.com/superlance-go/superlance/internal/module"
	"github.com/superlance-go/superlance/rpcclient"
)

// options configure one demo run.
type options struct {
	Root    string // the module's root directory
	MailDir string // where each received mail is stored
	Keep    bool   // keep the temporary directory
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
		killLeftovers(tmp)
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

	p.plain("%s\n", p.paint(bold, "Building the listeners and the example programs..."))
	t0 := time.Now()
	if err := buildTools(ctx, o.Root, filepath.Join(tmp, "bin"), o.Out); err != nil {
		return rep, err
	}
	p.plain("built in %.1fs into %s\n\n", time.Since(t0).Seconds(), filepath.Join(tmp, "bin"))

	webAddr, err := freeAddr()
	if err != nil {
		return rep, err
	}
	n := newNarrator(p, o, tmp, rep)
	mailSrv, err := startMailServer(n.mailArrived)
	if err != nil {
		return rep, err
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
	sv, err := startSupervisord(ctx, supervisord, confPath, tmp, rpcclient.Options{})
	if err != nil {
		return rep, err
	}
	rep.SupervisordPID = sv.cmd.Process.Pid
	p.say("supervisord", bold, "started (pid %d)", rep.SupervisordPID)

	runCtx, stopWatching := context.WithCancel(context.Background())
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		n.watch(runCtx, sv.client)
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
	case <-sv.exited:
		p.say("supervisord", red, "exited on its own; see %s", filepath.Join(tmp, "supervisord.log"))
	}

	// Let a restart in progress finish, so the listener does not report a
	// failed start caused by the shutdown.
	for end := time.Now().Add(4 * time.Second); !n.settled() && time.Now().Before(end); {
		time.Sleep(100 * time.Millisecond)
	}
	// Stop supervisord while still watching: the batch tools flush what
	// they hold on SIGTERM, and that mail should be shown too.
	stopErr := sv.stop(p)
	stopWatching()
	<-watchDone
	mailSrv.Close()
	ch.close() // Alertmanager runs from tmp too: not a leftover
	rep.Leftovers = killLeftovers(tmp)
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

type supervisor struct {
	cmd    *exec.Cmd
	client *rpcclient.Client
	exited chan struct{} // closed when the process is gone
}

func startSupervisord(ctx context.Context, path, conf, dir string, ro rpcclient.Options) (*supervisor, error) {
	out, err := os.Create(filepath.Join(dir, "supervisord.out"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(path, "-n", "-c", conf)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own process group: Ctrl-C reaches the demo only, which then
		// stops supervisord in order instead of every child at once.
		Setpgid: true,
		// If the demo itself is killed, supervisord must not outlive it.
		Pdeathsig: syscall.SIGTERM,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting supervisord: %w", err)
	}
	sv := &supervisor{cmd: cmd, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(sv.exited)
	}()
	sv.client, err = rpcclient.New("unix://"+filepath.Join(dir, "supervisor.sock"), ro)
	if err != nil {
		sv.kill()
		return nil, err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := sv.client.GetState(cctx)
		cancel()
		if err == nil && st.Name == "RUNNING" {
			return sv, nil
		}
		select {
		case <-sv.exited:
			b, _ := os.ReadFile(filepath.Join(dir, "supervisord.out"))
			return nil, fmt.Errorf("supervisord exited at start: %s", strings.TrimSpace(string(b)))
		case <-ctx.Done():
			sv.kill()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			sv.kill()
			return nil, fmt.Errorf("supervisord did not answer on its socket within 20s: %v", err)
		}
	}
}

// stop asks supervisord to shut down (SIGTERM: it stops every program and
// listener, waiting up to each one's stopwaitsecs), and kills it if it has
// not exited after that.
func (sv *supervisor) stop(p *printer) error {
	select {
	case <-sv.exited:
		return nil
	default:
	}
	p.say("supervisord", bold, "stopping (SIGTERM to pid %d)", sv.cmd.Process.Pid)
	sv.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-sv.exited:
		p.say("supervisord", bold, "stopped")
		return nil
	case <-time.After(30 * time.Second):
		sv.kill()
		return errors.New("supervisord did not stop within 30s after SIGTERM; killed it")
	}
}

func (sv *supervisor) kill() {
	sv.cmd.Process.Kill()
	<-sv.exited
}

// killLeftovers finds processes started from the demo's directory (every
// program and listener runs a binary under it, and supervisord's command
// line names its config there), kills them and returns their pids. After a
// clean shutdown it finds none.
func killLeftovers(dir string) []int {
	var found []int
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids := processesUnder(dir)
		if len(pids) == 0 || time.Now().After(deadline) {
			return found
		}
		for _, pid := range pids {
			if !contains(found, pid) {
				found = append(found, pid)
			}
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// processesUnder lists live processes whose command line mentions dir.
func processesUnder(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte(dir)) {
			continue
		}
		// A zombie has an empty command line already; one that still shows
		// it is running.
		pids = append(pids, pid)
	}
	return pids
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
