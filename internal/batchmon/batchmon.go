// Package batchmon is the shared implementation of crashmailbatch,
// fatalmailbatch and crashsms: superlance's ProcessStateEmailMonitor. Each
// command describes itself with a Tool (which event it collects, how a line
// reads, its default subject) and calls Run; everything else (options, the
// event loop, batching and delivery) lives here.
package batchmon

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/notify"
)

// DefaultSendmail is the command --sendmail runs when given without a value.
const DefaultSendmail = "/usr/sbin/sendmail -t -i"

// refusal is superlance's start-up message of the batch tools when they are
// not run by supervisord.
const refusal = "Must run as a supervisor event listener"

// Tool describes one batch command.
type Tool struct {
	Name        string // command name: log prefix and usage
	Description string // first paragraph of --help
	// Event is the PROCESS_STATE_* event whose payloads are collected.
	Event string
	// DefaultSubject applies when -s is absent; empty means no Subject header.
	DefaultSubject string
	// Format turns one event into an alert line, or reports false when the
	// event is not an alert (an expected exit). asctime is the handling time
	// in superlance's format.
	Format func(ps eventproto.ProcessState, asctime string) (string, bool)
}

// The three batch commands.
var (
	CrashMailBatch = Tool{
		Name:           "crashmailbatch",
		Description:    "Collect unexpected process exits and mail them in one batch per interval.",
		Event:          eventproto.ProcessStateExited,
		DefaultSubject: "Crash alert from supervisord",
		Format:         Crash,
	}
	FatalMailBatch = Tool{
		Name:           "fatalmailbatch",
		Description:    "Collect processes that failed to start (FATAL) and mail them in one batch per interval.",
		Event:          eventproto.ProcessStateFatal,
		DefaultSubject: "Fatal start alert from supervisord",
		Format:         Fatal,
	}
	CrashSMS = Tool{
		Name:           "crashsms",
		Description:    "Collect unexpected process exits as short SMS-style lines and mail them in one batch per interval.",
		Event:          eventproto.ProcessStateExited,
		DefaultSubject: "", // no Subject unless -s, for email-to-SMS gateways
		Format:         SMS,
	}
)

// Crash is crashmailbatch's line: every unexpected exit.
func Crash(ps eventproto.ProcessState, asctime string) (string, bool) {
	if ps.Expected {
		return "", false
	}
	return fmt.Sprintf("%s -- Process %s:%s (pid %d) died unexpectedly", asctime, ps.GroupName, ps.ProcessName, ps.Pid), true
}

// Fatal is fatalmailbatch's line: every process that gave up starting.
func Fatal(ps eventproto.ProcessState, asctime string) (string, bool) {
	return fmt.Sprintf("%s -- Process %s:%s failed to start too many times", asctime, ps.GroupName, ps.ProcessName), true
}

// SMS is crashsms's short line: every unexpected exit.
func SMS(ps eventproto.ProcessState, asctime string) (string, bool) {
	if ps.Expected {
		return "", false
	}
	return fmt.Sprintf("[%s:%s](%d) exited unexpectedly %s", ps.GroupName, ps.ProcessName, ps.Pid, asctime), true
}

// Asctime formats t as supervisor's childutils.get_asctime does: local time,
// milliseconds truncated after a comma.
func Asctime(t time.Time) string {
	return t.Local().Format("2006-01-02 15:04:05,000")
}

