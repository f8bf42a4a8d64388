package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
)

// policyWait covers several TICK_5 events: these tests count checks.
const policyWait = 90 * time.Second

// TestSupervisordFailures: a health URL that fails twice and then recovers,
// over and over, is never acted on with --failures 3 (each pass starts the
// count again) and restarts its program with --failures 2.
func TestSupervisordFailures(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	// flaky answers 500, 500, 200, 500, 500, 200, ...
	type flaky struct {
		*httptest.Server
		n atomic.Int64
	}
	newFlaky := func() *flaky {
		f := &flaky{}
		f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if f.n.Add(1)%3 != 0 {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}))
		t.Cleanup(f.Close)
		return f
	}
	srv3, srv2 := newFlaky(), newFlaky()
	sink3, sink2 := svtest.NewSendmail(t), svtest.NewSendmail(t)
	s := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{sleeper(t, "web3"), sleeper(t, "web2")},
		Listeners: []svtest.Listener{
			listener(t, "three", "--failures", "3", "-p", "web3", "-m", "ops@example.com", "-s", sink3.Command, srv3.URL+"/health"),
			listener(t, "two", "--failures", "2", "-p", "web2", "-m", "ops@example.com", "-s", sink2.Command, srv2.URL+"/health"),
		},
	})
	web3, web2 := pid(t, s, "web3"), pid(t, s, "web2")

	waitRestarted(t, s, "web2", web2)
	body := mailBody(waitMail(t, sink2, "web2 restarted"))
	bad := "status contacting " + srv2.URL + "/health: 500 Internal Server Error"
	if !strings.HasPrefix(body, "2 checks in a row failed:\n") || strings.Count(body, bad) != 3 ||
		!strings.Contains(body, "\n\n"+bad+"\nRestarting selected processes ['web2']\nweb2 is in RUNNING state, restarting\nweb2 restarted") {
		t.Errorf("--failures 2: mail body:\n%s\nwant the two failed checks, then the report", body)
	}

	// Six checks: two rounds of fail, fail, pass. The sixth begins after
	// the fifth was judged: a tick's work ends before the next one's starts.
	svtest.Eventually(t, policyWait, "--failures 3: fewer than 6 checks", func() bool { return srv3.n.Load() >= 6 })
	if got := pid(t, s, "web3"); got != web3 {
		t.Errorf("--failures 3: web3 got pid %d, want %d (not restarted)", got, web3)
	}
	log := s.ListenerStderr(t, "three")
	if strings.Contains(log, "Restarting") || len(sink3.Mails(t)) != 0 {
		t.Errorf("--failures 3 acted; stderr:\n%s", log)
	}
	for _, want := range []string{"2 of 3 failed checks in a row (--failures 3); not acting yet\n", "check passed after 2 failed checks; counting from 0 again\n"} {
		if strings.Count(log, want) < 2 {
			t.Errorf("--failures 3: stderr lacks %q twice:\n%s", want, log)
		}
	}
}

// TestSupervisordGrace: a program that needs 3 s to answer is never checked
// early with --grace 5, so never restarted; and a program that never
// answers well is left alone throughout its grace, while the same check
// without --grace restarts it.
func TestSupervisordGrace(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	slowPort, deadPort := svtest.FreePort(t), svtest.FreePort(t)
	httpProg := func(name string, port int, warmUp string) svtest.Program {
		return svtest.Program{Name: name, Command: fmt.Sprintf("%s web -addr 127.0.0.1:%d -warm-up %s -log-requests", svtest.TestProg(t), port, warmUp)}
	}
	slowURL, deadURL := fmt.Sprintf("http://127.0.0.1:%d/", slowPort), fmt.Sprintf("http://127.0.0.1:%d/", deadPort)
	sink := svtest.NewSendmail(t)
	s := svtest.Start(t, svtest.Config{
		Programs:  []svtest.Program{httpProg("slow", slowPort, "3s"), httpProg("dead", deadPort, "1h")},
		Listeners: []svtest.Listener{listener(t, "httpok", "--grace", "5", "-p", "slow", "-m", "ops@example.com", "-s", sink.Command, slowURL)},
	})
	slow, dead := pid(t, s, "slow"), pid(t, s, "dead")

	// dead, ticked by the test itself: with --grace 3600 the tick is
	// skipped and the program gets no request at all.
	graced := svtest.Spawn(t, svtest.Tool(t, "httpok"), svtest.SpawnOptions{Env: s.Env()}, "--grace", "3600", "-p", "dead", deadURL)
	graced.Send("TICK_5", "when:1")
	svtest.Eventually(t, tickWait, "--grace 3600: no grace line", func() bool {
		return strings.Contains(graced.Stderr.String(), "httpok: not checking: dead has been RUNNING for ")
	})
	if out := s.ProgramStdout(t, "dead"); strings.Contains(out, "answered") {
		t.Errorf("--grace 3600: dead was checked:\n%s", out)
	}
	// The control: the same check without --grace restarts it.
	eager := svtest.Spawn(t, svtest.Tool(t, "httpok"), svtest.SpawnOptions{Env: s.Env()}, "-p", "dead", deadURL)
	eager.Send("TICK_5", "when:1")
	waitRestarted(t, s, "dead", dead)
	if out := s.ProgramStdout(t, "dead"); !strings.Contains(out, "answered 503") {
		t.Errorf("without --grace: dead's stdout lacks the 503 it answered:\n%s", out)
	}

	// slow, on supervisord's ticks: every check comes at least 5 s after
	// it became RUNNING, when it has answered well for 2 s or more.
	svtest.Eventually(t, policyWait, "slow answered fewer than 2 checks", func() bool {
		return strings.Count(s.ProgramStdout(t, "slow"), "answered 200") >= 2
	})
	if out := s.ProgramStdout(t, "slow"); strings.Contains(out, "answered 503") {
		t.Errorf("--grace 5: slow was checked while warming up:\n%s", out)
	}
	if got := pid(t, s, "slow"); got != slow {
		t.Errorf("--grace 5: slow got pid %d, want %d (not restarted)", got, slow)
	}
	if log := s.ListenerStderr(t, "httpok"); strings.Contains(log, "Restarting") || len(sink.Mails(t)) != 0 {
		t.Errorf("--grace 5: httpok acted:\n%s", log)
	}
}

