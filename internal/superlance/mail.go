package superlance

import (
	"fmt"
	"strings"
	"time"

	"github.com/superlance-go/superlance/notify"
)

// Asctime formats t as supervisor's childutils.get_asctime does: local
// time, milliseconds truncated, after a comma.
func Asctime(t time.Time) string {
	return t.Local().Format("2006-01-02 15:04:05,000")
}

// Mailed is the message as superlance wrote it to sendmail and to its log:
// To, Subject, a blank line, the body. A tool logs "Mailed:\n\n" before it.
func Mailed(m *notify.Message) string {
	return fmt.Sprintf("To: %s\nSubject: %s\n\n%s", strings.Join(m.To, ", "), m.Subject, m.Body)
}

// previewLen is how much of a body superlance's batch tools log.
const previewLen = 76

// Sending is the batch tools' log block after a mail went out, one entry
// per log line: "Sending notification email:", To, From, Subject ("None"
// without one), "Body:", then the body's first 76 characters ("..." after
// them when it is longer), one entry per line of that preview.
func Sending(m *notify.Message) []string {
	subject := m.Subject
	if subject == "" {
		subject = "None"
	}
	out := []string{"Sending notification email:", "To: " + strings.Join(m.To, ", "), "From: " + m.From, "Subject: " + subject, "Body:"}
	return append(out, strings.Split(Preview(m.Body), "\n")...)
}

// Preview is a body as superlance logs it: the whole body when it has at
// most 76 characters, else its first 76 characters and "...".
func Preview(body string) string {
	r := []rune(body)
	if len(r) <= previewLen {
		return body
	}
	return string(r[:previewLen]) + "..."
}
