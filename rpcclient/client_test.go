package rpcclient_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superlance-go/superlance/rpcclient"
)

func TestFaultError(t *testing.T) {
	tests := []struct {
		code rpcclient.FaultCode
		s    string
		want string
	}{
		{rpcclient.FaultNotRunning, "NOT_RUNNING: foo", "supervisor fault 70 NOT_RUNNING: foo"},
		{rpcclient.FaultUnknownMethod, "UNKNOWN_METHOD", "supervisor fault 1 UNKNOWN_METHOD"},
		{rpcclient.FaultNoFile, "NO_FILE: can't find command '/nonexistent/prog'", "supervisor fault 20 NO_FILE: can't find command '/nonexistent/prog'"},
		{rpcclient.FaultBadName, "", "supervisor fault 10"},
	}
	for _, tt := range tests {
		f := &rpcclient.Fault{Code: tt.code, String: tt.s}
		if got := f.Error(); got != tt.want {
			t.Errorf("Fault{%d, %q}.Error() = %q, want %q", tt.code, tt.s, got, tt.want)
		}
	}
}

func TestFaultCodeString(t *testing.T) {
	tests := []struct {
		c    rpcclient.FaultCode
		want string
	}{
		{rpcclient.FaultUnknownMethod, "UNKNOWN_METHOD"}, {rpcclient.FaultIncorrectParameters, "INCORRECT_PARAMETERS"},
		{rpcclient.FaultBadArguments, "BAD_ARGUMENTS"}, {rpcclient.FaultSignatureUnsupported, "SIGNATURE_UNSUPPORTED"},
		{rpcclient.FaultShutdownState, "SHUTDOWN_STATE"}, {rpcclient.FaultBadName, "BAD_NAME"},
		{rpcclient.FaultBadSignal, "BAD_SIGNAL"}, {rpcclient.FaultNoFile, "NO_FILE"},
		{rpcclient.FaultNotExecutable, "NOT_EXECUTABLE"}, {rpcclient.FaultFailed, "FAILED"},
		{rpcclient.FaultAbnormalTermination, "ABNORMAL_TERMINATION"}, {rpcclient.FaultSpawnError, "SPAWN_ERROR"},
		{rpcclient.FaultAlreadyStarted, "ALREADY_STARTED"}, {rpcclient.FaultNotRunning, "NOT_RUNNING"},
		{rpcclient.FaultSuccess, "SUCCESS"}, {rpcclient.FaultAlreadyAdded, "ALREADY_ADDED"},
		{rpcclient.FaultStillRunning, "STILL_RUNNING"}, {rpcclient.FaultCantReread, "CANT_REREAD"},
		{rpcclient.FaultCode(5), "FaultCode(5)"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("FaultCode(%d).String() = %q, want %q", int(tt.c), got, tt.want)
		}
	}
}

func TestProcessStateString(t *testing.T) {
	tests := []struct {
		s    rpcclient.ProcessState
		want string
	}{
		{rpcclient.StateStopped, "STOPPED"}, {rpcclient.StateStarting, "STARTING"}, {rpcclient.StateRunning, "RUNNING"},
		{rpcclient.StateBackoff, "BACKOFF"}, {rpcclient.StateStopping, "STOPPING"}, {rpcclient.StateExited, "EXITED"},
		{rpcclient.StateFatal, "FATAL"}, {rpcclient.StateUnknown, "UNKNOWN"}, {rpcclient.ProcessState(42), "UNKNOWN"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("ProcessState(%d).String() = %q, want %q", int(tt.s), got, tt.want)
		}
	}
}

func TestNamespec(t *testing.T) {
	tests := []struct{ name, group, want string }{
		{"sleeper", "sleeper", "sleeper"},
		{"app", "web", "web:app"},
		{"worker_00", "worker", "worker:worker_00"},
	}
	for _, tt := range tests {
		if got := (rpcclient.ProcessInfo{Name: tt.name, Group: tt.group}).Namespec(); got != tt.want {
			t.Errorf("Namespec() of %s in %s = %q, want %q", tt.name, tt.group, got, tt.want)
		}
	}
}

