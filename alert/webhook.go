package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/superlance-go/superlance/notify"
)

// Webhook formats.
const (
	FormatJSON  = "json"  // one document per alert, docs/alert.schema.json
	FormatSlack = "slack" // {"text": ...}, for Slack and Mattermost incoming webhooks
)

// SchemaVersion is the "version" of the webhook document; it changes only
// when a field changes meaning or goes away.
const SchemaVersion = 1

// WebhookOptions configures a Webhook.
type WebhookOptions struct {
	URL     string
	Format  string      // FormatJSON (the default) or FormatSlack
	Header  http.Header // sent with every request; values are never logged
	Timeout time.Duration
	Client  *http.Client // nil: a client that does not follow redirects
	// Size, Attempts, Backoff and MaxBackoff bound the queue and the
	// retries, with mail's defaults (notify.QueueOptions).
	Size                int
	Attempts            int
	Backoff, MaxBackoff time.Duration
	Log                 *log.Logger
}

// Webhook POSTs one JSON document per alert to one URL, in order, through
// a notify.Queue of its own, the queue mail uses: 2xx is delivered, 408,
// 429, 5xx and network errors are retried with backoff, any other 4xx is
// logged and given up at once.
type Webhook struct {
	format string
	name   string
	post   func(context.Context, []byte) error
	queue  *notify.Queue
}

// NewWebhook checks o and starts the webhook's delivery goroutine.
func NewWebhook(o WebhookOptions) (*Webhook, error) {
	if err := CheckURL(o.URL); err != nil {
		return nil, err
	}
	switch o.Format {
	case "":
		o.Format = FormatJSON
	case FormatJSON, FormatSlack:
	default:
		return nil, fmt.Errorf("unknown webhook format %q (json or slack)", o.Format)
	}
	if o.Client == nil {
		o.Client = newHTTPClient()
	}
	p := &poster{client: o.Client, url: o.URL, header: o.Header.Clone(), timeout: o.Timeout}
	w := &Webhook{format: o.Format, name: "webhook " + Redact(o.URL), post: p.post}
	w.queue = notify.NewQueue(nil, notify.QueueOptions{Size: o.Size, Attempts: o.Attempts, Backoff: o.Backoff, MaxBackoff: o.MaxBackoff, Log: o.Log})
	return w, nil
}

// delivery is one POST in the webhook's queue.
type delivery struct {
	w    *Webhook
	body []byte
	what string
}

func (d *delivery) Deliver(ctx context.Context) error {
	err := d.w.post(ctx, d.body)
	var p *permanent
	if errors.As(err, &p) {
		return notify.Permanent(p.err)
	}
	return err
}

func (d *delivery) String() string { return d.what + " to " + d.w.name }

// Post queues a's document.
func (w *Webhook) Post(a *Alert) error {
	if a.MailOnly {
		return nil
	}
	body, err := w.Body(a)
	if err != nil {
		return err
	}
	return w.queue.Add(&delivery{w: w, body: body, what: describe(a)})
}

// Body is the request body w sends for a.
func (w *Webhook) Body(a *Alert) ([]byte, error) {
	if w.format == FormatSlack {
		return json.Marshal(struct {
			Text string `json:"text"`
		}{SlackText(a)})
	}
	return json.Marshal(NewDocument(a))
}

// Tick does nothing: a webhook gets each alert once.
func (w *Webhook) Tick(time.Duration) {}

// Close delivers what is queued until ctx is done.
func (w *Webhook) Close(ctx context.Context) int { return len(w.queue.Close(ctx)) }

// Failed returns how many alerts the endpoint refused or w gave up on
// after its attempts (see Failer).
func (w *Webhook) Failed() int { return w.queue.Failed() }

func (w *Webhook) String() string { return w.name }

// Document is the webhook's JSON document (docs/alert.schema.json).
type Document struct {
	Version  int       `json:"version"`
	Tool     string    `json:"tool"`
	Host     string    `json:"host"`
	Kind     Kind      `json:"kind"`
	Status   string    `json:"status"`             // "firing", or "resolved" for kind recovered
	Resolves Kind      `json:"resolves,omitempty"` // with kind recovered: the kind of the condition that ended
	Holds    bool      `json:"holds"`              // a condition that stays until a recovered alert ends it
	Program  string    `json:"program"`
	Group    string    `json:"group"`
	State    string    `json:"state"`
	Subject  string    `json:"subject"`
	Text     string    `json:"text"`
	Time     time.Time `json:"time"`
	Details  *Details  `json:"details,omitempty"`
}

// NewDocument is a's webhook document.
func NewDocument(a *Alert) Document {
	return Document{
		Version: SchemaVersion, Tool: a.Tool, Host: a.Host, Kind: a.Kind, Status: a.Status(),
		Resolves: a.Ends, Holds: a.Holds, Program: a.Program, Group: a.Group, State: a.State,
		Subject: a.Subject, Text: a.Text, Time: a.Time.UTC(), Details: a.Details,
	}
}

// SlackText is the message of the slack format: who and where, the
// subject, the text, and the log tail as a code block. Slack asks for &, <
// and > to be escaped; everything else is shown as it is.
func SlackText(a *Alert) string {
	var b strings.Builder
	b.WriteString(a.Tool + " on " + a.Host)
	if a.Subject != "" {
		b.WriteString(": " + a.Subject)
	}
	b.WriteString("\n" + a.Text)
	if a.Details != nil {
		for _, f := range a.Details.Fields {
			b.WriteString("\n" + f.Name + ": " + f.Value)
		}
		if a.Details.LogTail != "" {
			b.WriteString("\n```\n" + strings.ReplaceAll(a.Details.LogTail, "```", "'''") + "\n```")
		}
	}
	return slackEscape.Replace(b.String())
}

var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// describe names an alert in log lines.
func describe(a *Alert) string {
	s := string(a.Kind) + " alert"
	if a.Kind == Recovered {
		s = "recovery (" + string(a.Ends) + ") alert"
	}
	if a.Program != "" {
		s += " for " + namespec(a.Group, a.Program)
	}
	return s
}

// namespec is supervisord's name of a process: name, or group:name when
// they differ.
func namespec(group, name string) string {
	if group == "" || group == name {
		return name
	}
	return group + ":" + name
}
