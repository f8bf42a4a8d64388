package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/notify"
)

func TestParseArgsAccepted(t *testing.T) {
	const u = "http://127.0.0.1:8080/health"
	type want struct {
		programs []string
		any      bool
		timeout  time.Duration
		codes    []int
		body     string
		sendmail string
		email    []string
		gcore    []string
		coredir  string
		eager    bool
		name     string
		url      string
	}
	defaults := want{
		timeout:  10 * time.Second,
		codes:    []int{200},
		sendmail: "/usr/sbin/sendmail -t -i",
		gcore:    []string{"/usr/bin/gcore", "-o"},
		eager:    true,
		url:      u,
	}
	with := func(f func(*want)) want {
		w := defaults
		f(&w)
		return w
	}
	tests := []struct {
		name string
		args []string
		want want
	}{
		{"defaults", []string{u}, defaults},
		{"short program", []string{"-p", "web", u}, with(func(w *want) { w.programs = []string{"web"} })},
		{"attached program", []string{"-pweb", "-pgrp:api", u}, with(func(w *want) { w.programs = []string{"web", "grp:api"} })},
		{"long program", []string{"--program", "web", "--program=a,b", u}, with(func(w *want) { w.programs = []string{"web", "a,b"} })},
		{"any", []string{"-a", u}, with(func(w *want) { w.any = true })},
		{"long any", []string{"--any", u}, with(func(w *want) { w.any = true })},
		{"timeout int", []string{"-t", "3", u}, with(func(w *want) { w.timeout = 3 * time.Second })},
		{"timeout decimal", []string{"--timeout=2.5", u}, with(func(w *want) { w.timeout = 2500 * time.Millisecond })},
		{"timeout last wins", []string{"-t1", "-t", "7", u}, with(func(w *want) { w.timeout = 7 * time.Second })},
		{"codes repeat", []string{"-c", "200", "-c500", "--code", "302", u}, with(func(w *want) { w.codes = []int{200, 500, 302} })},
		{"body", []string{"-b", "works", u}, with(func(w *want) { w.body = "works" })},
		{"body starting with dash", []string{"-b", "-ok-", u}, with(func(w *want) { w.body = "-ok-" })},
		{"sendmail short", []string{"-s", "mail -t", u}, with(func(w *want) { w.sendmail = "mail -t" })},
		{"sendmail long", []string{"--sendmail_program", "mail -t", u}, with(func(w *want) { w.sendmail = "mail -t" })},
		{"sendmail alias", []string{"--sendmail=mail -t", u}, with(func(w *want) { w.sendmail = "mail -t" })},
		{"email", []string{"-m", "ops@example.com", u}, with(func(w *want) { w.email = []string{"ops@example.com"} })},
		{"email list", []string{"--email", "a@example.com, b@example.com", u}, with(func(w *want) { w.email = []string{"a@example.com", "b@example.com"} })},
		{"gcore", []string{"-g", "/opt/gcore  -o", "-d", "/var/cores", u}, with(func(w *want) { w.gcore = []string{"/opt/gcore", "-o"}; w.coredir = "/var/cores" })},
		{"long gcore", []string{"--gcore=dump", "--coredir=/c", u}, with(func(w *want) { w.gcore = []string{"dump"}; w.coredir = "/c" })},
		{"not eager", []string{"-E", u}, with(func(w *want) { w.eager = false })},
		{"long not eager", []string{"--not-eager", u}, with(func(w *want) { w.eager = false })},
		{"eager then not eager", []string{"-e", "-E", u}, with(func(w *want) { w.eager = false })},
		{"not eager then eager", []string{"-E", "-e", u}, with(func(w *want) { w.eager = true })},
		{"bundled eE", []string{"-eE", u}, with(func(w *want) { w.eager = false })},
		{"bundled Ee", []string{"-Ee", u}, with(func(w *want) { w.eager = true })},
		{"long eager last", []string{"--not-eager", "--eager", u}, with(func(w *want) { w.eager = true })},
		{"bundled aE", []string{"-aE", u}, with(func(w *want) { w.any = true; w.eager = false })},
		{"name", []string{"-n", "prod", u}, with(func(w *want) { w.name = "prod" })},
		{"long name", []string{"--name=prod", u}, with(func(w *want) { w.name = "prod" })},
		{"https upper case", []string{"HTTPS://example.com/"}, with(func(w *want) { w.url = "HTTPS://example.com/" })},
		{"ipv6", []string{"http://[::1]:8080/"}, with(func(w *want) { w.url = "http://[::1]:8080/" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cfg, code, done := parseArgs(tt.args, &stdout, &stderr, nil)
			if done {
				t.Fatalf("parseArgs(%q): got done with code %d, stderr %q; want accepted", tt.args, code, stderr.String())
			}
			got := want{cfg.programs, cfg.any, cfg.timeout, cfg.codes, cfg.body, cfg.mail.Transport.(*notify.Sendmail).Command, cfg.mail.To, cfg.gcore, cfg.coredir, cfg.eager, cfg.name, cfg.rawURL}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseArgs(%q):\ngot  %+v\nwant %+v", tt.args, got, tt.want)
			}
			if stdout.Len()+stderr.Len() > 0 {
				t.Errorf("got stdout %q, stderr %q; want both empty", stdout.String(), stderr.String())
			}
		})
	}
}

