package main

import (
	"testing"

	"github.com/superlance-go/superlance/eventproto"
)

// TestPolicy pins fatalmailbatch's superlance texts: every FATAL event is a
// line, under superlance's default subject.
func TestPolicy(t *testing.T) {
	const at = "2026-11-21 16:23:32,987"
	fatal := eventproto.ProcessState{ProcessName: "foo", GroupName: "bar", FromState: "BACKOFF"}
	if got, ok := tool.Format(fatal, at); got != at+" -- Process bar:foo failed to start too many times" || !ok {
		t.Errorf("line: got %q, %v", got, ok)
	}
	if tool.Event != eventproto.ProcessStateFatal || tool.DefaultSubject != "Fatal start alert from supervisord" {
		t.Errorf("got event %s, subject %q", tool.Event, tool.DefaultSubject)
	}
}
