package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superlance-go/superlance/internal/amtest"
	"github.com/superlance-go/superlance/internal/svtest"
)

// TestAlertmanagerCrashLoop: under a real supervisord and a real
// Alertmanager, a crash loop fires ProcessCrashLoop, which stays firing
// while the loop goes on and resolves once the program has run past the
// threshold.
func TestAlertmanagerCrashLoop(t *testing.T) {
	svtest.Need(t)
	t.Parallel()
	r := amtest.NewReceiverT(t)
	am := amtest.Start(t, amtest.Config{Receiver: r.URL})
	healthy := filepath.Join(t.TempDir(), "healthy")
	sv := svtest.Start(t, svtest.Config{
		Programs: []svtest.Program{{
			Name:    "flappy",
			Command: `/bin/sh -c "if [ -e ` + healthy + ` ]; then exec sleep 600; fi; exit 1"`,
			Extra:   []string{"autorestart=false", "startsecs=0", "stopasgroup=true", "killasgroup=true"},
		}},
		Listeners: []svtest.Listener{listener(t, "-p flappy --threshold 3 --min-delay 0.5 --max-delay 1 --alertmanager "+am.URL)},
	})
	defer func() {
		if t.Failed() {
			t.Logf("procmon stderr:\n%s", sv.ListenerStderr(t, "procmon"))
		}
	}()
	loop := map[string]string{"alertname": "ProcessCrashLoop", "program": "flappy", "group": "flappy", "job": "supervisord"}
	held := func() []amtest.Alert {
		got, err := am.Alerts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return amtest.Match(got, loop)
	}
	svtest.Eventually(t, waitLong, "ProcessCrashLoop never fired", func() bool { return len(held()) == 1 })
	if a := held()[0]; !strings.Contains(a.Annotations["summary"], "flappy is in a crash loop") {
		t.Errorf("annotations = %v", a.Annotations)
	}
	if err := os.WriteFile(healthy, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	svtest.Eventually(t, waitLong, "ProcessCrashLoop never resolved", func() bool { return len(held()) == 0 })
	svtest.Eventually(t, waitLong, "no resolved notification", func() bool { return r.Seen("resolved", loop) })
	if log := sv.ListenerStderr(t, "procmon"); !strings.Contains(log, "ProcessRecovered: procmon: flappy recovered") {
		t.Errorf("stderr lacks the recovery:\n%s", log)
	}
}
