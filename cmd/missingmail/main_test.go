package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/episode"
	"github.com/superlance-go/superlance/rpcclient"
)

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no -m", []string{"-a"}, "-m/--email is required"},
		{"empty -m", []string{"-a", "-m", " , "}, `-m/--email: no address in " , "`},
		{"-s with --smtp-host", []string{"-a", "-m", "ops@example.com", "-s", "/bin/true", "--smtp-host", "localhost"}, "exclude each other"},
		{"bad address", []string{"-a", "-m", "not an address"}, "invalid To address"},
		{"nothing to watch", []string{"-m", "ops@example.com"}, "nothing to watch"},
		{"zero timeout", []string{"-a", "-m", "ops@example.com", "--missing-timeout", "0"}, `--missing-timeout "0": want a positive duration`},
		{"negative timeout", []string{"-a", "-m", "ops@example.com", "--missing-timeout", "-5"}, "want a positive duration"},
		{"word timeout", []string{"-a", "-m", "ops@example.com", "--missing-timeout", "soon"}, "want seconds or a duration"},
		{"NaN timeout", []string{"-a", "-m", "ops@example.com", "--missing-timeout", "NaN"}, "want a positive number of seconds"},
		{"infinite timeout", []string{"-a", "-m", "ops@example.com", "--missing-timeout", "inf"}, "want a positive number of seconds"},
		{"state dir missing", []string{"-a", "-m", "ops@example.com", "--state", filepath.Join(dir, "nosuch", "s.json")}, "--state: state directory"},
		{"state dir is a file", []string{"-a", "-m", "ops@example.com", "--state", filepath.Join(file, "s.json")}, "--state: state directory"},
		{"state is a directory", []string{"-a", "-m", "ops@example.com", "--state", dir}, "not a regular file"},
		{"-m last", []string{"-a", "-m"}, "-m needs a value"},
		{"positional", []string{"-a", "-m", "ops@example.com", "http://x/"}, "unexpected argument"},
		{"smtp user without host", []string{"-a", "-m", "ops@example.com", "--smtp-user", "u"}, "--smtp-user needs --smtp-host"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr, []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent.sock"})
			if code != 2 || !strings.Contains(stderr.String(), tt.want) || stdout.Len() > 0 {
				t.Errorf("got exit %d, stderr %q, stdout %q; want exit 2 with %q and nothing on stdout", code, stderr.String(), stdout.String(), tt.want)
			}
		})
	}
}

