package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds one HTTP request of the webhook and Alertmanager
// transports, from dialling to the end of the answer.
const DefaultTimeout = 10 * time.Second

// permanent marks a failure that another attempt cannot fix (a 4xx other
// than 408 and 429, a redirect).
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

// maxAnswer is how much of an error answer is read and logged.
const maxAnswer = 512

// newHTTPClient returns a client that never follows redirects: a POST
// redirected becomes a GET elsewhere, which is never what a receiver wants;
// the 3xx is reported instead, with where it points.
func newHTTPClient() *http.Client {
	return &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// poster sends JSON to one URL.
type poster struct {
	client  *http.Client
	url     string
	header  http.Header // extra request headers; their values are never logged
	timeout time.Duration
}

// post sends body and classifies the answer: nil for 2xx, a *permanent
// error for a 4xx other than 408 and 429 (and for a redirect), a plain
// error for anything worth another attempt. Errors never hold the URL's
// path or query (a Slack webhook's path is its secret) or header values.
func (p *poster) post(ctx context.Context, body []byte) error {
	timeout := p.timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return &permanent{errors.New("bad request URL")}
	}
	for name, values := range p.header {
		req.Header[name] = values
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the whole URL
		}
		if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no answer within %v", timeout)
		}
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	err = fmt.Errorf("%s", resp.Status)
	if s := strings.TrimSpace(string(visible(answer))); s != "" {
		err = fmt.Errorf("%s: %s", resp.Status, s)
	}
	switch {
	case code >= 300 && code < 400:
		return &permanent{fmt.Errorf("%w (redirects are not followed)", err)}
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
		return err
	case code >= 400 && code < 500:
		return &permanent{err}
	}
	return err
}

// visible replaces control characters and line breaks of a server's answer
// so that it stays on one log line.
func visible(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, c := range bytes.ToValidUTF8(b, []byte("?")) {
		if c < 0x20 || c == 0x7f {
			c = ' '
		}
		out = append(out, c)
	}
	return out
}

// Redact shows a URL without what may be a secret: user information, the
// path (a Slack or Mattermost webhook's path is its token) and the query.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		s += "/…"
	}
	return s
}

// CheckURL accepts an absolute http or https URL.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL %s", Redact(raw))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %s: scheme must be http or https", Redact(raw))
	}
	if u.Host == "" {
		return fmt.Errorf("URL %s has no host", Redact(raw))
	}
	return nil
}
