package alert

import (
	"context"
	"time"

	"github.com/superlance-go/superlance/notify"
)

// Mail is the mail transport: each alert becomes one message (its Subject
// and Text as subject and body, unchanged) delivered by a notify.Queue,
// which retries with backoff and never blocks.
type Mail struct {
	Queue *notify.Queue
	To    []string
	From  string
	// Via names the mail transport in log lines ("sendmail", "smtp host").
	Via string
}

// Message is the mail m sends for a.
func (m *Mail) Message(a *Alert) *notify.Message {
	return &notify.Message{To: m.To, From: m.From, Subject: a.Subject, Body: a.Text}
}

// Post queues the mail of a, unless a is not meant to be mailed.
func (m *Mail) Post(a *Alert) error {
	if a.NoMail {
		return nil
	}
	return m.Queue.Enqueue(m.Message(a))
}

// Tick does nothing: mail has no lifecycle.
func (m *Mail) Tick(time.Duration) {}

// Close delivers the queued mail until ctx is done.
func (m *Mail) Close(ctx context.Context) int { return len(m.Queue.Close(ctx)) }

// Failed returns how many mails were given up on or refused (Failer).
func (m *Mail) Failed() int { return m.Queue.Failed() }

func (m *Mail) String() string {
	if m.Via == "" {
		return "mail"
	}
	return "mail via " + m.Via
}

// BatchMail is the mail transport of the batch tools: each alert's Text is
// one line of the next batch mail (superlance's ProcessStateEmailMonitor).
// The tool drives the batch's interval with its own tick event.
type BatchMail struct {
	Batch *notify.Batch
}

// Post adds a's line to the batch.
func (b *BatchMail) Post(a *Alert) error {
	if !a.NoMail {
		b.Batch.Add(a.Text)
	}
	return nil
}

// Tick does nothing: the batch counts its own tick event's minutes.
func (b *BatchMail) Tick(time.Duration) {}

// Close sends what the batch holds until ctx is done.
func (b *BatchMail) Close(ctx context.Context) int {
	if err := b.Batch.Close(ctx); err != nil {
		return 1 // the batch logged what it kept
	}
	return 0
}

func (b *BatchMail) String() string { return "batch mail" }

// Func is a transport that calls itself with every alert: nothing queued,
// no lifecycle. For tests, and for a listener that delivers its own way.
type Func func(a *Alert) error

// Post calls f.
func (f Func) Post(a *Alert) error { return f(a) }

// Tick does nothing.
func (Func) Tick(time.Duration) {}

// Close does nothing: nothing is pending.
func (Func) Close(context.Context) int { return 0 }

func (Func) String() string { return "func" }