func TestNotUnderSupervisord(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-a", "-m", "ops@example.com"}, strings.NewReader(""), &stdout, &stderr, nil)
	if code != 1 || stderr.String() != "missingmail must be run as a supervisor event listener\n" || stdout.Len() > 0 {
		t.Errorf("got exit %d, stderr %q, stdout %q; want exit 1 with the refusal", code, stderr.String(), stdout.String())
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-h"}, strings.NewReader(""), &stdout, &stderr, nil)
	if code != 0 || !strings.Contains(stdout.String(), "--missing-timeout") || stderr.Len() > 0 {
		t.Errorf("got exit %d, stdout %q, stderr %q; want usage on stdout", code, stdout.String(), stderr.String())
	}
}

func TestConfig(t *testing.T) {
	g := grammar{Program: []string{"web", "app:worker_00"}, Email: []string{"a@example.com, b@example.com", "c@example.com"}, MissingTimeout: "90s"}
	cfg, err := g.config()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.to, " "); got != "a@example.com b@example.com c@example.com" {
		t.Errorf("recipients: got %q, want the three addresses", got)
	}
	if cfg.timeout != 90*time.Second {
		t.Errorf("timeout: got %v, want 1m30s", cfg.timeout)
	}
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{"3600", time.Hour}, {"2", 2 * time.Second}, {"0.5", 500 * time.Millisecond}, {" 1h30m ", 90 * time.Minute}, {"1e3", 1000 * time.Second},
	} {
		if got, err := parseTimeout(tt.in); got != tt.want || err != nil {
			t.Errorf("parseTimeout(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "0", "0s", "-1", "1e-12", "1e300", "999999h", "1 h"} {
		if got, err := parseTimeout(in); err == nil {
			t.Errorf("parseTimeout(%q) = %v, want an error", in, got)
		}
	}
}

func TestSelection(t *testing.T) {
	sel := selection{
		programs:  map[string]bool{"web": true, "app:worker_00": true},
		groups:    map[string]bool{"batch": true},
		selfGroup: "missingmail", selfName: "missingmail",
	}
	anySel := selection{any: true, selfGroup: "missingmail", selfName: "missingmail"}
	for _, tt := range []struct {
		sel         selection
		group, name string
		want        bool
	}{
		{sel, "web", "web", true},
		{sel, "shop", "web", true}, // by name, in any group
		{sel, "app", "worker_00", true},
		{sel, "app", "worker_01", false},
		{sel, "batch", "nightly", true},
		{sel, "other", "other", false},
		{anySel, "other", "other", true},
		{anySel, "missingmail", "missingmail", false},
	} {
		if got := tt.sel.watched(tt.group, tt.name); got != tt.want {
			t.Errorf("%v watched(%s, %s) = %v, want %v", tt.sel, tt.group, tt.name, got, tt.want)
		}
	}
}

func TestTexts(t *testing.T) {
	t.Setenv("TZ", "UTC")
	since := time.Date(2026, 11, 21, 16, 23, 32, 0, time.UTC)
	at := since.Add(time.Hour + 5*time.Second)
	cfg := &config{timeout: time.Hour, to: []string{"ops@example.com"}}
	fatal := &rpcclient.ProcessInfo{Name: "web", Group: "web", State: rpcclient.StateFatal, Description: "Exited too quickly (process log may have details)", SpawnErr: "Exited too quickly (process log may have details)", ExitStatus: 1, Stop: 100}
	missing := episode.Notice{Kind: episode.Missing, Program: "web", Group: "web", Name: "web", Since: since, At: at, State: rpcclient.StateFatal, Info: fatal}

	n := newNotice(missing, cfg)
	if n.Kind != alert.Missing || !n.Holds || n.Program != "web" || n.Group != "web" || n.State != "FATAL" || !n.Since.Equal(since) {
		t.Errorf("missing alert: got %+v", n.Alert)
	}
	wantSubject := "web is missing: not RUNNING for 1h0m5s"
	wantText := `Program:     web
State:       FATAL
Down since:  2026-11-21 16:23:32 +0000 (1h0m5s ago)
Description: Exited too quickly (process log may have details)
Spawn error: Exited too quickly (process log may have details)
Exit status: 1

missingmail reports each episode once; another mail follows when the program is RUNNING again.`
	if n.Subject != wantSubject || n.Text != wantText {
		t.Errorf("missing:\ngot  %q\n%s\nwant %q\n%s", n.Subject, n.Text, wantSubject, wantText)
	}
	m := mailOf([]notice{n}, cfg.to, "", cfg)
	if m.Subject != n.Subject || m.Body != n.Text {
		t.Errorf("one notice: mail %q / %q, want the notice's own subject and text", m.Subject, m.Body)
	}

	never := episode.Notice{Kind: episode.Missing, Program: "app:idle", Group: "app", Name: "idle", Since: since, At: at, State: rpcclient.StateStopped,
		Info: &rpcclient.ProcessInfo{Name: "idle", Group: "app", State: rpcclient.StateStopped, Description: "Not started"}}
	noInfo := episode.Notice{Kind: episode.Missing, Program: "zz", Group: "zz", Name: "zz", Since: since, At: at, State: rpcclient.StateExited}
	m = mailOf([]notice{newNotice(never, cfg), n, newNotice(noInfo, cfg)}, cfg.to, "", cfg)
	wantSubject = "3 programs are missing: app:idle, web, zz"
	wantBody := `These 3 programs have not been RUNNING for 1h0m0s or longer:

Program:     app:idle
State:       STOPPED
Down since:  2026-11-21 16:23:32 +0000 (1h0m5s ago)
Description: Not started

Program:     web
State:       FATAL
Down since:  2026-11-21 16:23:32 +0000 (1h0m5s ago)
Description: Exited too quickly (process log may have details)
Spawn error: Exited too quickly (process log may have details)
Exit status: 1

Program:     zz
State:       EXITED
Down since:  2026-11-21 16:23:32 +0000 (1h0m5s ago)
Details:     none yet: supervisord has not answered getAllProcessInfo

missingmail reports each episode once; another mail follows when the program is RUNNING again.`
	if m.Subject != wantSubject || m.Body != wantBody {
		t.Errorf("batch:\ngot  %q\n%s\nwant %q\n%s", m.Subject, m.Body, wantSubject, wantBody)
	}

	back := episode.Notice{Kind: episode.Recovered, Program: "web", Group: "web", Name: "web", Since: since, At: since.Add(62*time.Minute + 3*time.Second), State: rpcclient.StateRunning, Reported: at, PID: 4242}
	r := newNotice(back, cfg)
	if r.Kind != alert.Recovered || r.Ends != alert.Missing || r.Holds || r.State != "RUNNING" {
		t.Errorf("recovered alert: got %+v", r.Alert)
	}
	wantSubject = "web is back: RUNNING after 1h2m3s down"
	wantText = `Program:     web
State:       RUNNING (pid 4242)
Down since:  2026-11-21 16:23:32 +0000
Back at:     2026-11-21 17:25:35 +0000
Down for:    1h2m3s
Reported at: 2026-11-21 17:23:37 +0000`
	if r.Subject != wantSubject || r.Text != wantText {
		t.Errorf("recovered:\ngot  %q\n%s\nwant %q\n%s", r.Subject, r.Text, wantSubject, wantText)
	}

	stopped := back
	stopped.State, stopped.PID = rpcclient.StateStopped, 0
	s := newNotice(stopped, &config{noRecovery: true})
	if s.Subject != "web is no longer missing: STOPPED after 1h2m3s down" || !strings.Contains(s.Text, "State:       STOPPED (stopped on purpose") || !strings.Contains(s.Text, "Stopped at:  2026-11-21 17:25:35") {
		t.Errorf("stopped on purpose: got %q\n%s", s.Subject, s.Text)
	}
	m = mailOf([]notice{r, newNotice(back, cfg)}, cfg.to, "", cfg)
	if m.Subject != "2 programs are back: web, web" || !strings.HasPrefix(m.Body, "These 2 programs, reported missing, are no longer missing:\n\nProgram:     web\n") {
		t.Errorf("batch of recoveries: got %q\n%s", m.Subject, m.Body)
	}
	if n := newNotice(missing, &config{noRecovery: true}); !strings.HasSuffix(n.Text, "(--no-recovery: no mail when the program is back).") {
		t.Errorf("--no-recovery note: got %q", n.Text)
	}
}
