package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/amtest"
)

// channels are the alert transports besides mail that the demo shows: a
// webhook receiver of its own, which prints each JSON document it gets,
// and, when it is installed, a real Prometheus Alertmanager routing to a
// receiver that prints each notification.
type channels struct {
	p *printer

	WebhookURL      string // the demo's webhook: one JSON document per alert
	AlertmanagerURL string // "" when Alertmanager is not installed

	hook *http.Server
	am   *amtest.Instance
	amr  *amtest.Receiver

	mu            sync.Mutex
	webhooks      map[string]int // documents received, by tool
	notifications int
}

// startChannels starts the webhook receiver and, when the binary is there,
// Alertmanager in dir.
func startChannels(ctx context.Context, p *printer, dir string) (*channels, error) {
	c := &channels{p: p, webhooks: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c.WebhookURL = "http://" + ln.Addr().String() + "/hook"
	c.hook = &http.Server{Handler: http.HandlerFunc(c.webhook), ReadHeaderTimeout: 5 * time.Second}
	go c.hook.Serve(ln)

	if _, err := amtest.Find(); err != nil {
		p.plain("Alertmanager is not installed (Debian: apt-get install prometheus-alertmanager): the demo shows the webhook only.\n")
		return c, nil
	}
	if c.amr, err = amtest.NewReceiver(c.notified); err != nil {
		c.close()
		return nil, err
	}
	amDir := filepath.Join(dir, "alertmanager")
	if err := os.Mkdir(amDir, 0o755); err != nil {
		c.close()
		return nil, err
	}
	c.am, err = amtest.Launch(ctx, amtest.Options{Dir: amDir, Config: amtest.Config{Receiver: c.amr.URL, GroupBy: []string{"alertname", "program"}}})
	if err != nil {
		// The demo is about the listeners; it goes on with the webhook.
		p.plain("Alertmanager did not start (%v); the demo shows the webhook only.\n", firstLine(err.Error()))
		c.am = nil
		return c, nil
	}
	c.AlertmanagerURL = c.am.URL
	return c, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// webhook prints one alert document.
func (c *channels) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var d alert.Document
	if err != nil || json.Unmarshal(body, &d) != nil {
		http.Error(w, "not an alert document", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.webhooks[d.Tool]++
	c.mu.Unlock()
	what := d.Subject
	if what == "" {
		what = firstLine(d.Text)
	}
	c.p.say("webhook", blue, "%s %s %s/%s: %s", d.Tool, d.Status, d.Kind, orDefault(d.Program, "-"), what)
}

// notified prints one Alertmanager notification.
func (c *channels) notified(n amtest.Notification) {
	c.mu.Lock()
	c.notifications++
	c.mu.Unlock()
	var names []string
	for _, a := range n.Alerts {
		l := a.Labels
		s := l["alertname"]
		if l["program"] != "" {
			s += "{program=" + l["program"] + "}"
		}
		names = append(names, s+" "+a.Status)
	}
	sort.Strings(names)
	c.p.say("alertmanager", blue, "notifies %s: %s", n.Status, strings.Join(names, ", "))
}

// Webhooks returns how many documents each tool's webhook delivered.
func (c *channels) Webhooks() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.webhooks {
		out[k] = v
	}
	return out
}

// Notifications returns how many notifications Alertmanager sent.
func (c *channels) Notifications() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.notifications
}

// summary prints what the channels received.
func (c *channels) summary() {
	hooks := c.Webhooks()
	var parts []string
	for _, t := range tools {
		if hooks[t] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", t, hooks[t]))
		}
	}
	c.p.plain("Webhook: %d alert document(s) (%s).\n", total(hooks), strings.Join(parts, ", "))
	if c.am != nil {
		c.p.plain("Alertmanager (%s): %d notification(s) to its receiver.\n", c.am.URL, c.Notifications())
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// close stops Alertmanager and both receivers.
func (c *channels) close() {
	if c.am != nil {
		c.am.Stop()
	}
	if c.amr != nil {
		c.amr.Close()
	}
	c.hook.Close()
}
