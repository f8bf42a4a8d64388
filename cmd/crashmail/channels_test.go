package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superlance-go/superlance/internal/amtest"
	"github.com/superlance-go/superlance/internal/svtest"
	"github.com/superlance-go/superlance/rpcclient"
)

// TestAlertmanagerCrashAndHeartbeat runs the built crashmail under a real
// supervisord with a real Alertmanager: a crash fires ProcessCrashed and
// expires after --resolve-after; the heartbeat stays firing past the
// horizon of its first post while the listener runs, and resolves once the
// listener is stopped.
func TestAlertmanagerCrashAndHeartbeat(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	r := amtest.NewReceiverT(t)
	am := amtest.Start(t, amtest.Config{Receiver: r.URL})
	prog := svtest.TestProg(t)
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{{Name: "crasher", Command: prog + " crash -after 1500ms -code 3",
			Extra: []string{"autostart=false", "autorestart=false", "startsecs=1"}}},
		Listeners: []svtest.Listener{{
			Name: "crashmail",
			Command: svtest.Tool(t, "crashmail") + " -a --alertmanager " + am.URL +
				" --resolve-after 3s --heartbeat --instance web1 --label team=ops",
			Events: "PROCESS_STATE_EXITED,TICK_5",
		}},
	})
	defer func() {
		if t.Failed() {
			t.Logf("crashmail stderr:\n%s", sv.ListenerStderr(t, "crashmail"))
		}
	}()
	alerts := func(match map[string]string) []amtest.Alert {
		got, err := am.Alerts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return amtest.Match(got, match)
	}
	heartbeat := map[string]string{"alertname": "SupervisorHeartbeat", "instance": "web1", "job": "supervisord", "team": "ops"}
	svtest.Eventually(t, 60*time.Second, "no heartbeat in Alertmanager", func() bool { return len(alerts(heartbeat)) == 1 })
	first := alerts(heartbeat)[0]

	sv.Ctl(t, "start", "crasher")
	sv.WaitState(t, "crasher", rpcclient.StateExited, 20*time.Second)
	crash := map[string]string{"alertname": "ProcessCrashed", "program": "crasher", "group": "crasher", "instance": "web1", "team": "ops"}
	svtest.Eventually(t, 30*time.Second, "the crash never reached Alertmanager", func() bool { return len(alerts(crash)) == 1 })
	c := alerts(crash)[0]
	if !strings.HasPrefix(c.Annotations["summary"], "crasher crashed at ") || !strings.Contains(c.Annotations["description"], "exited unexpectedly") {
		t.Errorf("crash annotations = %v", c.Annotations)
	}
	svtest.Eventually(t, 60*time.Second, "the crash never expired", func() bool { return len(alerts(crash)) == 0 })
	svtest.Eventually(t, 60*time.Second, "no resolved notification for the crash", func() bool { return r.Seen("resolved", crash) })

	// Still firing once the first post's endsAt has passed: refreshed.
	svtest.Eventually(t, 60*time.Second, "clock", func() bool { return time.Now().After(first.EndsAt.Add(time.Second)) })
	if hb := alerts(heartbeat); len(hb) != 1 || !hb[0].StartsAt.Equal(first.StartsAt) {
		t.Fatalf("heartbeat after its first horizon: %+v, want still firing since %v", hb, first.StartsAt)
	}
	sv.Ctl(t, "stop", "crashmail")
	svtest.Eventually(t, 60*time.Second, "heartbeat still firing after the listener stopped", func() bool { return len(alerts(heartbeat)) == 0 })
	svtest.Eventually(t, 60*time.Second, "no resolved heartbeat notification", func() bool { return r.Seen("resolved", heartbeat) })
}

// TestWebhookStalledAcknowledges drives crashmail in-process with a
// webhook that holds its first request: the crashes after it are still
// acknowledged, and the webhook gets every crash once the stall ends, with
// mail delivered meanwhile.
func TestWebhookStalledAcknowledges(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	entered := make(chan struct{}, 10)
	var mu sync.Mutex
	var docs []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-gate
		var d map[string]any
		json.NewDecoder(r.Body).Decode(&d)
		mu.Lock()
		docs = append(docs, d)
		mu.Unlock()
	}))
	defer srv.Close()
	defer close(gate)
	sink := svtest.NewSendmail(t)
	env := []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent"}
	d := svtest.Drive(t, "crashmail", func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) int {
		return run(ctx, []string{"-a", "-m", "ops@example.com", "-s", sink.Command, "--webhook", srv.URL + "/hook"}, stdin, stdout, stderr, env)
	})
	payload := func(name string, pid int) string {
		return fmt.Sprintf("processname:%s groupname:%s from_state:RUNNING expected:0 pid:%d", name, name, pid)
	}
	d.Send("PROCESS_STATE_EXITED", payload("web", 1))
	<-entered // the webhook holds the first crash
	for i, p := range []string{"db", "cache"} {
		d.Send("PROCESS_STATE_EXITED", payload(p, i+2)) // acknowledged while it stalls
	}
	// Mail is another transport: the stall does not hold it up.
	if mails := sink.WaitMails(t, 3, 30*time.Second); len(mails) != 3 {
		t.Fatalf("mails = %d, want 3 while the webhook stalls", len(mails))
	}
	mu.Lock()
	n := len(docs)
	mu.Unlock()
	if n != 0 {
		t.Fatalf("webhook answered %d requests during the stall", n)
	}
	gate <- struct{}{}
	gate <- struct{}{}
	gate <- struct{}{}
	if code := d.Finish(30 * time.Second); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, d.Stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	var programs []string
	for _, doc := range docs {
		programs = append(programs, fmt.Sprint(doc["program"]))
	}
	if got := strings.Join(programs, " "); got != "web db cache" {
		t.Errorf("webhook got %q, want web db cache in order", got)
	}
	if strings.Contains(d.Stderr.String(), "/hook") {
		t.Errorf("stderr shows the webhook's path:\n%s", d.Stderr)
	}
}
