package alertctx

import (
	"context"
	"io"
	"log"
	"slices"
	"strings"
	"sync"

	"github.com/superlance-go/superlance/alert"
)

// Style says how a tool's alerts carry their context.
type Style int

const (
	// StyleMail appends the Details block and the log tail to each alert.
	StyleMail Style = iota
	// StyleBatch appends the Details block to each alert (one line of a
	// batch mail) and keeps the log tails for Tails: one per program per
	// batch, not one per crash.
	StyleBatch
	// StyleSMS appends only the exit status and run time, and only when
	// the line stays within SMSBudget characters.
	StyleSMS
)

// SMSBudget is the length of one SMS: crashsms lines with details stay
// within it, or go without them.
const SMSBudget = 160

// SenderOptions configures a Sender.
type SenderOptions struct {
	Style Style
	Clock Clock       // nil means the system clock
	Log   *log.Logger // held-back alerts and summaries; nil discards
	Fetch Options
	// Summary makes the alert that sums up the alerts --flood held back,
	// from the last of them and the summary line; nil means a copy of
	// that alert with the line as its Text (and Subject, when it has one).
	Summary func(last alert.Alert, line string) alert.Alert
}

// Sender is the alert policy in front of a tool's delivery: --flood
// decides whether an alert goes out, --details and --log-tail add its
// context, fetched off the event loop; then out delivers it (usually
// alert.Queue.Send). Without any of the options Send calls out at once
// with the alert untouched.
type Sender struct {
	flags Flags
	o     SenderOptions
	out   func(alert.Alert)
	log   *log.Logger
	pipe  *Pipeline // nil when nothing is fetched
	flood *Flood[held]

	mu    sync.Mutex
	tails map[string]string // StyleBatch: the latest tail of each program, rendered
	order []string          // programs of tails, in order of first crash
}

// held is an alert --flood held back.
type held struct {
	a    alert.Alert
	reqs []Request
}

// NewSender returns the policy flags describe, asking src (nil when the
// tool has no supervisord to ask: then no context is added) and
// delivering through out, which must not block and may be called from
// other goroutines.
func NewSender(flags Flags, src Source, out func(alert.Alert), o SenderOptions) *Sender {
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	s := &Sender{flags: flags, o: o, out: out, log: o.Log, tails: map[string]string{}}
	if s.log == nil {
		s.log = log.New(io.Discard, "", 0)
	}
	if src != nil && (flags.Context() || !flags.Flood.Off()) {
		s.pipe = NewPipeline(NewFetcher(src, o.Fetch))
	}
	s.flood = NewFlood(flags.Flood, o.Clock, s.summary)
	return s
}

// Send delivers a, the alert about the process req names (a zero Request
// for an alert about no process: it is neither limited nor given
// context). It never blocks on the network.
func (s *Sender) Send(a alert.Alert, req Request) {
	if s.pipe == nil && s.flags.Flood.Off() {
		s.out(a) // no option given: nothing to do
		return
	}
	if req.Name == "" {
		s.SendAll(a, "", nil)
		return
	}
	s.SendAll(a, req.Namespec(), []Request{req})
}

// SendAll is Send for an alert about several processes (httpok restarting
// every program it watches): --flood counts it under key, and each
// process gets its own context, in the order of reqs. An empty key is
// never held back.
func (s *Sender) SendAll(a alert.Alert, key string, reqs []Request) {
	if key != "" && !s.flood.Allow(key, held{a, reqs}) {
		s.log.Printf("%s: alert held back by --flood %s; a summary follows when the window has passed", key, s.flags.Flood)
		return
	}
	if s.pipe == nil {
		s.out(a)
		return
	}
	reqs = slices.Clone(reqs)
	for i := range reqs {
		reqs[i].Details = s.flags.Details
		reqs[i].TailLines = int(s.flags.LogTail)
		if s.o.Style == StyleSMS {
			reqs[i].TailLines = 0 // an SMS has no room for it
		}
	}
	s.pipe.GoAll(reqs, func(cs []Context) {
		for _, c := range cs {
			s.addContext(&a, c)
		}
		s.out(a)
		// After the line, so that a batch never carries a tail
		// without the line it belongs to.
		if s.o.Style == StyleBatch {
			for _, c := range cs {
				if c.Request.TailLines > 0 {
					s.keepTail(c)
				}
			}
		}
	})
}

