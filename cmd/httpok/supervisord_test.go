package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// Every test here runs httpok as supervisord runs it: built from this tree,
// as an [eventlistener] on TICK_5, restarting real programs.

// tickWait covers the first TICK_5 (up to 5 s away), a check and a restart.
const tickWait = 25 * time.Second

// counted is an httptest server that answers status and body and counts requests.
type counted struct {
	*httptest.Server
	n atomic.Int64
}

func newCounted(t *testing.T, status int, body string) *counted {
	t.Helper()
	c := &counted{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(c.Close)
	return c
}

// listener returns an [eventlistener] running the built httpok with args.
func listener(t *testing.T, name string, args ...string) svtest.Listener {
	t.Helper()
	return svtest.Listener{Name: name, Command: svtest.Command(append([]string{svtest.Tool(t, "httpok")}, args...)...), Events: "TICK_5"}
}

func sleeper(t *testing.T, name string, extra ...string) svtest.Program {
	t.Helper()
	return svtest.Program{Name: name, Command: svtest.TestProg(t) + " sleep", Extra: extra}
}

func pid(t *testing.T, s *svtest.Supervisor, namespec string) int {
	t.Helper()
	return s.WaitState(t, namespec, rpcclient.StateRunning, 10*time.Second).PID
}

// waitRestarted waits until namespec runs under a pid other than old.
func waitRestarted(t *testing.T, s *svtest.Supervisor, namespec string, old int) {
	t.Helper()
	svtest.Eventually(t, tickWait, namespec+" was not restarted:\n"+s.ListenerStderr(t, "httpok"), func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		info, err := s.Client.GetProcessInfo(ctx, namespec)
		return err == nil && info.State == rpcclient.StateRunning && info.PID != old
	})
}

// waitMail waits for a mail whose body contains every one of wants: a tick that came
// while a program was still STARTING may have mailed before it.
func waitMail(t *testing.T, sink *svtest.SendmailSink, wants ...string) svtest.Mail {
	t.Helper()
	var found *svtest.Mail
	svtest.Eventually(t, tickWait, fmt.Sprintf("no mail containing all of %q", wants), func() bool {
		for _, m := range sink.Mails(t) {
			body := mailBody(m)
			all := true
			for _, w := range wants {
				all = all && strings.Contains(body, w)
			}
			if all {
				found = &m
				return true
			}
		}
		return false
	})
	return *found
}

// mailBody returns a mail's body with LF line endings.
func mailBody(m svtest.Mail) string {
	return strings.ReplaceAll(m.Text, "\r\n", "\n")
}

// wantNothingDone waits until srv has answered two checks (so the first
// tick's work, which the second waits for, is complete) and then checks that
// nothing was restarted or mailed.
func wantNothingDone(t *testing.T, s *svtest.Supervisor, srv *counted, sink *svtest.SendmailSink, namespec string, oldPID int) {
	t.Helper()
	svtest.Eventually(t, tickWait, "httpok made fewer than 2 requests", func() bool { return srv.n.Load() >= 2 })
	if got := pid(t, s, namespec); got != oldPID {
		t.Errorf("%s: got pid %d, want %d (not restarted)", namespec, got, oldPID)
	}
	if log := s.ListenerStderr(t, "httpok"); strings.Contains(log, "Restarting") || strings.Contains(log, "Mailed") {
		t.Errorf("httpok acted:\n%s", log)
	}
	if mails := sink.Mails(t); len(mails) != 0 {
		t.Errorf("got %d mails, want none", len(mails))
	}
}

func TestSupervisordNoAction(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		args   []string
	}{
		{"healthy", 200, "ok", nil},
		{"500 accepted by -c", 500, "down", []string{"-c", "200", "-c", "500"}},
		{"body present", 200, "all is well", []string{"-b", "is well"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newCounted(t, tt.status, tt.body)
			sink := svtest.NewSendmail(t)
			args := append([]string{"-p", "web", "-m", "ops@example.com", "-s", sink.Command}, tt.args...)
			s := svtest.Start(t, svtest.Config{
				Programs:  []svtest.Program{sleeper(t, "web")},
				Listeners: []svtest.Listener{listener(t, "httpok", append(args, srv.URL+"/health")...)},
			})
			wantNothingDone(t, s, srv, sink, "web", pid(t, s, "web"))
		})
	}
}