// TestSupervisordAuth: a URL that answers 401 without a login and 200 with
// one. The token (--header-file, with --method HEAD) and the basic login
// (--basic-auth-file) get 200 and their programs are left alone; the same
// URL without them gets 401 and restarts. No secret reaches a log or a mail.
func TestSupervisordAuth(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	const token, password = "t0ken-9f3a", "pa55-c81e"
	var viaToken, viaLogin, refused atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, basic := r.BasicAuth()
		switch {
		case r.Header.Get("Authorization") == "Bearer "+token && r.Header.Get("X-Probe") == "yes" && r.Method == http.MethodHead:
			viaToken.Add(1)
		case basic && user == "probe" && pass == password && r.Method == http.MethodGet:
			viaLogin.Add(1)
		default:
			refused.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	tokenFile, loginFile := filepath.Join(dir, "token"), filepath.Join(dir, "login")
	if err := os.WriteFile(tokenFile, []byte("Authorization: Bearer "+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(loginFile, []byte("probe:"+password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sink := svtest.NewSendmail(t)
	mail := []string{"-m", "ops@example.com", "-s", sink.Command}
	url := srv.URL + "/health"
	s := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{sleeper(t, "tok"), sleeper(t, "login"), sleeper(t, "none")},
		Listeners: []svtest.Listener{
			listener(t, "bytoken", append(mail, "--header-file", tokenFile, "--header", "X-Probe: yes", "--method", "HEAD", "-p", "tok", url)...),
			listener(t, "bylogin", append(mail, "--basic-auth-file", loginFile, "-p", "login", url)...),
			listener(t, "nologin", append(mail, "-p", "none", url)...),
		},
	})
	tok, login, none := pid(t, s, "tok"), pid(t, s, "login"), pid(t, s, "none")
	waitRestarted(t, s, "none", none)
	if body := mailBody(waitMail(t, sink, "none restarted")); !strings.HasPrefix(body, "status contacting "+url+": 401 Unauthorized\n") {
		t.Errorf("without a login: mail body:\n%s", body)
	}
	svtest.Eventually(t, policyWait, "fewer than 2 checks with the token and 2 with the login", func() bool {
		return viaToken.Load() >= 2 && viaLogin.Load() >= 2
	})
	if got := pid(t, s, "tok"); got != tok {
		t.Errorf("--header-file: tok got pid %d, want %d (not restarted)", got, tok)
	}
	if got := pid(t, s, "login"); got != login {
		t.Errorf("--basic-auth-file: login got pid %d, want %d (not restarted)", got, login)
	}
	for _, l := range []string{"bytoken", "bylogin"} {
		if log := s.ListenerStderr(t, l); strings.Contains(log, "Restarting") {
			t.Errorf("%s acted:\n%s", l, log)
		}
	}
	everything := s.Log(t)
	for _, l := range []string{"bytoken", "bylogin", "nologin"} {
		everything += s.ListenerStderr(t, l)
	}
	for _, m := range sink.Mails(t) {
		everything += m.Text
	}
	for _, secret := range []string{token, password} {
		if strings.Contains(everything, secret) {
			t.Errorf("a log or a mail shows the secret %q", secret)
		}
	}
}
