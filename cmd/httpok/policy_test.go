package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/rpcclient"
)

// TestTickFailures: with --failures N httpok acts on the Nth failed check
// in a row only; a passing check, a restart and -E finding nothing running
// start the count again.
func TestTickFailures(t *testing.T) {
	bad := result{status: 500, msg: "status contacting http://foo/bar: 500 Internal Server Error"}
	timeout := result{msg: "error contacting http://foo/bar:\n\n timed out after 10s"}
	good := result{status: 200, msg: "status contacting http://foo/bar: 200 OK"}
	tests := []struct {
		name     string
		failures string
		seq      []result
		want     []int // after each check, the number of restarts so far
	}{
		{"default acts at once", "1", []result{bad, good, bad}, []int{1, 1, 2}},
		{"two fail, one passes", "3", []result{bad, bad, good, bad, bad, good}, []int{0, 0, 0, 0, 0, 0}},
		{"third in a row", "3", []result{bad, timeout, bad, bad, bad, bad}, []int{0, 0, 1, 1, 1, 2}},
		{"two", "2", []result{bad, bad, good, bad, timeout}, []int{0, 1, 1, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sv := &fakeSupervisor{procs: upstreamProcs()}
			th := newTickHarness(t, []string{"-p", "foo", "--failures", tt.failures, "-m", "ops@example.com"}, sv, bad, nil)
			clock := time.Date(2026, 12, 2, 4, 20, 0, 0, time.Local)
			th.h.now = func() time.Time { clock = clock.Add(5 * time.Second); return clock }
			for i, r := range tt.seq {
				th.h.check = func(context.Context) result { return r }
				th.h.tick(context.Background())
				if got := strings.Count(strings.Join(sv.calls, "\n"), "start foo"); got != tt.want[i] {
					t.Fatalf("after check %d: %d restarts, want %d; stderr:\n%s", i+1, got, tt.want[i], th.stderr.String())
				}
				if len(th.mails) != tt.want[i] {
					t.Fatalf("after check %d: %d mails, want %d", i+1, len(th.mails), tt.want[i])
				}
			}
		})
	}

	t.Run("mail and log", func(t *testing.T) {
		sv := &fakeSupervisor{procs: upstreamProcs()}
		th := newTickHarness(t, []string{"-p", "foo", "--failures", "3", "-m", "ops@example.com"}, sv, bad, nil)
		clock := time.Date(2026, 12, 2, 4, 20, 0, 0, time.Local)
		th.h.now = func() time.Time { clock = clock.Add(5 * time.Second); return clock }
		for _, r := range []result{bad, good, bad, timeout, bad} {
			th.h.check = func(context.Context) result { return r }
			th.h.tick(context.Background())
		}
		if len(th.mails) != 1 {
			t.Fatalf("got %d mails, want 1; stderr:\n%s", len(th.mails), th.stderr.String())
		}
		want := "3 checks in a row failed:\n" +
			"2026-12-02 04:20:10 status contacting http://foo/bar: 500 Internal Server Error\n" +
			"2026-12-02 04:20:15 error contacting http://foo/bar: timed out after 10s\n" +
			"2026-12-02 04:20:20 status contacting http://foo/bar: 500 Internal Server Error\n" +
			"\n" +
			"status contacting http://foo/bar: 500 Internal Server Error\n" +
			"Restarting selected processes ['foo']\n" +
			"foo is in RUNNING state, restarting\n" +
			"foo restarted"
		if th.mails[0].Body != want {
			t.Errorf("mail body:\ngot  %q\nwant %q", th.mails[0].Body, want)
		}
		if got, want := th.mails[0].Subject, "httpok: http://foo/bar: bad status returned"; got != want {
			t.Errorf("subject %q, want %q", got, want)
		}
		for _, line := range []string{
			"1 of 3 failed checks in a row (--failures 3); not acting yet\n",
			"check passed after 1 failed check; counting from 0 again\n",
			"2 of 3 failed checks in a row (--failures 3); not acting yet\n",
		} {
			if !strings.Contains(th.stderr.String(), line) {
				t.Errorf("stderr lacks %q:\n%s", line, th.stderr.String())
			}
		}
	})

	t.Run("could not act", func(t *testing.T) {
		// supervisord did not answer: the next failed check tries again.
		sv := &fakeSupervisor{procs: upstreamProcs(), infoErr: context.DeadlineExceeded}
		th := newTickHarness(t, []string{"-p", "foo", "--failures", "2"}, sv, bad, nil)
		for range 2 {
			th.h.tick(context.Background())
		}
		sv.infoErr = nil
		th.h.tick(context.Background())
		if got := strings.Join(sv.calls, ","); got != "stop foo true,start foo true" {
			t.Errorf("calls %q, want foo restarted on the third failed check", got)
		}
	})

	t.Run("not eager resets", func(t *testing.T) {
		sv := &fakeSupervisor{procs: upstreamProcs()}
		th := newTickHarness(t, []string{"-E", "-p", "foo", "--failures", "2"}, sv, bad, nil)
		th.h.tick(context.Background())
		sv.procs = []rpcclient.ProcessInfo{{Name: "foo", Group: "foo", State: rpcclient.StateStopped}}
		th.h.tick(context.Background())
		sv.procs = upstreamProcs()
		th.h.tick(context.Background())
		if len(sv.calls) != 0 {
			t.Errorf("calls %q, want none: foo was not running between the two failed checks", sv.calls)
		}
		th.h.tick(context.Background())
		if len(sv.calls) != 2 {
			t.Errorf("calls %q, want foo restarted on the second failed check in a row", sv.calls)
		}
	})
}

