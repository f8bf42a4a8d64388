package main

import (
	"testing"

	"github.com/superlance-go/superlance/eventproto"
)

// TestPolicy pins crashmailbatch's superlance texts: the alert line, the event it
// collects, the default subject.
func TestPolicy(t *testing.T) {
	exit := eventproto.ProcessState{ProcessName: "foo", GroupName: "bar", FromState: "RUNNING", Pid: 58597, HasPid: true, HasExpected: true}
	expected := exit
	expected.Expected = true
	fatal := eventproto.ProcessState{ProcessName: "foo", GroupName: "bar", FromState: "BACKOFF"}
	_, _, _ = exit, expected, fatal
	const at = "2026-11-21 16:23:32,987"
	for _, tt := range []struct {
		name string
		ps   eventproto.ProcessState
		want string
		ok   bool
	}{
		{"exit", exit, at + " -- Process bar:foo (pid 58597) died unexpectedly", true},
		{"expected exit", expected, "", false},
		{"same group and name", eventproto.ProcessState{ProcessName: "web", GroupName: "web", Pid: 7}, at + " -- Process web:web (pid 7) died unexpectedly", true},
	} {
		got, ok := tool.Format(tt.ps, at)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: got %q, %v, want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	if tool.Event != eventproto.ProcessStateExited || tool.DefaultSubject != "Crash alert from supervisord" || tool.Name != "crashmailbatch" {
		t.Errorf("got event %s, subject %q, name %q", tool.Event, tool.DefaultSubject, tool.Name)
	}
}
