package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Alertmanager lifecycle settings.
const (
	// DefaultResolveAfter is how long a one-off event stays firing.
	DefaultResolveAfter = 5 * time.Minute
	// aheadTicks is how many tick periods ahead a firing condition's and
	// the heartbeat's endsAt lies: one lost post is not a resolution.
	aheadTicks = 3
	// defaultTick stands in for the tick period until the first TICK
	// arrives (TICK_60, what every example configures).
	defaultTick = time.Minute
	// resendResolved is how long a resolved condition is re-posted, so
	// that an Alertmanager that restarted meanwhile still learns of it.
	resendResolved = 5 * time.Minute
	// maxPending bounds the one-off events kept per instance while it is
	// unreachable; the oldest go first.
	maxPending = 100
	// HeartbeatName is the alertname of the heartbeat.
	HeartbeatName = "SupervisorHeartbeat"
	// Job is the job label of every alert.
	Job = "supervisord"
)

// maxBackoff caps the doubling pause between posts to an instance that
// fails: every post carries the whole picture, so a minute is soon enough.
const maxBackoff = time.Minute

var errClosed = errors.New("closed")

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// nextPause doubles pause up to a minute, or up to base when that is longer.
func nextPause(pause, base time.Duration) time.Duration {
	return min(2*pause, max(maxBackoff, base))
}

// ReservedLabels are set by the transport itself; --label may not set them.
var ReservedLabels = []string{"alertname", "program", "group", "instance", "job"}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// CheckLabel accepts a Prometheus label name that is not reserved.
func CheckLabel(name string) error {
	if !labelName.MatchString(name) {
		return fmt.Errorf("label name %q: want letters, digits and _, not starting with a digit", name)
	}
	if slices.Contains(ReservedLabels, name) {
		return fmt.Errorf("label %q is set by the listener itself (use --instance for instance)", name)
	}
	return nil
}

// AlertmanagerOptions configures an Alertmanager transport.
type AlertmanagerOptions struct {
	// URLs are the instances of one cluster, as http://host:9093 (with a
	// route prefix when there is one); every instance gets every alert.
	URLs []string
	// Instance is the instance label; "" means the alert's host.
	Instance string
	// Host stands in for the alert's host in the heartbeat's instance label.
	Host string
	// Labels are added to every alert.
	Labels map[string]string
	// ResolveAfter is how long a one-off event fires; 0 means 5 minutes.
	ResolveAfter time.Duration
	// Heartbeat keeps an always-firing SupervisorHeartbeat alert posted on
	// every tick: when the listener or supervisord stops, it resolves.
	Heartbeat bool
	Timeout   time.Duration // per request; 0 means DefaultTimeout
	Backoff   time.Duration // first retry pause, doubled up to a minute; 0 means 2 s
	Client    *http.Client
	Now       func() time.Time
	Log       *log.Logger
}

// Alertmanager posts alerts to Prometheus Alertmanager's POST
// /api/v2/alerts, to every instance given, each from its own goroutine.
//
// Lifecycle: a one-off event (Alert.Holds false) is posted once with
// endsAt ResolveAfter after it happened. A condition (Holds) is re-posted
// on every tick with the same startsAt and endsAt a few ticks ahead, until
// a Recovered alert ends it; it is then posted resolved (endsAt now) and
// re-posted so for a few minutes. Each post carries the whole current
// picture, so an instance that was down catches up with its first
// successful post.
type Alertmanager struct {
	o       AlertmanagerOptions
	log     *log.Logger
	targets []*amTarget

	ctx    context.Context // bounds posts; cancelled when Close's ctx ends
	cancel context.CancelFunc
	stop   chan struct{}
	wg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	failed    int           // alerts refused for good (Failed)
	tick      time.Duration // 0 until the first TICK
	seq       uint64        // bumped by every change worth a log line
	firing    map[string]*amEntry
	resolved  map[string]*amEntry
	heartbeat *amEntry
}

// amEntry is one alert as Alertmanager sees it.
type amEntry struct {
	labels      map[string]string
	annotations map[string]string
	startsAt    time.Time
	endsAt      time.Time // for a firing condition and the heartbeat: set at each post
	until       time.Time // a resolved condition is re-posted until then
	seq         uint64
	what        string
}