func TestSupervisordRestarts(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	closedPort := svtest.FreePort(t)
	tests := []struct {
		name      string
		status    int // of the httptest server; 0: use url
		body      string
		url       string
		args      []string
		wantSubj  string // after "httpok: URL: "
		wantLines []string
	}{
		{
			name: "500", status: 500, body: "down",
			wantSubj:  "bad status returned",
			wantLines: []string{": 500 Internal Server Error", "Restarting selected processes ['web']", "web is in RUNNING state, restarting", "web restarted"},
		},
		{
			name: "body absent", status: 200, body: "Some kind of error", args: []string{"-b", "works"},
			wantSubj:  "bad body returned",
			wantLines: []string{": 200 OK", "web is in RUNNING state, restarting", "web restarted"},
		},
		{
			name: "connection refused", url: fmt.Sprintf("http://127.0.0.1:%d/", closedPort), args: []string{"-p", "nosuch", "-n", "prod"},
			wantSubj: "bad status returned",
			wantLines: []string{
				fmt.Sprintf(":\n\n dial tcp 127.0.0.1:%d: connect: connection refused", closedPort),
				"Restarting selected processes ['web', 'nosuch']",
				"web restarted",
				"Programs not restarted because they did not exist: ['nosuch']",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := tt.url
			if tt.status != 0 {
				url = newCounted(t, tt.status, tt.body).URL + "/health"
			}
			sink := svtest.NewSendmail(t)
			args := append([]string{"-p", "web", "-m", "ops@example.com", "-s", sink.Command}, tt.args...)
			s := svtest.Start(t, svtest.Config{
				Programs:  []svtest.Program{sleeper(t, "web")},
				Listeners: []svtest.Listener{listener(t, "httpok", append(args, url)...)},
			})
			waitRestarted(t, s, "web", pid(t, s, "web"))
			// The mail of the tick that restarted web: an earlier tick may
			// have come while web was still STARTING, and rightly left it.
			m := waitMail(t, sink, "web restarted")
			prefix := "httpok: "
			if strings.Contains(strings.Join(tt.args, " "), "-n prod") {
				prefix = "httpok [prod]: "
			}
			if got, want := m.Msg.Header.Get("Subject"), prefix+url+": "+tt.wantSubj; got != want {
				t.Errorf("got subject %q, want %q", got, want)
			}
			body := mailBody(m)
			for _, line := range tt.wantLines {
				if !strings.Contains(body, line) {
					t.Errorf("mail body lacks %q:\n%s", line, body)
				}
			}
			if !strings.Contains(s.ListenerStderr(t, "httpok"), "Mailed:\n\nTo: ops@example.com\nSubject: "+prefix+url) {
				t.Errorf("stderr lacks the Mailed: block:\n%s", s.ListenerStderr(t, "httpok"))
			}
		})
	}
}

// TestSupervisordHungProgram checks a real program that accepts connections
// and never answers: the check times out after -t and the program restarts.
func TestSupervisordHungProgram(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	port := svtest.FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	sink := svtest.NewSendmail(t)
	s := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{{
			Name:    "web",
			Command: fmt.Sprintf("%s web -addr 127.0.0.1:%d -hang-after 1s", svtest.TestProg(t), port),
		}},
		Listeners: []svtest.Listener{listener(t, "httpok", "-p", "web", "-t", "2", "-m", "ops@example.com", "-s", sink.Command, url)},
	})
	waitRestarted(t, s, "web", pid(t, s, "web"))
	body := mailBody(waitMail(t, sink, "web restarted"))
	for _, want := range []string{"error contacting " + url + ":\n\n timed out after 2s\n", "web is in RUNNING state, restarting\nweb restarted"} {
		if !strings.Contains(body, want) {
			t.Errorf("mail body lacks %q:\n%s", want, body)
		}
	}
}

func TestSupervisordGroups(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	srv := newCounted(t, 503, "")
	sink := svtest.NewSendmail(t)
	s := svtest.Start(t, svtest.Config{
		Programs:  []svtest.Program{sleeper(t, "a"), sleeper(t, "b"), sleeper(t, "c")},
		Groups:    map[string][]string{"grp": {"a", "b"}},
		Listeners: []svtest.Listener{listener(t, "httpok", "-p", "grp:a", "-p", "b", "-m", "ops@example.com", "-s", sink.Command, srv.URL)},
	})
	a, b, c := pid(t, s, "grp:a"), pid(t, s, "grp:b"), pid(t, s, "c")
	waitRestarted(t, s, "grp:a", a)
	waitRestarted(t, s, "grp:b", b)
	body := mailBody(waitMail(t, sink, "grp:a restarted", "grp:b restarted"))
	want := "Restarting selected processes ['grp:a', 'b']\n" +
		"grp:a is in RUNNING state, restarting\ngrp:a restarted\n" +
		"grp:b is in RUNNING state, restarting\ngrp:b restarted"
	if !strings.HasSuffix(body, want) {
		t.Errorf("mail body:\n%s\nwant it to end with:\n%s", body, want)
	}
	if got := pid(t, s, "c"); got != c {
		t.Errorf("c: got pid %d, want %d (not named, not restarted)", got, c)
	}
}

