// Package alertflags is the one configuration of the alert channels next
// to mail, the same in every tool that alerts: the webhook and
// Alertmanager options to embed in a command's kong grammar, their
// validation at start-up, and the alert.Queue they describe together with
// the tool's mail transport.
package alertflags

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/httpheader"
)

// Options are the long-only options of the webhook and Alertmanager
// transports, the same in every tool that alerts. Python superlance has
// none of them, so none has a short form. Embed with `embed:""`.
type Options struct {
	Webhook           []string      `name:"webhook" sep:"none" placeholder:"URL" help:"POST every alert as a JSON document to URL (repeatable); the schema is docs/alert.schema.json."`
	WebhookFormat     string        `name:"webhook-format" enum:"json,slack" default:"json" help:"Webhook body: json (one document per alert) or slack ({\"text\": ...}, for Slack and Mattermost incoming webhooks)."`
	WebhookHeader     []string      `name:"webhook-header" sep:"none" placeholder:"'NAME: VALUE'" help:"Send this header with every webhook request (repeatable); values are never logged."`
	WebhookHeaderFile string        `name:"webhook-header-file" placeholder:"FILE" help:"Read more webhook headers from FILE, one 'NAME: VALUE' per line (for tokens: argv is visible to every local user)."`
	Alertmanager      []string      `name:"alertmanager" sep:"none" placeholder:"URL" help:"Post every alert to this Prometheus Alertmanager, e.g. http://am:9093 (repeatable: name every instance of a cluster)."`
	Instance          string        `name:"instance" placeholder:"NAME" help:"The instance label of Alertmanager alerts (default: this host's name)."`
	Label             []string      `name:"label" sep:"none" placeholder:"NAME=VALUE" help:"Add this label to every Alertmanager alert (repeatable)."`
	ResolveAfter      time.Duration `name:"resolve-after" default:"5m" placeholder:"DURATION" help:"How long the Alertmanager alert of a one-off event (a crash, a restart) fires (default ${default})."`
	Heartbeat         bool          `name:"heartbeat" help:"Keep an always-firing SupervisorHeartbeat alert for this host in Alertmanager, refreshed on every TICK event (subscribe the listener to one); it resolves a few ticks after the listener or supervisord stops."`
	TestAlert         bool          `name:"test-alert" help:"Send one test alert through every channel the command line configures (mail, webhooks, Alertmanager), log what each did with it, and exit: 0 when each accepted it, 1 when one did not. Works from a shell: supervisord is not needed."`
}

// ValueFlags are the options above that take a value, for
// mailflags.RewriteSendmail.
var ValueFlags = []string{"--webhook", "--webhook-format", "--webhook-header", "--webhook-header-file",
	"--alertmanager", "--instance", "--label", "--resolve-after"}

// reserved are the headers a webhook request carries by itself.
var reserved = []string{"Content-Type", "Content-Length", "Host", "Transfer-Encoding"}

// Channels is the checked form of Options.
type Channels struct {
	Webhooks      []string
	WebhookFormat string
	Header        http.Header
	Alertmanagers []string
	Instance      string
	Labels        map[string]string
	ResolveAfter  time.Duration
	Heartbeat     bool
	TestAlert     bool // --test-alert: SendTest instead of serving events
}

// Channels validates the options (a usage error when they are wrong) and reads
// the header file.
func (f *Options) Channels() (*Channels, error) {
	c := &Channels{Webhooks: f.Webhook, WebhookFormat: f.WebhookFormat, Alertmanagers: f.Alertmanager,
		Instance: f.Instance, ResolveAfter: f.ResolveAfter, Heartbeat: f.Heartbeat, Header: http.Header{},
		TestAlert: f.TestAlert}
	for _, u := range f.Webhook {
		if err := alert.CheckURL(u); err != nil {
			return nil, fmt.Errorf("--webhook: %w", err)
		}
	}
	for _, u := range f.Alertmanager {
		if _, err := alert.AlertsURL(u); err != nil {
			return nil, fmt.Errorf("--alertmanager: %w", err)
		}
	}
	if len(f.Webhook) == 0 {
		switch {
		case len(f.WebhookHeader) > 0, f.WebhookHeaderFile != "":
			return nil, errors.New("--webhook-header and --webhook-header-file need --webhook")
		case f.WebhookFormat != "" && f.WebhookFormat != alert.FormatJSON:
			return nil, errors.New("--webhook-format needs --webhook")
		}
	}
	if len(f.Alertmanager) == 0 {
		switch {
		case f.Instance != "":
			return nil, errors.New("--instance needs --alertmanager")
		case len(f.Label) > 0:
			return nil, errors.New("--label needs --alertmanager")
		case f.Heartbeat:
			return nil, errors.New("--heartbeat needs --alertmanager")
		}
	}
	if f.ResolveAfter <= 0 {
		return nil, fmt.Errorf("--resolve-after %v: want a positive duration", f.ResolveAfter)
	}
	for _, h := range f.WebhookHeader {
		if err := httpheader.Add(c.Header, h, reserved...); err != nil {
			return nil, fmt.Errorf("--webhook-header: %w", err)
		}
	}
	if f.WebhookHeaderFile != "" {
		if err := httpheader.AddFile(c.Header, f.WebhookHeaderFile, reserved...); err != nil {
			return nil, fmt.Errorf("--webhook-header-file: %w", err)
		}
	}
	for _, l := range f.Label {
		name, value, ok := strings.Cut(l, "=")
		if !ok {
			return nil, fmt.Errorf("--label %q: want NAME=VALUE", l)
		}
		if err := alert.CheckLabel(name); err != nil {
			return nil, fmt.Errorf("--label: %w", err)
		}
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		c.Labels[name] = value
	}
	return c, nil
}

// Transports starts the webhook and Alertmanager transports configured.
// Options were checked, so starting cannot fail on them.
func (c *Channels) Transports(logger *log.Logger) ([]alert.Transport, error) {
	var ts []alert.Transport
	for _, u := range c.Webhooks {
		w, err := alert.NewWebhook(alert.WebhookOptions{URL: u, Format: c.WebhookFormat, Header: c.Header, Log: logger})
		if err != nil {
			return nil, err
		}
		ts = append(ts, w)
	}
	if len(c.Alertmanagers) > 0 {
		am, err := alert.NewAlertmanager(alert.AlertmanagerOptions{URLs: c.Alertmanagers, Instance: c.Instance,
			Labels: c.Labels, ResolveAfter: c.ResolveAfter, Heartbeat: c.Heartbeat, Log: logger})
		if err != nil {
			return nil, err
		}
		ts = append(ts, am)
	}
	return ts, nil
}

// Any reports whether a webhook or an Alertmanager is configured.
func (c *Channels) Any() bool { return len(c.Webhooks) > 0 || len(c.Alertmanagers) > 0 }

// Queue starts a tool's one delivery path: mail first when the tool mails
// (mail nil otherwise), then the webhooks and the Alertmanager configured.
func (c *Channels) Queue(tool string, mail alert.Transport, logger *log.Logger) (*alert.Queue, error) {
	var ts []alert.Transport
	if mail != nil {
		ts = append(ts, mail)
	}
	more, err := c.Transports(logger)
	if err != nil {
		return nil, err
	}
	return alert.NewQueue(alert.Options{Tool: tool}, append(ts, more...)...), nil
}