// amTarget is one Alertmanager instance.
type amTarget struct {
	poster
	name    string
	wake    chan struct{}
	pending []*amEntry // one-off events not yet delivered here
	sent    uint64     // changes up to this seq have been delivered
	failing bool
}

// postable is an alert in /api/v2/alerts' format.
type postable struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    string            `json:"startsAt"`
	EndsAt      string            `json:"endsAt"`
}

// NewAlertmanager checks o and starts one delivery goroutine per URL.
func NewAlertmanager(o AlertmanagerOptions) (*Alertmanager, error) {
	if len(o.URLs) == 0 {
		return nil, errors.New("no Alertmanager URL")
	}
	for name := range o.Labels {
		if err := CheckLabel(name); err != nil {
			return nil, err
		}
	}
	if o.ResolveAfter <= 0 {
		o.ResolveAfter = DefaultResolveAfter
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	if o.Client == nil {
		o.Client = newHTTPClient()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Host == "" {
		o.Host = Hostname()
	}
	am := &Alertmanager{o: o, log: o.Log, stop: make(chan struct{}),
		firing: map[string]*amEntry{}, resolved: map[string]*amEntry{}}
	if am.log == nil {
		am.log = log.New(io.Discard, "", 0)
	}
	for _, raw := range o.URLs {
		u, err := AlertsURL(raw)
		if err != nil {
			return nil, err
		}
		am.targets = append(am.targets, &amTarget{
			poster: poster{client: o.Client, url: u, timeout: o.Timeout},
			name:   "alertmanager " + Redact(raw),
			wake:   make(chan struct{}, 1),
		})
	}
	am.ctx, am.cancel = context.WithCancel(context.Background())
	for _, t := range am.targets {
		am.wg.Go(func() { am.run(t) })
	}
	return am, nil
}

// AlertsURL turns an instance's base URL into its /api/v2/alerts URL.
func AlertsURL(raw string) (string, error) {
	if err := CheckURL(raw); err != nil {
		return "", err
	}
	u, _ := url.Parse(raw)
	if !strings.HasSuffix(u.Path, "/api/v2/alerts") {
		u.Path = strings.TrimRight(u.Path, "/") + "/api/v2/alerts"
	}
	return u.String(), nil
}

func (am *Alertmanager) String() string {
	if len(am.targets) == 1 {
		return am.targets[0].name
	}
	return fmt.Sprintf("alertmanager (%d instances)", len(am.targets))
}

// labels is the identity of an alert of kind k about a's program.
func (am *Alertmanager) labels(name string, a *Alert) map[string]string {
	l := maps.Clone(am.o.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l["alertname"] = name
	if a != nil && a.Program != "" {
		l["program"] = a.Program
	}
	if a != nil && a.Group != "" {
		l["group"] = a.Group
	}
	l["instance"] = am.o.Instance
	if l["instance"] == "" {
		l["instance"] = am.o.Host
		if a != nil && a.Host != "" {
			l["instance"] = a.Host
		}
	}
	l["job"] = Job
	return l
}

func labelKey(l map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(l)) {
		b.WriteString(k + "=" + l[k] + "\x00")
	}
	return b.String()
}

func annotations(a *Alert) map[string]string {
	summary := a.Subject
	if summary == "" {
		summary, _, _ = strings.Cut(a.Text, "\n")
	}
	return map[string]string{"summary": summary, "description": a.Text}
}

// Post records a and wakes every instance's goroutine.
func (am *Alertmanager) Post(a *Alert) error {
	if a.MailOnly {
		return nil
	}
	kind := a.Kind
	if kind == Recovered {
		kind = a.Ends
	}
	name := kind.AlertName()
	if name == "" {
		return fmt.Errorf("no alertname for kind %q", kind)
	}
	l := am.labels(name, a)
	key := labelKey(l)
	now := am.o.Now()

	am.mu.Lock()
	if am.closed {
		am.mu.Unlock()
		return errClosed
	}
	what := name + " for " + l["instance"]
	if a.Program != "" {
		what = name + " for " + namespec(a.Group, a.Program) + " on " + l["instance"]
	}
	switch {
	case a.Kind == Recovered:
		e := am.firing[key]
		delete(am.firing, key)
		if e == nil { // not raised by this process (a restart since): resolve it anyway
			e = &amEntry{labels: l, startsAt: a.Time}
		}
		e.annotations = annotations(a)
		e.endsAt = a.Time
		if e.startsAt.After(e.endsAt) {
			e.startsAt = e.endsAt
		}
		e.until = now.Add(resendResolved)
		am.seq++
		e.seq, e.what = am.seq, what+" resolved"
		am.resolved[key] = e
	case a.Holds:
		if e := am.firing[key]; e != nil {
			e.annotations = annotations(a) // same alert, newer words
			break
		}
		delete(am.resolved, key)
		am.seq++
		am.firing[key] = &amEntry{labels: l, annotations: annotations(a), startsAt: a.Time, seq: am.seq, what: what + " firing"}
	default:
		am.seq++
		e := &amEntry{labels: l, annotations: annotations(a), startsAt: a.Time,
			endsAt: a.Time.Add(am.o.ResolveAfter), seq: am.seq,
			what: what + " firing until " + a.Time.Add(am.o.ResolveAfter).Format(time.TimeOnly)}
		for _, t := range am.targets {
			if len(t.pending) >= maxPending {
				am.log.Printf("%s: too many alerts waiting, dropped %s", t.name, t.pending[0].what)
				t.pending = t.pending[1:]
			}
			t.pending = append(t.pending, e)
		}
	}
	am.mu.Unlock()
	am.wakeAll()
	return nil
}

// Tick records the tick period, refreshes the heartbeat, and re-posts.
func (am *Alertmanager) Tick(period time.Duration) {
	now := am.o.Now()
	am.mu.Lock()
	if am.closed {
		am.mu.Unlock()
		return
	}
	am.tick = period
	for k, e := range am.resolved {
		if now.After(e.until) {
			delete(am.resolved, k)
		}
	}
	if am.o.Heartbeat && am.heartbeat == nil {
		am.seq++
		l := am.labels(HeartbeatName, nil)
		am.heartbeat = &amEntry{labels: l, startsAt: now, seq: am.seq, what: HeartbeatName + " for " + l["instance"] + " firing",
			annotations: map[string]string{
				"summary":     "supervisord event listener alive on " + l["instance"],
				"description": "Always firing while the listener receives TICK events; it resolves when the listener or supervisord stops.",
			}}
	}
	am.mu.Unlock()
	am.wakeAll()
}

func (am *Alertmanager) wakeAll() {
	for _, t := range am.targets {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// build returns the body of the next post to t (nil when there is nothing
// to say), the entries it carries, and the seq it brings t up to.
func (am *Alertmanager) build(t *amTarget) (body []byte, carried []*amEntry, seq uint64) {
	now := am.o.Now()
	am.mu.Lock()
	defer am.mu.Unlock()
	tick := am.tick
	if tick <= 0 {
		tick = defaultTick
	}
	ahead := now.Add(aheadTicks * tick)
	kept := t.pending[:0]
	for _, e := range t.pending {
		if !now.Before(e.endsAt) {
			am.log.Printf("%s: %s expired before it could be delivered", t.name, e.what)
			continue
		}
		kept = append(kept, e)
	}
	t.pending = kept
	carried = slices.Clone(t.pending)
	for _, k := range slices.Sorted(maps.Keys(am.firing)) {
		e := am.firing[k]
		e.endsAt = ahead
		carried = append(carried, e)
	}
	for _, k := range slices.Sorted(maps.Keys(am.resolved)) {
		carried = append(carried, am.resolved[k])
	}
	if am.heartbeat != nil {
		am.heartbeat.endsAt = ahead
		carried = append(carried, am.heartbeat)
	}
	if len(carried) == 0 {
		return nil, nil, am.seq
	}
	out := make([]postable, len(carried))
	for i, e := range carried {
		out[i] = postable{Labels: e.labels, Annotations: e.annotations,
			StartsAt: e.startsAt.UTC().Format(amTime), EndsAt: e.endsAt.UTC().Format(amTime)}
	}
	body, err := json.Marshal(out)
	if err != nil { // maps of strings always marshal
		panic(err)
	}
	return body, carried, am.seq
}

const amTime = "2006-01-02T15:04:05.000Z07:00"

// delivered records a successful post of carried up to seq.
func (am *Alertmanager) delivered(t *amTarget, carried []*amEntry, seq uint64) {
	am.mu.Lock()
	var news []string
	for _, e := range carried {
		if e.seq > t.sent {
			news = append(news, e.what)
		}
	}
	t.pending = slices.DeleteFunc(t.pending, func(e *amEntry) bool { return slices.Contains(carried, e) })
	t.sent = max(t.sent, seq)
	failing := t.failing
	t.failing = false
	am.mu.Unlock()
	if failing {
		am.log.Printf("%s: reachable again", t.name)
	}
	for _, w := range news {
		am.log.Printf("%s: sent %s", t.name, w)
	}
}

// refused drops the one-off events of a post the instance refused for good.
func (am *Alertmanager) refused(t *amTarget, carried []*amEntry, err error) {
	am.mu.Lock()
	t.pending = slices.DeleteFunc(t.pending, func(e *amEntry) bool { return slices.Contains(carried, e) })
	am.failed += len(carried)
	am.mu.Unlock()
	am.log.Printf("%s: refused %d alerts, not retried: %v", t.name, len(carried), err)
}

// owes reports whether t has changes or events it has not delivered.
func (am *Alertmanager) owes(t *amTarget) bool {
	am.mu.Lock()
	defer am.mu.Unlock()
	return len(t.pending) > 0 || t.sent < am.seq
}

// run is one instance's delivery goroutine: it posts the current picture
// whenever something changed or a tick passed, retrying with backoff.
func (am *Alertmanager) run(t *amTarget) {
	closing := false
	for {
		if !closing {
			select {
			case <-t.wake:
			case <-am.stop:
				closing = true
			case <-am.ctx.Done():
				return
			}
		}
		if closing && !am.owes(t) {
			return
		}
		pause := am.o.Backoff
		for attempt := 1; ; attempt++ {
			body, carried, seq := am.build(t)
			if body == nil {
				break
			}
			err := t.post(am.ctx, body)
			var perm *permanent
			if err == nil {
				am.delivered(t, carried, seq)
				break
			}
			if errors.As(err, &perm) {
				am.refused(t, carried, err)
				break
			}
			if am.ctx.Err() != nil {
				return
			}
			am.mu.Lock()
			t.failing = true
			am.mu.Unlock()
			am.log.Printf("%s: posting %d alerts failed (attempt %d), retrying in %v: %v", t.name, len(carried), attempt, pause, err)
			if !sleep(am.ctx, pause) {
				return
			}
			pause = nextPause(pause, am.o.Backoff)
			if closing && !am.owes(t) {
				return
			}
		}
		if closing {
			return
		}
	}
}

// Failed returns how many alerts an instance refused for good (see
// Failer).
func (am *Alertmanager) Failed() int {
	am.mu.Lock()
	defer am.mu.Unlock()
	return am.failed
}

// Close posts what is still owed to each instance until ctx is done and
// returns how many one-off events could not be delivered to every instance.
// The heartbeat is not resolved: it expires by itself, a few ticks after
// the last one, which is what a dead man's switch watches for.
func (am *Alertmanager) Close(ctx context.Context) int {
	am.mu.Lock()
	if am.closed {
		am.mu.Unlock()
		return 0
	}
	am.closed = true
	am.mu.Unlock()
	close(am.stop)
	stop := context.AfterFunc(ctx, am.cancel)
	am.wg.Wait()
	stop()
	am.cancel()

	am.mu.Lock()
	defer am.mu.Unlock()
	lost := map[*amEntry]bool{}
	for _, t := range am.targets {
		for _, e := range t.pending {
			am.log.Printf("%s: %s not delivered before shutdown", t.name, e.what)
			lost[e] = true
		}
	}
	return len(lost)
}