func TestNewBadURL(t *testing.T) {
	tests := []struct{ url, wantErr string }{
		{"https://localhost:9001", `unsupported SUPERVISOR_SERVER_URL scheme "https" (want unix:// or http://)`},
		{"localhost:9001", `unsupported SUPERVISOR_SERVER_URL scheme "localhost"`},
		{"/tmp/supervisor.sock", `unsupported SUPERVISOR_SERVER_URL scheme ""`},
		{"unix://", "has no socket path"},
		{"http://", "has no host"},
		{"http://a b", "parsing server URL"},
	}
	for _, tt := range tests {
		_, err := rpcclient.New(tt.url, rpcclient.Options{})
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("New(%q) error = %v, want it to contain %q", tt.url, err, tt.wantErr)
		}
	}
}

func TestFromEnv(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(xmlrpcDir, "getState.xml"))
	if err != nil {
		t.Fatal(err)
	}
	srv := serveUnix(t, replay(body))
	tests := []struct {
		name     string
		env      []string
		wantAuth string // Authorization header; "" means none
		wantErr  string
	}{
		{"missing", []string{"PATH=/bin"}, "", "SUPERVISOR_SERVER_URL is not set: not running under supervisord?"},
		{"empty", []string{"SUPERVISOR_SERVER_URL="}, "", "SUPERVISOR_SERVER_URL is not set"},
		{"bad scheme", []string{"SUPERVISOR_SERVER_URL=https://x"}, "", `scheme "https"`},
		{"no credentials", []string{"SUPERVISOR_SERVER_URL=" + srv.URL}, "", ""},
		{"credentials", []string{"SUPERVISOR_SERVER_URL=" + srv.URL, "SUPERVISOR_USERNAME=user", "SUPERVISOR_PASSWORD=123"},
			"Basic dXNlcjoxMjM=", ""},
		{"last wins", []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent", "SUPERVISOR_SERVER_URL=" + srv.URL, "SUPERVISOR_USERNAME=user"},
			"Basic dXNlcjo=", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := rpcclient.FromEnv(tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FromEnv error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			before := len(srv.Requests())
			if _, err := c.GetState(context.Background()); err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if len(reqs) != before+1 {
				t.Fatalf("server got %d new requests, want 1", len(reqs)-before)
			}
			if got := reqs[len(reqs)-1].Header.Get("Authorization"); got != tt.wantAuth {
				t.Errorf("Authorization = %q, want %q", got, tt.wantAuth)
			}
		})
	}
}

// TestHTTPURL: for http:// the path of the URL is ignored and the request
// goes to /RPC2 on host:port, as Python's transport does.
func TestHTTPURL(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(xmlrpcDir, "getPID.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var gotPath string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.Path
		w.Header().Set("Content-Type", "text/xml")
		w.Write(body)
	}))
	defer ts.Close()
	for _, url := range []string{ts.URL, ts.URL + "/", ts.URL + "/some/where"} {
		c := newClient(t, url, rpcclient.Options{})
		pid, err := c.GetPID(context.Background())
		if err != nil || pid != 7526 {
			t.Errorf("%s: GetPID() = %d, %v; want 7526, nil", url, pid, err)
		}
		if gotPath != "/RPC2" {
			t.Errorf("%s: request path %q, want /RPC2", url, gotPath)
		}
	}
}

// TestNotXML: paths outside /RPC2 reach supervisord's web UI, which
// answers 200 with HTML; that must not pass for an answer.
func TestNotXML(t *testing.T) {
	srv := serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>Supervisor Status</body></html>"))
	}))
	c := newClient(t, srv.URL, rpcclient.Options{})
	err := c.StopProcess(context.Background(), "web", true)
	for _, s := range []string{`supervisor.stopProcess "web": `, `not XML`, `text/html`, `Supervisor Status`} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("error = %v, want it to contain %q", err, s)
		}
	}
}

