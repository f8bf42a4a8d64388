package main

import (
	"testing"

	"github.com/superlance-go/superlance/eventproto"
)

// TestPolicy pins crashsms's superlance texts: a short line per unexpected
// exit, nothing for an expected one, and no Subject header by default.
func TestPolicy(t *testing.T) {
	const at = "2026-11-21 16:23:32,987"
	ps := eventproto.ProcessState{ProcessName: "foo", GroupName: "bar", Pid: 58597, HasPid: true, HasExpected: true}
	if got, ok := tool.Format(ps, at); got != "[bar:foo](58597) exited unexpectedly "+at || !ok {
		t.Errorf("unexpected exit: got %q, %v", got, ok)
	}
	ps.Expected = true
	if got, ok := tool.Format(ps, at); got != "" || ok {
		t.Errorf("expected exit: got %q, %v; want no line", got, ok)
	}
	if tool.Event != eventproto.ProcessStateExited || tool.DefaultSubject != "" {
		t.Errorf("got event %s, subject %q", tool.Event, tool.DefaultSubject)
	}
}
