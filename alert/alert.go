package alert

import (
	"encoding/json"
	"time"
)

// Kind says what happened. The values are the "kind" of the webhook
// document (docs/alert.schema.json); each maps to one Alertmanager
// alertname (AlertName).
type Kind string

// The kinds of alert the listeners raise.
const (
	Crash       Kind = "crash"        // an unexpected exit (crashmail, crashmailbatch, crashsms)
	Fatal       Kind = "fatal"        // a program gave up starting (fatalmailbatch)
	Restart     Kind = "restart"      // a program in a crash loop is being restarted (procmon)
	Missing     Kind = "missing"      // a program has been out of RUNNING too long (missingmail)
	Recovered   Kind = "recovered"    // a condition raised earlier has ended; Alert.Ends says which
	Budget      Kind = "budget"       // the restart budget is spent (procmon)
	HealthCheck Kind = "health-check" // an HTTP health check failed (httpok)
	Memory      Kind = "memory"       // a program was restarted for its memory use (memmon)
	Test        Kind = "test"         // a test alert, to prove the wiring
)

// Kinds lists every kind, in the order the documentation gives them.
var Kinds = []Kind{Crash, Fatal, Restart, Missing, Recovered, Budget, HealthCheck, Memory, Test}

// alertNames are the Alertmanager alertname labels. Recovered has none of
// its own: it resolves the alert of the kind it ends.
var alertNames = map[Kind]string{
	Crash:       "ProcessCrashed",
	Fatal:       "ProcessFatal",
	Restart:     "ProcessCrashLoop",
	Missing:     "ProcessMissing",
	Budget:      "RestartBudgetSpent",
	HealthCheck: "HealthCheckFailed",
	Memory:      "MemoryLimitRestart",
	Test:        "SupervisorTestAlert",
}

// AlertName is the Alertmanager alertname of k ("" for Recovered and for
// an unknown kind).
func (k Kind) AlertName() string { return alertNames[k] }

// Alert is one thing a listener reports, handed to a Queue, which gives it
// to every configured transport: mail, webhook, Alertmanager.
//
// Subject and Text are the mail's subject and body exactly as the tool
// mails them (today's superlance texts, plus whatever context the tool was
// asked to add); the other fields say the same in a form a program can
// route on.
type Alert struct {
	Tool    string // the listener that raised it: "crashmail"
	Host    string // the machine; the Queue fills it in when empty
	Kind    Kind
	Program string // the program's name; "" when the alert concerns no single program
	Group   string // its group ("" with Program)
	// State is supervisord's name of the program's state when the alert was
	// raised ("EXITED", "FATAL", "BACKOFF"), "" when unknown or irrelevant.
	State   string
	Subject string // "" when the tool mails without a Subject (crashsms)
	Text    string
	Time    time.Time // when it happened; the Queue fills it in when zero
	// Details is the context block (exit status, run time, spawn error,
	// log tail) when the tool was asked for one; nil otherwise.
	Details *Details

	// Holds marks a condition that lasts (a missing program, a crash loop,
	// a failing health check, a spent budget) until a later Recovered
	// alert for the same program and kind ends it. Alertmanager keeps a
	// holding alert firing until then; any other alert is a one-off event
	// that resolves by itself after a while.
	Holds bool
	// Ends is, for a Recovered alert, the kind of the condition it ends.
	Ends Kind
	// NoMail keeps the alert away from the mail transport: it exists for
	// the lifecycle of the other transports (httpok's first passing check
	// after a failure is mailed by nobody today and must stay so).
	NoMail bool
	// MailOnly keeps the alert away from every transport but mail: a mail
	// that sums up several alerts (missingmail's programs missing on the
	// same tick) whose parts go to the other transports one by one.
	MailOnly bool
}

// Details is the context block of an alert, in display order.
type Details struct {
	// Fields are named facts ("exit_status": "3", "ran_for": "2.1s"); the
	// names are lower-case identifiers, stable for consumers.
	Fields []Field
	// LogTail is the end of the program's log, control characters made
	// visible; "" when not asked for or not available.
	LogTail string
	// Log names the log LogTail comes from: "stderr" or "stdout".
	Log string
}

// Field is one named fact of Details.
type Field struct{ Name, Value string }

// Get returns the value of the field called name.
func (d *Details) Get(name string) (string, bool) {
	if d == nil {
		return "", false
	}
	for _, f := range d.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// Status is "resolved" for a Recovered alert and "firing" for any other.
func (a *Alert) Status() string {
	if a.Kind == Recovered {
		return "resolved"
	}
	return "firing"
}

// MarshalJSON writes the fields in order, as a JSON object.
func (d *Details) MarshalJSON() ([]byte, error) {
	var b []byte
	b = append(b, `{"fields":{`...)
	for i, f := range d.Fields {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(f.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, err
		}
		b = append(b, k...)
		b = append(b, ':')
		b = append(b, v...)
	}
	b = append(b, '}')
	if d.LogTail != "" {
		tail, err := json.Marshal(d.LogTail)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"log_tail":`...)
		b = append(b, tail...)
		log, err := json.Marshal(d.Log)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"log":`...)
		b = append(b, log...)
	}
	return append(b, '}'), nil
}
