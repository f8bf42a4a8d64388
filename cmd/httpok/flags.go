package main

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/superlance-go/superlance/internal/alertctx"
	"github.com/superlance-go/superlance/internal/alertflags"
	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/internal/httpheader"
	"github.com/superlance-go/superlance/internal/mailflags"
	"github.com/superlance-go/superlance/internal/tlsca"
)

const description = "A supervisord event listener that checks a URL on every TICK event " +
	"and restarts processes when it answers badly or not at all."

// grammar is the command line, option for option as superlance's httpok
// (getopt "hp:at:c:b:s:m:g:d:eEn:"), plus long-only additions; -s and -m
// come with the mail options every tool shares.
type grammar struct {
	Program  []string `short:"p" name:"program" sep:"none" placeholder:"NAME" help:"Process to restart, as name or group:name (repeatable)."`
	Any      bool     `short:"a" name:"any" help:"Restart every process supervisord runs (except this listener)."`
	Timeout  string   `short:"t" name:"timeout" default:"10" placeholder:"SECONDS" help:"Total time allowed for one check, a positive number (default ${default})."`
	Code     []int    `short:"c" name:"code" sep:"none" placeholder:"CODE" help:"Acceptable HTTP status (repeatable; 200 when none given)."`
	Body     string   `short:"b" name:"body" placeholder:"TEXT" help:"Text the response body must contain."`
	Gcore    string   `short:"g" name:"gcore" default:"/usr/bin/gcore -o" placeholder:"COMMAND" help:"Core-dump command, run without a shell with <coredir>/<namespec> and the pid appended (default \"${default}\")."`
	Coredir  string   `short:"d" name:"coredir" placeholder:"DIR" help:"Dump the core of each RUNNING process into DIR before restarting it."`
	Eager    bool     `short:"e" name:"eager" help:"Check even when no monitored process is RUNNING (default)."`
	NotEager bool     `short:"E" name:"not-eager" help:"Check only when a monitored process is RUNNING."`
	Name     string   `short:"n" name:"name" placeholder:"NAME" help:"Name shown in the mail subject: httpok [NAME]: ..."`

	Failures      int      `name:"failures" default:"1" placeholder:"N" help:"Restart only after N checks in a row have failed; a passing check starts the count again (default ${default}: the first failed check, as upstream)."`
	Grace         string   `name:"grace" default:"0" placeholder:"SECONDS" help:"Neither check nor restart while a monitored process is STARTING or has been RUNNING for less than SECONDS, by supervisord's start time (default ${default}: no grace, as upstream)."`
	Header        []string `name:"header" sep:"none" placeholder:"'NAME: VALUE'" help:"Send this header with every check (repeatable; Host sets the virtual host); values are never logged nor mailed (default: none)."`
	HeaderFile    string   `name:"header-file" placeholder:"FILE" help:"Read more check headers from FILE, one 'NAME: VALUE' per line, at start (for tokens: argv is visible to every local user; default: none)."`
	BasicAuthFile string   `name:"basic-auth-file" placeholder:"FILE" help:"Log in to the URL with HTTP basic authentication, USER:PASSWORD from the first line of FILE, read at start (default: no login)."`
	Method        string   `name:"method" enum:"GET,HEAD" default:"GET" placeholder:"GET|HEAD" help:"HTTP method of the check: GET or HEAD (default ${default}, as upstream; -b needs GET)."`

	HTTPSVerify bool   `name:"https-verify" aliases:"tls-verify" help:"Verify the server certificate of an https URL (off by default, as upstream)."`
	HTTPSCACert string `name:"https-cacert" aliases:"tls-cacert" placeholder:"FILE" help:"PEM file of CAs to verify the https URL against (implies --https-verify)."`

	// -m, -s and the SMTP options: every tool's mail options.
	Mail mailflags.Options `embed:""`
	// --details, --log-tail, --flood: every alerting tool's.
	Alert alertctx.Flags `embed:""`
	// --webhook, --alertmanager and their options: every alerting tool's.
	Channels alertflags.Options `embed:""`

	URL string `arg:"" name:"URL" help:"The http:// or https:// URL to check."`
}

// config is the validated command line.
type config struct {
	programs  []string
	any       bool
	timeout   time.Duration
	codes     []int
	body      string
	hasBody   bool
	mail      mailflags.Mail
	gcore     []string
	coredir   string
	eager     bool
	name      string
	rawURL    string // as given: it appears verbatim in messages, as upstream
	url       *url.URL
	tlsConfig *tls.Config
	alert     alertctx.Flags
	channels  *alertflags.Channels

	failures int           // --failures: failed checks in a row before acting
	grace    time.Duration // --grace; 0: none
	method   string        // --method
	header   http.Header   // --header, --header-file, --basic-auth-file
}

// parseArgs parses and validates the command line. done reports that run
// must return code now (help printed or a usage error reported).
func parseArgs(args []string, stdout, stderr io.Writer, env []string) (cfg *config, code int, done bool) {
	var g grammar
	kctx, code, done := cli.Parse("httpok", description, &g, args, stdout, stderr)
	if done {
		return nil, code, true
	}
	cfg, err := g.config(cli.Given(kctx), env)
	if err != nil {
		cli.Usagef(stderr, "httpok", "%v", err)
		return nil, cli.ExitUsage, true
	}
	// -e and -E share one setting; getopt lets the last one win.
	cfg.eager = true
	for _, p := range kctx.Path {
		if p.Flag == nil {
			continue
		}
		switch p.Flag.Name {
		case "eager":
			cfg.eager = true
		case "not-eager":
			cfg.eager = false
		}
	}
	return cfg, 0, false
}

