package cli

import (
	"bytes"
	"strings"
	"testing"
)

type grammar struct {
	Program []string `short:"p" name:"program" sep:"none"`
	Body    string   `short:"b" name:"body"`
	URL     string   `arg:"" name:"URL"`
}

func TestParse(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantDone   bool
		wantStdout string
		wantStderr string
	}{
		{"ok", []string{"-p", "a", "-pb", "-b", "-x", "http://x/"}, 0, false, "", ""},
		{"help", []string{"-h"}, 0, true, "Usage: tool", ""},
		{"unknown flag", []string{"--bogus", "http://x/"}, ExitUsage, true, "", "tool: error: unknown flag --bogus"},
		{"missing arg", []string{"-p", "a"}, ExitUsage, true, "", "tool: error: expected \"<URL>\""},
		{"extra arg", []string{"http://a/", "http://b/"}, ExitUsage, true, "", "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g grammar
			var stdout, stderr bytes.Buffer
			_, code, done := Parse("tool", "a tool", &g, tt.args, &stdout, &stderr)
			if code != tt.wantCode || done != tt.wantDone {
				t.Fatalf("got code=%d done=%v, want code=%d done=%v (stderr %q)", code, done, tt.wantCode, tt.wantDone, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) || (tt.wantStdout == "" && stdout.Len() > 0) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) || (tt.wantStderr == "" && stderr.Len() > 0) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
	var g grammar
	if _, _, done := Parse("tool", "", &g, []string{"-p", "a", "-pb", "-b", "-x", "http://x/"}, &bytes.Buffer{}, &bytes.Buffer{}); done {
		t.Fatal("valid command line rejected")
	}
	if strings.Join(g.Program, ",") != "a,b" || g.Body != "-x" || g.URL != "http://x/" {
		t.Errorf("got %+v, want program [a b], body -x, URL http://x/", g)
	}
}

func TestParseValueOptionLast(t *testing.T) {
	type bundle struct {
		Any   bool   `short:"a" name:"any"`
		Email string `short:"m" name:"email" aliases:"mail"`
		Name  string `short:"n" name:"name"`
	}
	for _, tt := range []struct {
		args     []string
		wantFlag string // "" when the line is valid
	}{
		{[]string{"-m"}, "-m"},
		{[]string{"-a", "-m"}, "-m"},
		{[]string{"-am"}, "-m"},
		{[]string{"--email"}, "--email"},
		{[]string{"--mail"}, "--mail"},
		{[]string{"-n", "x", "--email"}, "--email"},
		{[]string{"-m", "-n"}, ""}, // -m's value is "-n", as with getopt
		{[]string{"-m", "-n", "-n"}, "-n"},
		{[]string{"-n", "-m"}, ""},
		{[]string{"-amx@y"}, ""},
		{[]string{"-m", "x@y"}, ""},
		{[]string{"--email=x@y"}, ""},
		{[]string{"-a"}, ""},
		{[]string{"-n", "-m", "-m", "x@y"}, ""},
	} {
		var g bundle
		var stdout, stderr bytes.Buffer
		_, code, done := Parse("tool", "", &g, tt.args, &stdout, &stderr)
		if tt.wantFlag == "" {
			if done {
				t.Errorf("%q: rejected with %q, want accepted", tt.args, stderr.String())
			}
			continue
		}
		want := "tool: error: " + tt.wantFlag + " needs a value"
		if !done || code != ExitUsage || !strings.Contains(stderr.String(), want) || stdout.Len() > 0 {
			t.Errorf("%q: got done=%v code=%d stderr %q stdout %q; want exit %d with %q", tt.args, done, code, stderr.String(), stdout.String(), ExitUsage, want)
		}
	}
}

func TestHelpNamesDefaultsAndAliases(t *testing.T) {
	type g struct {
		Host    string `short:"H" name:"smtp-host" aliases:"smtpHost,host" default:"localhost" help:"SMTP server."`
		Sub     string `short:"s" name:"subject" default:"Crash alert" help:"Subject (also --host is not this flag's)."`
		Said    string `name:"said" default:"x" help:"Named already (default x)."`
		Verbose bool   `name:"verbose" help:"More."`
	}
	var stdout, stderr bytes.Buffer
	if _, code, done := Parse("tool", "a tool", &g{}, []string{"--help"}, &stdout, &stderr); code != 0 || !done {
		t.Fatalf("--help: code %d done %v", code, done)
	}
	help := strings.Join(strings.Fields(stdout.String()), " ")
	for _, want := range []string{
		"SMTP server. (default: localhost) (also --smtpHost, --host)",
		"Subject (also --host is not this flag's). (default: Crash alert)",
		"Named already (default x). --verbose More. --version",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, stdout.String())
		}
	}
}