func TestGarbageXML(t *testing.T) {
	for _, body := range []string{"", "<methodResponse><params><param><value><int>x</int>", "<html>"} {
		srv := serveUnix(t, replay([]byte(body)))
		c := newClient(t, srv.URL, rpcclient.Options{})
		_, err := c.GetPID(context.Background())
		var f *rpcclient.Fault
		if err == nil || errors.As(err, &f) || !strings.Contains(err.Error(), "supervisor.getPID: decoding response") {
			t.Errorf("body %q: error = %v, want a decoding error", body, err)
		}
	}
}

func TestConnectionRefused(t *testing.T) {
	c := newClient(t, "unix://"+t.TempDir()+"/none.sock", rpcclient.Options{})
	err := c.StartProcess(context.Background(), "web:app", true)
	if err == nil || !strings.HasPrefix(err.Error(), `supervisor.startProcess "web:app": `) {
		t.Errorf("error = %v, want one starting with the method and name", err)
	}
}

// TestDeadline: a server that accepts the connection and never answers
// must not hold the call past its context deadline.
func TestDeadline(t *testing.T) {
	dir, err := os.MkdirTemp("", "rpc")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("unix", filepath.Join(dir, "hang.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() { <-stop; conn.Close() }()
		}
	}()

	c := newClient(t, "unix://"+filepath.Join(dir, "hang.sock"), rpcclient.Options{})
	const deadline = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	_, err = c.GetState(ctx)
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	// Generous bound: the point is "returns", not how fast.
	if elapsed > deadline+2*time.Second {
		t.Errorf("GetState returned after %v, want about %v", elapsed, deadline)
	}
}

// countingTransport counts the requests it passes to the default transport.
type countingTransport struct{ n int }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n++
	return http.DefaultTransport.RoundTrip(r)
}

// TestHTTPClientUnix: a caller's HTTPClient must still reach a unix socket,
// and is not modified on the way.
func TestHTTPClientUnix(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(xmlrpcDir, "getPID.xml"))
	if err != nil {
		t.Fatal(err)
	}
	srv := serveUnix(t, replay(body))
	own := &http.Transport{MaxIdleConnsPerHost: 3}
	for _, tt := range []struct {
		name string
		hc   *http.Client
	}{
		{"own transport", &http.Client{Timeout: time.Minute, Transport: own}},
		{"nil transport", &http.Client{Timeout: time.Minute}},
	} {
		c := newClient(t, srv.URL, rpcclient.Options{HTTPClient: tt.hc})
		if pid, err := c.GetPID(context.Background()); err != nil || pid != 7526 {
			t.Errorf("%s: GetPID() = %d, %v; want 7526, nil", tt.name, pid, err)
		}
	}
	if own.DialContext != nil {
		t.Error("New set DialContext on the caller's transport, want it left alone")
	}

	_, err = rpcclient.New(srv.URL, rpcclient.Options{HTTPClient: &http.Client{Transport: &countingTransport{}}})
	if err == nil || !strings.Contains(err.Error(), "*http.Transport") {
		t.Errorf("New(unix, HTTPClient with a custom RoundTripper) error = %v, want a refusal naming *http.Transport", err)
	}
}

// TestHTTPClientHTTP: for an http:// URL the caller's client is used as given.
func TestHTTPClientHTTP(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(xmlrpcDir, "getPID.xml"))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(replay(body))
	defer ts.Close()
	ct := &countingTransport{}
	c := newClient(t, ts.URL, rpcclient.Options{HTTPClient: &http.Client{Transport: ct}})
	if pid, err := c.GetPID(context.Background()); err != nil || pid != 7526 {
		t.Errorf("GetPID() = %d, %v; want 7526, nil", pid, err)
	}
	if ct.n != 1 {
		t.Errorf("the caller's transport saw %d requests, want 1", ct.n)
	}
}
