package alert

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/svtest"
)

// hook is a webhook receiver: it answers with the codes given, in turn
// (200 once they are used up), and records every request.
type hook struct {
	mu      sync.Mutex
	codes   []int
	bodies  [][]byte // every request's body, in arrival order
	headers []http.Header
	ok      int // requests answered 2xx
	gate    chan struct{}
	entered chan struct{} // one value per request that reached the handler
}

func newHook(t *testing.T, codes ...int) (*hook, *httptest.Server) {
	h := &hook{codes: codes, entered: make(chan struct{}, 100)}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.entered <- struct{}{}
	if h.gate != nil {
		select {
		case <-h.gate:
		case <-r.Context().Done():
			return
		}
	}
	h.mu.Lock()
	code := http.StatusOK
	if len(h.codes) > 0 {
		code, h.codes = h.codes[0], h.codes[1:]
	}
	h.bodies = append(h.bodies, body)
	h.headers = append(h.headers, r.Header.Clone())
	if code < 300 {
		h.ok++
	}
	h.mu.Unlock()
	w.WriteHeader(code)
	io.WriteString(w, "answer "+http.StatusText(code)+"\nsecond line")
}

func (h *hook) requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

func (h *hook) delivered() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ok
}

func crash(program string) Alert {
	return Alert{Kind: Crash, Program: program, Group: program, State: "EXITED",
		Subject: program + " crashed at 2026-01-02 03:04:05,000",
		Text:    "Process " + program + " in group " + program + " exited unexpectedly (pid 42) from state RUNNING"}
}

func TestWebhookRetriesA500AndDeliversOnce(t *testing.T) {
	h, srv := newHook(t, 500)
	var logs svtest.LockedBuffer
	w, err := NewWebhook(WebhookOptions{URL: srv.URL + "/secret-token", Backoff: time.Millisecond, Log: log.New(&logs, "", 0),
		Header: http.Header{"Authorization": {"Bearer s3cr3t"}}})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue(Options{Tool: "crashmail", Host: "web1"}, w)
	if err := q.Send(crash("web")); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.requests(); got != 2 {
		t.Errorf("requests = %d, want 2 (500, then 200)", got)
	}
	if got := h.delivered(); got != 1 {
		t.Errorf("delivered = %d, want 1", got)
	}
	if got := h.headers[1].Get("Authorization"); got != "Bearer s3cr3t" {
		t.Errorf("Authorization = %q, want the configured header", got)
	}
	if got := h.headers[1].Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	checkDocument(t, loadSchema(t), h.bodies[1])
	var doc Document
	json.Unmarshal(h.bodies[1], &doc)
	if doc.Tool != "crashmail" || doc.Host != "web1" || doc.Kind != Crash || doc.Program != "web" || doc.Status != "firing" {
		t.Errorf("document = %+v", doc)
	}
	out := logs.String()
	for _, want := range []string{"crash alert for web to webhook " + Redact(srv.URL+"/x") + " failed (attempt 1)", "500 Internal Server Error: answer Internal Server Error second line", "delivered crash alert for web"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"s3cr3t", "secret-token"} {
		if strings.Contains(out, secret) {
			t.Errorf("log shows %q:\n%s", secret, out)
		}
	}
}

