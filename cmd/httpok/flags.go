package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/superlance-go/superlance/internal/alertctx"
	"github.com/superlance-go/superlance/internal/alertflags"
	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/internal/mailflags"
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
	return cfg, nil
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
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--https-cacert: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--https-cacert %s: no PEM certificate found", caFile)
	}
	return &tls.Config{RootCAs: pool}, nil
}