func TestSupervisordAnyNeverItself(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	srv := newCounted(t, 500, "")
	sink := svtest.NewSendmail(t)
	s := svtest.Start(t, svtest.Config{
		Programs:  []svtest.Program{sleeper(t, "web1"), sleeper(t, "web2"), sleeper(t, "idle", "autostart=false")},
		Listeners: []svtest.Listener{listener(t, "httpok", "-a", "-m", "ops@example.com", "-s", sink.Command, srv.URL)},
	})
	self := pid(t, s, "httpok")
	w1, w2 := pid(t, s, "web1"), pid(t, s, "web2")
	waitRestarted(t, s, "web1", w1)
	waitRestarted(t, s, "web2", w2)
	body := mailBody(waitMail(t, sink, "web1 restarted", "web2 restarted"))
	for _, want := range []string{"Restarting all running processes\n", "idle not in RUNNING state, NOT restarting", "web1 restarted", "web2 restarted"} {
		if !strings.Contains(body, want) {
			t.Errorf("mail body lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "httpok") && strings.Contains(body, "httpok is in RUNNING") {
		t.Errorf("mail body mentions restarting httpok:\n%s", body)
	}
	if got := pid(t, s, "httpok"); got != self {
		t.Errorf("httpok: got pid %d, want %d (never restarted)", got, self)
	}
}

// TestSupervisordNotEager runs a lazy (-E) and an eager httpok side by side:
// when the eager one has checked twice, the lazy one has seen the same ticks
// and must not have made a request while its program was stopped.
func TestSupervisordNotEager(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	lazySrv, eagerSrv := newCounted(t, 200, "ok"), newCounted(t, 200, "ok")
	s := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{sleeper(t, "web", "autostart=false")},
		Listeners: []svtest.Listener{
			listener(t, "lazy", "-E", "-p", "web", lazySrv.URL),
			listener(t, "eager", "-p", "web", eagerSrv.URL),
		},
	})
	svtest.Eventually(t, tickWait, "the eager httpok made fewer than 2 requests", func() bool { return eagerSrv.n.Load() >= 2 })
	if n := lazySrv.n.Load(); n != 0 {
		t.Fatalf("-E with web stopped: got %d requests, want 0", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Client.StartProcess(ctx, "web", true); err != nil {
		t.Fatal(err)
	}
	svtest.Eventually(t, tickWait, "-E with web running made no request", func() bool { return lazySrv.n.Load() >= 1 })
}

func TestSupervisordGcore(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	dir := t.TempDir()
	argv := filepath.Join(dir, "argv")
	script := filepath.Join(dir, "gcore-stand-in")
	// Stands in for gdb's gcore: records its arguments one per line.
	if err := os.WriteFile(script, []byte("#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > \"$0.tmp\" && mv \"$0.tmp\" "+svtest.Quote(argv)+"\necho core written\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := newCounted(t, 500, "")
	sink := svtest.NewSendmail(t)
	cores := filepath.Join(dir, "cores")
	s := svtest.Start(t, svtest.Config{
		Programs:  []svtest.Program{sleeper(t, "web")},
		Listeners: []svtest.Listener{listener(t, "httpok", "-p", "web", "-g", script+" -o", "-d", cores, "-m", "ops@example.com", "-s", sink.Command, srv.URL)},
	})
	old := pid(t, s, "web")
	waitRestarted(t, s, "web", old)
	var got []byte
	svtest.Eventually(t, 5*time.Second, "gcore stand-in did not run", func() bool {
		var err error
		got, err = os.ReadFile(argv)
		return err == nil
	})
	if want := "-o\n" + cores + "/web\n" + strconv.Itoa(old) + "\n"; string(got) != want {
		t.Errorf("gcore argv: got %q, want %q", got, want)
	}
	body := mailBody(waitMail(t, sink, "web restarted"))
	if want := "gcore output for web:\n\n core written\n\nweb is in RUNNING state, restarting"; !strings.Contains(body, want) {
		t.Errorf("mail body lacks %q:\n%s", want, body)
	}
}