func TestWebhook400IsNotRetried(t *testing.T) {
	h, srv := newHook(t, 400)
	var logs svtest.LockedBuffer
	w, err := NewWebhook(WebhookOptions{URL: srv.URL, Backoff: time.Millisecond, Log: log.New(&logs, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue(Options{Tool: "crashmail"}, w)
	q.Send(crash("web"))
	q.Send(crash("db"))
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The lane delivers in order: the second alert's request following the
	// first one's directly means the 400 was not retried.
	if got := h.requests(); got != 2 {
		t.Fatalf("requests = %d, want 2 (web refused once, db delivered)", got)
	}
	var first, second Document
	json.Unmarshal(h.bodies[0], &first)
	json.Unmarshal(h.bodies[1], &second)
	if first.Program != "web" || second.Program != "db" {
		t.Errorf("requests were for %q then %q, want web then db", first.Program, second.Program)
	}
	if out := logs.String(); !strings.Contains(out, "gave up on crash alert for web to webhook "+Redact(srv.URL)+": 400 Bad Request") {
		t.Errorf("log does not report the refusal:\n%s", out)
	}
}

func TestWebhookRetriesTooManyRequests(t *testing.T) {
	h, srv := newHook(t, 429, 408)
	w, err := NewWebhook(WebhookOptions{URL: srv.URL, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.Post(&Alert{Kind: Test, Text: "x"})
	w.Close(context.Background())
	if h.requests() != 3 || h.delivered() != 1 {
		t.Errorf("requests %d, delivered %d; want 429 and 408 retried, then delivered once", h.requests(), h.delivered())
	}
}

// TestWebhookStalledServer checks that Send returns while the server holds
// the request: the alerts after it are accepted before the stall ends.
func TestWebhookStalledServer(t *testing.T) {
	h, srv := newHook(t)
	h.gate = make(chan struct{})
	w, err := NewWebhook(WebhookOptions{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue(Options{Tool: "crashmail"}, w)
	q.Send(crash("web"))
	<-h.entered // the first request is in the server, which does not answer
	for _, p := range []string{"a", "b", "c"} {
		if err := q.Send(crash(p)); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.requests(); got != 0 {
		t.Fatalf("%d requests answered while the server stalls", got)
	}
	close(h.gate)
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.delivered(); got != 4 {
		t.Errorf("delivered %d, want 4 once the stall ended", got)
	}
}

func TestWebhookDeadline(t *testing.T) {
	h, srv := newHook(t)
	h.gate = make(chan struct{})
	defer close(h.gate)
	var logs svtest.LockedBuffer
	w, err := NewWebhook(WebhookOptions{URL: srv.URL, Timeout: 50 * time.Millisecond, Attempts: 2, Backoff: time.Millisecond, Log: log.New(&logs, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	w.Post(&Alert{Kind: Test, Text: "x"})
	w.Close(context.Background())
	if out := logs.String(); !strings.Contains(out, "gave up on test alert to webhook "+Redact(srv.URL)+" after 2 attempts: no answer within 50ms") {
		t.Errorf("log:\n%s", out)
	}
}

func TestWebhookSlackFormat(t *testing.T) {
	h, srv := newHook(t)
	w, err := NewWebhook(WebhookOptions{URL: srv.URL, Format: FormatSlack})
	if err != nil {
		t.Fatal(err)
	}
	a := crash("web")
	a.Tool, a.Host = "crashmail", "web1"
	a.Text = "a <b> & c"
	a.Details = &Details{Fields: []Field{{"exit_status", "3"}}, LogTail: "boom", Log: "stderr"}
	w.Post(&a)
	w.Close(context.Background())
	if h.requests() != 1 {
		t.Fatalf("requests = %d", h.requests())
	}
	var got map[string]string
	if err := json.Unmarshal(h.bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	want := "crashmail on web1: web crashed at 2026-01-02 03:04:05,000\na &lt;b&gt; &amp; c\nexit_status: 3\n```\nboom\n```"
	if len(got) != 1 || got["text"] != want {
		t.Errorf("slack body = %q\nwant text %q", h.bodies[0], want)
	}
}

func TestWebhookDocumentsMatchSchema(t *testing.T) {
	schema := loadSchema(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.FixedZone("X", 3600))
	alerts := []Alert{
		crash("web"),
		{Tool: "crashsms", Kind: Crash, Program: "web", Group: "g", Text: "[g:web](42) exited unexpectedly"},
		{Tool: "missingmail", Kind: Missing, Holds: true, Program: "db", Group: "db", State: "STOPPED", Subject: "s", Text: "t"},
		{Tool: "missingmail", Kind: Recovered, Ends: Missing, Program: "db", Group: "db", State: "RUNNING", Text: "back"},
		{Tool: "httpok", Kind: HealthCheck, Holds: true, Text: "x", Details: &Details{Fields: []Field{{"exit_status", "1"}}, LogTail: "l", Log: "stderr"}},
		{Tool: "procmon", Kind: Budget, Holds: true, Text: "x", Details: &Details{}},
	}
	h, srv := newHook(t)
	w, err := NewWebhook(WebhookOptions{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue(Options{Tool: "crashmail", Host: "h", Now: func() time.Time { return at }}, w)
	for _, a := range alerts {
		q.Send(a)
	}
	q.Close(context.Background())
	if h.requests() != len(alerts) {
		t.Fatalf("requests = %d, want %d", h.requests(), len(alerts))
	}
	for _, b := range h.bodies {
		checkDocument(t, schema, b)
	}
	var doc Document
	json.Unmarshal(h.bodies[3], &doc)
	if doc.Status != "resolved" || doc.Resolves != Missing {
		t.Errorf("recovered document: status %q resolves %q", doc.Status, doc.Resolves)
	}
	if !strings.Contains(string(h.bodies[0]), `"time":"2026-01-02T02:04:05.006Z"`) {
		t.Errorf("time not in UTC: %s", h.bodies[0])
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/XXXX": "https://hooks.slack.com/…",
		"http://user:pw@am:9093":                      "http://am:9093",
		"http://am:9093/":                             "http://am:9093",
		"http://am:9093?token=x":                      "http://am:9093/…",
		"::":                                          "(invalid URL)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMailOnlyAndNoMail: the two routing marks keep an alert away from
// the transports they name, and only from those.
func TestMailOnlyAndNoMail(t *testing.T) {
	h, srv := newHook(t)
	w, err := NewWebhook(WebhookOptions{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var mailed []string
	mail := Func(func(a *Alert) error {
		if !a.NoMail {
			mailed = append(mailed, a.Program)
		}
		return nil
	})
	q := NewQueue(Options{Tool: "missingmail"}, mail, w)
	q.Send(Alert{Kind: Missing, Holds: true, Program: "both", MailOnly: true, Text: "web and db"})
	q.Send(Alert{Kind: Missing, Holds: true, Program: "web", NoMail: true, Text: "web"})
	q.Send(Alert{Kind: Missing, Holds: true, Program: "db", NoMail: true, Text: "db"})
	q.Close(context.Background())
	if strings.Join(mailed, " ") != "both" {
		t.Errorf("mailed %q, want only the summing alert", mailed)
	}
	var got []string
	for _, b := range h.bodies {
		var d Document
		json.Unmarshal(b, &d)
		got = append(got, d.Program)
	}
	if strings.Join(got, " ") != "web db" {
		t.Errorf("webhook got %q, want web db", got)
	}
}
