package rpcclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kolo/xmlrpc"

	"github.com/superlance-go/superlance/internal/environ"
)

const (
	// maxResponse bounds what is read of one answer. supervisord answers a
	// log read with as many bytes as asked for, so this is generous.
	maxResponse = 64 << 20
	// maxSnippet bounds the part of an unexpected body quoted in errors.
	maxSnippet         = 200
	defaultDialTimeout = 5 * time.Second
)

// Client calls supervisord's XML-RPC API over one reused connection. It is
// safe for concurrent use.
type Client struct {
	endpoint   string // http://localhost/RPC2 or http://host:port/RPC2
	hc         *http.Client
	user, pass string
}

// Options configures New.
type Options struct {
	// Username and Password are sent with Basic auth when either is set.
	// (Python's childutils always sends the header, even empty; an empty
	// header is pointless without auth and a 401 with it, so it is left out.)
	Username, Password string
	// HTTPClient replaces the default client, e.g. to set a Timeout or
	// to trace requests. It is not modified. For a unix:// URL its
	// Transport must be nil or an *http.Transport: New uses a copy of the
	// client with a clone of that transport that dials the socket, and
	// refuses any other RoundTripper, which could not reach it.
	HTTPClient *http.Client
	// DialTimeout bounds connecting; zero means 5 s.
	DialTimeout time.Duration
}

// New returns a client for serverURL: unix:///path/to.sock or
// http://host[:port] (port 80 when absent). As with supervisor's own
// client, the path of an http URL is ignored: requests always go to /RPC2.
func New(serverURL string, opts Options) (*Client, error) {
	dialTimeout := opts.DialTimeout
	if dialTimeout <= 0 {
		dialTimeout = defaultDialTimeout
	}
	dialer := &net.Dialer{Timeout: dialTimeout}
	var endpoint string
	var dial func(ctx context.Context, network, addr string) (net.Conn, error)

	sock, unix := strings.CutPrefix(serverURL, "unix://")
	if unix {
		if sock == "" {
			return nil, fmt.Errorf("server URL %q has no socket path", serverURL)
		}
		endpoint = "http://localhost/RPC2"
		dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", sock)
		}
	} else {
		u, err := url.Parse(serverURL)
		if err != nil {
			return nil, fmt.Errorf("parsing server URL: %w", err)
		}
		if u.Scheme != "http" {
			return nil, fmt.Errorf("unsupported SUPERVISOR_SERVER_URL scheme %q (want unix:// or http://)", u.Scheme)
		}
		host, port := u.Hostname(), u.Port()
		if host == "" {
			return nil, fmt.Errorf("server URL %q has no host", u.Redacted())
		}
		if port == "" {
			port = "80"
		}
		endpoint = "http://" + net.JoinHostPort(host, port) + "/RPC2"
		dial = dialer.DialContext
	}

	hc, err := httpClient(opts.HTTPClient, dial, unix)
	if err != nil {
		return nil, err
	}
	return &Client{endpoint: endpoint, hc: hc, user: opts.Username, pass: opts.Password}, nil
}

func defaultTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	return &http.Transport{
		DialContext: dial,
		// supervisord is local; an HTTP(S)_PROXY meant for the
		// outside world must not capture these calls.
		Proxy:               nil,
		MaxIdleConns:        1,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// httpClient returns the client to use: the default one, or a copy of
// given whose transport dials the socket when socket is set.
func httpClient(given *http.Client, dial func(ctx context.Context, network, addr string) (net.Conn, error), socket bool) (*http.Client, error) {
	if given == nil {
		return &http.Client{Transport: defaultTransport(dial)}, nil
	}
	if !socket {
		return given, nil
	}
	var t *http.Transport
	switch rt := given.Transport.(type) {
	case nil:
		t = defaultTransport(dial)
	case *http.Transport:
		t = rt.Clone()
	default:
		return nil, fmt.Errorf("Options.HTTPClient: a unix:// URL needs an *http.Transport to dial the socket with, not a %T", rt)
	}
	// The request URL names localhost; only the dialer reaches the socket,
	// so neither a proxy nor TLS may come in between.
	t.DialContext = dial
	t.DialTLSContext = nil
	t.Proxy = nil
	hc := *given
	hc.Transport = t
	return &hc, nil
}

// FromEnv builds a client from a listener environment (os.Environ() form):
// SUPERVISOR_SERVER_URL, and SUPERVISOR_USERNAME/SUPERVISOR_PASSWORD when set.
// supervisord sets only the URL; the credentials must be given to the
// listener with environment= in its [eventlistener:x] section.
func FromEnv(env []string) (*Client, error) {
	serverURL, _ := environ.Get(env, "SUPERVISOR_SERVER_URL")
	if serverURL == "" {
		return nil, errors.New("SUPERVISOR_SERVER_URL is not set: not running under supervisord?")
	}
	user, _ := environ.Get(env, "SUPERVISOR_USERNAME")
	pass, _ := environ.Get(env, "SUPERVISOR_PASSWORD")
	return New(serverURL, Options{Username: user, Password: pass})
}

// StatusError is an HTTP answer other than 200 OK, e.g. 401 for wrong
// credentials or 500 for a log slice that is not valid UTF-8.
type StatusError struct {
	StatusCode int
	Status     string // e.g. "401 Unauthorized"
	Snippet    string // start of the body, for the error text
}

func (e *StatusError) Error() string {
	msg := "HTTP " + e.Status
	if e.StatusCode == http.StatusUnauthorized {
		msg += " (check SUPERVISOR_USERNAME/SUPERVISOR_PASSWORD)"
	}
	if e.Snippet != "" {
		msg += ": " + strconv.Quote(e.Snippet)
	}
	return msg
}

// Call invokes method with args and decodes the answer into reply (may be
// nil). Errors name the call, e.g. `supervisor.stopProcess "web:app": ...`.
// A fault answered by supervisord is a *Fault (use errors.As); HTTP errors
// (a *StatusError), non-XML answers and decode failures are not.
func (c *Client) Call(ctx context.Context, method string, reply any, args ...any) error {
	resp, err := c.call(ctx, method, args)
	if err != nil {
		return err
	}
	if reply == nil {
		// Still insist on a well-formed answer: a truncated or foreign
		// body must not pass as success.
		var discard any
		reply = &discard
	}
	if err := resp.Unmarshal(reply); err != nil {
		return fmt.Errorf("%s: decoding response: %w", callName(method, args), err)
	}
	return nil
}

// call posts one call and returns an answer that is not a fault.
func (c *Client) call(ctx context.Context, method string, args []any) (xmlrpc.Response, error) {
	body, err := c.roundTrip(ctx, method, args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", callName(method, args), err)
	}
	resp := xmlrpc.Response(body)
	if err := resp.Err(); err != nil {
		var fe xmlrpc.FaultError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("%s: %w", callName(method, args), &Fault{Code: FaultCode(fe.Code), String: fe.String})
		}
		return nil, fmt.Errorf("%s: decoding fault: %w", callName(method, args), err)
	}
	return resp, nil
}

// roundTrip posts one call and returns the answer's XML, cleaned of
// characters XML 1.0 does not allow.
func (c *Client) roundTrip(ctx context.Context, method string, args []any) ([]byte, error) {
	reqBody, err := xmlrpc.EncodeMethodCall(method, args...)
	if err != nil {
		return nil, fmt.Errorf("encoding request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(reqBody))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("Accept", "text/xml")
	req.Header.Set("User-Agent", "superlance-go-rpcclient")
	if c.user != "" || c.pass != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("response larger than %d bytes", maxResponse)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{StatusCode: resp.StatusCode, Status: resp.Status, Snippet: snippet(body)}
	}
	// Any path not under /RPC2 reaches supervisord's web UI, which answers
	// 200 with HTML; only an XML answer is an XML-RPC answer.
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "text/xml" && mt != "application/xml") {
		return nil, fmt.Errorf("answer is not XML (Content-Type %q): %q", ct, snippet(body))
	}
	return xmlChars(body), nil
}

// callName names a call for error messages: the method, and its first
// argument when that is a string (usually the namespec).
func callName(method string, args []any) string {
	if len(args) > 0 {
		if s, ok := args[0].(string); ok {
			return method + " " + strconv.Quote(s)
		}
	}
	return method
}

// snippet returns the start of body with runs of white space folded, for
// error messages.
func snippet(body []byte) string {
	if len(body) > 4*maxSnippet {
		body = body[:4*maxSnippet]
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "\uFFFD")), " ")
	if len(s) > maxSnippet {
		s = s[:maxSnippet]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "..."
	}
	return s
}

// xmlChars drops every character outside the XML 1.0 Char production.
// supervisord writes log text into <string> without escaping control
// characters (ESC of ANSI colours, BEL, ...), and encoding/xml rejects them
// even in non-strict mode. Invalid UTF-8 becomes U+FFFD for the same reason.
func xmlChars(b []byte) []byte {
	clean := true
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if !isXMLChar(r) || (r == utf8.RuneError && size == 1) {
			clean = false
			break
		}
		i += size
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			out = utf8.AppendRune(out, utf8.RuneError)
		case isXMLChar(r):
			out = utf8.AppendRune(out, r)
		}
	}
	return out
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0a || r == 0x0d ||
		(r >= 0x20 && r <= 0xd7ff) ||
		(r >= 0xe000 && r <= 0xfffd) ||
		(r >= 0x10000 && r <= 0x10ffff)
}

// Close releases the idle connection.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}