// grammar is the command line shared by the three tools: superlance's
// optparse options, then long-only additions.
type grammar struct {
	Interval  string `short:"i" name:"interval" default:"1" placeholder:"INTERVAL" help:"Batch interval in minutes (defaults to 1 minute); a positive, finite number."`
	ToEmail   string `short:"t" name:"toEmail" required:"" placeholder:"TO_EMAILS" help:"Destination email address(es), comma separated."`
	FromEmail string `short:"f" name:"fromEmail" required:"" placeholder:"FROM_EMAIL" help:"Source email address."`
	Subject   string `short:"s" name:"subject" placeholder:"SUBJECT" help:"Email subject (an empty value sends no Subject header)."`
	SMTPHost  string `short:"H" name:"smtpHost" default:"localhost" placeholder:"SMTP_HOST" help:"SMTP server: host or host:port (port 25, or 465 with --smtp-ssl)."`
	TickEvent string `short:"e" name:"tickEvent" default:"TICK_60" placeholder:"EVENTNAME" help:"TICK event name that drives the interval (defaults to TICK_60)."`
	UserName  string `short:"u" name:"userName" placeholder:"SMTP_USER" help:"SMTP server user name (defaults to nothing)."`
	Password  string `short:"p" name:"password" placeholder:"SMTP_PASSWORD" help:"SMTP server password (defaults to nothing); prefer --password-file or --password-env, argv is visible to every local user."`
	TLS       bool   `name:"tls" help:"Require STARTTLS (also without credentials)."`

	PasswordFile    string `name:"password-file" placeholder:"FILE" help:"Read the SMTP password from the first line of FILE."`
	PasswordEnv     string `name:"password-env" placeholder:"VAR" help:"Read the SMTP password from environment variable VAR."`
	SMTPSSL         bool   `name:"smtp-ssl" help:"Implicit TLS from the first byte (port 465 unless -H gives one)."`
	TLSCACert       string `name:"tls-cacert" placeholder:"FILE" help:"Trust the CA certificates in this PEM file (certificates are verified by default)."`
	TLSInsecure     bool   `name:"tls-insecure" help:"Do not verify the server certificate."`
	SendmailProgram string `name:"sendmail-program" placeholder:"CMD" help:"Deliver by running CMD through /bin/sh -c instead of SMTP; --sendmail alone means '/usr/sbin/sendmail -t -i', --sendmail=CMD is the same as --sendmail-program=CMD."`

	Args []string `arg:"" optional:"" hidden:"" help:"Ignored, as superlance does."`
}

// Config is the validated command line.
type Config struct {
	To        []string
	From      string
	Subject   string // "" means no Subject header
	Interval  float64
	TickEvent string
	TickMins  float64
	Transport notify.Transport
	Ignored   []string // positional arguments, ignored as upstream does
}

// valueFlags are the options that take a value, so that rewriteSendmail
// does not mistake a value like "-s --sendmail" for the option.
var valueFlags = map[string]bool{
	"-i": true, "-t": true, "-f": true, "-s": true, "-H": true, "-e": true, "-u": true, "-p": true,
	"--interval": true, "--toEmail": true, "--fromEmail": true, "--subject": true, "--smtpHost": true,
	"--tickEvent": true, "--userName": true, "--password": true, "--password-file": true,
	"--password-env": true, "--tls-cacert": true, "--sendmail-program": true,
}

// rewriteSendmail turns --sendmail (whose value is optional, which kong
// cannot express) into --sendmail-program.
func rewriteSendmail(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(out, args[i:]...)
		case a == "--sendmail":
			out = append(out, "--sendmail-program="+DefaultSendmail)
			continue
		case strings.HasPrefix(a, "--sendmail="):
			out = append(out, "--sendmail-program="+strings.TrimPrefix(a, "--sendmail="))
			continue
		}
		out = append(out, a)
		if valueFlags[a] && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// Parse parses and checks args. done reports that the process should exit
// now with code (help, or a usage error already written to stderr).
func Parse(tool Tool, args []string, stdout, stderr io.Writer, env []string) (cfg Config, code int, done bool) {
	var g grammar
	kctx, code, done := cli.Parse(tool.Name, tool.Description, &g, rewriteSendmail(args), stdout, stderr)
	if done {
		return Config{}, code, true
	}
	subjectGiven := false
	for _, p := range kctx.Path {
		if p.Flag != nil && p.Flag.Name == "subject" {
			subjectGiven = true
		}
	}
	cfg, err := check(tool, &g, subjectGiven, env)
	if err != nil {
		cli.Usagef(stderr, tool.Name, "%v", err)
		return Config{}, cli.ExitUsage, true
	}
	return cfg, 0, false
}