func (g *grammar) config(given map[string]bool, env []string) (*config, error) {
	cfg := &config{
		programs: g.Program,
		any:      g.Any,
		codes:    g.Code,
		body:     g.Body,
		hasBody:  g.Body != "",
		gcore:    strings.Fields(g.Gcore),
		coredir:  g.Coredir,
		name:     g.Name,
		rawURL:   g.URL,
		alert:    g.Alert,
	}
	if len(cfg.codes) == 0 {
		cfg.codes = []int{200}
	}
	var err error
	if cfg.timeout, err = parseTimeout(g.Timeout); err != nil {
		return nil, err
	}
	if cfg.url, err = parseURL(g.URL); err != nil {
		return nil, err
	}
	if cfg.channels, err = g.Channels.Channels(); err != nil {
		return nil, err
	}
	if cfg.tlsConfig, err = tlsConfig(g.HTTPSVerify, g.HTTPSCACert); err != nil {
		return nil, err
	}
	// Last: it opens --spool, which nothing after it may leave locked.
	if cfg.mail, err = g.Mail.Mail(given, env); err != nil {
		return nil, err
	}
	if err := g.checkPolicy(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// checkPolicy validates the options of when to act (--failures, --grace)
// and how to ask (--method, --header, --header-file, --basic-auth-file).
// No error quotes a header value or the login: they may be secrets.
func (g *grammar) checkPolicy(cfg *config) error {
	if g.Failures < 1 {
		return fmt.Errorf("--failures %d: want 1 or more failed checks in a row", g.Failures)
	}
	cfg.failures = g.Failures
	var err error
	if cfg.grace, err = parseGrace(g.Grace); err != nil {
		return err
	}
	cfg.method = g.Method
	if cfg.method == http.MethodHead && cfg.hasBody {
		return errors.New("-b needs --method GET: a HEAD answer has no body")
	}
	cfg.header = http.Header{}
	for _, h := range g.Header {
		if err := httpheader.Add(cfg.header, h, reservedHeaders...); err != nil {
			return fmt.Errorf("--header: %w", err)
		}
	}
	if g.HeaderFile != "" {
		if err := httpheader.AddFile(cfg.header, g.HeaderFile, reservedHeaders...); err != nil {
			return fmt.Errorf("--header-file: %w", err)
		}
	}
	if g.BasicAuthFile != "" {
		if cfg.header.Get("Authorization") != "" {
			return errors.New("--basic-auth-file and an Authorization header: give the login one way")
		}
		login, err := readLogin(g.BasicAuthFile)
		if err != nil {
			return fmt.Errorf("--basic-auth-file: %w", err)
		}
		cfg.header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(login)))
	}
	return nil
}

// reservedHeaders are set by httpok itself: the connection is closed after
// every check, and the body is read as sent, for -b.
var reservedHeaders = []string{"Accept-Encoding", "Connection", "Content-Length", "Transfer-Encoding"}

// parseGrace reads --grace: seconds, decimals allowed, 0 or more.
func parseGrace(s string) (time.Duration, error) {
	secs, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
		return 0, fmt.Errorf("--grace %q: not a number of seconds", s)
	}
	if secs < 0 {
		return 0, fmt.Errorf("--grace %q: cannot be negative", s)
	}
	if secs > float64(math.MaxInt64/int64(time.Second)) {
		return 0, fmt.Errorf("--grace %q: too large", s)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// readLogin reads USER:PASSWORD from the first line of file. The error
// never shows the line.
func readLogin(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	first = strings.TrimSuffix(first, "\r")
	user, _, ok := strings.Cut(first, ":")
	switch {
	case !ok:
		return "", fmt.Errorf("%s: want USER:PASSWORD on the first line", file)
	case user == "":
		return "", fmt.Errorf("%s: the user name before ':' is empty", file)
	}
	return first, nil
}

// parseTimeout accepts what upstream accepts (an integer number of seconds)
// and decimals, but only positive values: upstream's -t 0 made every check
// fail without sending a request.
func parseTimeout(s string) (time.Duration, error) {
	secs, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
		return 0, fmt.Errorf("--timeout %q: not a number of seconds", s)
	}
	if secs <= 0 {
		return 0, fmt.Errorf("--timeout %q: must be a positive number of seconds", s)
	}
	if secs > float64(math.MaxInt64/int64(time.Second)) {
		return 0, fmt.Errorf("--timeout %q: too large", s)
	}
	d := time.Duration(secs * float64(time.Second))
	if d <= 0 {
		return 0, fmt.Errorf("--timeout %q: must be a positive number of seconds", s)
	}
	return d, nil
}

// parseURL accepts http and https URLs (scheme in any case) with a host.
func parseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("URL %q: %w", s, unwrapURLError(err))
	}
	// url.Parse lower-cases the scheme, so HTTP://x is accepted as upstream does.
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("URL %q: scheme must be http or https", s)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("URL %q: no host", s)
	}
	return u, nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// tlsConfig returns the client TLS settings. Verification is off unless
// asked for: upstream never verified, and a health endpoint with a
// self-signed certificate must not start failing (and restarting its
// program every tick) after a drop-in swap.
func tlsConfig(verify bool, caFile string) (*tls.Config, error) {
	if caFile == "" {
		return &tls.Config{InsecureSkipVerify: !verify}, nil
	}
	pool, err := tlsca.Pool(caFile)
	if err != nil {
		return nil, fmt.Errorf("--https-cacert: %w", err)
	}
	return &tls.Config{RootCAs: pool}, nil
}