// addContext puts c into a as the style wants it.
func (s *Sender) addContext(a *alert.Alert, c Context) {
	if !c.Request.Details && c.Request.TailLines <= 0 {
		return
	}
	if a.Details == nil {
		a.Details = c.AlertDetails() // the first process's
	}
	switch s.o.Style {
	case StyleMail:
		a.Text = c.Append(a.Text)
	case StyleBatch:
		withDetails := c
		withDetails.Request.TailLines = 0
		a.Text = withDetails.Append(a.Text)
	case StyleSMS:
		if c.Details == nil {
			return
		}
		if sms := c.Details.SMS(); sms != "" && len([]rune(a.Text))+len(" ()")+len([]rune(sms)) <= SMSBudget {
			a.Text += " (" + sms + ")"
		}
	}
}

// keepTail remembers c's tail (or why there is none) for Tails; a later
// crash of the same program replaces it.
func (s *Sender) keepTail(c Context) {
	only := c
	only.Request.Details = false
	program := c.Namespec()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tails[program]; !ok {
		s.order = append(s.order, program)
	}
	s.tails[program] = only.Render()
}

// Tails returns the log tails kept since the last call (StyleBatch), one
// per program, the latest of each, in the order the programs first
// crashed; "" when there are none. They are forgotten: each goes into one
// batch mail.
func (s *Sender) Tails() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var parts []string
	for _, p := range s.order {
		parts = append(parts, s.tails[p])
	}
	s.tails, s.order = map[string]string{}, nil
	return strings.Join(parts, "\n\n")
}

// summary sends the summary of alerts --flood held back. With a
// supervisord to ask, an exit gets the last exit status ("last exit status
// 1") first, through the pipeline, which also keeps the summary in order
// with the alerts around it.
func (s *Sender) summary(sum Summary[held]) {
	last := sum.Item
	one, many := nouns(last.a.Kind)
	build := func(lastExit string) {
		line := sum.Text(one, many, lastExit)
		s.log.Print(line)
		var a alert.Alert
		if s.o.Summary != nil {
			a = s.o.Summary(last.a, line)
		} else {
			a = last.a
			a.Text, a.Details = line, nil
			if a.Subject != "" {
				a.Subject = line
			}
		}
		s.out(a)
	}
	if s.pipe == nil || len(last.reqs) != 1 || !last.reqs[0].Exit {
		build("")
		return
	}
	req := last.reqs[0]
	req.Details, req.TailLines = true, 0 // only its exit is used
	s.pipe.Go(req, func(c Context) {
		lastExit := ""
		if c.Details != nil && c.Details.Exit != nil {
			if e := c.Details.Exit.Short(); e != "" {
				lastExit = "last " + e
			}
		}
		build(lastExit)
	})
}

// nouns names alerts of kind k in a summary line.
func nouns(k alert.Kind) (one, many string) {
	switch k {
	case alert.Crash:
		return "unexpected exit", "unexpected exits"
	case alert.Fatal:
		return "failed start", "failed starts"
	case alert.HealthCheck:
		return "failed health check", "failed health checks"
	case alert.Memory:
		return "memory restart", "memory restarts"
	}
	return "alert", "alerts"
}

// Close sends the summaries still held (the tool is shutting down before
// their windows passed), then waits until every alert taken by Send has
// been delivered, or ctx ends (then the rest go without context).
func (s *Sender) Close(ctx context.Context) {
	for _, sum := range s.flood.Close() {
		s.summary(sum)
	}
	if s.pipe != nil {
		s.pipe.Close(ctx)
	}
}

// AlertDetails is c as the structured details of an alert (webhook,
// Alertmanager); nil when nothing was asked for.
func (c Context) AlertDetails() *alert.Details {
	if !c.Request.Details && c.Request.TailLines <= 0 {
		return nil
	}
	d := &alert.Details{}
	add := func(name, value string) { d.Fields = append(d.Fields, alert.Field{Name: name, Value: value}) }
	if c.Request.Details {
		switch det := c.Details; {
		case det == nil:
			add("details_error", c.reason(c.DetailsErr))
		default:
			if det.Exit != nil && det.Exit.Known {
				add("exit_status", det.Exit.String())
			}
			if det.RanKnown {
				add("ran_for", Duration(det.Ran))
			}
			add("spawnerr", det.SpawnErr)
			add("description", det.Description)
			add("state", det.State.String())
			add("host", det.Host)
		}
	}
	if c.Request.TailLines > 0 {
		switch t := c.Tail; {
		case t == nil:
			add("log_tail_error", c.reason(c.TailErr))
		default:
			d.LogTail, d.Log = strings.Join(t.Lines, "\n"), t.Stream
		}
	}
	return d
}
