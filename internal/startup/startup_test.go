package startup

import (
	"context"
	"log"
	"strings"
	"testing"

	"github.com/superlance-go/superlance/alert"
	"github.com/superlance-go/superlance/internal/alertflags"
)

func TestBeginRefusesOutsideSupervisord(t *testing.T) {
	for _, env := range [][]string{nil, {"SUPERVISOR_SERVER_URL="}} {
		var stderr strings.Builder
		o := Options{Name: "x", Refusal: "x must be run as a supervisor event listener", RefusalCode: 7, Channels: &alertflags.Channels{}}
		logger, code, done := Begin(context.Background(), o, &stderr, env)
		if logger != nil || code != 7 || !done {
			t.Errorf("env %q: got %v, %d, %v; want no log, the refusal's code 7, done", env, logger, code, done)
		}
		if stderr.String() != "x must be run as a supervisor event listener\n" {
			t.Errorf("env %q: stderr %q, want the refusal line alone", env, stderr.String())
		}
	}
}

func TestBeginLogsWarnings(t *testing.T) {
	var stderr strings.Builder
	o := Options{Name: "x", Refusal: "no", Channels: &alertflags.Channels{}, Warnings: []string{"first", "second"},
		TestMail: func(*log.Logger) alert.Transport { t.Error("TestMail called without --test-alert"); return nil }}
	logger, _, done := Begin(context.Background(), o, &stderr, []string{"SUPERVISOR_SERVER_URL=unix:///nonexistent"})
	if logger == nil || done {
		t.Fatalf("got %v, done %v; want a log and to go on", logger, done)
	}
	out := stderr.String()
	first, second := strings.Index(out, "x: warning: first\n"), strings.Index(out, "x: warning: second\n")
	if first < 0 || second < first || strings.Contains(out, "no\n") {
		t.Errorf("stderr %q: want both warnings, in order, and no refusal", out)
	}
}
