package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// newChecker returns a checker for rawURL, failing the test on a bad URL.
func newChecker(t testing.TB, rawURL string, timeout time.Duration, tlsCfg *tls.Config) *checker {
	t.Helper()
	u, err := parseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if tlsCfg == nil {
		tlsCfg = &tls.Config{InsecureSkipVerify: true}
	}
	return &checker{rawURL: rawURL, url: u, timeout: timeout, tls: tlsCfg}
}

// rawServer serves one canned answer per connection, written verbatim, so a
// test can send what net/http's server never would.
func rawServer(t *testing.T, answer func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				// Read the request head first, as a real server does.
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				answer(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

func TestCheckStatus(t *testing.T) {
	var mu sync.Mutex
	var seen []http.Header
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		fmt.Fprint(w, "It works")
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 2*maxBody)) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	custom := rawServer(t, func(c net.Conn) {
		fmt.Fprint(c, "HTTP/1.1 299 Fine By Me\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
	})

	tests := []struct {
		url        string
		wantStatus int
		wantMsg    string
		wantBody   int
	}{
		{srv.URL + "/ok", 200, "status contacting " + srv.URL + "/ok: 200 OK", len("It works")},
		{srv.URL + "/fail", 500, "status contacting " + srv.URL + "/fail: 500 Internal Server Error", len("boom\n")},
		{srv.URL + "/moved", 302, "status contacting " + srv.URL + "/moved: 302 Found", -1},
		{srv.URL + "/big", 200, "status contacting " + srv.URL + "/big: 200 OK", maxBody},
		{custom, 299, "status contacting " + custom + ": 299 Fine By Me", 2},
	}
	for _, tt := range tests {
		res := newChecker(t, tt.url, 5*time.Second, nil).check(context.Background())
		if res.status != tt.wantStatus || res.msg != tt.wantMsg {
			t.Errorf("check(%s): got status %d, msg %q; want %d, %q", tt.url, res.status, res.msg, tt.wantStatus, tt.wantMsg)
		}
		if tt.wantBody >= 0 && len(res.body) != tt.wantBody {
			t.Errorf("check(%s): got %d body bytes, want %d", tt.url, len(res.body), tt.wantBody)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// One request for /ok itself; the redirect to /ok was not followed.
	if len(seen) != 1 {
		t.Fatalf("got %d requests to /ok, want 1 (redirects must not be followed)", len(seen))
	}
	if ua, ae := seen[0].Get("User-Agent"), seen[0].Get("Accept-Encoding"); ua != "httpok" || ae != "identity" {
		t.Errorf("got User-Agent %q, Accept-Encoding %q; want httpok, identity", ua, ae)
	}
}

func TestCheckErrors(t *testing.T) {
	// A port nobody listens on: bind, note the port, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/"
	ln.Close()

	// Accepts and never answers: the hung program.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()

	// Sends its headers at once and then one body byte every 100 ms: each
	// read succeeds, so only a total deadline ends the check.
	trickle := rawServer(t, func(c net.Conn) {
		fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
		for range 1000 {
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	tests := []struct {
		name, url string
		timeout   time.Duration
		want      string // the message after "error contacting URL:\n\n "
	}{
		{"refused", closed, 5 * time.Second, "dial tcp " + strings.TrimSuffix(strings.TrimPrefix(closed, "http://"), "/") + ": connect: connection refused"},
		{"hung", "http://" + hang.Addr().String() + "/", 300 * time.Millisecond, "timed out after 300ms"},
		{"trickling body", trickle, 500 * time.Millisecond, "timed out after 500ms"},
		{"unknown host", "http://nonexistent.invalid/", 5 * time.Second, "dial tcp: lookup nonexistent.invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := newChecker(t, tt.url, tt.timeout, nil).check(context.Background())
			prefix := "error contacting " + tt.url + ":\n\n "
			if res.status != 0 || !strings.HasPrefix(res.msg, prefix+tt.want) {
				t.Errorf("got status %d, msg %q; want 0, %q", res.status, res.msg, prefix+tt.want+"...")
			}
			// Generous bound: the check must end near its deadline, not hang.
			if d := time.Since(start); d > tt.timeout+5*time.Second {
				t.Errorf("check took %v with a %v timeout", d, tt.timeout)
			}
		})
	}
}

func TestCheckHTTPS(t *testing.T) {
	var mu sync.Mutex
	var sni []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secure") }))
	srv.TLS = &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		sni = append(sni, h.ServerName)
		mu.Unlock()
		return nil, nil
	}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	noVerify, _ := tlsConfig(false, "")
	verify, _ := tlsConfig(true, "")
	withCA, err := tlsConfig(false, caFile)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		url        string
		tls        *tls.Config
		wantStatus int
		wantMsg    string
	}{
		{"self-signed accepted by default", fmt.Sprintf("https://localhost:%d/", port), noVerify, 200, ": 200 OK"},
		{"verification refuses it", fmt.Sprintf("https://127.0.0.1:%d/", port), verify, 0, "certificate signed by unknown authority"},
		{"CA file trusts it", fmt.Sprintf("https://127.0.0.1:%d/", port), withCA, 200, ": 200 OK"},
		{"CA file checks the name", fmt.Sprintf("https://localhost:%d/", port), withCA, 0, "certificate is valid for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := newChecker(t, tt.url, 5*time.Second, tt.tls).check(context.Background())
			if res.status != tt.wantStatus || !strings.Contains(res.msg, tt.wantMsg) {
				t.Errorf("got status %d, msg %q; want %d and a msg containing %q", res.status, res.msg, tt.wantStatus, tt.wantMsg)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sni) == 0 || sni[0] != "localhost" {
		t.Errorf("got SNI %q, want localhost first (upstream sent none)", sni)
	}
}

func TestCheckIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	u := "http://" + ln.Addr().String() + "/"
	if !strings.HasPrefix(u, "http://[::1]:") {
		t.Fatalf("got URL %s, want an IPv6 literal", u)
	}
	if res := newChecker(t, u, 5*time.Second, nil).check(context.Background()); res.status != 200 {
		t.Errorf("check(%s): got status %d, msg %q; want 200", u, res.status, res.msg)
	}
}

func TestVerdict(t *testing.T) {
	const u = "http://foo/bar"
	tests := []struct {
		name     string
		res      result
		codes    []int
		body     string
		wantSubj string
		wantBad  bool
	}{
		{"200 accepted", result{status: 200}, []int{200}, "", "", false},
		{"201 in list", result{status: 201}, []int{200, 201}, "", "", false},
		{"500", result{status: 500}, []int{200}, "", u + ": bad status returned", true},
		{"500 accepted", result{status: 500}, []int{200, 500}, "", "", false},
		{"error", result{status: 0}, []int{200}, "", u + ": bad status returned", true},
		{"error with code 0 listed", result{status: 0}, []int{0}, "", u + ": bad status returned", true},
		{"body present", result{status: 200, body: "It works"}, []int{200}, "works", "", false},
		{"body absent", result{status: 200, body: "Some kind of error"}, []int{200}, "works", u + ": bad body returned", true},
		{"status wins over body", result{status: 500, body: "x"}, []int{200}, "works", u + ": bad status returned", true},
	}
	for _, tt := range tests {
		subj, bad := verdict(tt.res, u, tt.codes, tt.body)
		if subj != tt.wantSubj || bad != tt.wantBad {
			t.Errorf("%s: got %q, %v; want %q, %v", tt.name, subj, bad, tt.wantSubj, tt.wantBad)
		}
	}
}

func TestSubject(t *testing.T) {
	if got, want := subject("", "http://foo/bar: bad status returned"), "httpok: http://foo/bar: bad status returned"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := subject("thinko", "http://foo/bar: bad status returned"), "httpok [thinko]: http://foo/bar: bad status returned"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