// check validates the parsed options and builds the transport.
func check(tool Tool, g *grammar, subjectGiven bool, env []string) (Config, error) {
	cfg := Config{From: g.FromEmail, TickEvent: g.TickEvent, Ignored: g.Args}
	for part := range strings.SplitSeq(g.ToEmail, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return Config{}, fmt.Errorf("--toEmail: empty address in %q", g.ToEmail)
		}
		cfg.To = append(cfg.To, part)
	}
	if strings.TrimSpace(g.FromEmail) == "" {
		return Config{}, errors.New("--fromEmail: empty address")
	}
	cfg.Subject = tool.DefaultSubject
	if subjectGiven {
		cfg.Subject = g.Subject
	}

	iv, err := strconv.ParseFloat(strings.TrimSpace(g.Interval), 64)
	if err != nil || iv <= 0 || math.IsInf(iv, 0) || math.IsNaN(iv) {
		return Config{}, fmt.Errorf("--interval: %q is not a positive, finite number of minutes", g.Interval)
	}
	cfg.Interval = iv
	secs, err := tickSeconds(g.TickEvent)
	if err != nil {
		return Config{}, err
	}
	cfg.TickMins = float64(secs) / 60

	// The template is validated here so that a bad address is a usage
	// error at start-up, not a failure at the first flush.
	tmpl := notify.Message{To: cfg.To, From: cfg.From, Subject: cfg.Subject, Body: "x"}
	if err := tmpl.Validate(); err != nil {
		return Config{}, err
	}
	if cfg.Transport, err = transport(g, env); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// tickSeconds parses TICK_<positive seconds>.
func tickSeconds(name string) (int, error) {
	rest, ok := strings.CutPrefix(name, "TICK_")
	n, err := strconv.Atoi(rest)
	if !ok || err != nil || n <= 0 {
		return 0, fmt.Errorf("--tickEvent: %q is not TICK_<seconds> (TICK_5, TICK_60 or TICK_3600)", name)
	}
	return n, nil
}

// transport builds SMTP or sendmail delivery from the options.
func transport(g *grammar, env []string) (notify.Transport, error) {
	password, err := cli.Secret(g.Password, g.PasswordEnv, g.PasswordFile, env)
	if err != nil {
		return nil, err
	}
	if g.SendmailProgram != "" {
		if g.UserName != "" || password != "" || g.TLS || g.SMTPSSL || g.TLSCACert != "" || g.TLSInsecure {
			return nil, errors.New("--sendmail delivers without SMTP: drop the SMTP options (-u, -p, --password-*, --tls, --smtp-ssl, --tls-*)")
		}
		return &notify.Sendmail{Command: g.SendmailProgram}, nil
	}
	if (g.UserName == "") != (password == "") {
		return nil, errors.New("SMTP AUTH needs both -u/--userName and a password (-p, --password-env or --password-file)")
	}
	s := &notify.SMTP{Username: g.UserName, Password: password}
	switch {
	case g.TLS && g.SMTPSSL:
		return nil, errors.New("--tls (STARTTLS) and --smtp-ssl (implicit TLS) exclude each other")
	case g.TLS:
		s.TLS = notify.TLSStartTLS
	case g.SMTPSSL:
		s.TLS = notify.TLSImplicit
	}
	if s.Addr, err = cli.SMTPAddr(g.SMTPHost, s.TLS == notify.TLSImplicit); err != nil {
		return nil, fmt.Errorf("--smtpHost: %w", err)
	}
	if g.TLSCACert != "" || g.TLSInsecure {
		switch {
		case s.TLS == notify.TLSNone:
			return nil, errors.New("--tls-cacert and --tls-insecure need --tls or --smtp-ssl")
		case g.TLSCACert != "" && g.TLSInsecure:
			return nil, errors.New("--tls-cacert and --tls-insecure exclude each other")
		case g.TLSCACert != "":
			if s.TLSConfig, err = cli.TLSConfigWithCA(s.Addr, g.TLSCACert); err != nil {
				return nil, fmt.Errorf("--tls-cacert: %w", err)
			}
		default:
			s.TLSConfig = insecureTLS(s.Addr)
		}
	}
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("%w (--tls or --smtp-ssl)", err)
	}
	return s, nil
}
