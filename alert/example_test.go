package alert_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/superlance-go/superlance/alert"
)

// A listener hands each alert to one queue; here its only transport is a
// webhook, served by a test server that prints what it gets.
func ExampleQueue() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d alert.Document
		json.NewDecoder(r.Body).Decode(&d)
		fmt.Printf("%s %s %s %s/%s: %s\n", d.Tool, d.Host, d.Status, d.Kind, d.Program, d.Subject)
	}))
	defer srv.Close()

	hook, err := alert.NewWebhook(alert.WebhookOptions{URL: srv.URL})
	if err != nil {
		panic(err)
	}
	q := alert.NewQueue(alert.Options{Tool: "crashmail", Host: "web1"}, hook)
	q.Send(alert.Alert{
		Kind: alert.Crash, Program: "worker", Group: "app", State: "EXITED",
		Subject: "worker crashed at 2026-11-21 16:23:32,123",
		Text:    "Process worker in group app exited unexpectedly (pid 4242) from state RUNNING",
	})
	// At shutdown: deliver what is queued within a grace period.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// crashmail web1 firing crash/worker: worker crashed at 2026-11-21 16:23:32,123
}
