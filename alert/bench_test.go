package alert

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkSendWhileStalled is the cost of handing an alert to the queue
// (what an event handler pays before it acknowledges) while the webhook
// and the Alertmanager it goes to hold every request without answering.
func BenchmarkSendWhileStalled(b *testing.B) {
	gate := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(gate)
	w, err := NewWebhook(WebhookOptions{URL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	am, err := NewAlertmanager(AlertmanagerOptions{URLs: []string{srv.URL}, Host: "h"})
	if err != nil {
		b.Fatal(err)
	}
	q := NewQueue(Options{Tool: "crashmail", Host: "h"}, w, am)
	a := crash("web")
	b.ReportAllocs()
	for b.Loop() {
		if err := q.Send(a); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	q.Close(ctx)
}
