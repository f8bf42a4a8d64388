package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/amtest"
	"github.com/superlance-go/superlance/internal/svtest"
)

// TestAlertmanagerHealthCheck: a failing check fires HealthCheckFailed for
// the program httpok restarted, and the first passing check resolves it,
// under a real supervisord and a real Alertmanager. Mail is unchanged: one
// for the failure, none for the recovery.
func TestAlertmanagerHealthCheck(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	r := amtest.NewReceiverT(t)
	am := amtest.Start(t, amtest.Config{Receiver: r.URL})
	// The URL answers well until web is RUNNING: a check that failed while
	// web was still STARTING would, as upstream, report it "not in RUNNING
	// state" and fire without the restart this test is about.
	var status atomic.Int64
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	sink := svtest.NewSendmail(t)
	s := svtest.Start(t, svtest.Config{
		Programs:  []svtest.Program{sleeper(t, "web")},
		Listeners: []svtest.Listener{listener(t, "httpok", "-p", "web", "-m", "ops@example.com", "-s", sink.Command, "--alertmanager", am.URL, srv.URL)},
	})
	defer func() {
		if t.Failed() {
			t.Logf("httpok stderr:\n%s", s.ListenerStderr(t, "httpok"))
		}
	}()
	alerts := func() []amtest.Alert {
		got, err := am.Alerts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return amtest.Match(got, map[string]string{"alertname": "HealthCheckFailed", "program": "web", "group": "web", "job": "supervisord"})
	}
	old := pid(t, s, "web")
	status.Store(http.StatusInternalServerError)
	svtest.Eventually(t, 60*time.Second, "HealthCheckFailed never fired", func() bool { return len(alerts()) == 1 })
	if a := alerts()[0]; !strings.Contains(a.Annotations["summary"], "bad status returned") || !strings.Contains(a.Annotations["description"], "web is in RUNNING state, restarting") {
		t.Errorf("annotations = %v", a.Annotations)
	}
	waitRestarted(t, s, "web", old)
	waitMail(t, sink, "web is in RUNNING state, restarting")

	status.Store(http.StatusOK)
	svtest.Eventually(t, 60*time.Second, "HealthCheckFailed never resolved", func() bool { return len(alerts()) == 0 })
	svtest.Eventually(t, 60*time.Second, "no resolved notification", func() bool {
		for _, n := range r.Notifications() {
			if n.Status == "resolved" && n.GroupLabels["alertname"] == "HealthCheckFailed" {
				return true
			}
		}
		return false
	})
	for _, m := range sink.Mails(t) {
		if strings.Contains(mailBody(m), "answers as expected") {
			t.Errorf("the recovery was mailed:\n%s", mailBody(m))
		}
	}
}
