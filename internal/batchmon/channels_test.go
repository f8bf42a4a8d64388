package batchmon

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/svtest"
)

// TestRunWebhookGetsEachLine: each collected line also goes to the
// webhook at once, as one document, while the mail keeps batching; a note
// about dropped events stays in the mail.
func TestRunWebhookGetsEachLine(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var docs []alert.Document
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var d alert.Document
		json.Unmarshal(b, &d)
		mu.Lock()
		docs = append(docs, d)
		mu.Unlock()
	}))
	defer hook.Close()
	srv := svtest.StartSMTP(t, svtest.SMTPOptions{})
	tool := testTool
	tool.Kind = alert.Crash
	d := startRun(t, tool, []string{"-t", "ops@example.com", "-f", "sv@example.com", "-H", srv.Addr, "-e", "TICK_5", "-i", "0.0833", "--webhook", hook.URL}, fixedClock)
	d.exited(101)
	svtest.Eventually(t, 10*time.Second, "no webhook document", func() bool { mu.Lock(); defer mu.Unlock(); return len(docs) == 1 })
	if n := len(srv.Mails()); n != 0 {
		t.Fatalf("%d mails before the tick: the batch must still wait", n)
	}
	d.Send("TICK_5", "when:1700000005")
	m := srv.WaitMails(t, 1, 10*time.Second)[0]
	mu.Lock()
	doc := docs[0]
	mu.Unlock()
	if doc.Kind != alert.Crash || doc.Program != "crasher" || doc.Group != "grp" || doc.Tool != testTool.Name || doc.State != "EXITED" || doc.Text != m.Text {
		t.Errorf("document %+v; mail text %q", doc, m.Text)
	}
	if code := d.finish(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, d.Stderr)
	}
}
