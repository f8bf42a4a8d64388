package main

import (
	"testing"

	"github.com/superlance-go/superlance/eventproto"
)

// TestPolicy pins crashmailbatch's superlance texts: a line per unexpected
// exit (group:name always, also when they are equal), none for an expected
// one, under superlance's default subject.
func TestPolicy(t *testing.T) {
	const at = "2026-11-21 16:23:32,987"
	for _, tt := range []struct {
		ps   eventproto.ProcessState
		want string
	}{
		{eventproto.ProcessState{ProcessName: "foo", GroupName: "bar", Pid: 58597}, at + " -- Process bar:foo (pid 58597) died unexpectedly"},
		{eventproto.ProcessState{ProcessName: "web", GroupName: "web", Pid: 7}, at + " -- Process web:web (pid 7) died unexpectedly"},
		{eventproto.ProcessState{ProcessName: "web", GroupName: "web", Pid: 7, Expected: true}, ""},
	} {
		if got, ok := tool.Format(tt.ps, at); got != tt.want || ok != (tt.want != "") {
			t.Errorf("%+v: got %q, %v; want %q", tt.ps, got, ok, tt.want)
		}
	}
	if tool.Event != eventproto.ProcessStateExited || tool.DefaultSubject != "Crash alert from supervisord" {
		t.Errorf("got event %s, subject %q", tool.Event, tool.DefaultSubject)
	}
}