// TestTickGrace: no check while a monitored process is STARTING or has been
// RUNNING for less than --grace; none is restarted during its grace either.
func TestTickGrace(t *testing.T) {
	bad := result{status: 500, msg: "status contacting http://foo/bar: 500 Internal Server Error"}
	procs := func(upFoo, upQux int64) []rpcclient.ProcessInfo {
		return []rpcclient.ProcessInfo{
			{Name: "foo", Group: "foo", PID: 11, State: rpcclient.StateRunning, Start: 1000, Now: 1000 + upFoo},
			{Name: "bar", Group: "bar", State: rpcclient.StateStopped},
			{Name: "qux", Group: "qux", PID: 12, State: rpcclient.StateRunning, Start: 1000, Now: 1000 + upQux},
			{Name: "httpok", Group: "httpok", PID: 13, State: rpcclient.StateRunning, Start: 1000, Now: 1000},
		}
	}
	// starting puts foo inside its startsecs: spawned, not yet RUNNING.
	starting := func(ps []rpcclient.ProcessInfo) []rpcclient.ProcessInfo {
		ps[0].State = rpcclient.StateStarting
		return ps
	}
	env := []string{"SUPERVISOR_PROCESS_NAME=httpok", "SUPERVISOR_GROUP_NAME=httpok"}
	tests := []struct {
		name       string
		args       []string
		procs      []rpcclient.ProcessInfo
		wantChecks int
		wantCalls  int
		wantLog    string
	}{
		{"in grace", []string{"-p", "foo", "--grace", "5"}, procs(4, 100), 0, 0, "not checking: foo has been RUNNING for 4s, less than --grace 5s\n"},
		{"grace over", []string{"-p", "foo", "--grace", "5"}, procs(5, 100), 1, 2, ""},
		{"another process in grace", []string{"-p", "foo", "--grace", "5"}, procs(100, 1), 1, 2, ""},
		{"any: one in grace", []string{"-a", "--grace", "5"}, procs(100, 1), 0, 0, "not checking: qux has been RUNNING for 1s, less than --grace 5s\n"},
		{"any: not itself", []string{"-a", "--grace", "5"}, procs(100, 100), 1, 4, ""},
		{"decimal", []string{"-p", "foo", "--grace", "4.5"}, procs(4, 100), 0, 0, "less than --grace 4.5s"},
		{"starting", []string{"-p", "foo", "--grace", "5"}, starting(procs(100, 100)), 0, 0, "not checking: foo is STARTING, not yet RUNNING for --grace 5s\n"},
		{"starting, no grace", []string{"-p", "foo"}, starting(procs(100, 100)), 1, 0, ""},
		{"no grace", []string{"-p", "foo"}, procs(0, 0), 1, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sv := &fakeSupervisor{procs: tt.procs}
			th := newTickHarness(t, tt.args, sv, bad, env)
			th.h.tick(context.Background())
			if th.checks != tt.wantChecks || len(sv.calls) != tt.wantCalls {
				t.Errorf("got %d checks, calls %q; want %d checks, %d calls; stderr:\n%s", th.checks, sv.calls, tt.wantChecks, tt.wantCalls, th.stderr.String())
			}
			if !strings.Contains(th.stderr.String(), tt.wantLog) {
				t.Errorf("stderr %q lacks %q", th.stderr.String(), tt.wantLog)
			}
		})
	}

	t.Run("restarted since the check", func(t *testing.T) {
		// The list read before the check shows foo past its grace; the one
		// read to act shows it started again meanwhile.
		sv := &fakeSupervisor{procs: procs(100, 100)}
		th := newTickHarness(t, []string{"-p", "foo", "--grace", "5", "-m", "ops@example.com"}, sv, bad, env)
		th.h.check = func(context.Context) result { sv.procs = procs(2, 100); return bad }
		th.h.tick(context.Background())
		if len(sv.calls) != 0 || len(th.mails) != 1 || !strings.Contains(th.mails[0].Body, "foo has been RUNNING for 2s, less than --grace 5s, NOT restarting") {
			t.Errorf("calls %q, mails %+v; want no restart and the reason mailed", sv.calls, th.mails)
		}
	})
}

