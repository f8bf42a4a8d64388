package cli

import (
	"bytes"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestVersionFlag(t *testing.T) {
	type required struct {
		To string `short:"t" required:""`
	}
	var stdout, stderr bytes.Buffer
	// --version works without the required options, as --help does.
	_, code, done := Parse("tool", "a tool", &required{}, []string{"--version"}, &stdout, &stderr)
	if code != 0 || !done {
		t.Fatalf("got code=%d done=%v, want 0 true; stderr %q", code, done, stderr.String())
	}
	want := "tool " + Build().Version + "\ncommit " + Build().Commit + "\nbuilt with " + runtime.Version() + "\n"
	if stdout.String() != want || stderr.Len() > 0 {
		t.Errorf("stdout %q stderr %q, want stdout %q", stdout.String(), stderr.String(), want)
	}
}

func TestBuildStamped(t *testing.T) {
	defer func(v, c string) { stampedVersion, stampedCommit = v, c }(stampedVersion, stampedCommit)
	stampedVersion, stampedCommit = "v1.2.3-4-gabcdef0", "abcdef0123"
	if got, want := Build().String(), "v1.2.3-4-gabcdef0 (commit abcdef0123, "+runtime.Version()+")"; got != want {
		t.Errorf("Build() = %q, want %q", got, want)
	}
}

func TestLoggerTimestampsEveryLine(t *testing.T) {
	var buf bytes.Buffer
	at := time.Date(2026, 11, 21, 16, 23, 2, 987654321, time.Local)
	l := newLogger(&buf, "tool", func() time.Time { return at })
	l.Print("one")
	l.Printf("two %d", 2)
	want := "2026-11-21 16:23:02,987 tool: starting, version " + Build().String() + "\n" +
		"2026-11-21 16:23:02,987 tool: one\n" +
		"2026-11-21 16:23:02,987 tool: two 2\n"
	if buf.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", buf.String(), want)
	}
	if got := Untimed(buf.String()); got != "tool: one\ntool: two 2\n" {
		t.Errorf("Untimed: %q", got)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} `).MatchString(strings.Split(buf.String(), "\n")[1]) {
		t.Error("the timestamp does not look like supervisord's")
	}
}
