// Package batchmon is the shared mechanics of crashmailbatch,
// fatalmailbatch and crashsms (superlance's ProcessStateEmailMonitor): the
// command line, the event loop, batching per interval and delivery. Each
// command describes its policy with a Tool (which event it collects, how a
// line reads, its default subject) and calls Run.
package batchmon

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/eventproto"
	"github.com/superlance-go/superlance/internal/alertctx"
	"github.com/superlance-go/superlance/internal/alertflags"
	"github.com/superlance-go/superlance/internal/cli"
	"github.com/superlance-go/superlance/internal/mailflags"
	"github.com/superlance-go/superlance/notify"
)

// refusal is superlance's start-up message of the batch tools when they are
// not run by supervisord.
const refusal = "Must run as a supervisor event listener"

// Tool describes one batch command: its policy.
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
	// Kind is what the lines report.
	Kind alert.Kind
	// SMS marks lines meant for a phone: --details adds only the exit
	// status and run time, within one SMS, and --log-tail is refused.
	SMS bool
}

// grammar is the command line shared by the three tools: superlance's
// optparse options, the mail ones among them being every tool's.
type grammar struct {
	Interval  string `short:"i" name:"interval" default:"1" placeholder:"INTERVAL" help:"Batch interval in minutes (defaults to 1 minute), counted in whole seconds; 0 sends at every tick."`
	Subject   string `short:"s" name:"subject" placeholder:"SUBJECT" help:"Email subject (default: ${subject}; an empty value sends no Subject header)."`
	TickEvent string `short:"e" name:"tickEvent" default:"TICK_60" placeholder:"EVENTNAME" help:"TICK event name that drives the interval: TICK_5, TICK_60 (the default) or TICK_3600."`

	Mail mailflags.BatchOptions `embed:""`

	Alert    alertctx.Flags     `embed:""`
	Channels alertflags.Options `embed:""`

	Args []string `arg:"" optional:"" hidden:"" help:"Ignored, as superlance does."`
}

// Config is the validated command line.
type Config struct {
	To        []string
	From      string
	Subject   string // "" means no Subject header
	Interval  time.Duration
	TickEvent string
	Tick      time.Duration // the period of TickEvent
	Transport notify.Transport
	Spool     *notify.Spool // --spool, or nil; the caller closes it
	Warnings  []string      // to log at start-up
	Ignored   []string      // positional arguments, ignored as upstream does
	Alert     alertctx.Flags
	Channels  *alertflags.Channels // webhooks and Alertmanager besides the mail
}

// valueFlags are the options that take a value, for RewriteSendmail.
var valueFlags = append(append([]string{"-i", "-s", "-e", "--interval", "--subject", "--tickEvent"}, mailflags.BatchValueFlags...), alertflags.ValueFlags...)

// Parse parses and checks args. done reports that the process should exit
// now with code (help, or a usage error already written to stderr).
func Parse(tool Tool, args []string, stdout, stderr io.Writer, env []string) (cfg Config, code int, done bool) {
	var g grammar
	kctx, code, done := cli.Parse(tool.Name, tool.Description, &g, mailflags.RewriteSendmail(args, valueFlags), stdout, stderr,
		kong.Vars{"subject": strconv.Quote(tool.DefaultSubject)})
	if done {
		return Config{}, code, true
	}
	cfg, err := check(tool, &g, cli.Given(kctx), env)
	if err != nil {
		cli.Usagef(stderr, tool.Name, "%v", err)
		return Config{}, cli.ExitUsage, true
	}
	return cfg, 0, false
}

// check validates the parsed options and builds the transport.
func check(tool Tool, g *grammar, given map[string]bool, env []string) (_ Config, err error) {
	cfg := Config{TickEvent: g.TickEvent, Ignored: g.Args, Alert: g.Alert}
	if tool.SMS && g.Alert.LogTail > 0 {
		return Config{}, errors.New("--log-tail does not fit in an SMS: " + tool.Name + " adds only the exit status and run time (--details)")
	}
	mail, err := g.Mail.Mail(given, env)
	if err != nil {
		return Config{}, err
	}
	cfg.To, cfg.From, cfg.Transport, cfg.Warnings, cfg.Spool = mail.To, mail.From, mail.Transport, mail.Warnings, mail.Spool
	defer func() {
		if err != nil {
			mail.Close()
		}
	}()
	if cfg.Channels, err = g.Channels.Channels(); err != nil {
		return Config{}, err
	}
	cfg.Subject = tool.DefaultSubject
	if given["subject"] {
		cfg.Subject = g.Subject
	}
	if cfg.Interval, err = ParseInterval(g.Interval); err != nil {
		return Config{}, fmt.Errorf("--interval: %w", err)
	}
	if cfg.Tick, err = tickPeriod(g.TickEvent); err != nil {
		return Config{}, fmt.Errorf("--tickEvent: %w", err)
	}
	// The template is validated here so that a bad address is a usage
	// error at start-up, not a failure at the first flush.
	tmpl := notify.Message{To: cfg.To, From: cfg.From, Subject: cfg.Subject, Body: "x"}
	if err := tmpl.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// ParseInterval reads -i as superlance does (minutes, anything Python's
// float() takes) and rounds it to whole seconds: summing float minutes per
// tick, as superlance did, flushes one tick late for most intervals. 0 (or
// anything under half a second) flushes at every tick, as upstream does.
func ParseInterval(s string) (time.Duration, error) {
	minutes, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsInf(minutes, 0) || math.IsNaN(minutes) || minutes < 0 {
		return 0, fmt.Errorf("%q is not a finite number of minutes, 0 or more", s)
	}
	secs := math.Round(minutes * 60)
	if secs > float64(math.MaxInt64/int64(time.Second)) {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return time.Duration(secs) * time.Second, nil
}

// tickPeriod parses a TICK event name that supervisord sends: any other
// name would never arrive, and the batch would go out only at shutdown.
func tickPeriod(name string) (time.Duration, error) {
	d, err := eventproto.TickPeriod(name)
	if err != nil || (d != 5*time.Second && d != time.Minute && d != time.Hour) {
		return 0, fmt.Errorf("%q is not an event supervisord sends: TICK_5, TICK_60 or TICK_3600", name)
	}
	return d, nil
}
