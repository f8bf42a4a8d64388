package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxBody caps how much of the response is read: enough for any health
// page, and a misbehaving endpoint cannot make the listener grow.
const maxBody = 1 << 20

// result is the outcome of one check.
type result struct {
	status int    // HTTP status; 0 when the request failed
	body   string // at most maxBody bytes
	msg    string // first line of the report, worded as upstream
}

// checker performs the HTTP check of one tick.
type checker struct {
	rawURL  string // as given, for messages
	url     *url.URL
	timeout time.Duration
	tls     *tls.Config
	method  string      // GET or HEAD; "" is GET
	header  http.Header // sent with every check; values may be secrets
}

// check asks for the URL once (GET, or HEAD with --method). The whole exchange (connect, TLS, headers, body)
// shares one deadline of c.timeout; upstream applied its timeout to each
// socket operation instead, so a server trickling bytes could hold it forever.
func (c *checker) check(ctx context.Context) result {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	// A fresh transport per check: nothing carries over between ticks, so a
	// check always measures a new connection, as upstream's did.
	tr := &http.Transport{
		Proxy:                  nil, // upstream ignores proxy variables; a health check goes direct
		DialContext:            (&net.Dialer{}).DialContext,
		TLSClientConfig:        c.tls.Clone(),
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		// Upstream does not follow redirects: a 302 is judged against -c.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url.String(), nil)
	if err != nil {
		return c.failed(ctx, err)
	}
	req.Header.Set("User-Agent", "httpok")
	for name, values := range c.header {
		if name == "Host" {
			// net/http takes the virtual host from req.Host only.
			req.Host = values[len(values)-1]
			continue
		}
		req.Header[name] = values
	}
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := client.Do(req)
	if err != nil {
		return c.failed(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return c.failed(ctx, fmt.Errorf("reading body: %w", err))
	}
	return result{
		status: resp.StatusCode,
		body:   string(body),
		msg:    fmt.Sprintf("status contacting %s: %d %s", c.rawURL, resp.StatusCode, reason(resp)),
	}
}

// reason returns the reason phrase the server sent ("Internal Server Error").
func reason(resp *http.Response) string {
	return strings.TrimPrefix(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)), " ")
}

func (c *checker) failed(ctx context.Context, err error) result {
	var text string
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		text = fmt.Sprintf("timed out after %v", c.timeout)
	} else {
		// The *url.Error wrapper repeats the method and URL, which the
		// message already names.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		text = err.Error()
	}
	return result{msg: fmt.Sprintf("error contacting %s:\n\n %s", c.rawURL, text)}
}

// verdict returns the subject suffix when the result calls for action, as
// upstream decides: a status outside codes first (a failed request always
// lands here), then a missing body text.
func verdict(r result, rawURL string, codes []int, body string) (string, bool) {
	if r.status == 0 || !slices.Contains(codes, r.status) {
		return rawURL + ": bad status returned", true
	}
	if body != "" && !strings.Contains(r.body, body) {
		return rawURL + ": bad body returned", true
	}
	return "", false
}

// subject prefixes s as upstream: "httpok: " or "httpok [NAME]: ".
func subject(name, s string) string {
	if name != "" {
		return "httpok [" + name + "]: " + s
	}
	return "httpok: " + s
}
