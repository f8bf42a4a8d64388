package rpcclient_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/superlance-go/superlance/rpcclient"
)

// captured is one request as the server saw it.
type captured struct {
	Method, Path, Host string
	Header             http.Header
	Body               []byte
}

// unixServer is a real HTTP server on a real unix socket.
type unixServer struct {
	URL string // unix:///...

	mu       sync.Mutex
	requests []captured
	conns    int
}

// Conns returns how many connections the server accepted.
func (s *unixServer) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Requests returns the requests received so far.
func (s *unixServer) Requests() []captured {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]captured(nil), s.requests...)
}

// serveUnix serves h on a unix socket in a temp dir, recording every request.
func serveUnix(t testing.TB, h http.Handler) *unixServer {
	t.Helper()
	dir := t.TempDir()
	if len(dir) > 90 { // AF_UNIX paths are limited to about 100 bytes
		var err error
		if dir, err = os.MkdirTemp("", "rpc"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	s := &unixServer{URL: "unix://" + sock}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, captured{r.Method, r.URL.Path, r.Host, r.Header.Clone(), body})
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	}), ConnState: func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		}
	}}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// replay answers every request with a 200 text/xml response carrying body.
func replay(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.Write(body)
	})
}

// replayResponse answers every request with a captured HTTP response.
func replayResponse(t *testing.T, resp *http.Response, body []byte) http.Handler {
	t.Helper()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range resp.Header {
			if k != "Content-Length" && k != "Connection" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	})
}

func newClient(t *testing.T, url string, opts rpcclient.Options) *rpcclient.Client {
	t.Helper()
	c, err := rpcclient.New(url, opts)
	if err != nil {
		t.Fatalf("New(%q) error: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