func TestParsePolicy(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string { return writeFile(t, dir, name, text) }
	headers := write("headers", "# tokens\n\nAuthorization: Bearer s3cret\r\nX-Probe:  yes  \n")
	login := write("login", "probe:pa:ss word\r\nignored\n")
	const u = "http://127.0.0.1/health"
	tests := []struct {
		name       string
		args       []string
		failures   int
		grace      time.Duration
		method     string
		wantHeader map[string]string
	}{
		{"defaults", []string{u}, 1, 0, "GET", map[string]string{}},
		{"failures", []string{"--failures", "3", u}, 3, 0, "GET", map[string]string{}},
		{"grace", []string{"--grace=2.5", u}, 1, 2500 * time.Millisecond, "GET", map[string]string{}},
		{"head", []string{"--method", "HEAD", u}, 1, 0, "HEAD", map[string]string{}},
		{"headers", []string{"--header", "X-A: 1", "--header", "host:  example.com", u}, 1, 0, "GET", map[string]string{"X-A": "1", "Host": "example.com"}},
		{"header file", []string{"--header-file", headers, u}, 1, 0, "GET", map[string]string{"Authorization": "Bearer s3cret", "X-Probe": "yes"}},
		{"basic auth", []string{"--basic-auth-file", login, u}, 1, 0, "GET",
			map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("probe:pa:ss word"))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cfg, code, done := parseArgs(tt.args, &stdout, &stderr, nil)
			if done {
				t.Fatalf("parseArgs(%q): exit %d, stderr %q", tt.args, code, stderr.String())
			}
			if cfg.failures != tt.failures || cfg.grace != tt.grace || cfg.method != tt.method {
				t.Errorf("got failures %d, grace %v, method %s; want %d, %v, %s", cfg.failures, cfg.grace, cfg.method, tt.failures, tt.grace, tt.method)
			}
			if len(cfg.header) != len(tt.wantHeader) {
				t.Errorf("got headers %q, want %q", cfg.header, tt.wantHeader)
			}
			for k, v := range tt.wantHeader {
				if got := cfg.header.Get(k); got != v {
					t.Errorf("header %s: got %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestRunRejectsPolicy: bad check options exit 2 with a message naming the
// option, and never show a secret.
func TestRunRejectsPolicy(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string { return writeFile(t, dir, name, text) }
	noColonFile := write("nocolon", "Bearer s3cret\n")
	noColonLogin := write("nocolonlogin", "s3cret\n")
	noUser := write("nouser", ":s3cret\n")
	token := write("token", "Authorization: Bearer s3cret\n")
	unreadable := write("unreadable", "X: y\n")
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Open(unreadable); err == nil {
		f.Close()
		unreadable = filepath.Join(dir, "missing") // running as root: a missing file stands in
	}
	env := []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent.sock"}
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"failures zero", []string{"--failures", "0"}, "--failures 0: want 1 or more"},
		{"failures negative", []string{"--failures=-2"}, "--failures -2: want 1 or more"},
		{"failures not a number", []string{"--failures", "two"}, "--failures"},
		{"grace negative", []string{"--grace", "-1"}, `--grace "-1": cannot be negative`},
		{"grace not a number", []string{"--grace", "soon"}, `--grace "soon": not a number of seconds`},
		{"grace NaN", []string{"--grace", "NaN"}, "not a number of seconds"},
		{"method", []string{"--method", "POST"}, "--method"},
		{"head with body", []string{"--method", "HEAD", "-b", "ok"}, "-b needs --method GET"},
		{"header without colon", []string{"--header", "Bearer s3cret"}, "--header: want 'NAME: VALUE'"},
		{"header with CRLF", []string{"--header", "X-A: s3cret\r\nX-B: y"}, "--header: header X-A: the value holds a line break"},
		{"header name with LF", []string{"--header", "X\nA: s3cret"}, "--header: want 'NAME: VALUE'"},
		{"reserved header", []string{"--header", "Accept-Encoding: gzip"}, "header Accept-Encoding is set by the listener itself"},
		{"header file without colon", []string{"--header-file", noColonFile}, "--header-file: line 1: want 'NAME: VALUE'"},
		{"missing header file", []string{"--header-file", filepath.Join(dir, "none")}, "--header-file: open"},
		{"unreadable header file", []string{"--header-file", unreadable}, "--header-file: open"},
		{"missing login file", []string{"--basic-auth-file", filepath.Join(dir, "none")}, "--basic-auth-file: open"},
		{"unreadable login file", []string{"--basic-auth-file", unreadable}, "--basic-auth-file: open"},
		{"login without colon", []string{"--basic-auth-file", noColonLogin}, "want USER:PASSWORD on the first line"},
		{"login without user", []string{"--basic-auth-file", noUser}, "the user name before ':' is empty"},
		{"two logins", []string{"--header-file", token, "--basic-auth-file", noUser}, "give the login one way"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append(tt.args, "http://x/")
			code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, env)
			if code != 2 {
				t.Errorf("run(%q): got exit %d, want 2 (stderr %q)", args, code, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("got stdout %q, want nothing", stdout.String())
			}
			if !strings.HasPrefix(stderr.String(), "httpok: error: ") || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("got stderr %q, want \"httpok: error: ...\" containing %q", stderr.String(), tt.wantStderr)
			}
			if strings.Contains(stderr.String(), "s3cret") {
				t.Errorf("stderr shows the secret: %q", stderr.String())
			}
		})
	}
}

// TestCheckHeadersAndMethod: the check sends --header values (Host as the
// virtual host), the login, and the --method asked for, to a real server.
func TestCheckHeadersAndMethod(t *testing.T) {
	type seen struct {
		method, host, auth, probe, ua, enc string
		user, pass                         string
		basic                              bool
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{method: r.Method, host: r.Host, auth: r.Header.Get("Authorization"), probe: r.Header.Get("X-Probe"),
			ua: r.Header.Get("User-Agent"), enc: r.Header.Get("Accept-Encoding")}
		s.user, s.pass, s.basic = r.BasicAuth()
		got <- s
		fmt.Fprint(w, "It works")
	}))
	defer srv.Close()
	login := filepath.Join(t.TempDir(), "login")
	if err := os.WriteFile(login, []byte("probe:s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want seen
		body string
	}{
		{"defaults", nil, seen{method: "GET", host: strings.TrimPrefix(srv.URL, "http://"), ua: "httpok", enc: "identity"}, "It works"},
		{"head", []string{"--method", "HEAD"}, seen{method: "HEAD", host: strings.TrimPrefix(srv.URL, "http://"), ua: "httpok", enc: "identity"}, ""},
		{"headers", []string{"--header", "Host: app.example.com", "--header", "X-Probe: 1", "--header", "User-Agent: probe/1", "--header", "Authorization: Bearer t0ken"},
			seen{method: "GET", host: "app.example.com", auth: "Bearer t0ken", probe: "1", ua: "probe/1", enc: "identity"}, "It works"},
		{"basic auth", []string{"--basic-auth-file", login},
			seen{method: "GET", host: strings.TrimPrefix(srv.URL, "http://"), auth: "Basic cHJvYmU6czNjcmV0", ua: "httpok", enc: "identity", user: "probe", pass: "s3cret", basic: true}, "It works"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, code, done := parseArgs(append(tt.args, srv.URL+"/health"), io.Discard, io.Discard, nil)
			if done {
				t.Fatalf("parseArgs: exit %d", code)
			}
			c := &checker{rawURL: cfg.rawURL, url: cfg.url, timeout: 10 * time.Second, tls: cfg.tlsConfig, method: cfg.method, header: cfg.header}
			res := c.check(context.Background())
			if res.status != 200 || res.body != tt.body {
				t.Errorf("got status %d, body %q; want 200, %q (%s)", res.status, res.body, tt.body, res.msg)
			}
			if s := <-got; s != tt.want {
				t.Errorf("server saw %+v, want %+v", s, tt.want)
			}
		})
	}
}

// writeFile writes text to dir/name, readable by its owner only, as a
// secret is kept.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