func TestRunRejects(t *testing.T) {
	env := []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent.sock"}
	noPEM := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(noPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"unknown option", []string{"-Z", "http://x/"}, "unknown flag -Z"},
		{"unknown long option", []string{"--bogus", "http://x/"}, "unknown flag --bogus"},
		{"prefix of a long option", []string{"--prog=web", "http://x/"}, "unknown flag --prog"},
		{"missing URL", []string{"-p", "web"}, `expected "<URL>"`},
		{"no arguments", nil, `expected "<URL>"`},
		{"two URLs", []string{"http://a/", "http://b/"}, "unexpected argument http://b/"},
		{"missing value", []string{"http://x/", "-p"}, "-p needs a value"},
		{"missing long value", []string{"http://x/", "--email"}, "--email needs a value"},
		{"missing value in a bundle", []string{"http://x/", "-aEm"}, "-m needs a value"},
		{"ftp scheme", []string{"ftp://x/"}, `URL "ftp://x/": scheme must be http or https`},
		{"no scheme", []string{"example.com/health"}, "scheme must be http or https"},
		{"no host", []string{"http:///health"}, "no host"},
		{"unparsable", []string{"http://[::1/"}, `URL "http://[::1/"`},
		{"timeout zero", []string{"-t", "0", "http://x/"}, `--timeout "0": must be a positive number of seconds`},
		{"timeout negative", []string{"-t", "-1", "http://x/"}, `--timeout "-1": must be a positive number of seconds`},
		{"timeout not a number", []string{"-t", "abc", "http://x/"}, `--timeout "abc": not a number of seconds`},
		{"timeout NaN", []string{"-t", "NaN", "http://x/"}, "not a number of seconds"},
		{"timeout huge", []string{"-t", "1e300", "http://x/"}, "too large"},
		{"code not a number", []string{"-c", "abc", "http://x/"}, "--code"},
		{"bad email", []string{"-m", "not an address", "http://x/"}, "mail settings"},
		{"empty email list", []string{"-m", ",", "http://x/"}, "no address"},
		{"CR in name", []string{"-m", "ops@example.com", "-n", "a\r\nBcc: x@example.com", "http://x/"}, "mail settings"},
		{"missing CA file", []string{"--https-cacert", "/nonexistent/ca.pem", "https://x/"}, "--https-cacert"},
		{"missing CA file, older spelling", []string{"--tls-cacert", "/nonexistent/ca.pem", "https://x/"}, "--https-cacert"},
		{"CA file without PEM", []string{"--tls-cacert", noPEM, "https://x/"}, "no PEM certificate"},
		{"smtp option without host", []string{"--smtp-user", "u", "http://x/"}, "--smtp-user needs --smtp-host"},
		{"bad smtp-tls", []string{"--smtp-tls", "maybe", "http://x/"}, "--smtp-tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr, env)
			if code != 2 {
				t.Errorf("run(%q): got exit %d, want 2 (stderr %q)", tt.args, code, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("got stdout %q, want nothing (no READY before a refusal)", stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) || !strings.HasPrefix(stderr.String(), "httpok: error: ") {
				t.Errorf("got stderr %q, want \"httpok: error: ...\" containing %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-p", "x", "-h"}, strings.NewReader(""), &stdout, &stderr, nil)
	if code != 0 {
		t.Errorf("got exit %d, want 0", code)
	}
	for _, s := range []string{"Usage: httpok", "--sendmail_program", "--not-eager", "--https-cacert", "--smtp-host"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("help on stdout lacks %q:\n%s", s, stdout.String())
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("got stderr %q, want nothing", stderr.String())
	}
}

func TestRunNotUnderSupervisord(t *testing.T) {
	for _, env := range [][]string{nil, {"SUPERVISOR_SERVER_URL="}} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"-p", "web", "http://127.0.0.1/"}, strings.NewReader(""), &stdout, &stderr, env)
		if code != 0 {
			t.Errorf("env %q: got exit %d, want 0", env, code)
		}
		if got, want := stderr.String(), "httpok must be run as a supervisor event listener\n"; got != want {
			t.Errorf("env %q: got stderr %q, want %q", env, got, want)
		}
		if stdout.Len() != 0 {
			t.Errorf("env %q: got stdout %q, want nothing", env, stdout.String())
		}
	}
	// Options are checked first, as upstream: a bad one still exits 2.
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-t", "0", "http://x/"}, strings.NewReader(""), &bytes.Buffer{}, &stderr, nil); code != 2 {
		t.Errorf("bad option outside supervisord: got exit %d, want 2 (stderr %q)", code, stderr.String())
	}
}
