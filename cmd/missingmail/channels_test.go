package main

import (
	"context"
	"strings"
	"testing"

	"github.com/superlance-go/superlance/internal/amtest"
	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestAlertmanagerEpisode: under a real supervisord and a real
// Alertmanager, two programs killed together (usually one mail naming
// both) are two ProcessMissing alerts, which fire once the episode is
// notified and resolve each when its program runs again.
func TestAlertmanagerEpisode(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	r := amtest.NewReceiverT(t)
	am := amtest.Start(t, amtest.Config{Receiver: r.URL})
	sink := svtest.NewSendmail(t)
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{sleeper(t, "web"), sleeper(t, "db")},
		Listeners: []svtest.Listener{listener(t, "missingmail", "-p web -p db --missing-timeout 2 -m ops@example.com -s \""+sink.Command+"\""+
			" --alertmanager "+am.URL)},
	})
	defer func() {
		if t.Failed() {
			t.Logf("missingmail stderr:\n%s", sv.ListenerStderr(t, "missingmail"))
		}
	}()
	sv.WaitState(t, "web", rpcclient.StateRunning, waitState)
	sv.WaitState(t, "db", rpcclient.StateRunning, waitState)
	start(t, sv, "missingmail")
	waitLog(t, sv, "missingmail", "initial check: 2 watched process(es), 0 not RUNNING", 1)
	missing := func(program string) []amtest.Alert {
		got, err := am.Alerts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return amtest.Match(got, map[string]string{"alertname": "ProcessMissing", "program": program, "group": program, "job": "supervisord"})
	}
	if len(missing("web")) != 0 {
		t.Fatal("ProcessMissing before anything went missing")
	}
	kill(t, sv, "web")
	kill(t, sv, "db")
	svtest.Eventually(t, waitMail, "ProcessMissing never fired for both", func() bool {
		return len(missing("web")) == 1 && len(missing("db")) == 1
	})
	if a := missing("web")[0]; !strings.HasPrefix(a.Annotations["summary"], "web is missing") {
		t.Errorf("web's annotations = %v", a.Annotations)
	}
	sink.WaitMails(t, 1, waitMail)

	start(t, sv, "web")
	svtest.Eventually(t, waitMail, "web's ProcessMissing never resolved", func() bool { return len(missing("web")) == 0 })
	if len(missing("db")) != 1 {
		t.Errorf("db's ProcessMissing resolved with web's")
	}
	start(t, sv, "db")
	svtest.Eventually(t, waitMail, "db's ProcessMissing never resolved", func() bool { return len(missing("db")) == 0 })
	svtest.Eventually(t, waitMail, "no resolved notification", func() bool {
		return r.Seen("resolved", map[string]string{"alertname": "ProcessMissing"})
	})
}
