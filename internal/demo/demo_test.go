package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/amtest"
	"github.com/superlance-go/superlance/internal/harness"
	"github.com/superlance-go/superlance/internal/module"
	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestDemoEndToEnd runs the whole demo (short timing) under a real
// supervisord: every listener must act, each with the mail upstream would
// send, and nothing the demo started may outlive it.
func TestDemoEndToEnd(t *testing.T) {
	t.Parallel()
	svtest.Need(t)
	root, err := module.Root()
	if err != nil {
		t.Fatal(err)
	}
	mailDir := t.TempDir()
	out := &svtest.LockedBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 85*time.Second)
	defer cancel()
	o := options{Root: root, MailDir: mailDir, Timing: shortTiming, Out: out, Built: built(t)}
	rep, err := runDemo(ctx, o)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("demo output:\n%s", out.String())
		}
	})
	if err != nil {
		t.Fatalf("runDemo: %v", err)
	}

	if !rep.AllActed {
		t.Errorf("AllActed = false, want true; mails by tool: %v", mailCounts(rep))
	}
	checks := []struct {
		tool string
		ok   func(received) bool
		want string
	}{
		{"httpok", func(m received) bool {
			return strings.HasPrefix(m.Subject, "httpok: http://") && strings.HasSuffix(m.Subject, "/health: bad status returned") &&
				strings.Contains(m.Body, "web is in RUNNING state, restarting")
		}, "subject httpok: URL: bad status returned, body naming web"},
		{"memmon", func(m received) bool {
			return m.Subject == "memmon: process leaky:leaky restarted" &&
				strings.Contains(m.Body, "restarted the process named leaky:leaky at ")
		}, "subject memmon: process leaky:leaky restarted"},
		{"crashmail", func(m received) bool {
			return strings.HasPrefix(m.Subject, "demo: crasher crashed at ") &&
				strings.HasPrefix(m.Body, "Process crasher in group crasher exited unexpectedly (pid ")
		}, "subject demo: crasher crashed at ..., body Process crasher in group crasher exited unexpectedly"},
		{"crashmailbatch", func(m received) bool {
			return m.Subject == "Crash alert from supervisord" && strings.Contains(m.Body, " -- Process crasher:crasher (pid ")
		}, "subject Crash alert from supervisord, body with crasher:crasher"},
		{"fatalmailbatch", func(m received) bool {
			return m.Subject == "Fatal start alert from supervisord" &&
				strings.Contains(m.Body, " -- Process nostart:nostart failed to start too many times")
		}, "subject Fatal start alert from supervisord, body with nostart:nostart"},
		{"crashsms", func(m received) bool {
			return !m.HasSubj && strings.HasPrefix(m.Body, "[crasher:crasher](") && strings.Contains(m.Body, ") exited unexpectedly ")
		}, "no Subject header, body [crasher:crasher](PID) exited unexpectedly"},
		{"missingmail", func(m received) bool {
			return strings.HasPrefix(m.Subject, "nostart is missing: not RUNNING for ") &&
				strings.HasPrefix(m.Body, "Program:     nostart\nState:       ")
		}, "subject nostart is missing: not RUNNING for ..., body naming nostart"},
		{"procmon", func(m received) bool {
			return m.Subject == "procmon: nostart is in a crash loop" &&
				strings.HasPrefix(m.Body, "Process nostart in group nostart died 2 times in a row within 3s of starting")
		}, "subject procmon: nostart is in a crash loop"},
	}
	for _, c := range checks {
		mails := rep.Mails[c.tool]
		if len(mails) == 0 {
			t.Errorf("%s: got no mail, want at least one", c.tool)
			continue
		}
		found := false
		for _, m := range mails {
			found = found || c.ok(m)
		}
		if !found {
			t.Errorf("%s: got %d mail(s), first subject %q body %q; want one with %s", c.tool, len(mails), mails[0].Subject, mails[0].Body, c.want)
		}
	}
	if rep.Webhooks["crashmail"] == 0 {
		t.Errorf("the demo's webhook got no document from crashmail (got %v)", rep.Webhooks)
	}
	if _, err := amtest.Find(); err == nil && rep.Notifications == 0 {
		t.Errorf("Alertmanager is installed, but its receiver got no notification")
	}
	if n := len(rep.Mails["unknown"]); n > 0 {
		t.Errorf("got %d mail(s) from an unrecognised sender, want 0", n)
	}
	if got := rep.Restarts["httpok restarted web"]; got == 0 {
		t.Errorf("httpok restarts of web seen: got 0, want at least 1")
	}
	if got := rep.Restarts["memmon restarted leaky"]; got == 0 {
		t.Errorf("memmon restarts of leaky seen: got 0, want at least 1")
	}
	if len(rep.ListenerIssues) > 0 {
		t.Errorf("listener trouble: got %q, want none", rep.ListenerIssues)
	}

	files, _ := filepath.Glob(filepath.Join(mailDir, "*.eml"))
	if total := totalMails(rep); len(files) != total {
		t.Errorf("mail files: got %d, want %d (one per mail)", len(files), total)
	}

	// Nothing left: the demo had nothing to kill after supervisord's
	// shutdown, nothing runs from its directory now, supervisord is gone,
	// and the directory itself was removed.
	if len(rep.Leftovers) > 0 {
		t.Errorf("processes left after supervisord stopped: got %v, want none", rep.Leftovers)
	}
	if pids := harness.ProcessesUnder(rep.TempDir); len(pids) > 0 {
		t.Errorf("processes running from %s: got %v, want none", rep.TempDir, pids)
	}
	if err := syscall.Kill(rep.SupervisordPID, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("supervisord pid %d: kill(0) = %v, want ESRCH", rep.SupervisordPID, err)
	}
	if _, err := os.Stat(rep.TempDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp dir %s: stat error %v, want it removed", rep.TempDir, err)
	}
}

