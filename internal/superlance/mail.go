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
