package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/restart"
)

func TestBadCommandLines(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "nothing to watch"},
		{[]string{"-p", ""}, "non-empty name"},
		{[]string{"-a", "--threshold", "1"}, "--threshold 1: must be at least 3s: supervisord notices an exit"},
		{[]string{"-a", "--threshold", "2.9"}, "must be at least 3s"},
		{[]string{"-a", "--threshold", "ten"}, `--threshold: "ten" is neither a number of seconds nor a duration`},
		{[]string{"-a", "--min-delay", "0"}, `--min-delay: "0" is not a positive duration`},
		{[]string{"-a", "--min-delay", "-1"}, `--min-delay: "-1" is not a positive duration`},
		{[]string{"-a", "--max-delay", "NaN"}, `--max-delay: "NaN" is not a usable number of seconds`},
		{[]string{"-a", "--min-delay", "5", "--max-delay", "4"}, "--min-delay 5 is above --max-delay 4"},
		{[]string{"-a", "--budget", "20"}, `--budget "20": want N/DURATION`},
		{[]string{"-a", "--budget", "0/10m"}, `--budget "0/10m": "0" is not a positive whole number`},
		{[]string{"-a", "--budget", "5/soon"}, `--budget "5/soon": "soon" is neither`},
		{[]string{"-a", "-m", " , "}, "no address"},
		{[]string{"-a", "-m", "ops@example.com\r\nBcc: x@example.com"}, "procmon: error:"},
		{[]string{"-a", "--smtp-user", "u"}, "--smtp-user needs --smtp-host"},
		{[]string{"-a", "--bogus"}, "unknown flag --bogus"},
		{[]string{"-a", "--budget"}, "--budget needs a value"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr, []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent"})
		if code != 2 || !strings.Contains(stderr.String(), tt.want) || stdout.Len() > 0 {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want exit 2 with %q and nothing on stdout", tt.args, code, stderr.String(), stdout.String(), tt.want)
		}
	}
}

func TestGoodCommandLines(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		policy restart.Policy
		max    int
		window time.Duration
	}{
		{[]string{"-a"}, restart.Policy{Threshold: 10 * time.Second, MinDelay: time.Second, MaxDelay: time.Hour}, 0, 0},
		{[]string{"-p", "web", "-p", "app:worker", "-g", "app", "--threshold", "3", "--min-delay", "0.5", "--max-delay", "2"},
			restart.Policy{Threshold: 3 * time.Second, MinDelay: 500 * time.Millisecond, MaxDelay: 2 * time.Second}, 0, 0},
		{[]string{"-g", "app", "--threshold", "30s", "--max-delay", "10m", "--budget", "20/10m"},
			restart.Policy{Threshold: 30 * time.Second, MinDelay: time.Second, MaxDelay: 10 * time.Minute}, 20, 10 * time.Minute},
	} {
		var stdout, stderr bytes.Buffer
		cfg, code, done := parseArgs(tt.args, &stdout, &stderr, nil)
		if done {
			t.Errorf("%q: rejected (exit %d): %s", tt.args, code, stderr.String())
			continue
		}
		if cfg.policy != tt.policy || cfg.max != tt.max || cfg.window != tt.window {
			t.Errorf("%q: policy %+v, budget %d/%v; want %+v, %d/%v", tt.args, cfg.policy, cfg.max, cfg.window, tt.policy, tt.max, tt.window)
		}
	}
}

func TestNotUnderSupervisord(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-a"}, strings.NewReader(""), &stdout, &stderr, nil)
	if code != 1 || stderr.String() != "procmon must be run as a supervisor event listener\n" || stdout.Len() > 0 {
		t.Errorf("exit %d, stderr %q, stdout %q; want exit 1 with the refusal", code, stderr.String(), stdout.String())
	}
}

func TestWatched(t *testing.T) {
	m := &monitor{cfg: &config{programs: []string{"web", "app:worker_00"}, groups: []string{"batch"}}, selfGroup: "procmon", selfName: "procmon"}
	for _, tt := range []struct {
		group, name string
		want        bool
	}{
		{"web", "web", true},
		{"front", "web", true}, // a bare name matches in any group, as the other tools
		{"app", "worker_00", true},
		{"app", "worker_01", false},
		{"batch", "nightly", true},
		{"other", "other", false},
	} {
		if got := m.watched(tt.group, tt.name); got != tt.want {
			t.Errorf("watched(%s, %s) = %v, want %v", tt.group, tt.name, got, tt.want)
		}
	}
	m.cfg.any = true
	if m.watched("procmon", "procmon") {
		t.Error("-a watches procmon itself")
	}
	if !m.watched("other", "other") {
		t.Error("-a does not watch other:other")
	}
}