func TestSupervisordConfParses(t *testing.T) {
	conf := supervisordConf(configParams{timing: normalTiming, WebAddr: "127.0.0.1:8080", SMTPAddr: "127.0.0.1:2525"})
	for _, want := range []string{
		"[eventlistener:httpok]", "[eventlistener:memmon]", "[eventlistener:crashmail]",
		"[eventlistener:crashmailbatch]", "[eventlistener:fatalmailbatch]", "[eventlistener:crashsms]",
		"[eventlistener:missingmail]", "-p nostart -p crasher --missing-timeout 10",
		"[eventlistener:procmon]", "-p nostart --threshold 3 --min-delay 1 --max-delay 4",
		"[program:web]", "[program:leaky]", "[program:crasher]", "[program:nostart]",
		"-p leaky=32MB", "-t 2 -p web", "-e TICK_5 -i 0.25", "http://127.0.0.1:8080/health",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("supervisord.conf: missing %q", want)
		}
	}
	// supervisord expands %(name)s in values; a lone % would be a config error.
	if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(conf, "%(here)s", ""), "%%", ""), "%") {
		t.Errorf("supervisord.conf has a bare %%:\n%s", conf)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		m    received
		want string
	}{
		{"by envelope sender", received{Envelope: "memmon@demo.example"}, "memmon"},
		{"by From header", received{From: "Alerts <crashsms@demo.example>"}, "crashsms"},
		{"foreign domain falls back to subject", received{Envelope: "httpok@elsewhere", Subject: "httpok: http://x/: bad status returned", HasSubj: true}, "httpok"},
		{"crashmail subject", received{Subject: "demo: web crashed at 2026-11-21 10:00:00,000", HasSubj: true}, "crashmail"},
		{"batch subject", received{Subject: "Fatal start alert from supervisord", HasSubj: true}, "fatalmailbatch"},
		{"sms body", received{Body: "[a:a](1) exited unexpectedly 2026-11-21 10:00:00,000"}, "crashsms"},
		{"nothing known", received{Subject: "hello", HasSubj: true}, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.m); got != tt.want {
				t.Errorf("classify = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseMailDecodesQuotedPrintable(t *testing.T) {
	raw := "From: a@b.example\r\nTo: c@d.example\r\nSubject: =?UTF-8?q?caf=C3=A9?=\r\n" +
		"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"a long line that was wrapped by the enco=\r\nder, caf=C3=A9\r\n"
	m := readable(harness.ParseMail([]byte(raw)))
	if m.Subject != "café" || !m.HasSubj {
		t.Errorf("Subject = %q (present %v), want %q", m.Subject, m.HasSubj, "café")
	}
	if want := "a long line that was wrapped by the encoder, café"; m.Body != want {
		t.Errorf("Body = %q, want %q", m.Body, want)
	}
}

func mailCounts(rep *report) map[string]int {
	c := map[string]int{}
	for k, v := range rep.Mails {
		c[k] = len(v)
	}
	return c
}

func totalMails(rep *report) int {
	n := 0
	for _, v := range rep.Mails {
		n += len(v)
	}
	return n
}

// built returns a directory with the demo's binaries, built once for the
// tests of this package.
func built(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := module.Root()
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "demo-bin-"); buildErr != nil {
			return
		}
		var out bytes.Buffer
		if buildErr = buildTools(context.Background(), root, buildDir, &out); buildErr != nil {
			buildErr = fmt.Errorf("%w\n%s", buildErr, out.String())
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// TestExampleConfig starts examples/supervisord.conf, with its paths moved
// into a temp dir and the demo's programs in place of the app, under a real
// supervisord: every listener must accept its command line (every option the
// example shows) and stay RUNNING.
func TestExampleConfig(t *testing.T) {
	t.Parallel()
	supervisord := svtest.Need(t)
	root, err := module.Root()
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(filepath.Join(root, "examples", "supervisord.conf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Symlink(built(t), bin); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "smtp.pass"), []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	web, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(
		"/usr/local/bin/", bin+"/",
		"/var/log/supervisor", dir,
		"/run/", dir+"/",
		"/etc/superlance/smtp.pass", filepath.Join(dir, "smtp.pass"),
		"/var/lib/superlance", dir,
		"/var/crash", dir,
		"user=app\n", "",
		"/srv/app/bin/web --listen 127.0.0.1:8080", bin+"/misbehave web -hang-after 1h -addr "+web,
		"/srv/app/bin/worker", bin+"/misbehave crash -after 1h",
		"/srv/app/bin/reports --config /etc/app/reports.yml", bin+"/misbehave fail",
	).Replace(string(conf))
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	sv, err := launch(ctx, supervisord, path, dir, "supervisor", "change-me")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		left, err := sv.Stop(30 * time.Second)
		left = append(left, harness.KillProcessesUnder(dir)...)
		if err != nil || len(left) > 0 {
			t.Errorf("stopping supervisord: %v; processes left: %v", err, left)
		}
	})

	// RUNNING means up for startsecs (1 s); still the same pid at a later
	// look means the command line was accepted.
	first := map[string]int{}
	var infos []rpcclient.ProcessInfo
	stable := func() bool {
		var err error
		if infos, err = sv.Client.GetAllProcessInfo(ctx); err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, pi := range infos {
			if !isTool(pi.Name) || pi.State != rpcclient.StateRunning {
				continue
			}
			if first[pi.Name] == 0 {
				first[pi.Name] = pi.PID
			} else if first[pi.Name] == pi.PID {
				running++
			}
		}
		return running == len(tools)
	}
	if !svtest.WaitFor(20*time.Second, stable) {
		for _, tool := range tools {
			b, _ := os.ReadFile(filepath.Join(dir, tool+".log"))
			t.Logf("%s stderr: %s", tool, b)
		}
		t.Fatalf("listeners RUNNING with a stable pid: want all %d (%v)", len(tools), infos)
	}
}
